"""Key checks through the service's key cache: revocation here is immediate, elsewhere bounded."""

from __future__ import annotations

import pytest

from memhub.core.errors import Conflict, Unauthenticated
from memhub.core.keycache import KeyCache
from memhub.core.service import MemoryService
from memhub.runtime import Runtime


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_revoked_through_this_service_is_refused_at_once(runtime: Runtime) -> None:
    service = runtime.service
    key, secret = service.create_api_key("acme", "ci")
    assert service.authenticate(secret).name == "acme"
    assert service.recently_authenticated(secret) is not None  # now answered from the cache
    service.revoke_api_key(key.id)
    assert service.recently_authenticated(secret) is None
    with pytest.raises(Unauthenticated):
        service.authenticate(secret)


def test_a_key_revoked_through_another_service_is_refused_once_the_ttl_has_passed(
    runtime: Runtime,
) -> None:
    clock = Ticks()
    service = runtime.service
    here = MemoryService(service.store, service.embedder, service.clock, key_cache=KeyCache(2.0, clock=clock))
    elsewhere = runtime.service  # another process sharing the store, as far as ``here`` can tell
    key, secret = elsewhere.create_api_key("acme", "ci")
    assert here.authenticate(secret).name == "acme"
    elsewhere.revoke_api_key(key.id)
    assert here.authenticate(secret).name == "acme"  # still trusted: within the documented bound
    clock.now += 2.0
    with pytest.raises(Unauthenticated):
        here.authenticate(secret)


def test_unknown_keys_are_not_cached(runtime: Runtime) -> None:
    service = runtime.service
    with pytest.raises(Unauthenticated):
        service.authenticate("mh_not-a-key")
    assert service.recently_authenticated("mh_not-a-key") is None


def test_a_prefix_shared_by_two_keys_revokes_neither(runtime: Runtime) -> None:
    service = runtime.service
    first, first_secret = service.create_api_key("acme", "one")
    tenant = service.ensure_tenant("acme")
    twin = first.model_copy(update={"id": "twin-key", "key_hash": "0" * 64, "name": "two"})
    service.store.add_api_key(twin)  # a second key whose prefix collides with the first's
    with pytest.raises(Conflict, match="revoke one by its id"):
        service.revoke_api_key(first.prefix, tenant_id=tenant.id)
    assert service.authenticate(first_secret).name == "acme"
    assert service.revoke_api_key(first.id).revoked_at is not None
