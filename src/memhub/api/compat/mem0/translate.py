"""mem0's words onto memhub's and back: entities, filters, memory objects, events, history.

* **Entities.** mem0 scopes a memory by any of ``user_id``/``agent_id``/``app_id``/``run_id``. memhub's
  owner is the ``user_id`` if given, else ``agent:<id>``, ``app:<id>`` or ``run:<id>`` (:func:`owner`); a
  ``run_id`` is also the memhub session. All four are kept under the reserved metadata key ``mem0``
  (with the caller's own metadata keys, so the metadata served back is exactly what was sent), and every
  memhub memory derived from the add carries them, so filters on any of them are metadata filters.
* **Filters** (``AND``/``OR``/``NOT``, ``in``/``nin``/``gt``/``gte``/``lt``/``lte``/``ne``/``contains``/
  ``icontains``, ``*`` = any value) become memhub's filter tree (``core/filters.py``); nothing is
  evaluated here. Dates are not metadata in memhub, so ``created_at``/``updated_at`` filters are refused
  by name.
* **Scores** are memhub's calibrated similarity in [0, 1]; ``threshold`` applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from memhub.core import ids
from memhub.core.errors import InvalidInput, NotSupported
from memhub.core.models import REVISES_KEY, Event, Job, JobStatus, Memory

from .wire import ENTITY_FIELDS, Entities

EXTRA_KEY = "mem0"  # memory metadata key holding the entity ids and the caller's metadata keys
KEYS_FIELD = "keys"
OWNER_PREFIXES = {"agent_id": "agent", "app_id": "app", "run_id": "run"}
ENTITY_TYPES = {"user": "user_id", "agent": "agent_id", "app": "app_id", "run": "run_id"}
_OPERATORS = {
    "eq": "$eq",
    "ne": "$ne",
    "in": "$in",
    "nin": "$nin",
    "gt": "$gt",
    "gte": "$gte",
    "lt": "$lt",
    "lte": "$lte",
    "contains": "$contains",
    "icontains": "$icontains",
}
_FIELD_PATHS = {**{f: f"{EXTRA_KEY}.{f}" for f in ENTITY_FIELDS}, "categories": "category"}
_UNFILTERABLE = {
    "created_at": "filtering by created_at",
    "updated_at": "filtering by updated_at",
    "timestamp": "filtering by timestamp",
    "expiration_date": "expiring memories",
    "keywords": "keyword filters (use the query)",
    "memory_ids": "filtering by memory ids (use get)",
}
EVENT_STATUS = {
    JobStatus.PENDING: "PENDING",
    JobStatus.PROCESSING: "RUNNING",
    JobStatus.SUCCEEDED: "SUCCEEDED",
    JobStatus.FAILED: "FAILED",
}


# ---------------------------------------------------------------------------------------------------
# entities


def entity_ids(top: Entities, filters: Mapping[str, Any] | None) -> dict[str, str]:
    """The add's entity ids: top level, else plain strings inside ``filters`` (2.x sends them there)."""
    found: dict[str, str] = {}
    for field in ENTITY_FIELDS:
        value = getattr(top, field)
        inner = (filters or {}).get(field)
        if value is None and isinstance(inner, str) and inner and inner != "*":
            value = inner
        if value is not None:
            found[field] = value
    if not found:
        raise InvalidInput("add needs at least one of user_id, agent_id, app_id or run_id")
    return found


def owner(entities: Mapping[str, str]) -> str:
    """The memhub user the memories belong to: the user, else the agent/app/run (prefixed by its type)."""
    if "user_id" in entities:
        return entities["user_id"]
    for field, prefix in OWNER_PREFIXES.items():
        if field in entities:
            return f"{prefix}:{entities[field]}"
    raise InvalidInput("add needs at least one of user_id, agent_id, app_id or run_id")


def entity_of_owner(name: str) -> tuple[str, str]:
    """A memhub user id as a mem0 entity: ``(type, name)``."""
    kind, sep, rest = name.partition(":")
    if sep and rest and kind in ("agent", "app", "run"):
        return kind, rest
    return "user", name


def stored_metadata(entities: Mapping[str, str], metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's metadata plus the reserved ``mem0`` key (entity ids and which keys are the caller's)."""
    caller = dict(metadata or {})
    if EXTRA_KEY in caller:
        raise InvalidInput(f"metadata key {EXTRA_KEY!r} is reserved by memhub's mem0 API")
    return {**caller, EXTRA_KEY: {**entities, KEYS_FIELD: sorted(caller)}}


def replaced_metadata(memory: Memory, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``update(metadata=…)``: the caller's keys replaced, memhub's own keys (role, slot…) kept."""
    if EXTRA_KEY in metadata:
        raise InvalidInput(f"metadata key {EXTRA_KEY!r} is reserved by memhub's mem0 API")
    extra = _extra(memory)
    old_keys = set(extra.get(KEYS_FIELD) or [])
    kept = {k: v for k, v in memory.metadata.items() if k not in old_keys and k != EXTRA_KEY}
    # a memory another door wrote has no ``mem0`` key yet: its ids come from its owner and session
    entities = {f: v for f, v in memory_entities(memory).items() if v is not None}
    return {**kept, **metadata, EXTRA_KEY: {**entities, KEYS_FIELD: sorted(metadata)}}


def _extra(memory: Memory) -> dict[str, Any]:
    extra = memory.metadata.get(EXTRA_KEY)
    return extra if isinstance(extra, dict) else {}


def memory_entities(memory: Memory) -> dict[str, str | None]:
    """The four ids of a memory; one written by another door has its owner as user and session as run."""
    extra = _extra(memory)
    if not extra:
        kind, name = entity_of_owner(memory.user_id) if memory.user_id else ("user", None)
        ids_ = dict.fromkeys(ENTITY_FIELDS)
        ids_[ENTITY_TYPES[kind]] = name
        ids_["run_id"] = ids_["run_id"] or memory.session_id
        return ids_
    return {f: extra.get(f) if isinstance(extra.get(f), str) else None for f in ENTITY_FIELDS}


# ---------------------------------------------------------------------------------------------------
# filters


def to_filter(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """mem0's filter object as memhub's filter JSON (None for no filter)."""
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput("filters must be an object")
    parts = [_part(key, value) for key, value in raw.items()]
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _part(key: str, value: Any) -> dict[str, Any]:
    if key in ("AND", "OR", "NOT"):
        members = value if isinstance(value, list) else [value]
        if not members or not all(isinstance(m, Mapping) and m for m in members):
            raise InvalidInput(f"filters.{key} takes a non-empty list of filter objects")
        parsed = [to_filter(m) for m in members]
        if key == "NOT":  # none of them
            return {"$not": parsed[0] if len(parsed) == 1 else {"$or": parsed}}
        return {"$and" if key == "AND" else "$or": parsed}
    if key == "metadata":
        if not isinstance(value, Mapping) or not value:
            raise InvalidInput("filters.metadata takes a non-empty object of metadata keys")
        return {"$and": [_condition(k, v) for k, v in value.items()]}
    if key in _UNFILTERABLE:
        raise NotSupported(f"{_UNFILTERABLE[key]} is not supported by memhub")
    if key == EXTRA_KEY or key.startswith("$") or not key:
        raise InvalidInput(f"filters: unknown field {key!r}")
    return _condition(_FIELD_PATHS.get(key, key), value)


def _condition(path: str, value: Any) -> dict[str, Any]:
    if value == "*":
        return {path: {"$exists": True}}
    if isinstance(value, Mapping):
        if not value:
            raise InvalidInput(f"filters: empty operator object on {path!r}")
        ops: dict[str, Any] = {}
        for name, operand in value.items():
            op = _OPERATORS.get(str(name))
            if op is None:
                known = ", ".join(_OPERATORS)
                raise InvalidInput(f"filters: unknown operator {name!r} on {path!r} (known: {known})")
            ops[op] = operand
        return {path: ops}
    if isinstance(value, list):
        return {path: {"$in": value}}
    return {path: value}


def scope_of(raw: Mapping[str, Any] | None) -> tuple[str | None, str | None, dict[str, Any]]:
    """(memhub user, session, the rest of the filter): a plain ``user_id``/``run_id`` the filter pins.

    A ``user_id`` is always the memhub user of what the door stores (and a ``run_id`` always its
    session), so pinning them as the search scope selects exactly the memories the metadata condition
    would, plus the same user's memories written through the other doors; and the store scans one user,
    not the tenant. Only top-level conditions (or members of a top-level ``AND``) qualify.
    """
    rest = dict(raw or {})
    pinned: dict[str, str] = {}
    for field in ("user_id", "run_id"):
        value = rest.get(field)
        if _plain(value):
            pinned[field] = rest.pop(field)
    members = rest.get("AND")
    if isinstance(members, list):
        kept = []
        for member in members:
            key = next(iter(member)) if isinstance(member, Mapping) and len(member) == 1 else None
            if key in ("user_id", "run_id") and key not in pinned and _plain(member[key]):
                pinned[key] = member[key]
            else:
                kept.append(member)
        if kept:
            rest["AND"] = kept
        else:
            del rest["AND"]
    return pinned.get("user_id"), pinned.get("run_id"), rest


def _plain(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and value != "*"


def merged_filters(top: Entities, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """1.x clients send entity ids at the top level of search/get_all; they join the filter (AND)."""
    merged = dict(filters or {})
    for field in ENTITY_FIELDS:
        value = getattr(top, field)
        if value is not None and field not in merged:
            merged[field] = value
    return merged


# ---------------------------------------------------------------------------------------------------
# answers


def iso(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def caller_metadata(memory: Memory) -> dict[str, Any]:
    extra = _extra(memory)
    if not extra:
        return {k: v for k, v in memory.metadata.items() if not k.startswith("_")}
    return {k: memory.metadata[k] for k in extra.get(KEYS_FIELD) or [] if k in memory.metadata}


def categories(memory: Memory) -> list[str]:
    category = memory.metadata.get("category")
    return [category] if isinstance(category, str) and category else []


def memory_object(memory: Memory, score: float | None = None) -> dict[str, Any]:
    """A memory as mem0 serves it (``run_id`` and ``session_id`` both: its endpoints differ on the name)."""
    entities = memory_entities(memory)
    item: dict[str, Any] = {
        "id": memory.id,
        "memory": memory.text,
        **entities,
        "session_id": entities["run_id"],
        "hash": ids.content_hash(memory.text),
        "metadata": caller_metadata(memory),
        "categories": categories(memory),
        "created_at": iso(memory.created_at),
        "updated_at": iso(memory.updated_at),
        "expiration_date": None,
        "immutable": False,
        "structured_attributes": None,
    }
    if score is not None:
        item["score"] = round(min(1.0, max(0.0, score)), 6)
    return item


def pick_fields(item: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """``fields``: only the named keys (``id`` always, so a caller can address the memory)."""
    if not fields:
        return item
    return {k: v for k, v in item.items() if k == "id" or k in fields}


def added(memory: Memory) -> dict[str, Any]:
    """One result of an add or an event: ``{id, data: {memory}, event}`` (+ 1.x's ``memory``)."""
    event = "UPDATE" if isinstance(memory.metadata.get(REVISES_KEY), str) else "ADD"
    return {"id": memory.id, "data": {"memory": memory.text}, "memory": memory.text, "event": event}


def event_object(job: Job, results: list[dict[str, Any]]) -> dict[str, Any]:
    done = job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    latency = (job.updated_at - job.created_at).total_seconds() * 1000 if done else None
    return {
        "id": job.id,
        "event_type": "ADD",
        "status": EVENT_STATUS[job.status],
        "payload": None,
        "metadata": None,
        "results": results,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "started_at": iso(job.created_at),
        "completed_at": iso(job.updated_at) if done else None,
        "latency": latency,
        "graph_status": None,
        "error": job.last_error if job.status is JobStatus.FAILED else None,
    }


def history_entry(
    memory_id: str,
    event: str,
    old: Memory | None,
    new: Memory | None,
    at: Memory,
    said: Sequence[Event] = (),
) -> dict[str, Any]:
    """One history line: ADD (new only), UPDATE (old → new) or DELETE (old only); ``said``: the
    messages the version came from (its provenance), as mem0's ``input``."""
    return {
        "id": ids.derived_id("mem0-history", memory_id, event, at.id),
        "memory_id": memory_id,
        "input": [{"role": e.role or "user", "content": e.content} for e in said],
        "old_memory": old.text if old else None,
        "new_memory": new.text if new else None,
        "event": event,
        "user_id": memory_entities(at)["user_id"],
        "categories": categories(at),
        "metadata": caller_metadata(at),
        "created_at": iso(at.created_at),
        "updated_at": iso(at.updated_at),
    }
