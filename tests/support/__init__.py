"""Helpers shared by tests: a real server launcher and a deterministic test embedder."""
