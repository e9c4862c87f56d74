"""Whether a request came over loopback, judged from the socket it arrived on — not from settings.

Keyless doors (GoMemory's mount, ``/metrics`` in ``auto`` mode) are safe only while nobody but this
machine can reach them. ``settings.host`` says what ``memhub serve`` binds, but an app built with
``create_app`` can be served by anything (``uvicorn.run(app, host="0.0.0.0")``), so each request is
judged by the local address of its own connection (the ASGI scope's ``server``): a connection that
arrived on a loopback address came from this machine, whatever the listening socket was bound to.

``Host`` names a browser can be made to send to a loopback socket (DNS rebinding: a page on
``evil.example`` whose name now resolves to 127.0.0.1) are a separate check: :func:`loopback_host_header`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) means this machine only."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_loopback


def arrived_on_loopback(scope: Mapping[str, Any]) -> bool:
    """Whether the request's connection was accepted on a loopback address of this machine.

    Unknown (no ``server`` in the scope, or a Unix socket) counts as not loopback: the keyless doors
    then refuse, which is the safe side.
    """
    server = scope.get("server")
    if not server or len(server) < 2 or server[1] is None:
        return False
    return is_loopback_host(str(server[0]))


def loopback_host_header(headers: Mapping[str, str]) -> bool:
    """Whether the ``Host`` header names this machine (``localhost``, ``127.0.0.1``, ``[::1]``, any port)."""
    host = headers.get("host", "")
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    return bool(name) and is_loopback_host(name)
