"""What both model builds share (``build_model.py``, ``build_fast_model.py``): the sentences they check
against, file digests and the licence copy. Its own module because ``build_model.py`` needs torch and
``build_fast_model.py`` must not."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

APACHE_LICENSE = Path("/usr/share/common-licenses/Apache-2.0")
APACHE_LICENSE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_license(out: Path) -> None:
    """The canonical Apache-2.0 text (Debian's base-files) as ``out/LICENSE``, checked by its digest."""
    if not APACHE_LICENSE.exists() or sha256_file(APACHE_LICENSE) != APACHE_LICENSE_SHA256:
        sys.exit(f"need the canonical Apache-2.0 text at {APACHE_LICENSE} (Debian base-files)")
    shutil.copyfile(APACHE_LICENSE, out / "LICENSE")


GOLDEN_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I prefer my coffee black, no sugar.",
    "Alice moved to Berlin in March 2021 and works as a data engineer.",
    "What is the capital of France?",
    "def add(a, b):\n    return a + b",
]

CHECK_SENTENCES = [
    *GOLDEN_SENTENCES,
    "",
    "a",
    "Hello!",
    "User likes hiking in the Alps during summer holidays.",
    "My daughter's birthday is on the 14th of July; she will turn seven.",
    "The meeting was moved from Tuesday 10:00 to Thursday 15:30 (CET).",
    "Je préfère le thé vert au café le matin.",
    "Das Wetter in München ist heute sonnig und warm.",
    "東京は日本の首都です。",
    "Emoji test 🎉🚀 — with dashes, “quotes” and ellipsis…",
    "SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL '7 days';",
    "https://example.com/path?query=value&other=1#fragment",
    "Allergic to peanuts and shellfish; carries an EpiPen at all times.",
    "The patient reported mild headaches after switching medication dosage to 20mg.",
    "   leading and trailing whitespace   ",
    "UPPER CASE SENTENCE ABOUT NOTHING IN PARTICULAR",
    "3.14159 2.71828 1.41421 1.73205 0.57721",
    "Remind me to call mom on Sunday evening.",
    "The user's favourite programming languages are Rust, Python and OCaml.",
    "Quantum entanglement does not allow faster-than-light communication.",
    " ".join(["memory"] * 300),
    " ".join(f"word{i}" for i in range(400)),
    "Long context: " + " ".join(["The agent remembered the user's preferences across sessions."] * 40),
]
