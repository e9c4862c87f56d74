"""GoodMem's label updates, shared by every resource that has labels (spaces, registries, API keys).

An update carries ``replaceLabels`` (the new set) or ``mergeLabels`` (added/overwritten keys), never
both; the result is always string to string, as GoodMem's labels are.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from memhub.core.errors import InvalidInput
from memhub.core.models import Record

from .door import query, query_labels

LABEL_UPDATES = ("replaceLabels", "mergeLabels")


def check_labels(value: Any, what: str = "labels") -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput(f"{what} must be an object of strings")
    return {str(k): v for k, v in value.items()}


def apply_labels(current: dict[str, str], changes: dict[str, Any]) -> dict[str, Any]:
    """``{"labels": ...}`` after ``replaceLabels`` or ``mergeLabels`` (both at once is a 400)."""
    replace, merge = changes.get("replaceLabels"), changes.get("mergeLabels")
    if replace is not None and merge is not None:
        raise InvalidInput("give replaceLabels or mergeLabels, not both")
    if replace is not None:
        return {"labels": check_labels(replace, "replaceLabels")}
    if merge is not None:
        return {"labels": {**current, **check_labels(merge, "mergeLabels")}}
    return {}


def listed(request: Request, records: list[Record]) -> list[Record]:
    """Registry records matching a list call's ``owner_id``, ``provider_type`` and ``label[k]=v``."""
    owner, provider, labels = (
        query(request, "owner_id"),
        query(request, "provider_type"),
        query_labels(request),
    )

    def keep(data: dict[str, Any]) -> bool:
        have = data.get("labels") or {}
        if any(have.get(k) != v for k, v in labels.items()):
            return False
        return (not owner or data.get("ownerId") == owner) and (
            not provider or data.get("providerType") == provider
        )

    return [r for r in records if keep(r.data)]
