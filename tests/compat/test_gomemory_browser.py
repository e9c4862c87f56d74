"""The keyless GoMemory mount against what a web page in the host user's browser can send.

A page on any site can POST ``text/plain`` or a form to ``http://127.0.0.1:<port>`` without a CORS
preflight, and with DNS rebinding (its own name re-pointed at 127.0.0.1) it can read the answers, its
``Host`` being its own name. Against a real ``memhub serve`` process, those requests must be refused
and store nothing, while the SDK's own requests (JSON, no Origin, a loopback Host) keep working. And
the "loopback only" rule must hold for the socket a request really arrived on: an app built with
``create_app`` and served on 0.0.0.0 by hand must not answer keyless requests from another address.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.polling import poll_until
from support.server import ServerHandle, free_port, hermetic_env, launch_server

TENANT = "browser-gomemory"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = launch_server(
        tmp_path_factory.mktemp("gomemory-browser"),
        gomemory_tenant=TENANT,
        cors_origins="https://app.example",
    )
    yield handle
    handle.stop()


def insertion() -> str:
    user = str(uuid.uuid4())
    return json.dumps({"userId": user, "messages": [{"role": "user", "content": "My bank PIN is 4417."}]})


def queued_as_new(server: ServerHandle, body: str) -> bool:
    """Send ``body`` as the SDK does; True if the server had not seen that insertion before."""
    response = httpx.post(
        f"{server.base_url}/gomemory/add_memory",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return "has been queued" in response.json()["Msg"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        None,
    ],
)
def test_a_simple_request_body_is_refused_and_stores_nothing(
    server: ServerHandle, content_type: str | None
) -> None:
    body = insertion()
    headers = {"Content-Type": content_type} if content_type else {}
    response = httpx.post(f"{server.base_url}/gomemory/add_memory", content=body, headers=headers, timeout=30)
    assert response.status_code == 415
    assert response.json()["Message"] == "Content-Type must be application/json"
    assert queued_as_new(server, body)  # the refused request left no job behind


def test_a_foreign_host_is_misdirected(server: ServerHandle) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    query = {"userId": str(uuid.uuid4()), "query": "PIN"}
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}"):
        response = httpx.post(
            f"{server.base_url}/gomemory/get_memory", json=query, headers={"Host": host}, timeout=30
        )
        assert response.status_code == 421, host
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
        response = httpx.post(
            f"{server.base_url}/gomemory/get_memory", json=query, headers={"Host": host}, timeout=30
        )
        assert response.status_code == 200, host


def test_a_cross_site_origin_is_refused(server: ServerHandle) -> None:
    body = insertion()
    url = f"{server.base_url}/gomemory/add_memory"
    for origin in ("https://attacker.example", "null", server.base_url):
        response = httpx.post(
            url, content=body, headers={"Content-Type": "application/json", "Origin": origin}, timeout=30
        )
        assert response.status_code == 403, origin
    listed = httpx.post(
        url,
        content=insertion(),
        headers={"Content-Type": "application/json", "Origin": "https://app.example"},
    )
    assert listed.status_code == 200  # an origin the operator listed in cors_origins
    assert queued_as_new(server, body)


# --- the real socket decides ---------------------------------------------------------------------------


def other_local_address() -> str | None:
    """A non-loopback IPv4 address of this machine (the one its default route leaves from), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


SERVE_BY_HAND = textwrap.dedent(
    """
    import sys, uvicorn
    from memhub.api import create_app
    from memhub.settings import Settings
    # settings.host keeps its default, 127.0.0.1: only the socket below is on every interface
    app = create_app(Settings(data=sys.argv[1], gomemory_tenant="by-hand", worker=False))
    uvicorn.run(app, host="0.0.0.0", port=int(sys.argv[2]), log_level="warning")
    """
)


@pytest.mark.e2e  # it starts a uvicorn process itself
def test_an_app_served_on_all_interfaces_keeps_keyless_doors_to_loopback(tmp_path: Path) -> None:
    address = other_local_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_BY_HAND, str(tmp_path / "data"), str(port)],
        env=hermetic_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        local = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                return httpx.get(f"{local}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        poll_until(up, message="the hand-served app did not come up")
        remote = f"http://{address}:{port}"
        refused = httpx.get(f"{remote}/gomemory/health", timeout=10)
        assert refused.status_code == 403 and "only answers on loopback" in refused.json()["Message"]
        assert httpx.get(f"{remote}/metrics", timeout=10).status_code == 401
        assert httpx.get(f"{local}/gomemory/health", timeout=10).status_code == 200
        assert httpx.get(f"{local}/metrics", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(30)
        log.close()
