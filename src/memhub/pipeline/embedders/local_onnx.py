"""The default embedder: a bundled sentence model run by onnxruntime, offline, with no torch at run time.

Two models ship inside the package (``memhub/pipeline/model/``) and are found with
``importlib.resources``, so they work from any working directory and never touch the network:
all-MiniLM-L6-v2 (the default, ``scripts/build_model.py``) and the ~5x cheaper paraphrase-MiniLM-L3-v2
(``scripts/build_fast_model.py``). A third, all-mpnet-base-v2 (768-d), is registered for measurement but
not shipped: ``scripts/build_mpnet_model.py`` writes its files into that folder
(``docs/decisions/bigger-model.md``). The measurements behind the choices below:
``docs/decisions/local-embedder.md`` and ``docs/decisions/fast-local-model.md``.

* **int8 storage, float32 compute (L6).** The shipped file keeps its weights as int8 with float32 scales (a
  quarter of the size). onnxruntime folds the ``DequantizeLinear`` nodes into float32 weights when it
  loads the session, which only happens with ``session.disable_quant_qdq`` set (otherwise the nodes run
  on every call). Integer *compute* was tried and not shipped: too far from the reference vectors, or
  slower on a CPU without VNNI. The L3 model is the opposite trade: dynamically quantised int8 compute,
  chosen for speed, checked to a minimum cosine of 0.994 against its own float32 graph.
* **Sort by length inside a call.** Texts are tokenised once, sorted by token count and cut into
  batches, so each batch is padded only to its own longest text instead of the call's longest; rows
  are written back in input order. The result does not depend on how texts are batched (padding is
  masked out), which the tests check.
* **A token budget per batch.** A batch holds at most ``batch_size`` texts *and* at most
  ``max_batch_tokens`` padded tokens. Attention memory grows with batch x length², and onnxruntime's
  arena keeps the largest batch's memory for good; on CPU, throughput is flat from a few hundred tokens
  per batch, and smaller batches of sorted texts carry less padding.
* **One thread per model run; parallel across batches.** The session computes each batch on one
  thread (``intra_op_num_threads=1``), and a call with several batches runs them on ``threads``
  threads at once. A search embeds one short query beside its keyword search on the other core, where
  onnxruntime's intra-op split costs more CPU than it saves; bulk embedding gets more texts per CPU
  second from independent runs than from one split run, and concurrent searches each keep to one core
  instead of fighting over both.
* **Lazy load.** Importing onnxruntime and building the session happens on the first ``embed`` (or an
  explicit :meth:`LocalEmbedder.load`), so processes that never embed stay light.
* **Thread safety.** Loading is guarded by a lock; afterwards ``embed`` shares one session and one
  tokenizer, both safe for concurrent use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from memhub.core.errors import Unavailable
from memhub.core.ports import Matrix

MODEL_ID = "all-MiniLM-L6-v2"  # the default
FAST_MODEL_ID = "paraphrase-MiniLM-L3-v2"
MPNET_MODEL_ID = "all-mpnet-base-v2"  # measured, not shipped: docs/decisions/bigger-model.md
DIM = 384
MAX_TOKENS = 256  # the longest any local model reads
TOKENIZER_FILE = "tokenizer.json"  # the two bundled models share the uncased WordPiece vocabulary
_OUTPUT = "last_hidden_state"


@dataclass(frozen=True)
class LocalModel:
    """A local model: its ONNX and tokenizer files in ``memhub/pipeline/model/``, the tokens it reads
    and its vector width. ``build`` names the script that makes the files of a model memhub does not
    ship (empty for a bundled one)."""

    file: str
    max_tokens: int
    tokenizer: str = TOKENIZER_FILE
    dim: int = DIM
    build: str = ""


LOCAL_MODELS = {
    MODEL_ID: LocalModel(file="all-MiniLM-L6-v2.int8.onnx", max_tokens=256),
    FAST_MODEL_ID: LocalModel(file="paraphrase-MiniLM-L3-v2.int8.onnx", max_tokens=128),
    MPNET_MODEL_ID: LocalModel(
        file="all-mpnet-base-v2.onnx",
        max_tokens=256,
        tokenizer="all-mpnet-base-v2.tokenizer.json",
        dim=768,
        build="scripts/build_mpnet_model.py",
    ),
}
MODEL_FILE = LOCAL_MODELS[MODEL_ID].file

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Loaded:
    session: Any  # onnxruntime.InferenceSession (untyped library)
    tokenizer: Any  # tokenizers.Tokenizer (untyped library)
    inputs: tuple[str, ...]  # the graph's inputs, from input_ids, attention_mask, token_type_ids


class LocalEmbedder:
    """Implements :class:`memhub.core.ports.Embedder` with a bundled model (``LOCAL_MODELS``).

    ``model``: the bundled model's name (default all-MiniLM-L6-v2).
    ``threads``: batches embedded at once, one thread each (``None``: one per CPU this process may use).
    ``batch_size``: most texts per model call. ``max_batch_tokens``: most padded tokens per model call.
    """

    def __init__(
        self,
        *,
        model: str = MODEL_ID,
        threads: int | None = None,
        batch_size: int = 32,
        max_batch_tokens: int = 512,
    ) -> None:
        if model not in LOCAL_MODELS:
            raise ValueError(f"unknown local model {model!r}; choose one of: {', '.join(LOCAL_MODELS)}")
        if threads is not None and threads < 1:
            raise ValueError("threads must be >= 1 (or None for onnxruntime's default)")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if max_batch_tokens < MAX_TOKENS:
            raise ValueError(f"max_batch_tokens must be >= {MAX_TOKENS} (one text of maximal length)")
        self._model = model
        self._threads = threads or _usable_cpus()
        self._batch_size = batch_size
        self._max_batch_tokens = max_batch_tokens
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dim(self) -> int:
        return LOCAL_MODELS[self._model].dim

    def load(self) -> None:
        """Load the model now instead of on the first :meth:`embed` (idempotent, thread-safe)."""
        self._get()

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised float32 row per text, in input order; texts past the model's
        ``max_tokens`` (256 for L6, 128 for L3) are truncated."""
        items = list(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        if not all(isinstance(text, str) for text in items):
            raise TypeError("LocalEmbedder.embed takes a sequence of str")
        loaded = self._get()
        encodings = loaded.tokenizer.encode_batch(items)
        lengths = [len(encoding.ids) for encoding in encodings]
        batches = list(self._batches(lengths))

        def run(rows: list[int]) -> None:
            ids, mask, types = _pad([encodings[row] for row in rows], max(lengths[row] for row in rows))
            padded = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            feed = {name: padded[name] for name in loaded.inputs}
            hidden = loaded.session.run([_OUTPUT], feed)[0]
            out[rows] = _mean_pool_normalise(hidden, mask)  # each batch writes its own rows

        if len(batches) == 1:
            run(batches[0])
        else:
            for _ in self._workers().map(run, batches):  # iterating re-raises a batch's error
                pass
        return out

    def _batches(self, lengths: Sequence[int]) -> Iterator[list[int]]:
        """Row indices sorted by length, cut at ``batch_size`` texts or a padded-token budget.

        The budget is ``max_batch_tokens``, or less when that would leave threads idle: a call's tokens
        are spread over at least ``threads`` batches when it has that many texts.
        """
        budget = min(self._max_batch_tokens, max(1, -(-sum(lengths) // self._threads)))
        batch: list[int] = []
        for row in sorted(range(len(lengths)), key=lengths.__getitem__):
            padded = (len(batch) + 1) * lengths[row]  # sorted: this row is the longest so far
            if batch and (len(batch) == self._batch_size or padded > budget):
                yield batch
                batch = []
            batch.append(row)
        if batch:
            yield batch

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="memhub-embed")
            return self._pool

    def _get(self) -> _Loaded:
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = _load(LOCAL_MODELS[self._model])
                loaded = self._loaded
        return loaded


def _load(model: LocalModel) -> _Loaded:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    folder = resources.files("memhub.pipeline") / "model"
    try:
        with resources.as_file(folder / model.tokenizer) as path:
            tokenizer = Tokenizer.from_file(str(path))
        with resources.as_file(folder / model.file) as path:
            if not path.is_file():  # onnxruntime's own NoSuchFile is neither OSError nor RuntimeError
                raise FileNotFoundError(f"no file {path}")
            session = ort.InferenceSession(str(path), _session_options(ort), ["CPUExecutionProvider"])
    except (OSError, RuntimeError) as exc:  # a missing file surfaces as RuntimeError from the Rust side
        if model.build:
            raise Unavailable(
                f"the local model {model.file} is not shipped with memhub ({exc}); "
                f"build it into memhub/pipeline/model/ with {model.build}"
            ) from exc
        raise Unavailable(
            f"the bundled embedding model could not be loaded from memhub/pipeline/model/ ({exc}); "
            "reinstall memhub with its package data"
        ) from exc
    tokenizer.enable_truncation(max_length=model.max_tokens)
    tokenizer.no_padding()
    inputs = tuple(node.name for node in session.get_inputs())
    return _Loaded(session=session, tokenizer=tokenizer, inputs=inputs)


def _session_options(ort: Any) -> Any:
    options = ort.SessionOptions()
    # Fold DequantizeLinear into float32 weights at load instead of running it on every call.
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    # Each run computes on its caller's thread (see the module docstring); no pool threads to spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    return options


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pad(encodings: Sequence[Any], width: int) -> tuple[IntArray, IntArray, IntArray]:
    """Right-pad with token id 0 (``[PAD]``) to ``width``; the mask marks the real tokens."""
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        ids[row, :n] = encoding.ids
        mask[row, :n] = 1
        types[row, :n] = encoding.type_ids
    return ids, mask, types


def _mean_pool_normalise(hidden: npt.NDArray[np.float32], mask: IntArray) -> Matrix:
    """Mean of the token vectors under the mask, then L2 normalisation (as sentence-transformers)."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    result: Matrix = (pooled / norms).astype(np.float32)
    return result
