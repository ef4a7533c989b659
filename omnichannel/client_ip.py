"""The address a request came from, for login throttling (django-axes' AXES_CLIENT_IP_CALLABLE).

Behind a reverse proxy REMOTE_ADDR is the proxy's, and the client's address is in X-Forwarded-For,
which each proxy extends on the right with the address that connected to it. Everything to the left
of what our own proxies wrote is the client's to say: a password guesser sends
`X-Forwarded-For: <a new address each try>` to get a fresh lockout counter every time. So the header
is read only when REMOTE_ADDR is one of TRUSTED_PROXIES, and then from the right: the first hop that
is not a trusted proxy is the client. With no trusted proxies (the default) the header is ignored.
A hop that is not an address (garbage a proxy passed on) ends the walk at the last trusted proxy:
throttled per proxy, never per made-up value.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxy_networks(values: list[str], *, name: str = "TRUSTED_PROXIES") -> list[Network]:
    """Addresses or networks ("10.0.0.5", "172.16.0.0/12", "::1"), or ImproperlyConfigured naming the bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or network "
                                       "(expected e.g. 10.0.0.5 or 172.16.0.0/12).") from None
    return networks


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address, networks: list[Network]) -> bool:
    return any(address in network for network in networks)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the right-most untrusted X-Forwarded-For hop when
    REMOTE_ADDR is a trusted proxy (see the module's doc)."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = trusted_proxy_networks(settings.TRUSTED_PROXIES)
    peer = _address(remote)
    if peer is None or not _trusted(peer, networks):
        return remote
    nearest = peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        if not _trusted(address, networks):
            return str(address)
        nearest = address
    return str(nearest)  # every hop a proxy of ours (a health check from inside), or garbage: the nearest proxy
