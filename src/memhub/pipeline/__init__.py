"""The ingestion pipeline: embedders, extractors, chunking and index keys (implementations of core ports)."""
