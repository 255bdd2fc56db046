"""The client's address, believing X-Forwarded-For only as far as TRUSTED_PROXIES vouch for it.

A proxy appends the address it was reached from to X-Forwarded-For; everything to the left of
that was written by whoever came before, the client included, so it can be anything. Walking from
the peer (REMOTE_ADDR) leftwards, each hop that is a trusted proxy hands over to the address it
recorded; the first one that is not trusted is the client. With no trusted proxies (the default)
the client is the peer and X-Forwarded-For is ignored. docs/reliability.md
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta) -> str:
    """The address of the client that sent the request whose `request.META` is `meta`."""
    peer = meta.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks:
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    address = peer
    while _trusted(address, networks) and hops:
        recorded = hops.pop()
        try:
            ipaddress.ip_address(recorded)
        except ValueError:  # a trusted proxy writes addresses: this one came from further left
            break
        address = recorded
    return address


class ClientAddressMiddleware:
    """Sets REMOTE_ADDR to the client's address, first thing, so that everything after it — the
    sign-in limits (teams.login) and DRF's throttles (NUM_PROXIES = 0: REMOTE_ADDR) — counts the
    same client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META["REMOTE_ADDR"] = client_address(request.META)
        return self.get_response(request)
