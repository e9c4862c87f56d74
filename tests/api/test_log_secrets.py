"""No configured secret reaches the log, whatever the log level and whoever writes the line.

A real server embeds through a fake OpenAI-compatible endpoint whose URL carries ``user:password@`` and
whose API key is set, with an LLM key and a GoMemory key configured too, at ``debug`` level (the most
verbose). httpx logs every request's full URL at INFO; the server's log must hold none of the secrets.
"""

from __future__ import annotations

import logging

from memhub.logging_setup import RedactingFormatter
from memhub.settings import Settings
from memhub.testing.openai_server import start_fake_openai_server
from support.api import add_messages
from support.server import StartServer

PASSWORD = "tiger-pw-2231"
EMBED_KEY = "sk-embed-5512"
LLM_KEY = "sk-llm-9931"
GOMEMORY_KEY = "gm-key-7719"


def test_configured_secrets_never_reach_the_log(start_server: StartServer) -> None:
    with start_fake_openai_server(dim=16) as fake:
        handle = start_server(
            embedder="openai",
            embed_base_url=f"http://scott:{PASSWORD}@127.0.0.1:{fake.port}/v1",
            embed_model="fake-embed",
            embed_api_key=EMBED_KEY,
            llm_api_key=LLM_KEY,
            gomemory_api_key=GOMEMORY_KEY,
            log_level="debug",
        )
        with handle.client() as client:
            add_messages(client, "u", "I water the ferns on Sundays.")  # embedded through the fake
        assert any(r.path == "/v1/embeddings" for r in fake.requests)  # the endpoint was really called
    handle.stop()
    log = handle.log()
    assert "DEBUG" in log  # the most verbose level was on
    for secret in (PASSWORD, EMBED_KEY, LLM_KEY, GOMEMORY_KEY):  # (the first-start key is printed on purpose)
        assert secret not in log, secret


def test_the_formatter_removes_every_secret_the_settings_hold() -> None:
    settings = Settings(
        database_url="postgresql://memhub:db-pass-881@db.internal/memhub?sslpassword=ssl-pass-772",
        rerank_base_url="https://x:rr-pass-113@rerank.internal/v1",
        rerank_model="m",
        rerank_api_key="sk-rerank-4401",
    )
    formatter = RedactingFormatter(logging.Formatter("%(message)s"), settings.secrets())
    message = "connecting to %s and %s with %s"
    args = (settings.database_url, settings.rerank_base_url, settings.rerank_api_key)
    line = formatter.format(logging.LogRecord("t", logging.INFO, "", 0, message, args, None))
    for secret in ("db-pass-881", "ssl-pass-772", "rr-pass-113", "sk-rerank-4401"):
        assert secret not in line
    assert "db.internal" in line and "***" in line


def test_a_secret_as_short_as_a_word_does_not_blank_the_log() -> None:
    """A database password equal to a word of the log ("memhub") must not replace that word everywhere."""
    inner = logging.Formatter("%(name)s: %(message)s")
    formatter = RedactingFormatter(inner, ["memhub", "long-secret-9917"])
    record = logging.LogRecord("memhub.worker", logging.INFO, __file__, 1, "x long-secret-9917", None, None)
    assert formatter.format(record) == "memhub.worker: x ***"
