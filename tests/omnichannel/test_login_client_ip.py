"""Login throttling keys on the client's real address, which a password guesser cannot choose.

django-axes locks a username from one address after AXES_FAILURE_LIMIT wrong passwords. Behind a
reverse proxy every request comes from the proxy, and the client's address is in X-Forwarded-For,
which the client writes too: a guesser who sends a new `X-Forwarded-For` with each try must not get a
new counter each time. The header counts only when the peer is one of TRUSTED_PROXIES, read from the
right (omnichannel/client_ip.py). Real logins through the admin's login form, real Postgres.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from omnichannel.client_ip import client_ip, trusted_proxy_networks

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.5"


@pytest.fixture
def agent(django_user_model):
    return django_user_model.objects.create_user(username="ada-agent", password=PASSWORD, is_staff=True)


def login(client, password: str, *, peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
    return client.post("/admin/login/?next=/admin/", {"username": "ada-agent", "password": password,
                                                      "next": "/admin/"}, **extra)


def test_a_guesser_connecting_directly_cannot_reset_the_lock_with_a_forged_forwarded_for(client, agent, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        login(client, f"guess-{n}", peer="198.51.100.7", forwarded=f"203.0.113.{n + 1}")
    refused = login(client, PASSWORD, peer="198.51.100.7", forwarded="192.0.2.200")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session


def test_behind_our_proxy_a_guesser_prepending_addresses_is_still_one_client(client, agent, settings):
    """The proxy appends the address it saw (the guesser's); what the guesser wrote to its left is ignored."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        login(client, f"guess-{n}", peer=PROXY, forwarded=f"203.0.113.{n + 1}, 198.51.100.7")
    refused = login(client, PASSWORD, peer=PROXY, forwarded="192.0.2.200, 198.51.100.7")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    # The agent herself, from her own address behind the same proxy, is not locked out with the guesser
    # (before, every login came from the proxy's address: one guesser locked the account for everyone).
    assert login(client, PASSWORD, peer=PROXY, forwarded="198.51.100.99").status_code == 302


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "expected"), [
    ([], "198.51.100.7", "203.0.113.1", "198.51.100.7"),  # nobody trusted: the header is the client's claim
    (["10.0.0.0/8"], "198.51.100.7", "203.0.113.1", "198.51.100.7"),  # from a stranger, not our proxy
    (["10.0.0.0/8"], PROXY, "203.0.113.1, 198.51.100.7", "198.51.100.7"),  # right-most untrusted hop
    (["10.0.0.0/8"], PROXY, "198.51.100.7, 10.0.0.9", "198.51.100.7"),  # through two proxies of ours
    (["10.0.0.0/8"], PROXY, "10.0.0.8, 10.0.0.9", "10.0.0.8"),  # all ours: the farthest one
    (["10.0.0.0/8"], PROXY, "198.51.100.7, not-an-ip", PROXY),  # garbage: the nearest proxy, never the garbage
    (["10.0.0.0/8"], PROXY, "", PROXY),
    (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    (["10.0.0.0/8"], "::ffff:10.0.0.5", "::ffff:198.51.100.7", "198.51.100.7"),  # IPv4-mapped forms are IPv4
])
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(settings, trusted, peer, forwarded,
                                                                           expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/admin/login/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start_up():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES: 'proxy.internal' is not an IP address"):
        trusted_proxy_networks(["10.0.0.0/8", "proxy.internal"])
