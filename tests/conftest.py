"""Fixtures shared by the whole suite: a real cloudsim over HTTP, and the personas."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.hosts"]

for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ.pop(_name, None)

LONG_REQUESTS = pytest.StashKey[Any]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The test of the ten-minute request checks what started with the session: it runs last,
    so that the request runs alongside the rest of the suite."""
    last = [item for item in items if item.get_closest_marker("long_request")]
    if last:
        items[:] = [item for item in items if item not in last] + last


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any(item.get_closest_marker("long_request") for item in session.items):
        import tempfile

        from tests.webgateway.long_request import LongRequests

        job = LongRequests(Path(tempfile.mkdtemp(prefix="nestops-long-request-")))
        job.start()
        session.config.stash[LONG_REQUESTS] = job


@pytest.fixture
def long_requests(request: pytest.FixtureRequest) -> Any:
    """The ten-minute requests started with the session (tests/webgateway/long_request.py)."""
    return request.config.stash[LONG_REQUESTS]


@pytest.fixture(scope="session")
def cloudsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One cloudsim for the session, reached only through the SDKs (and /_sim/ for control).

    Tests share it: they create their own resources and never assume an empty cloud.
    """
    from cloudsim.testing import start_sim

    sim = start_sim(Path(tmp_path_factory.mktemp("cloudsim")), speed=20.0)
    from django.conf import settings

    settings.NESTOPS_CLOUD = "sim"
    settings.NESTOPS_SIM_ENDPOINT = sim.endpoint
    settings.NESTOPS_SIM_ACCESS_KEY_ID = sim.access_key_id
    settings.NESTOPS_SIM_ACCESS_KEY_SECRET = sim.access_key_secret
    yield sim
    sim.stop()


@pytest.fixture
def sim(cloudsim: Any) -> Iterator[Any]:
    """The session's cloudsim with faults cleared and the account's quota and balance back to
    their defaults after the test."""
    yield cloudsim
    cloudsim.clear_faults()
    cloudsim.reset_account()


@pytest.fixture
def clocks(sim: Any) -> Iterator[Any]:
    """cloudsim at real speed and our clock travelled to its time (see
    ``tests/autostop/driving.py`` for why); both move together from then on."""
    import time_machine

    from tests.autostop.driving import Clocks

    sim.set_speed(1)
    traveller = time_machine.travel(
        datetime.fromtimestamp(sim.clock()["epoch_ms"] / 1000, tz=UTC), tick=True
    )
    shifted = traveller.start()
    try:
        clocks = Clocks(sim, shifted)
        # Start one second into a minute: both clocks tick in real time, and a test that
        # counts per-minute points must not see a minute end between two of its calls.
        now_ms = sim.clock()["epoch_ms"]
        clocks.advance((60_000 - now_ms % 60_000) / 1000 + 1)
        yield clocks
    finally:
        traveller.stop()
        sim.set_speed(20)


# --- personas and clients --------------------------------------------------------------------

from django.contrib.auth import get_user_model  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import ApiToken, Membership, Role, Team  # noqa: E402


def use_broker(url: str) -> None:
    """Points the Celery app at another broker, dropping connections to the old one."""
    from kombu import pools

    from nestops.celery import app

    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per connection in a global registry; a pool closed above
    # would be handed out again the next time this broker is used.
    pools.reset()


@pytest.fixture(scope="session", autouse=True)
def _test_settings() -> Iterator[None]:
    """Tasks go to an in-memory broker (the e2e fixtures switch to the configured one);
    passwords hash fast; API rates are generous."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests poll the API quickly; tests of the throttles set their own rates.
    settings.NESTOPS_API_THROTTLE_RATES = {
        "anon": "600/min",
        "user": "100000/min",
        "token": "100000/min",
    }
    # The account check before each deploy is tested in tests/cloudaccount; elsewhere it would
    # add its probe calls to every deploy's call counts.
    settings.NESTOPS_DEPLOY_CHECKS_ACCOUNT = False
    # A host that comes up running gets an inventory read: one more operation in every count
    # and every "wait for the others"; the tests of that read turn it on.
    settings.NESTOPS_READ_FILES_WHEN_RUNNING = False
    # Cloud call counters are files per process (prometheus_client's multiprocess mode): the
    # files of earlier sessions go, so they do not pile up.
    for path in settings.PROMETHEUS_DIR.glob("*.db"):
        path.unlink(missing_ok=True)
    use_broker("memory://")
    yield


@pytest.fixture(autouse=True)
def _default_language_and_time_zone() -> Iterator[None]:
    """A request activates its user's language and time zone in the thread (the middleware
    does not undo it): the next test starts from the defaults again."""
    from django.conf import settings
    from django.utils import timezone, translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Alpha", slug="alpha")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Other", slug="other")


def _user(username: str, team: Team | None, role: str | None) -> Any:
    user = get_user_model().objects.create_user(username=username, password=f"{username}-pw-123")
    if team is not None and role is not None:
        Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def alice(team: Team) -> Any:
    """An operator of team Alpha; she owns the instances in the tests."""
    return _user("alice", team, Role.OPERATOR)


@pytest.fixture
def bob(team: Team) -> Any:
    """A viewer on Alpha: he may look, not act."""
    return _user("bob", team, Role.VIEWER)


@pytest.fixture
def mallory(other_team: Team) -> Any:
    """An operator of another team: Alpha's objects do not exist for her."""
    return _user("mallory", other_team, Role.OPERATOR)


@pytest.fixture
def carol(team: Team) -> Any:
    """An admin of team Alpha."""
    return _user("carol", team, Role.ADMIN)


def token_client(user: Any) -> APIClient:
    _token, plain = ApiToken.issue(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def as_alice(alice: Any) -> APIClient:
    return token_client(alice)


@pytest.fixture
def as_bob(bob: Any) -> APIClient:
    return token_client(bob)


@pytest.fixture
def as_mallory(mallory: Any) -> APIClient:
    return token_client(mallory)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
