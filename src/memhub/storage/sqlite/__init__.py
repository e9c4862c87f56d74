"""The embedded store: one SQLite file, FTS5 keyword search, an in-memory exact vector index."""
