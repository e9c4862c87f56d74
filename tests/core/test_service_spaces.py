"""MemoryService: spaces with caller-chosen ids and updates, tenant-scoped key revocation, blobs."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid

import pytest

from memhub.core.errors import Conflict, LimitExceeded, NotFound
from memhub.runtime import Runtime


def test_a_space_can_be_created_with_a_chosen_id(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    chosen = str(uuid.uuid4())
    assert service.create_space(tenant.id, "docs", space_id=chosen).id == chosen
    with pytest.raises(Conflict):
        service.create_space(tenant.id, "other", space_id=chosen)
    other = service.ensure_tenant("globex")
    with pytest.raises(Conflict):  # ids are global: another tenant cannot take it either
        service.create_space(other.id, "docs", space_id=chosen)


def test_update_space_renames_and_replaces_metadata_but_not_the_default(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    space = service.create_space(tenant.id, "docs", {"a": 1})
    renamed = service.update_space(tenant.id, space.id, name="papers")
    assert (renamed.name, renamed.metadata) == ("papers", {"a": 1})
    assert service.update_space(tenant.id, space.id, metadata={"b": 2}).metadata == {"b": 2}
    default = service.resolve_space(tenant.id, None)
    with pytest.raises(Conflict):
        service.update_space(tenant.id, default.id, name="renamed")
    with pytest.raises(Conflict):
        service.update_space(tenant.id, space.id, name="default")
    with pytest.raises(NotFound):
        service.update_space(service.ensure_tenant("globex").id, space.id, name="x")


def test_revoking_a_key_can_be_limited_to_its_tenant(runtime: Runtime) -> None:
    service = runtime.service
    key, _ = service.create_api_key("acme")
    other = service.ensure_tenant("globex")
    with pytest.raises(NotFound):
        service.revoke_api_key(key.id, tenant_id=other.id)
    assert service.revoke_api_key(key.id, tenant_id=key.tenant_id).revoked_at is not None


def test_blobs_are_hashed_sized_and_bounded(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    stored = service.put_blob(tenant.id, "owner", "original", "application/pdf", b"%PDF-1.4")
    assert (stored.size, stored.sha256) == (8, hashlib.sha256(b"%PDF-1.4").hexdigest())
    assert service.get_blob(tenant.id, "owner", "original").data == b"%PDF-1.4"
    service.limits = dataclasses.replace(service.limits, max_blob_bytes=4)
    with pytest.raises(LimitExceeded):
        service.put_blob(tenant.id, "owner", "big", "application/pdf", b"12345")
    assert [b.name for b in service.list_blobs(tenant.id, "owner")] == ["original"]
    assert service.delete_blobs(tenant.id, "owner") == 1
