"""Routes that serialise their models once answer what FastAPI's own serialisation would."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi.encoders import jsonable_encoder

from memhub.api.json_body import json_body
from memhub.api.schemas import SearchResponse
from memhub.core.models import Memory, MemoryKind, SearchResult, SourceRef

WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)


def a_result() -> SearchResult:
    memory = Memory(
        id="mem_1",
        tenant_id="ten_1",
        space_id="spc_1",
        user_id="ana",
        session_id="s1",
        kind=MemoryKind.EPISODE,
        core=False,
        text="Café in Lisbon — “tiled” façades 🏛",
        metadata={"speaker": "Ana", "tags": ["trip", 2], "nested": {"ok": True, "none": None}},
        sources=[SourceRef(event_id="evt_1", external_id="D1:3")],
        occurred_at=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    return SearchResult(memory=memory, score=0.8125, rank_score=1.5e-3, sources=["D1:3"])


def test_json_body_has_the_bytes_fastapi_would_send_as_json() -> None:
    model = SearchResponse(results=[a_result()])
    response = json_body(model)
    assert response.media_type == "application/json"
    assert json.loads(bytes(response.body)) == jsonable_encoder(model)
    assert "Café".encode() in bytes(response.body)  # UTF-8, not \\u escapes


def test_json_body_keeps_the_status_code() -> None:
    assert json_body(SearchResponse(results=[]), status_code=201).status_code == 201
