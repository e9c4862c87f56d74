"""Extractors: turn events into memory drafts (see ``core.ports.Extractor``)."""

from .rules import RuleExtractor

__all__ = ["RuleExtractor"]
