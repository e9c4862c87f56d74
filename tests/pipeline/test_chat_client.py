"""The OpenAI-compatible chat client against a real fake server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memhub.core.errors import Unavailable
from memhub.pipeline.llm import ChatClient, StructuredReplyError, ask_json, system, user
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server

SECRET = "sk-test-DO-NOT-LEAK-0987654321"


_OPEN: list[ChatClient] = []


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server
    while _OPEN:  # every client a test made is closed (unclosed sockets are errors)
        _OPEN.pop().close()


def make(fake: FakeOpenAIServer, **options: object) -> ChatClient:
    options.setdefault("backoff", 0.01)
    client = ChatClient(fake.base_url, "small-model", **options)  # type: ignore[arg-type]
    _OPEN.append(client)
    return client


def test_returns_the_first_choice_and_sends_model_messages_and_json_mode(fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake).reply('{"ok": true}')
    reply = make(fake).complete([system("be brief"), user("hi")], json=True)
    assert (reply.text, reply.finish_reason, reply.model) == ('{"ok": true}', "stop", "fake-chat")
    body = script.bodies[0]
    assert body["model"] == "small-model" and body["temperature"] == 0.0
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert body["response_format"] == {"type": "json_object"}


def test_plain_mode_sends_no_response_format(fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake).reply("hello")
    assert make(fake).complete([user("hi")]).text == "hello"
    assert "response_format" not in script.bodies[0]


def test_retries_a_500_then_succeeds(fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake).status(500).reply("fine")
    assert make(fake, max_retries=1).complete([user("hi")]).text == "fine"
    assert len(script.calls) == 2


def test_gives_up_after_max_retries_with_an_error_naming_the_endpoint(fake: FakeOpenAIServer) -> None:
    ChatScript(fake).status(503, times=5)
    with pytest.raises(
        Unavailable, match=r"chat endpoint http://127\.0\.0\.1:\d+/v1/chat/completions failed"
    ):
        make(fake, max_retries=2).complete([user("hi")])


def test_a_reply_slower_than_the_timeout_fails_within_the_timeout(fake: FakeOpenAIServer) -> None:
    release = ChatScript(fake).held("late")
    try:  # the reply is held until the client has given up: a client waiting for it would not raise
        with pytest.raises(Unavailable, match="ReadTimeout"):
            make(fake, max_retries=0).complete([user("hi")], timeout=0.3)
    finally:
        release.set()


def test_a_server_refusing_json_mode_is_asked_without_it_from_then_on(fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake, refuse_json_mode=True).reply('{"a": 1}', '{"b": 2}')
    client = make(fake)
    assert client.complete([user("x")], json=True).text == '{"a": 1}'
    assert client.complete([user("y")], json=True).text == '{"b": 2}'
    assert all("response_format" not in body for body in script.bodies)
    assert len(script.calls) == 2  # the refused request is not recorded by the fake: 1 retry, then direct


def test_the_api_key_is_sent_but_never_quoted_in_errors(fake: FakeOpenAIServer) -> None:
    fake.api_key = "the-right-key"
    ChatScript(fake)
    with pytest.raises(Unavailable) as caught:
        make(fake, api_key=SECRET).complete([user("hi")])
    assert "401" in caught.value.message and SECRET not in caught.value.message
    assert SECRET not in repr(make(fake, api_key=SECRET))


def test_an_answer_without_content_is_a_clear_error(fake: FakeOpenAIServer) -> None:
    from memhub.testing.openai_server import Reply

    fake.route("/v1/chat/completions", lambda server, request: Reply(200, {"choices": []}))
    with pytest.raises(Unavailable, match=r"no 'choices\[0\]\.message\.content'"):
        make(fake).complete([user("hi")])


def test_ask_json_corrects_the_model_once_then_gives_up(fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake).reply("Sorry, no JSON here.", '{"n": 3}')

    def validate(value: object) -> int:
        if not isinstance(value, dict) or not isinstance(value.get("n"), int):
            raise ValueError('expected {"n": <int>}')
        return int(value["n"])

    assert ask_json(make(fake), [user("n?")], validate, shape='{"n": 1}') == 3
    correction = script.calls[1]
    assert correction[-2] == {"role": "assistant", "content": "Sorry, no JSON here."}
    assert "no JSON object or array" in correction[-1]["content"] and '{"n": 1}' in correction[-1]["content"]

    script.reply("still prose", '{"n": "three"}')
    with pytest.raises(StructuredReplyError, match="after 2 replies"):
        ask_json(make(fake), [user("n?")], validate, shape='{"n": 1}')
