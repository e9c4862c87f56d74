"""Responses serialised once, for the routes that return many memories.

FastAPI answers a route that returns a model by dumping it to a dict, validating that dict back into
the response model and serialising the copy. For a page of memories that is most of the route's own
cost, and ``model_dump_json`` gives the same bytes (no field of these models has an alias or a custom
serialiser); the figures are in ``docs/decisions/api-json-body.md``. The hot routes return
:func:`json_body` and declare their model with ``response_model``, so ``/docs`` is unchanged.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

JSON = "application/json"


def json_body(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as a JSON response, serialised by pydantic in one pass."""
    return Response(model.model_dump_json(), status_code=status_code, media_type=JSON)
