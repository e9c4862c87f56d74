"""Turning a user's free text into a safe FTS5 ``MATCH`` expression.

FTS5 has a query language (``AND``, ``NEAR``, ``col:``, ``*``, ``^``, quotes, parentheses): passing user
text through would make ``what's "that"?`` a syntax error and ``a:b`` a column filter. So the text is
cut into words here, each word becomes a quoted string (quotes doubled inside), and the words are ORed:
every chunk sharing a word is a candidate and BM25 ranks them. Operators in the text become ordinary
words (``AND`` is searched for as the word "and"), which is what someone typing free text means.

Which words are looked for (common words dropped, at most ``MAX_TERMS``) is ``sql/words.py``, the
rule both stores share, and ``sql/analysis.py`` folds and stems them exactly as it did the chunks'
``keyword_text`` (the column FTS5 indexes).

**Scope tokens.** The FTS index holds every tenant's chunks. Matching the words alone and then joining
to ``memories`` to keep the caller's scope made a search cost grow with how often its words occur in the
*whole file*, nearly all of it spent joining matches outside the scope
(docs/decisions/sqlite-fts-scope-tokens.md). So each chunk also indexes a
second column, ``scope_key``, holding one opaque token per scope it belongs to (tenant, space, user,
session), and the query ANDs the narrowest of them with the words: FTS5 intersects the posting lists in
C and only in-scope chunks are ever joined. The SQL scope condition stays in the query, so the tokens
are an accelerator, never the authority (a hash collision could only cost time). Tokens are hashes, not
ids, because ids may hold any character and the tokenizer would split them; a memory's scope columns
never change after it is written, so the tokens never go stale.
"""

from __future__ import annotations

import hashlib

from ..sql.analysis import KeywordAnalyser


def match_expression(text: str, analyser: KeywordAnalyser) -> str | None:
    """The words of ``text`` as an OR of quoted strings, or None when it holds no word (match nothing)."""
    terms = analyser.terms(text)
    return any_of(terms) if terms else None


def any_of(terms: list[str]) -> str:
    """An FTS5 expression matching rows holding any of ``terms`` (each quoted: never an operator)."""
    return " OR ".join(_quote(term) for term in terms)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def scope_token(kind: str, *parts: str) -> str:
    """One opaque FTS token for a scope: ``kind`` is ``t``/``s``/``u``/``e`` (tenant, space, user,
    session); ``parts`` identify it within the file (a user id only means something with its tenant)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{kind}{digest}"


def scope_key(tenant_id: str, space_id: str, user_id: str | None, session_id: str | None) -> str:
    """The ``scope_key`` column of a chunk of a memory with these scope columns."""
    tokens = [scope_token("t", tenant_id), scope_token("s", space_id)]
    if user_id is not None:
        tokens.append(scope_token("u", tenant_id, user_id))
    if session_id is not None:
        tokens.append(scope_token("e", tenant_id, session_id))
    return " ".join(tokens)


def scoped_match(
    words: str,
    tenant_id: str,
    space_ids: list[str] | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> str:
    """``words`` (from :func:`match_expression`) restricted to the narrowest scope token given."""
    if session_id is not None:
        tokens = [scope_token("e", tenant_id, session_id)]
    elif user_id is not None:
        tokens = [scope_token("u", tenant_id, user_id)]
    elif space_ids:
        tokens = [scope_token("s", space_id) for space_id in space_ids]
    else:
        tokens = [scope_token("t", tenant_id)]
    return f"scope_key : ({' OR '.join(tokens)}) AND keyword_text : ({words})"
