"""Fixtures of the SDK tests: ``script``, a misbehaving-on-purpose loopback server (``loopback_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback_server import Script, start


@pytest.fixture
def script() -> Iterator[Script]:
    plan = Script()
    server = start(plan)
    yield plan
    server.shutdown()
    server.server_close()
