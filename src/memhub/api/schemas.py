"""Request and response bodies of the native HTTP API (``/v1``).

Inputs reuse the core's input models (:class:`MessageInput`, :class:`ActionInput`,
:class:`DocumentInput`) so there is one definition of "a message"; the bodies here only add where the
input goes (user, session, space). Responses are the core models themselves, wrapped where the API
needs an envelope (pages, job answers), so OpenAPI describes exactly what the service returns.

Pydantic constraints here are for well-formedness and documentation; limits that depend on settings
(messages per request, content length) are the service's, and answer 413 rather than 422.
This module imports pydantic and the core only, never FastAPI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memhub.core.models import (
    ActionInput,
    Counts,
    DocumentInput,
    Event,
    JobStatus,
    Memory,
    MessageInput,
    SearchResult,
    Session,
    Space,
    User,
)

UserId = Annotated[str, Field(min_length=1, max_length=256, description="The end-user it is about.")]
SessionId = Annotated[str, Field(min_length=1, max_length=256, description="The conversation thread.")]
SpaceRef = Annotated[str, Field(min_length=1, description="Space name or id; omitted = the `default` space.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------------
# requests


class AddMemoriesRequest(_Body):
    """Messages of a conversation to remember."""

    messages: list[MessageInput] = Field(min_length=1)
    user_id: UserId
    session_id: SessionId | None = None
    space: SpaceRef | None = None
    metadata: dict[str, Any] | None = Field(None, description="Merged into every message's metadata.")


class AddDocumentRequest(DocumentInput):
    """A document to chunk and index, optionally about one user."""

    user_id: UserId | None = None
    space: SpaceRef | None = None

    def document(self) -> DocumentInput:
        """The document alone, as the service takes it (the target travels separately)."""
        return DocumentInput.model_validate(self.model_dump(include=set(DocumentInput.model_fields)))


class AddEventRequest(ActionInput):
    """A user action (click, purchase, setting changed) that becomes a searchable memory of the user."""

    user_id: UserId
    session_id: SessionId | None = None
    space: SpaceRef | None = None

    def action_input(self) -> ActionInput:
        """The action alone, as the service takes it (the target travels separately)."""
        return ActionInput.model_validate(self.model_dump(include=set(ActionInput.model_fields)))


class PatchMemoryRequest(_Body):
    """Replace a memory's metadata."""

    metadata: dict[str, Any]


class CreateSpaceRequest(_Body):
    name: str = Field(min_length=1, max_length=256)
    metadata: dict[str, Any] | None = None


class CreateSessionRequest(_Body):
    user_id: UserId
    session_id: SessionId | None = None  # omitted = a new id is minted
    space: SpaceRef | None = None
    metadata: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------------
# responses


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class EmbedderInfo(BaseModel):
    model: str
    dim: int


class Info(BaseModel):
    """What this server is and how much the caller's tenant holds."""

    version: str
    backend: str
    embedder: EmbedderInfo
    counts: Counts


class JobAccepted(BaseModel):
    """The answer to an add: the input is on disk; ``job_id`` tells when it is searchable."""

    job_id: str
    status: JobStatus
    created: bool = Field(description="False when identical input had already been submitted.")


class SearchResponse(BaseModel):
    results: list[SearchResult]


class MemoryPage(BaseModel):
    items: list[Memory]
    next_cursor: str | None = None


class SpacePage(BaseModel):
    items: list[Space]
    next_cursor: str | None = None


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None = None


class SessionPage(BaseModel):
    items: list[Session]
    next_cursor: str | None = None


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None = None


class Forgotten(BaseModel):
    deleted_memories: int


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """The shape of every error of the native API."""

    error: ErrorBody
