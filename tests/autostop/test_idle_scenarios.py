"""Idle auto-stop against cloudsim: metrics collected from CloudMonitor, the WebUI asked with the
host's credentials, operations run by the real runner; the two clocks moved together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from autostop.idle import evaluate_idle
from autostop.models import IdleEvaluation, IdleVerdict
from autostop.services import save_policy, save_team_settings, snooze
from autostop.status import idle_status
from instances.models import Status
from metrics.models import Metric, MetricSample
from operations.models import OperationStatus
from tests.autostop.driving import (
    beat_minute,
    events,
    generate,
    generate_in_background,
    idle_stops,
    running_host,
)
from tests.driving import drive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_runner", "mailbox")]


def status_of(instance) -> dict:
    instance.refresh_from_db()
    return idle_status(instance, IdleEvaluation.objects.get(pk=instance.pk))


def test_a_host_idle_for_31_minutes_is_save_stopped_after_one_warning(clocks, team, alice) -> None:
    instance = running_host(team, alice, clocks, "idle-31")
    generate(instance)  # the last activity: one image
    last_activity = timezone.now()
    minutes = 0
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 33, status_of(instance)
        if minutes == 23:
            status = status_of(instance)
            assert status["state"] == "idle"
            assert status["text"].startswith("idle for 2"), status["text"]
            assert "stops in" in status["text"]
    stopped_after = timezone.now() - last_activity
    assert timedelta(minutes=30) <= stopped_after <= timedelta(minutes=32)
    stop = idle_stops(instance)[0]
    assert stop.params["mode"] == "StopCharging" and stop.params["reason"] == "idle"
    assert stop.params["signals"]["webui"]["state"] == "idle"
    assert stop.actor is None
    warnings = events(team, "idle.warning")
    assert len(warnings) == 1
    assert warnings[0].created_at < stop.created_at
    assert len(events(team, "idle.stopped")) == 1
    assert drive(stop, clocks.sim).status == OperationStatus.SUCCEEDED
    instance.refresh_from_db()
    assert (instance.status, instance.stopped_mode) == (Status.STOPPED, "StopCharging")
    # The metrics of those minutes are stored, once each.
    gpu = MetricSample.objects.filter(instance=instance, metric=Metric.GPU)
    assert gpu.count() >= 30
    assert gpu.values("timestamp").distinct().count() == gpu.count()


def test_a_host_generating_through_its_webui_never_stops(clocks, team, alice) -> None:
    instance = running_host(team, alice, clocks, "busy-1")
    save_policy(instance=instance, values={"idle_minutes": 10}, actor=alice)
    for _ in range(25):
        generate(instance, steps=2)  # someone at work: an image a minute
        report = beat_minute(clocks)
        assert not report.stopped and not report.warned
    status = status_of(instance)
    assert status["text"].startswith("active: GPU"), status
    assert not idle_stops(instance)
    assert not events(team, "idle.warning")


def test_a_job_the_metrics_have_not_shown_yet_keeps_the_host_awake(clocks, team, alice) -> None:
    """The GPU points say idle for 9 of 10 minutes; the WebUI, asked just before the stop,
    says it is generating: the idle clock starts again."""
    instance = running_host(team, alice, clocks, "webui-1")
    save_policy(instance=instance, values={"idle_minutes": 10, "warning_minutes": 2}, actor=alice)
    beat_minute(clocks, 9)
    assert status_of(instance)["state"] == "idle"
    job = generate_in_background(instance)
    try:
        clocks.advance(60)
        evaluate_idle()
    finally:
        job.join()
    evaluation = IdleEvaluation.objects.get(pk=instance.pk)
    assert (evaluation.verdict, evaluation.reason) == (IdleVerdict.ACTIVE, "generating")
    assert evaluation.signals["webui"]["state"] == "generating"
    assert status_of(instance)["text"] == "active: generating"
    assert not idle_stops(instance)
    report = beat_minute(clocks, 5)
    assert not report.stopped
    assert status_of(instance)["text"].startswith("idle for ")


def test_a_host_without_metrics_is_never_stopped_and_raises_the_blind_warning_once(
    clocks, team, alice, sim
) -> None:
    instance = running_host(team, alice, clocks, "blind-1")
    save_policy(instance=instance, values={"idle_minutes": 10}, actor=alice)
    sim.set_faults(action="Cms.DescribeMetricList", code="InternalError", http_status=500)
    for minute in range(1, 26):
        report = beat_minute(clocks)
        assert not report.stopped
        if minute == 5:
            assert status_of(instance)["text"].startswith("active: no GPU metrics for ")
    assert not MetricSample.objects.filter(instance=instance).exists()
    status = status_of(instance)
    assert status["state"] == "blind"
    assert status["text"].startswith("blind: no GPU metrics for 2"), status["text"]
    blind = events(team, "idle.blind")
    assert len(blind) == 1
    assert blind[0].data["instance"] == instance.public_id
    assert not idle_stops(instance)


def test_a_snooze_holds_then_expires(clocks, team, alice) -> None:
    instance = running_host(team, alice, clocks, "snooze-1")
    save_policy(instance=instance, values={"idle_minutes": 10}, actor=alice)
    snooze(instance=instance, hours=0.5, reason="rendering a batch later", actor=alice)
    beat_minute(clocks, 29)
    status = status_of(instance)
    assert status["state"] == "snoozed"
    assert status["text"].startswith("snoozed by alice for ")
    assert not idle_stops(instance)
    minutes = 29
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 43
    # The snooze counts as activity until it ends; then the idle window runs in full.
    assert minutes >= 40


def test_an_enforced_team_maximum_overrides_a_longer_instance_setting(
    clocks, team, alice, carol
) -> None:
    instance = running_host(team, alice, clocks, "capped-1")
    save_policy(instance=instance, values={"idle_minutes": 240, "enabled": False}, actor=alice)
    save_team_settings(team=team, values={"max_idle_minutes": 10}, actor=carol)
    minutes = 0
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 12
    stop = idle_stops(instance)[0]
    assert stop.params["signals"]["policy"]["idle_minutes"] == 10
    assert stop.params["signals"]["policy"]["enforced_max_idle_minutes"] == 10


def test_an_operation_under_way_is_activity_and_the_host_is_left_alone(clocks, team, alice) -> None:
    from operations.models import Kind, Operation

    instance = running_host(team, alice, clocks, "busy-op-1")
    save_policy(instance=instance, values={"idle_minutes": 10}, actor=alice)
    # An operation some other part of nestops is running (a model download, a restart...).
    under_way = Operation.objects.create(
        instance=instance,
        team=team,
        kind=Kind.RESTART,
        status=OperationStatus.RUNNING,
        source="api",
    )
    report = beat_minute(clocks, 15)
    assert not report.stopped and not idle_stops(instance)
    assert status_of(instance)["text"] == f"active: restart {under_way.public_id} running"
    Operation.objects.filter(pk=under_way.pk).update(status=OperationStatus.SUCCEEDED)
    minutes = 0
    while not idle_stops(instance):
        beat_minute(clocks)
        minutes += 1
        assert minutes <= 12
    assert minutes >= 10
