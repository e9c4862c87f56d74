"""Embedders (implementations of :class:`memhub.core.ports.Embedder`).

* :class:`LocalEmbedder` — a bundled model on onnxruntime (all-MiniLM-L6-v2 by default, or the ~4.7x
  cheaper paraphrase-MiniLM-L3-v2): offline, 384 dimensions.
* :class:`OpenAIEmbedder` — any OpenAI-compatible ``/embeddings`` endpoint over HTTP.

Neither imports its heavy dependencies (onnxruntime, tokenizers) before it is first used.
"""

from .local_onnx import LocalEmbedder
from .openai_http import OpenAIEmbedder

__all__ = ["LocalEmbedder", "OpenAIEmbedder"]
