"""The column lists both stores read and write: one definition, so the SQLite and PostgreSQL schemas,
the shared statements and parameters (``rows.py``) and each store's row decoding cannot disagree on
names or order."""

from __future__ import annotations

TENANT_COLUMNS = "id, name, created_at"
API_KEY_COLUMNS = "id, tenant_id, name, prefix, key_hash, created_at, revoked_at, role"
SPACE_COLUMNS = "id, tenant_id, name, metadata, created_at"
SESSION_COLUMNS = "id, tenant_id, space_id, user_id, metadata, created_at"
EVENT_COLUMNS = (
    "id, tenant_id, space_id, user_id, session_id, kind, role, name, content, external_id, metadata, "
    "occurred_at, created_at, job_id, position"
)
JOB_COLUMNS = (
    "id, tenant_id, space_id, user_id, kind, status, attempts, last_error, lease_owner, lease_expires_at, "
    "created_at, updated_at, memory_ids"
)
MEMORY_COLUMNS = (
    "m.rid, m.id, m.tenant_id, m.space_id, m.user_id, m.session_id, m.kind, m.core, m.text, m.metadata, "
    "m.occurred_at, m.created_at, m.updated_at, m.valid_from, m.valid_to, m.superseded_by, m.job_id"
)
RECORD_COLUMNS = "tenant_id, collection, id, data, created_at, updated_at"
