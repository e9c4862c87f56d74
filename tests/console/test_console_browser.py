"""The console in a real browser: Debian's Chromium, driven by Playwright, against a real ``memhub serve``.

A person signs in with a key of a tenant of their own, browses what the SDK added, searches, deletes a
memory and forgets a user; every step is checked on the page and against the API. Screenshots of each
page land in ``test-artifacts/console/`` (git-ignored) for a human to look at.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``, which ``.ci/run`` installs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

import memhub
from support.server import ServerHandle

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_a_person_browses_searches_deletes_and_forgets_in_chromium(server: ServerHandle, page: Page) -> None:
    tenant = f"console-{uuid.uuid4().hex[:8]}"
    key = server.create_key(tenant, name="console-e2e")
    dialogs: list[str] = []  # an alert() from injected markup would land here
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with memhub.Client(server.base_url, key) as sdk:
        ada = sdk.memories.add(
            [
                {"role": "user", "content": "I adopted a beagle named Biscuit last spring."},
                {"role": "assistant", "content": "Biscuit is a lovely name!"},
                {"role": "user", "content": "I work as a nurse at a hospital in Lisbon."},
            ],
            user_id="ada",
            session_id="first-chat",
            wait=True,
        )
        sdk.memories.add(
            [{"role": "user", "content": f"My favourite snippet is {XSS}"}], user_id="mallory", wait=True
        )
        sdk.spaces.create("research", metadata={"team": "ml"})
        sdk.documents.add(
            "Transformers use attention to weigh tokens. " * 8,
            title="Attention notes",
            space="research",
            wait=True,
        )
        _sign_in(page, server, key)
        _browse(page, server)
        _search(page, server)
        deleted = _delete_a_memory(page, server, ada.memory_ids[0])
        with pytest.raises(memhub.NotFoundError):
            sdk.memories.get(deleted)
        _forget(page, server, "mallory")
        with pytest.raises(memhub.NotFoundError):
            sdk.users.get("mallory")
    assert page.evaluate("window.__pwned === undefined"), "user data ran as script"
    assert dialogs == []
    page.click("text=Sign out")
    page.wait_for_url("**/console/login")
    page.goto(f"{server.base_url}/console/memories")
    assert "/console/login?next=" in page.url


def _sign_in(page: Page, server: ServerHandle, key: str) -> None:
    page.goto(f"{server.base_url}/console/users")
    assert "/console/login?next=/console/users" in page.url
    page.fill("#api_key", "mh_wrong")
    page.click("button:has-text('Sign in')")
    assert page.is_visible("text=That key is not valid")
    shot(page, "01-login-refused")
    page.fill("#api_key", key)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/console/users")
    assert page.is_visible("a:has-text('ada')")


def _browse(page: Page, server: ServerHandle) -> None:
    page.click("nav >> text=Overview")
    assert page.inner_text(".stats").count("users") == 1
    shot(page, "02-overview")
    page.click("nav >> text=Spaces")
    page.click("a:has-text('research')")
    assert page.is_visible("text=Transformers use attention")
    shot(page, "03-space")
    page.click("nav >> text=Users")
    page.click("td >> a:has-text('ada')")
    shot(page, "04-user")
    page.click("a:has-text('first-chat')")
    assert page.is_visible("text=Biscuit is a lovely name!")
    shot(page, "05-session")
    page.click("nav >> text=Memories")
    page.select_option("select[name=kind]", "episode")
    page.fill("input[name=user_id]", "mallory")
    page.click("button:has-text('Filter')")
    assert "user_id=mallory" in page.url and "kind=episode" in page.url
    page.click("td.text >> a")
    body = page.inner_text("blockquote.memory-text")
    assert "<script>window.__pwned = 1</script>" in body  # shown as text, not run
    shot(page, "06-memory-with-markup-in-it")


def _search(page: Page, server: ServerHandle) -> None:
    page.click("nav >> text=Search")
    page.fill("input[name=q]", "what pet does ada have?")
    page.click("form.filters button:has-text('Search')")
    first = page.locator("ol.results > li").first
    assert "Biscuit" in first.inner_text()
    score = float(first.locator(".score b").inner_text())
    assert 0.0 < score <= 1.0
    assert "sources:" in first.inner_text()
    shot(page, "07-search")


def _delete_a_memory(page: Page, server: ServerHandle, memory_id: str) -> str:
    page.goto(f"{server.base_url}/console/memories/{memory_id}")
    assert page.is_visible("h2:has-text('Sources')")
    assert page.is_visible(".badge.status-succeeded")
    page.click("button:has-text('Delete this memory')")
    page.wait_for_url("**/console/memories")
    assert page.is_visible(f"text=Deleted memory {memory_id}.")
    shot(page, "08-deleted")
    return memory_id


def _forget(page: Page, server: ServerHandle, user_id: str) -> None:
    page.goto(f"{server.base_url}/console/users/{user_id}")
    page.click("text=Forget user…")
    shot(page, "09-forget-confirm")
    page.click("button:has-text('Yes, forget this user')")
    page.wait_for_url("**/console/users")
    assert page.is_visible(f"text=Forgot user {user_id}")
    shot(page, "10-forgotten")


def only_loopback(page: Page) -> list[str]:
    """Let the page reach loopback only: every other request is aborted and its URL listed."""
    blocked: list[str] = []

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    return blocked


def test_docs_render_the_operations_with_every_non_loopback_host_blocked(
    server: ServerHandle, page: Page
) -> None:
    """``/docs`` must not need a CDN: only loopback requests are let through, the rest are aborted."""
    blocked = only_loopback(page)
    page.goto(f"{server.base_url}/docs")
    search = page.locator('.opblock-summary-path[data-path="/v1/memories/search"]')
    search.first.wait_for(state="visible", timeout=30_000)
    assert page.locator(".opblock").count() > 20, "Swagger UI should list the API's operations"
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("memhub")
    shot(page, "docs-offline")
    assert blocked == [], f"/docs asked for other hosts: {blocked}"


def test_redoc_renders_the_operations_with_every_non_loopback_host_blocked(
    server: ServerHandle, page: Page
) -> None:
    """``/redoc`` must not need a CDN (nor Google's fonts): it is a blank page if its script is missing."""
    blocked = only_loopback(page)
    page.goto(f"{server.base_url}/redoc")
    title = page.locator(".api-info h1")
    title.wait_for(state="visible", timeout=30_000)
    assert title.inner_text().startswith("memhub")
    operations = page.locator("[data-item-id*='operation/']")
    assert operations.count() > 20, "ReDoc should list the API's operations"
    shot(page, "redoc-offline", full_page=False)  # the whole page is ~85,000 pixels tall
    assert blocked == [], f"/redoc asked for other hosts: {blocked}"
