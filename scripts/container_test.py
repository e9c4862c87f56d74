"""Build memhub's container image and drive the running containers with the memhub SDK (CI: .ci/run).

Run as root on a Debian machine: ``scripts/container-test`` (``--keep`` leaves images and volumes).

What it substitutes, and why: no container registry is reachable here, so the public base images are
rebuilt locally from Debian's packages (debootstrap for ``debian:bookworm-slim``; the public
``pgvector/pgvector:pg17`` becomes PostgreSQL 17 + pgvector from Debian 13, ``scripts/container/``).
The local bookworm base also carries this machine's CA bundle (``PIP_CERT``) because PyPI is reached
through a TLS-intercepting proxy here; the Dockerfile itself is built unchanged. There is no compose tool
either (Debian 12's podman-compose 1.0.3 ignores profiles), so the services of ``compose.yaml``'s
postgres profile are run with podman from their definitions in that file: command, environment,
replicas, healthcheck and the service names that the database URL relies on.

Podman runs the way this machine allows: builds with ``--isolation chroot``, containers under ``runc``
with the cgroupfs manager and ulimits no higher than the host's. Each check prints PASS/FAIL; the last
line is ``container: N passed, M failed`` (a check that could not run for an earlier failure counts as
failed), and the exit status is 1 unless all passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

import memhub

REPO = Path(__file__).resolve().parent.parent
PODMAN = ["podman", "--cgroup-manager=cgroupfs"]
RUN_LIMITS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
BUILD = ["build", "--isolation", "chroot", "--format", "docker", "--layers=false"]
MIRROR = "http://deb.debian.org/debian"
WAIT_SECONDS = 180.0  # a container's first answer, on a busy 2-core machine
USER_ID = "container-ci"

# ---------------------------------------------------------------------------------------------------
# running commands


def sh(*args: str, check: bool = True, quiet: bool = False, stdin: bytes | None = None) -> str:
    """Run a command; its output is returned (and echoed unless ``quiet``); a failure raises with it."""
    proc = subprocess.run(args, input=stdin, capture_output=True, check=False)
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    if not quiet:
        for line in out.splitlines()[-15:]:
            print(f"    | {line}")
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}… exited {proc.returncode}:\n{out[-3000:]}")
    return out


def podman(*args: str, check: bool = True, quiet: bool = True) -> str:
    return sh(*PODMAN, *args, check=check, quiet=quiet)


def podman_ok(*args: str) -> bool:
    return subprocess.run([*PODMAN, *args], capture_output=True, check=False).returncode == 0


def nice(*args: str) -> list[str]:
    return ["nice", "-n", "10", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def poll(what: str, probe: Callable[[], Any], timeout: float = WAIT_SECONDS, container: str = "") -> Any:
    """Call ``probe`` until it returns something truthy (exceptions count as not yet); bounded.

    With ``container``, stop waiting as soon as that container is no longer running.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if (
            container
            and podman("inspect", "-f", "{{.State.Running}}", container, check=False).strip() != "true"
        ):
            raise RuntimeError(f"{what}: container {container} stopped:\n{logs(container)[-3000:]}")
        try:
            result = probe()
            if result:
                return result
        except Exception as exc:
            last = exc
        time.sleep(0.25)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s (last error: {last!r})")


# ---------------------------------------------------------------------------------------------------
# checks and the summary line


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        print(f"--- {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        except Exception as exc:
            self.failed.append(name)
            traceback.print_exc()
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {exc}", flush=True)
            raise Abort(name) from exc
        self.passed.append(name)
        print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)

    def skip_rest(self, names: list[str]) -> None:
        for name in names:
            if name not in self.passed and name not in self.failed:
                print(f"FAIL {name}: not run (an earlier check failed)")
                self.failed.append(name)


class Abort(Exception):
    """A check failed; the checks that depend on it are counted as failed, not run."""


# ---------------------------------------------------------------------------------------------------
# images


def ensure_tools() -> None:
    missing = [tool for tool in ("podman", "debootstrap", "runc") if shutil.which(tool) is None]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "podman", "debootstrap", "runc"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    print("    | " + sh("podman", "--version", quiet=True).strip())


# What the public -slim images leave out of every package (their /etc/dpkg/dpkg.cfg.d/docker).
SLIM_DPKG = """path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
"""


def debootstrap_image(suite: str, tag: str, workdir: Path, *, host_ca: bool) -> None:
    """A minimal Debian ``suite`` root made slim like the public ``-slim`` images, imported as ``tag``."""
    root = workdir / suite
    sh(*nice("debootstrap", "--variant=minbase", suite, str(root), MIRROR), quiet=True)
    (root / "etc/dpkg/dpkg.cfg.d/docker").write_text(SLIM_DPKG)  # packages installed later stay slim too
    doomed = [
        *root.glob("var/cache/apt/archives/*.deb"),
        *root.glob("var/cache/apt/*.bin"),
        *root.glob("var/lib/apt/lists/*"),
        *(p for p in root.glob("usr/share/doc/*/*") if p.name != "copyright"),
        *(p for sub in ("man", "info", "locale", "groff") for p in root.glob(f"usr/share/{sub}/*")),
    ]
    for path in doomed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    changes: list[str] = []
    if host_ca:  # PyPI is reached through this machine's TLS proxy: pip in the build must trust its CA
        (root / "etc/ssl").mkdir(exist_ok=True)
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/ci-host-ca-bundle.pem")
        changes = ["--change", "ENV PIP_CERT=/etc/ssl/ci-host-ca-bundle.pem"]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run([*PODMAN, "import", *changes, "-", tag], stdin=tar.stdout, check=True, capture_output=True)
    if tar.wait() != 0:
        raise RuntimeError(f"tar of {root} failed")
    shutil.rmtree(root)


def image_size_mb(tag: str) -> float:
    size = json.loads(podman("image", "inspect", tag))[0]["Size"]
    return float(size) / 1e6


# ---------------------------------------------------------------------------------------------------
# containers


@dataclass
class Run:
    """Everything this run created, by name, so it can remove exactly that."""

    tag: str = field(default_factory=lambda: "mhci" + uuid.uuid4().hex[:8])
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    def name(self, what: str) -> str:
        return f"{self.tag}-{what}"

    def volume(self, name: str) -> str:
        full = self.name(name)
        if full not in self.volumes:
            podman("volume", "create", full)
            self.volumes.append(full)
        return full

    def start(self, name: str, image: str, *args: str, command: list[str] | None = None) -> str:
        full = self.name(name)
        podman("run", "-d", "--name", full, *RUN_LIMITS, *args, image, *(command or []))
        self.containers.append(full)
        return full

    def clean(self, keep: bool) -> None:
        for container in reversed(self.containers):
            podman("rm", "-f", "-v", "-t", "10", container, check=False)  # -v: its anonymous volumes too
        if keep:
            print(f"kept: volumes {self.volumes}, images {self.images}")
            return
        for volume in self.volumes:
            podman("volume", "rm", "-f", volume, check=False)
        for network in self.networks:
            podman("network", "rm", "-f", network, check=False)
        for image in self.images:
            podman("rmi", "-f", image, check=False)


def logs(container: str) -> str:
    return podman("logs", container, check=False)


def health_ok(base_url: str) -> bool:
    return httpx.get(f"{base_url}/health", timeout=5).status_code == 200


def admin_key(container: str) -> str:
    return podman("exec", container, "cat", "/data/admin-key").strip()


def add_and_search(client: memhub.Client, text: str, query: str) -> list[str]:
    """Add one message, wait for its job, search for it; the texts found."""
    submission = client.memories.add(
        messages=[{"role": "user", "content": text}], user_id=USER_ID, wait=True, timeout=120
    )
    if submission.status.value != "succeeded":
        raise AssertionError(f"job {submission.job_id} ended {submission.status}")
    return [hit.memory.text for hit in client.memories.search(query, user_id=USER_ID, limit=5)]


def search_texts(client: memhub.Client, query: str) -> list[str]:
    return [hit.memory.text for hit in client.memories.search(query, user_id=USER_ID, limit=5)]


# ---------------------------------------------------------------------------------------------------
# the embedded profile


EMBEDDED_CHECKS = [
    "embedded: starts as a non-root user, healthy, admin key printed once and kept in /data (0600)",
    "embedded: SDK add, wait, search",
    "embedded: /metrics on 0.0.0.0 needs an API key",
    "embedded: `memhub keys create` inside the container makes a working key of another tenant",
    "embedded: restarted container keeps its data and key",
]


def embedded(report: Report, run: Run, image: str) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    args = ["-p", f"127.0.0.1:{port}:8420", "-v", f"{run.volume('data')}:/data"]
    with report.check(EMBEDDED_CHECKS[0]):
        started = time.monotonic()
        container = run.start("embedded", image, *args)
        poll("GET /health", lambda: health_ok(base_url), container=container)
        ready = time.monotonic() - started
        report.notes.append(f"cold start (podman run to /health answering): {ready:.1f} s")
        user = podman("exec", container, "id", "-u").strip()
        assert user == "10001", f"runs as uid {user}"
        for name in ("admin-key", "memhub.db"):
            mode = podman("exec", container, "stat", "-c", "%a %U", f"/data/{name}").strip()
            assert mode == "600 memhub", f"/data/{name} is {mode}"
        key = admin_key(container)
        assert logs(container).count(key) == 1, "the admin key is not printed exactly once"
        assert podman_ok("healthcheck", "run", container), "the image's HEALTHCHECK says unhealthy"
    with memhub.Client(base_url=base_url, api_key=key) as client, report.check(EMBEDDED_CHECKS[1]):
        started = time.monotonic()
        texts = add_and_search(client, "My sister Ines lives in Porto", "where does Ines live?")
        report.notes.append(f"first add+wait+search after start: {time.monotonic() - started:.1f} s")
        assert any("Porto" in text for text in texts), texts
    with report.check(EMBEDDED_CHECKS[2]):
        assert httpx.get(f"{base_url}/metrics", timeout=10).status_code == 401
        scrape = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert scrape.status_code == 200 and "memhub_memories" in scrape.text, scrape.status_code
    with report.check(EMBEDDED_CHECKS[3]):  # the README's `docker exec memhub memhub keys create …`
        created = subprocess.run(
            [*PODMAN, "exec", container, "memhub", "keys", "create", "--tenant", "acme"],
            capture_output=True,
            text=True,
            check=True,
        )
        with memhub.Client(base_url=base_url, api_key=created.stdout.strip()) as acme:
            assert search_texts(acme, "where does Ines live?") == [], "tenant acme sees tenant default's data"
    with report.check(EMBEDDED_CHECKS[4]):
        podman("restart", "-t", "30", container)
        poll("GET /health after restart", lambda: health_ok(base_url), container=container)
        assert admin_key(container) == key, "the admin key changed"
        assert logs(container).count(key) == 1, "the admin key was printed again"
        with memhub.Client(base_url=base_url, api_key=key) as client:
            texts = search_texts(client, "where does Ines live?")
            assert any("Porto" in text for text in texts), texts
            more = add_and_search(client, "Ines works as a marine biologist", "what is Ines's job?")
            assert any("biologist" in text for text in more), more


# ---------------------------------------------------------------------------------------------------
# the postgres profile, from compose.yaml


POSTGRES_CHECKS = [
    "postgres: compose.yaml's postgres profile (db, 2 API --no-worker, 2 workers) starts",
    "postgres: SDK add through one API replica, processed by the workers, found through the other",
    "postgres: every container restarted, data still there",
]


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with the defaults (CI sets none of those variables)."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), value)


def service_args(run: Run, network: str, name: str, service: dict[str, Any]) -> list[str]:
    """``podman run`` arguments for a compose service: its network alias, environment, named volumes."""
    args = ["--network", network, "--network-alias", name]
    for key, value in (service.get("environment") or {}).items():
        args += ["-e", f"{key}={interpolate(str(value))}"]
    for volume in service.get("volumes") or []:
        source, target = volume.split(":", 1)
        args += ["-v", f"{run.volume(source)}:{target}"]
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        args += ["--no-healthcheck"]
    elif check.get("test"):
        args += [
            "--health-cmd",
            check["test"][1] if check["test"][0] == "CMD-SHELL" else json.dumps(check["test"][1:]),
        ]
    return args


def postgres_profile(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    chosen = {name: svc for name, svc in services.items() if "postgres" in (svc.get("profiles") or [])}
    apis = [name for name, svc in chosen.items() if svc.get("command") == ["serve", "--no-worker"]]
    workers = [name for name, svc in chosen.items() if svc.get("command") == ["worker"]]
    replicas = sum((chosen[name].get("deploy") or {}).get("replicas", 1) for name in workers)
    assert set(chosen) == {"db", *apis, *workers}, f"unexpected services in the profile: {sorted(chosen)}"
    assert len(apis) == 2 and replicas == 2, f"APIs {apis}, worker replicas {replicas}"
    return chosen


def postgres(report: Report, run: Run, memhub_image: str, db_image: str) -> None:
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    api_urls: list[str] = []
    containers: list[str] = []
    with report.check(POSTGRES_CHECKS[0]):
        profile = postgres_profile(services)
        network = run.name("net")
        podman("network", "create", network)
        run.networks.append(network)
        db = run.start("db", db_image, *service_args(run, network, "db", profile["db"]))
        containers.append(db)
        poll("db healthy", lambda: podman_ok("healthcheck", "run", db), container=db)
        for name in sorted(profile):  # api-1 before api-2 (compose: api-2 depends on api-1 being healthy)
            svc = profile[name]
            if name == "db":
                continue
            for replica in range((svc.get("deploy") or {}).get("replicas", 1)):
                args = service_args(run, network, name, svc)
                if svc["command"][0] == "serve":
                    port = free_port()
                    args += ["-p", f"127.0.0.1:{port}:8420"]
                    url = f"http://127.0.0.1:{port}"
                    api_urls.append(url)
                container = run.start(f"{name}-{replica + 1}", memhub_image, *args, command=svc["command"])
                containers.append(container)
                if svc["command"][0] == "serve":
                    poll(f"{name} /health", lambda url=url: health_ok(url), container=container)
        api_1 = run.name("api-1-1")
        key = admin_key(api_1)
        prints = sum(logs(container).count(key) for container in containers)
        assert prints == 1, f"the admin key was printed {prints} times"
    with report.check(POSTGRES_CHECKS[1]):
        with memhub.Client(base_url=api_urls[0], api_key=key) as first:
            first.memories.add(
                messages=[{"role": "user", "content": "Our cat Miso only eats salmon"}],
                user_id=USER_ID,
                wait=True,
                timeout=120,
            )
        with memhub.Client(base_url=api_urls[1], api_key=key) as second:
            texts = search_texts(second, "what does Miso eat?")
            assert any("salmon" in text for text in texts), texts
        # the API replicas run no worker (--no-worker), so the two worker containers did the job
        started = [c for c in containers if re.search(r"memhub\.worker: worker \S+ started", logs(c))]
        assert sorted(started) == sorted(c for c in containers if "-worker-" in c), started
    with report.check(POSTGRES_CHECKS[2]):
        for container in containers:
            podman("restart", "-t", "30", container)
        poll("db healthy again", lambda: podman_ok("healthcheck", "run", db))
        for url in api_urls:
            poll(f"{url} /health after restart", lambda url=url: health_ok(url))
        with memhub.Client(base_url=api_urls[1], api_key=key) as second:
            texts = search_texts(second, "what does Miso eat?")
            assert any("salmon" in text for text in texts), texts
            more = add_and_search(second, "Miso is afraid of the vacuum cleaner", "what scares Miso?")
            assert any("vacuum" in text for text in more), more


# ---------------------------------------------------------------------------------------------------
# main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave images and volumes behind")
    parser.add_argument("--no-postgres", action="store_true", help="only the embedded profile")
    options = parser.parse_args()
    report = Report()
    run = Run()
    base, trixie = f"localhost/{run.tag}/debian:bookworm-slim", f"localhost/{run.tag}/debian:trixie-slim"
    image, db_image = f"localhost/{run.tag}/memhub:ci", f"localhost/{run.tag}/pgvector:pg17"
    all_checks = ["tools and base images", "memhub image builds", *EMBEDDED_CHECKS]
    if not options.no_postgres:
        all_checks += ["pgvector image builds", *POSTGRES_CHECKS]
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="memhub-container-"))
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with report.check("tools and base images"):
            ensure_tools()
            # the database image (its own debootstrap) builds alongside everything up to its first use
            db_build = (
                None if options.no_postgres else pool.submit(build_db_image, trixie, db_image, workdir, run)
            )
            debootstrap_image("bookworm", base, workdir, host_ca=True)
            run.images.append(base)
        with report.check("memhub image builds"):
            sh(
                *nice(*PODMAN, *BUILD, "--build-arg", f"BASE_IMAGE={base}", "-t", image, str(REPO)),
                quiet=True,
            )
            run.images.append(image)
            report.notes.append(f"memhub image: {image_size_mb(image):.0f} MB (podman's size)")
        embedded(report, run, image)
        if db_build is not None:
            with report.check("pgvector image builds"):
                db_build.result()
            postgres(report, run, image, db_image)
    except Abort:
        pass
    finally:
        pool.shutdown(wait=True)  # a database build still running must not outlive the clean-up
        report.skip_rest(all_checks)
        if report.failed:
            for container in run.containers:
                print(f"--- logs of {container} (last 40 lines)")
                print("\n".join(logs(container).splitlines()[-40:]))
        run.clean(options.keep)
        shutil.rmtree(workdir, ignore_errors=True)
    for note in report.notes:
        print(f"note: {note}")
    print(f"note: container test took {time.monotonic() - started:.0f} s")
    print(f"container: {len(report.passed)} passed, {len(report.failed)} failed")
    return 0 if not report.failed else 1


def build_db_image(trixie: str, db_image: str, workdir: Path, run: Run) -> None:
    debootstrap_image("trixie", trixie, workdir, host_ca=False)
    run.images.append(trixie)
    folder = REPO / "scripts" / "container"
    sh(
        *nice(
            *PODMAN, *BUILD, "--build-arg", f"BASE_IMAGE={trixie}", "-f", str(folder / "pgvector.Dockerfile")
        ),
        "-t",
        db_image,
        str(folder),
        quiet=True,
    )
    run.images.append(db_image)


if __name__ == "__main__":
    sys.exit(main())
