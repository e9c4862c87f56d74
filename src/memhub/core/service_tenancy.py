"""Tenants, their API keys (with the authentication cache of ``keycache.py``) and their spaces."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from . import ids
from .errors import Conflict, NotFound, PermissionDenied, Unauthenticated
from .keycache import KeyCache
from .models import ApiKey, KeyRole, Space, Tenant
from .service_base import DEFAULT_SPACE, ServiceBase, check_name

KEY_PREFIX = "mh_"


def hash_api_key(secret: str) -> str:
    """Keys are 256-bit random tokens, so one SHA-256 is a safe, fast, deterministic lookup hash."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TenancyMixin(ServiceBase):
    """Tenants, API keys and spaces (:meth:`~ServiceBase.resolve_space` is shared, in ``service_base``)."""

    _keys: KeyCache

    # ------------------------------------------------------------------------------------------
    # tenants and API keys

    def ensure_tenant(self, name: str) -> Tenant:
        check_name("tenant name", name)
        return self.store.ensure_tenant(name, self.clock.now())

    def list_tenants(self) -> list[Tenant]:
        return self.store.list_tenants()

    def create_api_key(
        self, tenant_name: str, name: str = "", *, role: KeyRole | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key for the tenant (created if missing). The secret is returned once, never stored.

        Without ``role``, a tenant's first key (more exactly: a key of a tenant with no live admin key)
        is its ``admin``, any later one a ``member``.
        """
        tenant = self.ensure_tenant(tenant_name)
        if role is None:
            live = (k for k in self.store.list_api_keys(tenant.id) if k.revoked_at is None)
            role = "member" if any(k.role == "admin" for k in live) else "admin"
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=ids.new_id(),
            tenant_id=tenant.id,
            name=name or "key",
            prefix=secret[:10],
            key_hash=hash_api_key(secret),
            created_at=self.clock.now(),
            role=role,
        )
        self.store.add_api_key(key)
        return key, secret

    def authenticate(self, secret: str | None) -> Tenant:
        """The tenant of a live key, or :class:`Unauthenticated` (see ``keycache.py`` for revocation)."""
        if not secret:
            raise Unauthenticated("missing API key")
        return self.authenticate_digest(hash_api_key(secret))

    def authenticate_digest(self, digest: str) -> Tenant:
        """:meth:`authenticate` by the key's hash, for callers that keep only the hash (console sessions)."""
        cached = self._keys.get(digest)
        if cached is not None:
            return cached
        generation = self._keys.generation
        key = self.store.find_api_key(digest)
        # The lookup is by hash; the constant-time compare guards backends whose index lookup might
        # match on a prefix or collation rather than the exact bytes.
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
            raise Unauthenticated("invalid or revoked API key")
        tenant = self.store.get_tenant(key.tenant_id)
        self._keys.put(digest, tenant, generation)
        return tenant

    def authenticate_admin(self, secret: str | None) -> Tenant:
        """:meth:`authenticate`, and :class:`PermissionDenied` unless the key is an ``admin`` key.

        Not cached: key management and server-wide figures are rare, and a demoted or revoked key must
        lose them at once.
        """
        tenant = self.authenticate(secret)
        key = self.store.find_api_key(hash_api_key(secret or ""))
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("invalid or revoked API key")
        if key.role != "admin":
            raise PermissionDenied(
                "this needs an admin key of the tenant (managing keys, server-wide metrics); this key is a "
                "member key: use the tenant's admin key, or create one with 'memhub keys create --role admin'"
            )
        return tenant

    def recently_authenticated(self, secret: str) -> Tenant | None:
        """The tenant of a key :meth:`authenticate` accepted moments ago, without reading the store.

        None means "ask :meth:`authenticate`", never "refused". Lets an async caller skip handing the
        check to a worker thread when the answer is already in memory.
        """
        return self._keys.get(hash_api_key(secret))

    def list_api_keys(self, tenant_name: str | None = None) -> list[ApiKey]:
        tenant_id = None
        if tenant_name is not None:
            tenant = self.store.find_tenant(tenant_name)
            if tenant is None:
                raise NotFound(f"no tenant named {tenant_name!r}")
            tenant_id = tenant.id
        return self.store.list_api_keys(tenant_id)

    def revoke_api_key(self, key_id_or_prefix: str, *, tenant_id: str | None = None) -> ApiKey:
        """Revoke a key by id or prefix; with ``tenant_id``, only one of that tenant's keys.

        A prefix shared by several keys is refused rather than resolved to whichever is listed first:
        revoking the wrong key is worse than asking for the id."""
        keys = self.store.list_api_keys(tenant_id)
        matches = [key for key in keys if key_id_or_prefix in (key.id, key.prefix)]
        if not matches:
            raise NotFound(f"no API key with id or prefix {key_id_or_prefix!r}")
        if len(matches) > 1:
            raise Conflict(f"{len(matches)} keys have the prefix {key_id_or_prefix!r}; revoke one by its id")
        revoked = self.store.revoke_api_key(matches[0].id, self.clock.now())
        self._keys.clear()  # refused from the next request on, not after the cache's TTL
        return revoked

    def has_api_keys(self) -> bool:
        return bool(self.store.list_api_keys(None))

    # ------------------------------------------------------------------------------------------
    # spaces

    def create_space(
        self,
        tenant_id: str,
        name: str,
        metadata: dict[str, Any] | None = None,
        *,
        space_id: str | None = None,
    ) -> Space:
        """A new space; ``space_id`` lets a caller choose the id (:class:`Conflict` if it is taken)."""
        check_name("space name", name)
        if space_id is not None:
            check_name("space id", space_id)
        self._check_metadata(metadata)
        if self.store.find_space(tenant_id, name) is not None:
            raise Conflict(f"a space named {name!r} already exists")
        space = Space(
            id=space_id or ids.new_id(),
            tenant_id=tenant_id,
            name=name,
            metadata=metadata or {},
            created_at=self.clock.now(),
        )
        return self.store.create_space(space)

    def list_spaces(self, tenant_id: str) -> list[Space]:
        return self.store.list_spaces(tenant_id)

    def get_space(self, tenant_id: str, space_id: str) -> Space:
        return self.store.get_space(tenant_id, space_id)

    def update_space(
        self,
        tenant_id: str,
        space_id: str,
        *,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Space:
        """Rename a space and/or replace its metadata; the ``default`` space keeps its name."""
        space = self.store.get_space(tenant_id, space_id)
        if name is not None:
            check_name("space name", name)
            if space.name == DEFAULT_SPACE and name != DEFAULT_SPACE:
                raise Conflict("the default space cannot be renamed")
        self._check_metadata(metadata)
        changes = {"name": name or space.name, "metadata": space.metadata if metadata is None else metadata}
        return self.store.update_space(space.model_copy(update=changes))

    def delete_space(self, tenant_id: str, space_id: str) -> None:
        space = self.store.get_space(tenant_id, space_id)
        if space.name == DEFAULT_SPACE:
            raise Conflict("the default space cannot be deleted")
        self.store.delete_space(tenant_id, space_id)
