"""The dashboard's idle status, metrics charts and idle policy, snooze and schedule forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from autostop.models import IdleEvaluation, IdlePolicy, IdleVerdict, Schedule, Snooze
from instances.models import Status
from metrics.models import Metric, MetricSample
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def host(team):
    instance = make_instance(team, status=Status.RUNNING, webui_endpoint="http://127.0.0.1:9/x")
    now = timezone.now()
    IdleEvaluation.objects.create(
        instance=instance,
        evaluated_at=now,
        verdict=IdleVerdict.IDLE,
        reason="idle",
        last_activity_at=now - timedelta(minutes=23),
        stop_due_at=now + timedelta(minutes=7),
    )
    minute = int(now.timestamp()) // 60 * 60_000
    for metric in Metric:
        MetricSample.objects.bulk_create(
            MetricSample(
                instance=instance,
                metric=metric,
                timestamp=minute - n * 60_000,
                average=float(n),
                maximum=float(n) + 2,
                minimum=0.0,
            )
            for n in range(1, 50)
        )
    return instance


def page(user, instance, query: str = "") -> str:
    response = client_for(user).get(f"/instances/{instance.public_id}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_why_a_host_is_idle(alice, host) -> None:
    body = client_for(alice).get("/").content.decode()
    assert "idle for 23 min, stops in 7 min" in body


def test_the_instance_page_draws_charts_on_the_server_for_each_period(bob, host) -> None:
    body = page(bob, host)
    assert "idle for 23 min, stops in 7 min" in body
    assert body.count('<svg class="chart"') == 5
    assert "GPU utilisation (%)" in body and "Internet out (bit/s)" in body
    for key in ("1h", "6h", "24h", "7d"):
        assert f"?range={key}" in body
        assert body.count("<polyline") >= 10 or key != "1h"
    week = page(bob, host, "?range=7d")
    assert week.count('<svg class="chart"') == 5
    # No chart library, nothing from a CDN.
    assert '<script src="http' not in body and "cdn" not in body.lower()
    # A viewer sees the state, not the forms.
    assert 'name="idle_minutes"' not in body and 'name="windows"' not in body


def test_an_operator_sets_the_policy_snoozes_and_schedules_from_the_page(alice, host) -> None:
    client = client_for(alice)
    assert 'name="idle_minutes"' in page(alice, host)
    base = f"/instances/{host.public_id}"
    saved = client.post(
        f"{base}/idle-policy/",
        {
            "enabled": "on",
            "idle_minutes": "45",
            "gpu_threshold": "7.5",
            "stop_mode": "StopCharging",
            "warning_minutes": "5",
        },
        follow=True,
    )
    assert "Idle policy saved." in saved.content.decode()
    assert IdlePolicy.objects.get(pk=host.pk).idle_minutes == 45
    refused = client.post(
        f"{base}/idle-policy/",
        {
            "idle_minutes": "3",
            "gpu_threshold": "5",
            "stop_mode": "StopCharging",
            "warning_minutes": "1",
        },
        follow=True,
    )
    assert "was not saved" in refused.content.decode()
    assert IdlePolicy.objects.get(pk=host.pk).idle_minutes == 45

    client.post(f"{base}/snooze/", {"hours": "2", "reason": "batch tonight"})
    assert Snooze.objects.get().reason == "batch tonight"
    assert "Kept awake until" in page(alice, host)
    client.post(f"{base}/snooze/", {"cancel": "1"})
    assert Snooze.objects.get().cancelled_at is not None

    client.post(
        f"{base}/schedule/",
        {
            "enabled": "on",
            "time_zone": "Asia/Shanghai",
            "windows": "mon-fri 09:00-20:00\nfri 22:00-02:00",
        },
    )
    schedule = Schedule.objects.get()
    assert schedule.windows[0]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert schedule.windows[1] == {"days": ["fri"], "start": "22:00", "end": "02:00"}
    assert "Schedule: " in page(alice, host)
    bad = client.post(
        f"{base}/schedule/",
        {"time_zone": "Nowhere/City", "windows": "mon 09:00-10:00"},
        follow=True,
    )
    assert "was not saved" in bad.content.decode()


def test_viewers_and_outsiders_cannot_post_the_forms(bob, mallory, host) -> None:
    base = f"/instances/{host.public_id}"
    for path, data in (
        ("idle-policy/", {"idle_minutes": "45"}),
        ("snooze/", {"hours": "2"}),
        ("schedule/", {"time_zone": "UTC", "windows": "mon 09:00-10:00"}),
    ):
        assert client_for(bob).post(f"{base}/{path}", data).status_code == 403
        assert client_for(mallory).post(f"{base}/{path}", data).status_code == 404
    assert not IdlePolicy.objects.exists() and not Snooze.objects.exists()
    assert not Schedule.objects.exists()
