"""The outbound policy: an endpoint a tenant registers is not a way into the server's own network.

GoodMem tenants register rerankers and LLMs that the server then calls with their memory text and
stored secret. These tests register them, through the real GoodMem SDK against a real server, at fake
endpoints on loopback and at private, link-local and metadata addresses, and check that by default none
of them is called; that the operator can allow an internal address or turn such calls off; that the
tenant never sees a remote body or a socket error (the operator's log does); that a moved endpoint
does not get the old secret; and, with a resolver hook, that the address checked is the one connected
to (no DNS-rebinding window).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from goodmem import Goodmem

from memhub.pipeline.outbound import OutboundPolicy, OutboundRefused
from memhub.settings import Settings
from memhub.testing.openai_server import (
    FakeOpenAIServer,
    RecordedRequest,
    Reply,
    error_reply,
    start_fake_openai_server,
)
from memhub.testing.rerank_server import RerankRoute
from support.goodmem import base_url, temporary_space, wait_completed
from support.server import ServerHandle, StartServer, free_port

TEXT = "The lighthouse keeper logs the tide at dawn."
TENANT_SECRET = "sk-tenant-registered-4417"
REMOTE_BODY = "INTERNAL-ONLY-BODY-7731"
REFUSED = "not one this server calls"


def chat(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
    choice = {"index": 0, "message": {"role": "assistant", "content": "the tide"}, "finish_reason": "stop"}
    return Reply(200, {"id": "c1", "object": "chat.completion", "model": "m", "choices": [choice]})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        RerankRoute(server, {"tide": 0.9})
        server.route("/v1/chat/completions", chat)
        yield server


def with_space(server: ServerHandle) -> Iterator[tuple[Any, str]]:
    with (
        Goodmem(base_url=base_url(server), api_key=server.api_key) as client,
        temporary_space(client, "outbound") as space,
    ):
        memory = client.memories.create(space_id=space.space_id, original_content=TEXT)
        assert wait_completed(client, memory.memory_id).processing_status == "COMPLETED"
        yield client, space.space_id


@pytest.fixture(scope="module")
def default_space(server: ServerHandle) -> Iterator[tuple[Any, str]]:
    """A space on the default server: no outbound allow-list."""
    yield from with_space(server)


@pytest.fixture(scope="module")
def allowed_space(outbound_server: ServerHandle) -> Iterator[tuple[Any, str]]:
    """A space on the server whose operator allows 127.0.0.1."""
    yield from with_space(outbound_server)


def register_reranker(client: Any, url: str, api_key: str | None = TENANT_SECRET) -> str:
    reranker = client.rerankers.create(
        display_name="r", provider_type="VLLM", endpoint_url=url, model_identifier="m", api_key=api_key
    )
    return str(reranker.reranker_id)


def register_llm(client: Any, url: str) -> str:
    llm = client.llms.create(
        display_name="l",
        provider_type="CUSTOM_OPENAI_COMPATIBLE",
        endpoint_url=url,
        model_identifier="m",
        api_key=TENANT_SECRET,
    ).llm
    return str(llm.llm_id)


def status_of(client: Any, sid: str, **post_processing: str) -> tuple[str, str]:
    """The one ``status`` event (code, message) of a retrieve with ``reranker_id`` and/or ``llm_id``."""
    events = client.memories.retrieve(message="tide", space_ids=[sid], stream=False, **post_processing)
    (status,) = [e.status for e in events if e.status]
    return str(status.code), str(status.message)


def test_endpoints_on_loopback_private_and_metadata_addresses_are_not_called(
    default_space: tuple[Any, str], fake: FakeOpenAIServer
) -> None:
    client, sid = default_space
    port = fake.port
    targets = [
        fake.base_url,  # http://127.0.0.1:PORT/v1
        f"http://localhost:{port}/v1",  # a name that resolves to loopback
        f"http://[::1]:{port}/v1",
        f"http://[::ffff:127.0.0.1]:{port}/v1",  # IPv4 loopback inside IPv6
        f"http://0.0.0.0:{port}/v1",  # unspecified: Linux connects it to loopback
        "http://169.254.169.254/latest",  # cloud metadata
        "http://10.0.0.7:8000/v1",
        "http://192.168.1.1/v1",
        "http://100.64.0.1/v1",  # CGNAT
        "http://[fd00::1]/v1",  # unique local
    ]
    before = len(fake.requests)
    for url in targets:
        code, message = status_of(client, sid, reranker_id=register_reranker(client, url))
        assert code.endswith("RERANKING_FAILED") and REFUSED in message, (url, message)
        code, message = status_of(client, sid, llm_id=register_llm(client, url))
        assert code.endswith("SUMMARIZATION_FAILED") and REFUSED in message, (url, message)
    assert len(fake.requests) == before  # not one connection reached the fake


def test_an_operator_allow_list_lets_an_internal_endpoint_be_called(
    allowed_space: tuple[Any, str], fake: FakeOpenAIServer
) -> None:
    client, sid = allowed_space
    events = client.memories.retrieve(
        message="tide", space_ids=[sid], stream=False, reranker_id=register_reranker(client, fake.base_url)
    )
    assert not [e for e in events if e.status]
    assert fake.requests[-1].path == "/v1/rerank"


def test_remote_bodies_and_socket_errors_go_to_the_operators_log_not_the_tenant(
    allowed_space: tuple[Any, str], outbound_server: ServerHandle
) -> None:
    client, sid = allowed_space
    with start_fake_openai_server() as failing:
        failing.route("/v1/rerank", lambda s, r: error_reply(400, f"{REMOTE_BODY} {TENANT_SECRET}"))
        failing.route("/v1/chat/completions", lambda s, r: error_reply(422, REMOTE_BODY))
        _, message = status_of(client, sid, reranker_id=register_reranker(client, failing.base_url))
        assert "HTTP 400" in message and REMOTE_BODY not in message
        _, message = status_of(client, sid, llm_id=register_llm(client, failing.base_url))
        assert "HTTP 422" in message and REMOTE_BODY not in message
    closed = f"http://127.0.0.1:{free_port()}/v1"
    _, message = status_of(client, sid, reranker_id=register_reranker(client, closed))
    assert "could not be reached" in message
    _, message = status_of(client, sid, llm_id=register_llm(client, closed))
    assert "could not be reached" in message
    for leak in ("ConnectError", "Errno", "refused", REMOTE_BODY):
        assert leak not in message
    log = outbound_server.log()
    assert "registered reranker of tenant" in log and "ConnectError" in log  # the operator can tell why
    assert REMOTE_BODY not in log and TENANT_SECRET not in log


def test_redirects_are_not_followed(allowed_space: tuple[Any, str]) -> None:
    client, sid = allowed_space
    with start_fake_openai_server() as fake:
        RerankRoute(fake, {"tide": 0.9})
        elsewhere = f"http://127.0.0.1:{fake.port}/v1/elsewhere"
        fake.route("/v1/moved/rerank", lambda s, r: Reply(302, {}, {"Location": elsewhere}))
        url = f"{fake.base_url}/moved"
        _, message = status_of(client, sid, reranker_id=register_reranker(client, url))
        assert "HTTP 302" in message
        assert fake.paths() == ["/v1/moved/rerank"]


def test_moving_an_endpoint_drops_its_stored_credential(
    allowed_space: tuple[Any, str], outbound_server: ServerHandle
) -> None:
    client, sid = allowed_space
    with start_fake_openai_server() as first, start_fake_openai_server() as second:
        RerankRoute(first, {"tide": 0.9})
        RerankRoute(second, {"tide": 0.9})
        reranker_id = register_reranker(client, first.base_url)
        answered = client.memories.retrieve(
            message="tide", space_ids=[sid], stream=False, reranker_id=reranker_id
        )
        assert not [e for e in answered if e.status]
        assert first.requests[-1].headers["authorization"] == f"Bearer {TENANT_SECRET}"
        with outbound_server.client() as http:
            moved = http.put(f"/goodmem/v1/rerankers/{reranker_id}", json={"endpointUrl": second.base_url})
            assert moved.status_code == 200, moved.text
        client.memories.retrieve(message="tide", space_ids=[sid], stream=False, reranker_id=reranker_id)
        assert second.requests and "authorization" not in second.requests[-1].headers


def test_tenant_registered_calls_can_be_turned_off(start_server: StartServer, fake: FakeOpenAIServer) -> None:
    handle = start_server(outbound_tenant_calls=False, outbound_allow="127.0.0.1")
    before = len(fake.requests)
    with contextlib.ExitStack() as stack:
        client, sid = stack.enter_context(contextlib.contextmanager(with_space)(handle))
        _, message = status_of(client, sid, reranker_id=register_reranker(client, fake.base_url))
        assert "does not call endpoints registered by tenants" in message
        _, message = status_of(client, sid, llm_id=register_llm(client, fake.base_url))
        assert "does not call endpoints registered by tenants" in message
    assert len(fake.requests) == before


# --- the policy itself, with a resolver hook ----------------------------------------------------------


class Resolver:
    """Answers for a name the system cannot resolve, one list per lookup (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


def test_the_checked_address_is_the_one_connected_to(fake: FakeOpenAIServer) -> None:
    # First answer 127.0.0.1 (allowed here), then a forbidden address: a client that resolved the name
    # again itself would fail on the first request ("rebind.memhub.test" is not a real name) and
    # succeed on the second.
    resolver = Resolver(["127.0.0.1"], ["169.254.169.254"])
    policy = OutboundPolicy(("127.0.0.1",), resolver=resolver)
    url = f"http://rebind.memhub.test:{fake.port}/v1/models"
    before = len(fake.requests)
    with httpx.Client(transport=policy.transport()) as client:
        assert client.get(url).status_code == 404  # the fake's answer: it was reached
        assert fake.requests[-1].headers["host"] == f"rebind.memhub.test:{fake.port}"
        with pytest.raises(OutboundRefused):
            client.get(url)
    assert resolver.lookups == ["rebind.memhub.test"] * 2  # once per request, by the policy
    assert len(fake.requests) == before + 1


def test_a_name_with_any_forbidden_address_is_refused(fake: FakeOpenAIServer) -> None:
    policy = OutboundPolicy(resolver=Resolver(["93.184.216.34", "127.0.0.1"]))
    before = len(fake.requests)
    with httpx.Client(transport=policy.transport()) as client, pytest.raises(OutboundRefused):
        client.get(f"http://mixed.memhub.test:{fake.port}/v1/models")
    assert len(fake.requests) == before


def test_the_allow_list_takes_names_and_networks(fake: FakeOpenAIServer) -> None:
    for allow in (("internal.memhub.test",), ("127.0.0.0/8",), ("INTERNAL.memhub.test.",)):
        policy = OutboundPolicy(allow, resolver=Resolver(["127.0.0.1"]))
        with httpx.Client(transport=policy.transport()) as client:
            assert client.get(f"http://internal.memhub.test:{fake.port}/v1/models").status_code == 404
    other = OutboundPolicy(("other.memhub.test", "10.0.0.0/8"), resolver=Resolver(["127.0.0.1"]))
    with httpx.Client(transport=other.transport()) as client, pytest.raises(OutboundRefused):
        client.get(f"http://internal.memhub.test:{fake.port}/v1/models")


def test_a_malformed_allow_list_entry_fails_at_start_up() -> None:
    assert Settings(outbound_allow="vllm.internal, 10.0.0.0/8").outbound_allow == [
        "vllm.internal",
        "10.0.0.0/8",
    ]
    for bad in ("10.0.0.0/33", "vllm.internal:8000", "http://vllm.internal", "a b"):
        with pytest.raises(ValueError, match="neither a host name nor an IP/CIDR"):
            Settings(outbound_allow=f"ok.internal,{bad}")
