"""Embedders (implementations of :class:`memhub.core.ports.Embedder`).

* :class:`LocalEmbedder` — the bundled all-MiniLM-L6-v2 on onnxruntime: offline, 384 dimensions.
* :class:`OpenAIEmbedder` — any OpenAI-compatible ``/embeddings`` endpoint over HTTP.

Neither imports its heavy dependencies (onnxruntime, tokenizers) before it is first used.
"""

from .local_onnx import LocalEmbedder
from .openai_http import OpenAIEmbedder

__all__ = ["LocalEmbedder", "OpenAIEmbedder"]
