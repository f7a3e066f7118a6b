"""The idle policy, snooze, schedule, team limit and metrics endpoints: who may do what, and
what is refused. anonymous -> 401, mallory (another team) -> 404, bob (viewer) reads and gets
403 on writes, alice (operator) writes, carol (team admin) sets the team's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from autostop.models import IdleEvaluation, IdlePolicy, IdleVerdict, Schedule, Snooze
from instances.models import ChargeType, Status
from metrics.models import Metric, MetricHourly, MetricSample
from tests.conftest import token_client
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

OFFICE = {
    "time_zone": "Asia/Shanghai",
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}],
}


@pytest.fixture
def host(team):
    return make_instance(team, status=Status.RUNNING)


@pytest.fixture
def as_carol(carol):
    return token_client(carol)


def url(instance, what: str) -> str:
    return f"/api/v1/instances/{instance.public_id}/{what}/"


ENDPOINTS = [
    ("get", "idle-policy", None),
    (
        "put",
        "idle-policy",
        {
            "enabled": True,
            "idle_minutes": 45,
            "gpu_threshold": 5,
            "stop_mode": "StopCharging",
            "warning_minutes": 5,
        },
    ),
    ("patch", "idle-policy", {"idle_minutes": 60}),
    ("delete", "idle-policy", None),
    ("get", "snooze", None),
    ("post", "snooze", {"hours": 2}),
    ("delete", "snooze", None),
    ("get", "schedule", None),
    ("put", "schedule", OFFICE),
    ("delete", "schedule", None),
    ("get", "metrics", None),
]
WRITES = [(m, w, b) for m, w, b in ENDPOINTS if m != "get"]


def call(client, method: str, path: str, body):
    return (
        getattr(client, method)(path, body, format="json")
        if body
        else getattr(client, method)(path)
    )


def test_anonymous_gets_401_on_every_endpoint(anonymous, host, team) -> None:
    for method, what, body in ENDPOINTS:
        response = call(anonymous, method, url(host, what), body)
        assert response.status_code == 401, (method, what)
        assert set(response.json()) == {"code", "message", "details"}
    for method in ("get", "put", "patch"):
        assert (
            call(anonymous, method, f"/api/v1/teams/{team.slug}/idle-settings/", None).status_code
            == 401
        )


def test_another_teams_instance_is_404_everywhere(as_mallory, host) -> None:
    for method, what, body in ENDPOINTS:
        response = call(as_mallory, method, url(host, what), body)
        assert response.status_code == 404, (method, what)
        assert response.json()["code"] == "not_found"
    assert not IdlePolicy.objects.exists() and not Snooze.objects.exists()


def test_a_viewer_reads_and_cannot_change_anything(as_bob, host) -> None:
    for method, what, body in ENDPOINTS:
        response = call(as_bob, method, url(host, what), body)
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, (method, what, response.json())
    assert not IdlePolicy.objects.exists() and not Snooze.objects.exists()
    assert not Schedule.objects.exists()


def test_an_operator_changes_the_policy_and_snoozes(as_alice, alice, host) -> None:
    body = as_alice.get(url(host, "idle-policy")).json()
    assert body["is_default"] and body["enabled"] and body["idle_minutes"] == 30
    assert body["gpu_threshold"] == 5.0 and body["stop_mode"] == "StopCharging"
    changed = as_alice.patch(url(host, "idle-policy"), {"idle_minutes": 45}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["idle_minutes"] == 45 and not changed.json()["is_default"]
    assert IdlePolicy.objects.get(pk=host.pk).updated_by == alice
    snoozed = as_alice.post(url(host, "snooze"), {"hours": 2, "reason": "batch"}, format="json")
    assert snoozed.status_code == 201
    assert snoozed.json()["snooze"]["created_by"] == "alice"
    assert as_alice.get(url(host, "snooze")).json()["snooze"]["reason"] == "batch"
    assert as_alice.delete(url(host, "snooze")).status_code == 204
    assert as_alice.get(url(host, "snooze")).json()["snooze"] is None
    assert Snooze.objects.get().cancelled_by == alice
    reset = as_alice.delete(url(host, "idle-policy"))
    assert reset.status_code == 200 and reset.json()["is_default"]


def test_a_subscription_host_defaults_to_no_idle_stop_and_says_why(as_alice, team) -> None:
    prepaid = make_instance(team, charge_type=ChargeType.PREPAID, period=1, period_unit="Month")
    body = as_alice.get(url(prepaid, "idle-policy")).json()
    assert body["enabled"] is False
    assert "saves nothing" in body["notes"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idle_minutes": 2}, "idle_minutes"),
        ({"idle_minutes": 100000}, "idle_minutes"),
        ({"gpu_threshold": 0}, "gpu_threshold"),
        ({"gpu_threshold": 101}, "gpu_threshold"),
        ({"stop_mode": "Hibernate"}, "stop_mode"),
        ({"warning_minutes": 30}, "warning_minutes"),
        ({"delete_after_days": 0}, "delete_after_days"),
        ({"max_running_hours": 10000}, "max_running_hours"),
    ],
)
def test_policy_values_out_of_bounds_are_refused(as_alice, host, change, field) -> None:
    response = as_alice.patch(url(host, "idle-policy"), change, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["details"]
    assert not IdlePolicy.objects.exists()


def test_snoozes_are_bounded(as_alice, as_carol, team, host) -> None:
    for hours in (0, 0.1, 73, "soon"):
        response = as_alice.post(url(host, "snooze"), {"hours": hours}, format="json")
        assert response.status_code == 400, hours
    as_carol.put(
        f"/api/v1/teams/{team.slug}/idle-settings/",
        {"max_idle_minutes": None, "max_snooze_hours": 4},
        format="json",
    )
    assert as_alice.post(url(host, "snooze"), {"hours": 5}, format="json").status_code == 400
    assert as_alice.post(url(host, "snooze"), {"hours": 4}, format="json").status_code == 201


def test_team_admins_set_the_maximum_and_operators_can_neither_exceed_nor_disable_it(
    as_alice, as_bob, as_carol, as_mallory, team, host
) -> None:
    path = f"/api/v1/teams/{team.slug}/idle-settings/"
    assert as_bob.get(path).json() == {
        "team": "alpha",
        "max_idle_minutes": None,
        "max_snooze_hours": None,
        "updated_at": None,
    }
    for client in (as_alice, as_bob):
        response = client.put(path, {"max_idle_minutes": 20}, format="json")
        assert response.status_code == 403
    assert as_mallory.get(path).status_code == 404
    assert as_mallory.put(path, {"max_idle_minutes": 20}, format="json").status_code == 404
    assert as_carol.put(path, {"max_idle_minutes": 2}, format="json").status_code == 400
    saved = as_carol.put(path, {"max_idle_minutes": 20}, format="json")
    assert saved.status_code == 200 and saved.json()["max_idle_minutes"] == 20

    too_long = as_alice.patch(url(host, "idle-policy"), {"idle_minutes": 45}, format="json")
    assert too_long.status_code == 400
    assert "at most 20" in too_long.json()["details"]["idle_minutes"][0]
    off = as_alice.patch(url(host, "idle-policy"), {"enabled": False}, format="json")
    assert off.status_code == 400 and "enabled" in off.json()["details"]
    ok = as_alice.patch(url(host, "idle-policy"), {"idle_minutes": 15}, format="json")
    assert ok.status_code == 200
    assert ok.json()["effective"]["idle_minutes"] == 15
    assert ok.json()["team_max_idle_minutes"] == 20
    # A policy stored before the team lowered its maximum is capped, not obeyed.
    as_carol.patch(path, {"max_idle_minutes": 10}, format="json")
    assert as_alice.get(url(host, "idle-policy")).json()["effective"]["idle_minutes"] == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**OFFICE, "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({**OFFICE, "time_zone": "../../etc/passwd"}, "time_zone"),
        ({**OFFICE, "windows": []}, "windows"),
        ({**OFFICE, "windows": [{"days": ["mon"], "start": "9am", "end": "17:00"}]}, "windows"),
        ({**OFFICE, "windows": [{"days": ["mon"], "start": "09:00", "end": "09:00"}]}, "windows"),
        (
            {
                **OFFICE,
                "windows": [
                    {"days": ["mon"], "start": "09:00", "end": "12:00"},
                    {"days": ["mon"], "start": "10:00", "end": "11:00"},
                ],
            },
            "windows",
        ),
        ({"windows": OFFICE["windows"]}, "time_zone"),
    ],
)
def test_schedules_that_make_no_sense_are_refused(as_alice, host, body, field) -> None:
    response = as_alice.put(url(host, "schedule"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Schedule.objects.exists()


def test_an_operator_sets_a_schedule_and_sees_its_next_action(as_alice, as_bob, host) -> None:
    assert as_bob.get(url(host, "schedule")).json()["configured"] is False
    response = as_alice.put(url(host, "schedule"), OFFICE, format="json")
    assert response.status_code == 200, response.json()
    body = as_bob.get(url(host, "schedule")).json()
    assert body["configured"] and body["time_zone"] == "Asia/Shanghai"
    assert body["next_action"]["action"] in ("start", "stop")
    assert body["next_action"]["local"].endswith("CST")
    detail = as_bob.get(f"/api/v1/instances/{host.public_id}/").json()
    assert detail["schedule"] == body["next_action"]
    assert as_alice.delete(url(host, "schedule")).status_code == 204
    assert not Schedule.objects.exists()


# --- the idle status in the instance list ----------------------------------------------------


def evaluated(instance, **fields) -> IdleEvaluation:
    now = timezone.now()
    values = {
        "evaluated_at": now,
        "verdict": IdleVerdict.IDLE,
        "reason": "idle",
        "last_activity_at": now - timedelta(minutes=23),
        "stop_due_at": now + timedelta(minutes=7),
        "signals": {},
    }
    values.update(fields)
    return IdleEvaluation.objects.create(instance=instance, **values)


def test_the_list_and_the_detail_say_why_a_host_is_idle_or_active(as_bob, team) -> None:
    idle = make_instance(team)
    evaluated(idle)
    busy = make_instance(team)
    evaluated(busy, verdict=IdleVerdict.ACTIVE, reason="generating", stop_due_at=None)
    blind = make_instance(team)
    evaluated(
        blind,
        verdict=IdleVerdict.BLIND,
        reason="no_gpu_metrics",
        missing_since=timezone.now() - timedelta(minutes=40),
        stop_due_at=None,
    )
    stopped = make_instance(team, status=Status.STOPPED)
    rows = {r["id"]: r for r in as_bob.get("/api/v1/instances/").json()["results"]}
    assert rows[idle.public_id]["idle"]["text"] == "idle for 23 min, stops in 7 min"
    assert rows[idle.public_id]["idle"]["stops_in_minutes"] == 6  # whole minutes left
    assert rows[busy.public_id]["idle"]["text"] == "active: generating"
    assert rows[blind.public_id]["idle"]["text"] == "blind: no GPU metrics for 40 min"
    assert rows[stopped.public_id]["idle"] is None
    detail = as_bob.get(f"/api/v1/instances/{idle.public_id}/").json()
    assert detail["idle"]["state"] == "idle"
    policy = as_bob.get(url(idle, "idle-policy")).json()
    assert policy["status"]["text"] == "idle for 23 min, stops in 7 min"


def test_the_list_stays_at_a_constant_number_of_queries(as_bob, team) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_bob.get("/api/v1/instances/").status_code == 200
        return len(captured)

    for _ in range(3):
        evaluated(make_instance(team))
    queries()  # the token's first use of the minute records last_used_at
    few = queries()
    for _ in range(30):
        evaluated(make_instance(team))
    assert queries() == few <= 6


# --- metrics --------------------------------------------------------------------------------


def minute_ms(moment: datetime) -> int:
    return int(moment.timestamp()) // 60 * 60_000


def test_metrics_are_downsampled_in_sql_and_validated(as_bob, host) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    MetricSample.objects.bulk_create(
        MetricSample(
            instance=host,
            metric=Metric.GPU,
            timestamp=minute_ms(now - timedelta(minutes=n)),
            average=float(n % 10),
            maximum=float(n % 10) + 1,
            minimum=0.0,
        )
        for n in range(1, 61)
    )
    body = as_bob.get(url(host, "metrics") + "?metric=gpu").json()
    assert body["step"] == 60 and body["unit"] == "%" and len(body["points"]) == 60
    since = (now - timedelta(minutes=60)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    coarse = as_bob.get(url(host, "metrics"), {"metric": "gpu", "since": since, "step": 900})
    points = coarse.json()["points"]
    assert len(points) in (4, 5)
    assert max(p["maximum"] for p in points) == 10.0
    assert sum(p["average"] for p in points) / len(points) == pytest.approx(4.5, abs=1.0)
    assert as_bob.get(url(host, "metrics") + "?metric=cpu").json()["points"] == []
    for query, field in [
        ("metric=temperature", "metric"),
        ("step=7", "step"),
        ("since=yesterday", "since"),
        ("since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z", "since"),
        ("since=2020-01-01T00:00:00Z&until=2020-12-31T00:00:00Z&step=86400", "since"),
        ("since=2020-01-01T00:00:00Z&until=2020-01-10T00:00:00Z&step=60", "step"),
    ]:
        response = as_bob.get(url(host, "metrics") + "?" + query)
        assert response.status_code == 400, query
        assert field in response.json()["details"], query


def test_older_metrics_come_from_the_hourly_table(as_bob, host) -> None:
    hour = minute_ms(timezone.now() - timedelta(days=20)) // 3_600_000 * 3_600_000
    MetricHourly.objects.create(
        instance=host, metric=Metric.GPU, hour=hour, average=42, maximum=90, minimum=1, samples=60
    )
    since = datetime.fromtimestamp(hour / 1000 - 3600, tz=UTC).isoformat().replace("+00:00", "Z")
    body = as_bob.get(url(host, "metrics"), {"since": since, "step": 3600}).json()
    assert body["source"].startswith("hourly")
    assert body["points"][0]["average"] == 42 and body["points"][0]["maximum"] == 90
