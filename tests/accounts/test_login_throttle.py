"""Failed sign-ins lock a username from every address and an address for every username."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"


def alert(response) -> str:
    page = response.content.decode()
    return page[page.index('role="alert"') : page.index("</section>")]


def sign_in(username: str, password: str, address: str = "203.0.113.10"):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_a_locked_username_refuses_the_right_password_from_another_address(alice, settings) -> None:
    for attempt in range(settings.NESTOPS_LOGIN_FAILURE_LIMIT):
        sign_in("alice", "wrong", address=f"198.51.100.{attempt}")

    elsewhere = sign_in("alice", "alice-pw-123", address="192.0.2.77")

    assert elsewhere.status_code == 429
    assert LOCKED in elsewhere.content.decode()


def test_one_address_trying_many_usernames_is_locked(alice, settings) -> None:
    settings.NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    answers = [sign_in(f"user{n}", "Summer2026!").status_code for n in range(8)]
    assert answers == [200] * 7 + [429]

    # Even a real account with its right password, from that address.
    sprayed = sign_in("alice", "alice-pw-123")
    assert sprayed.status_code == 429
    assert sign_in("alice", "alice-pw-123", address="192.0.2.1").status_code == 302


def test_the_lockout_says_the_same_whichever_counter_tripped(alice, settings) -> None:
    settings.NESTOPS_LOGIN_FAILURE_LIMIT = 2
    settings.NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT = 2
    sign_in("alice", "wrong", address="198.51.100.1")
    by_username = sign_in("alice", "wrong", address="198.51.100.2")
    sign_in("nobody-1", "x", address="198.51.100.9")
    by_address = sign_in("nobody-2", "x", address="198.51.100.9")

    assert by_username.status_code == by_address.status_code == 429
    assert alert(by_username) == alert(by_address)
    assert LOCKED in alert(by_username)


def test_a_success_resets_the_username_but_not_the_address(alice, settings) -> None:
    settings.NESTOPS_LOGIN_FAILURE_LIMIT = 3
    settings.NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT = 4
    sign_in("alice", "wrong")
    sign_in("alice", "wrong")
    assert sign_in("alice", "alice-pw-123").status_code == 302
    assert sign_in("alice", "wrong").status_code == 200  # the username starts again

    assert sign_in("mallory-x", "wrong").status_code == 429  # the 4th failure of the address


def test_the_admin_sign_in_is_locked_too(settings) -> None:
    get_user_model().objects.create_superuser("root", password="root-pw-123")
    settings.NESTOPS_LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        sign_in("root", "wrong")
    client = Client(REMOTE_ADDR="192.0.2.50")
    client.post("/admin/login/", {"username": "root", "password": "root-pw-123"})
    assert "_auth_user_id" not in client.session


def test_an_administrator_unlocks_a_username(alice, settings) -> None:
    settings.NESTOPS_LOGIN_FAILURE_LIMIT = 1
    sign_in("alice", "wrong")
    assert sign_in("alice", "alice-pw-123", address="192.0.2.9").status_code == 429

    call_command("unlock_sign_in", username="alice")

    assert sign_in("alice", "alice-pw-123", address="192.0.2.9").status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(alice, settings) -> None:
    settings.NESTOPS_PROXY_COUNT = 1
    settings.NESTOPS_LOGIN_ADDRESS_FAILURE_LIMIT = 2
    proxy = "10.0.0.2"

    def through_proxy(client_address: str, forged: str = ""):
        chain = f"{forged}, {client_address}" if forged else client_address
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=chain).post(
            "/accounts/login/", {"username": f"u-{client_address}", "password": "x"}
        )

    assert through_proxy("203.0.113.1").status_code == 200
    # A forged first entry does not make a new address.
    assert through_proxy("203.0.113.1", forged="198.51.100.7").status_code == 429
    # Another client behind the same proxy is not locked out with it.
    assert through_proxy("203.0.113.2").status_code == 200


def test_a_lockout_lasts_a_full_cool_off_from_the_failure_that_caused_it(alice, settings) -> None:
    import time_machine

    settings.NESTOPS_LOGIN_FAILURE_LIMIT = 2
    settings.NESTOPS_LOGIN_COOLOFF_SECONDS = 900
    with time_machine.travel("2026-12-01 10:00:00Z", tick=False) as traveller:
        sign_in("alice", "wrong", address="198.51.100.1")
        traveller.shift(800)
        sign_in("alice", "wrong", address="198.51.100.2")  # locked from here
        traveller.shift(800)
        assert sign_in("alice", "alice-pw-123", address="198.51.100.3").status_code == 429
        # That attempt, refused, also counted: the lockout runs 900 s from it.
        traveller.shift(901)
        assert sign_in("alice", "alice-pw-123", address="198.51.100.3").status_code == 302
