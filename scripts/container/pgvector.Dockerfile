# CI's stand-in for the public pgvector/pgvector:pg17 image that compose.yaml names (no registry is
# reachable in CI): PostgreSQL 17 and pgvector 0.8 from Debian's own packages. Debian 12 (bookworm) has
# no pgvector package, so this one starts from a local Debian 13 (trixie) base, which has both.
# scripts/container-test builds it; its entrypoint reads the same POSTGRES_USER / POSTGRES_PASSWORD /
# POSTGRES_DB variables as the public image, so compose.yaml's service definition runs on either, and
# stops on SIGINT like it (a fast shutdown: SIGTERM would wait for memhub's pooled connections to close).
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main-cluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        postgresql-17 postgresql-17-pgvector \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && mkdir -p /var/lib/postgresql/data /run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /run/postgresql
COPY pg-entrypoint.sh /usr/local/bin/pg-entrypoint.sh
ENV PATH=/usr/lib/postgresql/17/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["sh", "/usr/local/bin/pg-entrypoint.sh"]
