"""Real, in-process stand-ins for the remote services memhub talks to (an OpenAI-compatible chat,
embeddings and rerank endpoint), served over HTTP on a loopback port.

They live in the package, not under ``tests/``, because the benchmarks use them too (``bench/extraction.py
--llm`` drives the LLM extractor against one). Nothing in memhub's server imports them.
"""
