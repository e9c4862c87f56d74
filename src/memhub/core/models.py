"""The nouns of memhub (each door's reference in docs/compat/ maps its protocol's words onto them).

Every stored object belongs to exactly one tenant; the store never returns an object to a caller of
another tenant. Ids are opaque strings: memhub mints UUIDs, and derives them deterministically from
content hashes where idempotency needs it (``core/ids.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JsonDict = dict[str, Any]


class _Model(BaseModel):
    """Objects memhub stores and sends out. Unknown fields are ignored when parsing, so an older SDK keeps
    working against a newer server that added a field."""

    model_config = ConfigDict(frozen=False, extra="ignore")


class _Input(BaseModel):
    """Objects callers send in. Unknown fields are an error, so a typo'd field name is reported, not lost."""

    model_config = ConfigDict(frozen=False, extra="forbid")


VERBATIM_KEY = "_verbatim"
"""Event metadata flag: store the submission's turns as they are, derive no facts from them
(``add_messages(verbatim=True)``); it is copied onto the memories like all event metadata."""

REVISES_KEY = "_revises"
"""Event (then memory) metadata: the id of the memory a :meth:`revise_memory` replaces, so a revision's
memory names its predecessor; the predecessor names its successor in ``superseded_by``."""


class MemoryKind(str, Enum):
    """What a memory is: a raw turn, an extracted fact, or a (chunked) document."""

    EPISODE = "episode"
    FACT = "fact"
    DOCUMENT = "document"


class EventKind(str, Enum):
    """What kind of raw input an event is."""

    MESSAGE = "message"
    ACTION = "action"
    DOCUMENT = "document"


class JobStatus(str, Enum):
    """Lifecycle of a job: pending → processing → succeeded | failed (failed jobs may be re-queued)."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Tenant(_Model):
    """The isolation boundary. Owns API keys, spaces, users and everything below them."""

    id: str
    name: str
    created_at: datetime


KeyRole = Literal["admin", "member"]
"""What a key may do: ``member`` keys read and write the tenant's memories; ``admin`` keys may also
manage the tenant's keys and read server-wide figures (``/metrics``). A tenant's first key is its admin."""


class ApiKey(_Model):
    """An API key as stored: only a hash of the secret, never the secret itself."""

    id: str
    tenant_id: str
    name: str
    prefix: str  # first characters of the key, shown in listings so people can tell keys apart
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    role: KeyRole = "member"


class Space(_Model):
    """A named memory collection. Every tenant has a space called ``default``."""

    id: str
    tenant_id: str
    name: str
    metadata: JsonDict = Field(default_factory=dict)
    created_at: datetime


class User(_Model):
    """An end-user memories are about. Created implicitly on first reference."""

    tenant_id: str
    id: str
    created_at: datetime
    memory_count: int = 0


class Session(_Model):
    """One conversation thread of a user."""

    id: str
    tenant_id: str
    space_id: str
    user_id: str
    metadata: JsonDict = Field(default_factory=dict)
    created_at: datetime


class Event(_Model):
    """A raw input, stored durably before anything is acknowledged.

    ``external_id`` is the caller's id for the input (a message id); ``position`` orders the events of
    one submission.
    """

    id: str
    tenant_id: str
    space_id: str
    user_id: str | None = None
    session_id: str | None = None
    kind: EventKind
    role: str | None = None
    name: str | None = None
    content: str
    external_id: str | None = None
    metadata: JsonDict = Field(default_factory=dict)
    occurred_at: datetime
    created_at: datetime
    job_id: str
    position: int = 0


class SourceRef(_Model):
    """Provenance of a memory: the event it was derived from, and the caller's id for that event."""

    event_id: str
    external_id: str | None = None

    @property
    def public_id(self) -> str:
        """The id a caller recognises: their own id where they gave one, else memhub's event id."""
        return self.external_id or self.event_id


class Chunk(_Model):
    """One searchable unit of a memory.

    ``text`` is what is returned; ``dense_key`` is what is embedded and ``sparse_key`` what is
    keyword-indexed. They differ on purpose: a turn is found better when its key carries the speaker, the
    date and its neighbours, while the caller wants the verbatim turn back.
    """

    id: str
    memory_id: str
    ordinal: int = 0
    text: str
    dense_key: str
    sparse_key: str
    start: int | None = None  # character offsets in the source content, for documents
    end: int | None = None


class Memory(_Model):
    """A retrievable unit with provenance to its events."""

    id: str
    tenant_id: str
    space_id: str
    user_id: str | None = None
    session_id: str | None = None
    kind: MemoryKind
    core: bool = False
    text: str
    metadata: JsonDict = Field(default_factory=dict)
    sources: list[SourceRef] = Field(default_factory=list)
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None = None
    valid_to: datetime | None = None  # set when a newer fact supersedes this one
    superseded_by: str | None = None
    job_id: str | None = None


class Job(_Model):
    """Durable background work on the events of one submission."""

    id: str
    tenant_id: str
    space_id: str
    user_id: str | None = None
    kind: EventKind
    status: JobStatus
    attempts: int = 0
    last_error: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    memory_ids: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# Inputs


class MessageInput(_Input):
    """One message of a conversation as a caller submits it."""

    role: str = Field(min_length=1)
    content: str
    id: str | None = None
    name: str | None = None
    timestamp: datetime | None = None
    metadata: JsonDict = Field(default_factory=dict)


class ActionInput(_Input):
    """A user action/event (a click, a purchase, a setting changed) as a caller submits it."""

    action: str = Field(min_length=1)
    content: str = ""
    id: str | None = None
    timestamp: datetime | None = None
    metadata: JsonDict = Field(default_factory=dict)

    def as_text(self) -> str:
        """The searchable rendering of the action."""
        return f"{self.action}: {self.content}" if self.content else self.action


class DocumentInput(_Input):
    """A document to chunk and index. ``chunk_size``/``chunk_overlap`` are in characters."""

    content: str
    id: str | None = None
    title: str | None = None
    timestamp: datetime | None = None
    metadata: JsonDict = Field(default_factory=dict)
    chunk_size: int = Field(default=1000, ge=50, le=20000)
    chunk_overlap: int = Field(default=100, ge=0, le=5000)


class MemoryDraft(_Model):
    """A memory an extractor proposes, before ids, vectors and timestamps are assigned.

    ``supersedes`` names an existing memory this one replaces (its ``valid_to`` is then closed and the
    history kept); ``source_positions`` index into the events the extractor was given.
    """

    kind: MemoryKind
    core: bool = False
    text: str
    chunks: list[ChunkDraft] = Field(default_factory=list)
    source_positions: list[int] = Field(default_factory=list)
    metadata: JsonDict = Field(default_factory=dict)
    supersedes: str | None = None


class ChunkDraft(_Model):
    """A chunk an extractor proposes (see :class:`Chunk`)."""

    text: str
    dense_key: str
    sparse_key: str
    start: int | None = None
    end: int | None = None


MemoryDraft.model_rebuild()


class Scope(_Model):
    """Where a read looks: always one tenant, optionally narrowed to spaces, a user and a session."""

    tenant_id: str
    space_ids: list[str] | None = None
    user_id: str | None = None
    session_id: str | None = None
    kinds: list[MemoryKind] | None = None
    core: bool | None = None
    include_superseded: bool = False


class SearchMode(str, Enum):
    """Which retrievers bring candidates."""

    HYBRID = "hybrid"
    DENSE = "dense"
    KEYWORD = "keyword"


class SearchRequest(_Input):
    """A search as the service receives it, already validated by the caller's adapter."""

    query: str
    user_id: str | None = Field(
        None,
        description=(
            "Only this user's memories. Omitted: the whole tenant, every user's memories (an admin's "
            "view, like the console's search); an agent answering one person should always pass it."
        ),
    )
    session_id: str | None = None
    spaces: list[str] | None = None  # space names; None = the default space
    limit: int = 10
    threshold: float | None = None
    filters: JsonDict | None = None
    kinds: list[MemoryKind] | None = None
    core: bool | None = None
    mode: SearchMode = SearchMode.HYBRID
    recency_weight: float = 0.0
    rerank: bool = False


class SearchResult(_Model):
    """One hit: the memory, its relevance score, its raw cosine, the number it was ordered by, its sources.

    ``score`` is the calibrated probability in [0, 1] that the memory is relevant to the query (what every
    threshold applies to, see ``core/relevance.py``); ``similarity`` is the plain cosine between the query
    and the memory's best chunk, for callers who want the embedding's own opinion.
    """

    memory: Memory
    score: float = Field(
        description=(
            "The estimated probability in [0, 1] that the memory is relevant to the query (see "
            "core/relevance.py); what `threshold` applies to."
        )
    )
    similarity: float = Field(0.0, description="The raw cosine between the query and the memory's key.")
    rank_score: float = Field(
        description=(
            "What the results are ordered by. Without rerank: the relevance model's logit (plus any recency "
            "bonus), so it can be below 0 or above 1 and compares only results of the same search. With "
            "rerank: the reranker's score, in [0, 1]. Use `score` to judge a single hit."
        )
    )
    sources: list[str]
    chunk: Chunk | None = None


class Page(_Model):
    """A page of a listing with the opaque cursor of the next page (None at the end)."""

    items: list[Any]
    next_cursor: str | None = None


class Record(_Model):
    """A small JSON object a tenant keeps by id in a named collection: configuration, not memory.

    Protocol adapters keep here what their protocol lets callers create and memhub has no noun for
    (Memsy's org/role/team customisations, collection ``memsy.role`` …), so no adapter needs a table.
    """

    tenant_id: str
    collection: str
    id: str
    data: JsonDict = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class Blob(_Model):
    """Bytes a tenant keeps under an owner id and a name: an upload's original file, a rendered page.

    ``data`` is empty in listings (:meth:`Store.list_blobs`); ``size`` and ``sha256`` describe the bytes.
    Memories stay text: a blob is what a protocol must hand back verbatim, never what is searched.
    """

    tenant_id: str
    owner_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    data: bytes = b""


class Counts(_Model):
    """How much one tenant (or the whole store) holds."""

    spaces: int = 0
    users: int = 0
    sessions: int = 0
    events: int = 0
    memories: int = 0
    jobs_pending: int = 0
    jobs_failed: int = 0
