"""The outbound policy: which addresses memhub may call on a tenant's behalf, and a transport that obeys it.

A tenant can register endpoints (GoodMem's rerankers and LLMs) that the server then calls with the
tenant's memory text and stored secret. Without a policy that is a server-side request forgery: a tenant
could make memhub POST to its own loopback-only doors, to the cloud metadata service at 169.254.169.254
or to anything on the operator's private network, and learn from the answers and errors what is there.

So every request to a URL a *tenant* chose goes through :class:`PinnedTransport`, which

* **refuses non-public addresses by default**: loopback, private (RFC 1918), link-local (with the
  metadata address), CGNAT (100.64.0.0/10), unique-local IPv6 (fc00::/7), unspecified, multicast,
  reserved and documentation ranges — anything :attr:`ipaddress.IPv4Address.is_global` says is not on the
  public internet, including IPv4 addresses hidden inside IPv6 ones (``::ffff:127.0.0.1``, NAT64, 6to4);
* **resolves the name once and connects to the address it checked**, keeping the name in the ``Host``
  header and in TLS's SNI and certificate check, so a DNS answer that changes between the check and the
  connection (DNS rebinding) cannot move the request to another address;
* **lets the operator allow named hosts or networks** (:attr:`OutboundPolicy.allow`, e.g. an internal
  vLLM at ``10.0.0.0/8``), and turn tenant-registered calls off entirely (``enabled=False``).

Clients built with this transport must not follow redirects (httpx's default): each hop would be checked
again here, but a redirect is not something a registered endpoint needs. Endpoints the *operator*
configures (``--llm-base-url``, ``--rerank-base-url``, ``--embed-base-url``) do not use this policy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import httpx

from memhub.core.errors import Unavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``: how names are resolved (``getaddrinfo``, unless a test passes its own)."""

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
CALLS_OFF = "this server does not call endpoints registered by tenants"
NOT_ALLOWED = "its address is not one this server calls (loopback, private and link-local are refused)"


class OutboundRefused(Unavailable):
    """A request the outbound policy refused before any connection was made.

    The message is safe to show to the tenant; it names the policy, never the address a name resolved to.
    """


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in the system resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse_allow(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allow-list entries into host names (lower case) and networks; raises ``ValueError`` on ``""``."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().strip("[]").lower()
        if not entry:
            raise ValueError("an outbound allow-list entry is empty")
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return frozenset(names), tuple(networks)


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet, looking through IPv6 forms that embed an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class OutboundPolicy:
    """Where tenant-registered endpoints may be called; see the module docstring.

    ``allow`` holds host names (matched exactly, case-insensitively) and IP addresses or CIDR networks that
    are allowed although not public; ``enabled=False`` refuses every tenant-registered call.
    """

    allow: tuple[str, ...] = ()
    enabled: bool = True
    resolver: Resolver = system_resolver
    _names: frozenset[str] = field(init=False, repr=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names, networks = parse_allow(self.allow)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_networks", networks)

    def address_for(self, host: str, port: int) -> str:
        """The one address to connect to for ``host``, resolved once and checked; else ``OutboundRefused``.

        Every address the name resolves to must be allowed: a name that resolves to a public and a
        private address is refused, so the answer's order cannot decide where the request goes.
        """
        if not self.enabled:
            raise OutboundRefused(CALLS_OFF)
        name = host.strip("[]").lower().rstrip(".")
        literal = _ip(name)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = [a for a in (_ip(r) for r in self.resolver(name, port)) if a is not None]
            except (OSError, UnicodeError):
                addresses = []
            if not addresses:  # not OutboundRefused: which internal names exist is not the tenant's business
                raise Unavailable(f"the host name {name!r} could not be resolved")
        if name not in self._names and not all(self._allowed(a) for a in addresses):
            raise OutboundRefused(NOT_ALLOWED)
        return str(addresses[0])

    def transport(self) -> PinnedTransport:
        """A transport for an httpx client that calls a tenant-chosen URL.

        Passing it also keeps httpx from using a proxy from the environment, which would connect to the
        name itself and so undo the check.
        """
        return PinnedTransport(self, httpx.HTTPTransport())

    def _allowed(self, address: IPAddress) -> bool:
        return is_public(address) or any(address in network for network in self._networks)


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that sends each request to the address :class:`OutboundPolicy` checked for it.

    The URL's host is replaced by that address for the connection only: the ``Host`` header (set when
    the request was built) and the TLS server name (``sni_hostname``, which httpcore also verifies the
    certificate against) stay the original name.
    """

    def __init__(self, policy: OutboundPolicy, inner: httpx.BaseTransport) -> None:
        self._policy = policy
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self._policy.address_for(url.host, port)
        request.url = url.copy_with(host=address)
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def public_reason(exc: Unavailable) -> str:
    """Why a call to a tenant-registered endpoint failed, in words safe to show that tenant.

    The policy's own refusals are named; an HTTP status is given (the endpoint is the tenant's); anything
    else — a socket error, a DNS failure, the remote body — is not, because it tells the tenant what lies
    behind addresses it cannot otherwise see. The operator's log gets the details.
    """
    if isinstance(exc, OutboundRefused):
        return exc.message
    status = exc.details.get("status")
    if isinstance(status, int):
        return f"it answered HTTP {status}"
    return "it could not be reached or gave no usable answer"


def operator_reason(exc: Unavailable) -> str:
    """Why the call failed, for the operator's log: without the remote body (it may echo memory text)."""
    status = exc.details.get("status")
    return f"{exc.message.split(' (', 1)[0]} (HTTP {status})" if isinstance(status, int) else exc.message


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone id names no other host
    except ValueError:
        return None
