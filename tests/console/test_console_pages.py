"""The console's pages over a real store: what they show, escaping, tenant isolation, 404s and 422s."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from console_app import Console

XSS_TEXT = "Note <script>alert('x')</script> and <img src=x onerror=alert(1)> \"quoted\""
XSS_USER = '<b>bob</b>/"o\'neil"'


@pytest.fixture
def signed_in(console: Console) -> Console:
    console.login()
    return console


def test_every_page_escapes_user_data(signed_in: Console) -> None:
    job = signed_in.add(XSS_USER, XSS_TEXT, session_id="<s>", metadata={"<k>": "<v>"})
    memory_id = job["memory_ids"][0]
    user = quote(XSS_USER, safe="")
    pages = [
        "/console",
        "/console/users",
        f"/console/users/{user}",
        f"/console/forget-user?user_id={user}",
        "/console/sessions",
        f"/console/sessions/{quote('<s>', safe='')}",
        "/console/memories",
        f"/console/memories?user_id={user}",
        f"/console/memories/{memory_id}",
        f"/console/jobs/{job['id']}",
        "/console/search?q=" + quote("<script>alert note"),
    ]
    for path in pages:
        response = signed_in.http.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        html = response.text
        assert "<script" not in html and "<img" not in html and "<b>bob" not in html, path
        assert "<s>" not in html and "<k>" not in html, path
    detail = signed_in.http.get(f"/console/memories/{memory_id}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in detail
    assert "&lt;b&gt;bob&lt;/b&gt;/&#34;o&#39;neil&#34;" in detail


def test_overview_counts_and_links_what_the_tenant_holds(signed_in: Console) -> None:
    signed_in.add("ada", "I moved to Lisbon in 2021.", "My sister is called Marta.", session_id="trip")
    html = signed_in.http.get("/console").text
    assert re.search(r"<b>1</b> users", html) and re.search(r"<b>2</b> events", html)
    assert "I moved to Lisbon in 2021." in html
    user = signed_in.http.get("/console/users/ada").text
    assert 'href="/console/sessions/trip"' in user and "Forget user" in user
    session = signed_in.http.get("/console/sessions/trip").text
    assert "My sister is called Marta." in session and 'href="/console/users/ada"' in session


def test_memories_list_pages_by_cursor_and_keeps_filters(signed_in: Console) -> None:
    for i in range(3):
        signed_in.add("pager", f"Distinct fact number {i} about gardening.")
    signed_in.add("someone-else", "Unrelated fact about sailing.")
    first = signed_in.http.get("/console/memories?user_id=pager&limit=2").text
    assert first.count('href="/console/memories/') == 2 and "sailing" not in first
    next_link = re.search(r'href="(/console/memories\?[^"]*cursor=[^"]*)"', first)
    assert next_link is not None
    url = next_link.group(1).replace("&amp;", "&")
    assert "user_id=pager" in url and "limit=2" in url
    second = signed_in.http.get(url).text
    assert second.count('href="/console/memories/') == 1 and "First page" in second
    assert "Next page" not in second


def test_search_shows_scores_and_sources(signed_in: Console) -> None:
    signed_in.add("sam", "I play the cello in an orchestra.")
    html = signed_in.http.get("/console/search?q=cello+orchestra&user_id=sam").text
    # the turn itself and the fact the rule extractor draws from it ("… plays the cello in an orchestra")
    assert "2 results." in html
    assert re.search(r'<meter min="0" max="1" value="0\.\d+"></meter> <b>0\.\d{3}</b>', html)
    assert "sources: <code>" in html and "I play the cello" in html


def test_bad_search_values_answer_422_next_to_the_form(signed_in: Console) -> None:
    response = signed_in.http.get("/console/search?q=cello&limit=0")
    assert response.status_code == 422
    assert "limit must be between 1 and" in response.text and 'value="cello"' in response.text
    unparsable = signed_in.http.get("/console/search?q=cello&limit=lots")
    assert unparsable.status_code == 422 and "limit" in unparsable.text
    assert signed_in.http.get("/console/memories?core=maybe").status_code == 422
    assert signed_in.http.get("/console/memories?limit=100000").status_code == 422


def test_unknown_ids_are_404_pages(signed_in: Console) -> None:
    for path in (
        "/console/memories/no-such-memory",
        "/console/users/nobody",
        "/console/sessions/none",
        "/console/spaces/none",
        "/console/jobs/none",
        "/console/forget-user?user_id=nobody",
        "/console/memories?space=no-such-space",
        "/console/no-such-page",
    ):
        response = signed_in.http.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "Back to the console" in response.text, path
    crafted = signed_in.http.get("/console/memories/" + quote("<script>alert(1)</script>", safe=""))
    assert crafted.status_code == 404 and "&lt;script&gt;alert(1)&lt;/script&gt;" in crafted.text
    assert "<script>" not in crafted.text


def test_another_tenants_data_is_invisible(signed_in: Console) -> None:
    service = signed_in.http.app.state.service  # type: ignore[attr-defined]
    _, other_key = service.create_api_key("other-tenant")
    job = signed_in.add("theirs", "A secret of the other tenant.", key=other_key)
    memory_id = job["memory_ids"][0]
    assert signed_in.http.get(f"/console/memories/{memory_id}").status_code == 404
    assert signed_in.http.get("/console/users/theirs").status_code == 404
    assert "secret of the other tenant" not in signed_in.http.get("/console/memories").text
    form = {"csrf": signed_in.csrf()}
    assert signed_in.http.post(f"/console/memories/{memory_id}/delete", data=form).status_code == 404
    other = service.authenticate(other_key)
    assert service.get_memory(other.id, memory_id).id == memory_id  # untouched


def test_forget_user_asks_first_then_deletes_everything(signed_in: Console) -> None:
    signed_in.add("leaving/user", "Please forget me.", session_id="bye")
    confirm = signed_in.http.get("/console/forget-user?user_id=leaving/user")
    assert confirm.status_code == 200 and "Yes, forget this user" in confirm.text
    done = signed_in.http.post(
        "/console/forget-user", data={"user_id": "leaving/user", "csrf": signed_in.csrf()}
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/users"
    users = signed_in.http.get("/console/users").text
    assert "Forgot user leaving/user: 1 memories deleted." in users  # shown once, from the cookie
    assert "Forgot user" not in signed_in.http.get("/console/users").text
    assert signed_in.http.get("/console/users/leaving%2Fuser").status_code == 404
