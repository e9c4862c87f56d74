"""The route template a request was served by (``/v1/users/{user_id}``), never its raw path.

Both the metrics labels and the access log name requests this way: a raw path carries user, session and
memory ids — personal data in a log line, and an unbounded label set in a metric — while the template
says just as well which endpoint was hit. Requests no route matched (404, 405) share :data:`UNMATCHED`.
"""

from __future__ import annotations

import re

from starlette.types import Scope

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, with its router's prefix.

    Call it after the app has run: routing records the matched route in ``scope["route"]``. The matched
    route of an included router knows only its own part of the path (``/memories/{memory_id}`` under
    ``/v1``), so the prefix is recovered from the raw path: the literal part in front of where the
    route's pattern matches. Router prefixes here are literal, so no id leaks.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    pattern: re.Pattern[str] | None = getattr(route, "path_regex", None)
    if not isinstance(template, str) or pattern is None:
        return UNMATCHED
    path: str = scope["path"]
    if pattern.match(path):
        return template
    for cut in (i for i, char in enumerate(path) if char == "/" and i > 0):
        if pattern.match(path[cut:]):
            return path[:cut] + template
    return template
