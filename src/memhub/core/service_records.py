"""Records (small per-tenant configuration objects) and blobs (bytes kept verbatim for an owner)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .errors import LimitExceeded
from .models import Blob, Page, Record
from .service_base import ServiceBase, check_name


class RecordsMixin(ServiceBase):
    """Record and blob use cases: storage for protocol adapters' own configuration and files."""

    # ------------------------------------------------------------------------------------------
    # records: small per-tenant configuration objects (see models.Record)

    def add_record(self, tenant_id: str, collection: str, record_id: str, data: dict[str, Any]) -> Record:
        """Create a record; :class:`Conflict` if ``collection`` already holds ``record_id``."""
        check_name("collection", collection)
        check_name("record id", record_id)
        self._check_metadata(data)
        now = self.clock.now()
        return self.store.add_record(
            Record(
                tenant_id=tenant_id,
                collection=collection,
                id=record_id,
                data=data,
                created_at=now,
                updated_at=now,
            )
        )

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record:
        return self.store.get_record(tenant_id, collection, record_id)

    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        return self.store.list_records(tenant_id, collection)

    def page_records(
        self,
        tenant_id: str,
        collection: str,
        *,
        where: Mapping[str, str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page:
        """Keyset pages of a collection, narrowed to records whose ``data`` holds ``where``'s strings."""
        return self.store.page_records(
            tenant_id, collection, where=where, cursor=cursor, limit=limit, newest_first=newest_first
        )

    def update_record(self, tenant_id: str, collection: str, record_id: str, data: dict[str, Any]) -> Record:
        """Replace a record's data (the caller merges); ``updated_at`` becomes now."""
        self._check_metadata(data)
        current = self.store.get_record(tenant_id, collection, record_id)
        changed = current.model_copy(update={"data": data, "updated_at": self.clock.now()})
        return self.store.update_record(changed)

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None:
        self.store.delete_record(tenant_id, collection, record_id)

    # ------------------------------------------------------------------------------------------
    # blobs: bytes kept verbatim for an owner (see models.Blob)

    def put_blob(self, tenant_id: str, owner_id: str, name: str, content_type: str, data: bytes) -> Blob:
        check_name("blob owner", owner_id)
        check_name("blob name", name)
        if len(data) > self.limits.max_blob_bytes:
            raise LimitExceeded(
                f"the content is {len(data)} bytes; the limit is {self.limits.max_blob_bytes}"
            )
        blob = Blob(
            tenant_id=tenant_id,
            owner_id=owner_id,
            name=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=self.clock.now(),
            data=data,
        )
        return self.store.put_blob(blob)

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob:
        return self.store.get_blob(tenant_id, owner_id, name)

    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        return self.store.list_blobs(tenant_id, owner_id)

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        return self.store.delete_blobs(tenant_id, owner_id)
