"""The ledger over real operations against cloudsim, under a stopped clock, checked against
arithmetic done by hand from cloudsim's price list."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from accounts.requester import Requester
from billing.models import Basis, BillingState, UsageInterval
from billing.services import refresh_prices
from instances.models import Status
from operations.models import Kind, OperationStatus
from operations.services import request_operation
from tests.billing.helpers import (
    MONTHLY,
    STOPPED_HOUR,
    clock,
    cost,
    running_hour,
    to_cent,
)
from tests.driving import deploy, drive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_runner")]

SMALL = "ecs.gn6i-c4g1.xlarge"
LARGER = "ecs.gn6i-c8g1.2xlarge"
ZONE = "cn-hangzhou-i"


def act(instance, kind, alice, sim, traveller, seconds: int, **params):
    """Asks for an operation now, lets ``seconds`` pass, and drives it to its end (the price
    job runs first, as beat would have run it meanwhile)."""
    refresh_prices()
    operation, _created = request_operation(
        instance=instance, kind=kind, params=params, requester=Requester(source="api", actor=alice)
    )
    traveller.shift(seconds)
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    instance.refresh_from_db()
    return done


def test_it_charges_a_week_of_deploy_stop_start_resize_and_delete_to_the_cent(
    sim, team, alice, as_alice
) -> None:
    with clock(datetime(2026, 3, 2, 8, 0)) as traveller:
        instance, operation = deploy(team, alice, sim, name="week-1", offer=(ZONE, SMALL))
        traveller.shift(300)  # deploying 08:00-08:05
        assert drive(operation, sim).status == OperationStatus.SUCCEEDED
        traveller.shift(36000)  # running 08:05-18:05
        act(instance, Kind.STOP, alice, sim, traveller, 60)  # stopping 18:05-18:06
        assert instance.stopped_mode == "StopCharging"
        traveller.shift(50040)  # stopped until Tuesday 08:00
        act(instance, Kind.START, alice, sim, traveller, 120)  # starting 08:00-08:02
        traveller.shift(35880)  # running until 18:00
        act(instance, Kind.STOP, alice, sim, traveller, 60)  # stopping until 18:01
        traveller.shift(53940)  # stopped until Wednesday 09:00
        act(instance, Kind.RESIZE, alice, sim, traveller, 120, instance_type=LARGER)
        assert instance.instance_type == LARGER  # resizing 09:00-09:02
        traveller.shift(3480)  # stopped, now the larger type, until 10:00
        act(instance, Kind.START, alice, sim, traveller, 120)  # starting 10:00-10:02
        traveller.shift(421080)  # running until Monday 9 March 07:00
        act(instance, Kind.DELETE, alice, sim, traveller, 180)  # deleting 07:00-07:03
        assert instance.status == Status.DELETED

        small, large = running_hour(SMALL), running_hour(LARGER)  # 9.95 and 12.05 an hour
        charged = [
            (small, 300),  # deploying
            (small, 36000),  # running
            (small, 60),  # stopping
            (STOPPED_HOUR, 50040),  # stopped with StopCharging: disk + bandwidth
            (small, 120),  # starting
            (small, 35880),  # running
            (small, 60),  # stopping
            (STOPPED_HOUR, 53940),  # stopped
            (STOPPED_HOUR, 120),  # resizing a stopped host
            (STOPPED_HOUR, 3480),  # stopped as the larger type
            (large, 120),  # starting
            (large, 421080),  # running
            (large, 180),  # deleting
        ]
        expected = sum(cost(rate, seconds) for rate, seconds in charged)
        # Savings: the stopped stretches against the same host left running.
        saved = cost(small - STOPPED_HOUR, 50040 + 53940 + 120) + cost(large - STOPPED_HOUR, 3480)

        report = as_alice.get(
            "/api/v1/costs/",
            {"group_by": "instance", "since": "2026-03-01", "until": "2026-03-31"},
        ).json()
        [line] = report["results"]
        assert line["instance"] == instance.public_id
        assert Decimal(line["cost"]) == to_cent(expected)
        assert Decimal(line["savings"]) == to_cent(saved)
        assert Decimal(line["running_cost"]) == to_cent(expected + saved)
        assert Decimal(line["hours"]) == Decimal(sum(s for _r, s in charged)) / 3600
        assert line["currency"] == "CNY" and line["unpriced_hours"] == "0.000"
        # The deleted host's own page reads the same total from its last interval alone.
        page = as_alice.get(
            f"/api/v1/instances/{instance.public_id}/", {"include_deleted": "true"}
        ).json()
        assert Decimal(page["cost"]["so_far"]) == to_cent(expected)
        assert Decimal(page["cost"]["savings"]) == to_cent(saved)
        assert page["cost"]["hourly_rate"] is None

        by_day = as_alice.get(
            "/api/v1/costs/",
            {"group_by": "day", "since": "2026-03-02", "until": "2026-03-09"},
        ).json()["results"]
        days = {row["day"]: Decimal(row["cost"]) for row in by_day}
        assert len(days) == 8
        # Monday: deploying, running, stopping, then stopped from 18:06 to midnight.
        monday = cost(small, 300 + 36000 + 60) + cost(STOPPED_HOUR, 21240)
        assert days["2026-03-02"] == to_cent(monday)
        # Saturday: running the larger type all day. Monday 9th: 7 hours, then deleting.
        assert days["2026-03-07"] == to_cent(cost(large, 86400))
        assert days["2026-03-09"] == to_cent(cost(large, 25200 + 180))

    intervals = list(UsageInterval.objects.filter(instance=instance).order_by("started_at"))
    assert not any(i.is_open for i in intervals)
    # One row per state, continued in a row of its own after each midnight it lasted across.
    states = [i.state for i in intervals]
    assert [s for k, s in enumerate(states) if k == 0 or states[k - 1] != s] == [
        BillingState.DEPLOYING,
        BillingState.RUNNING,
        BillingState.STOPPING,
        BillingState.STOPPED_STOP_CHARGING,
        BillingState.STARTING,
        BillingState.RUNNING,
        BillingState.STOPPING,
        BillingState.STOPPED_STOP_CHARGING,
        BillingState.RESIZING,
        BillingState.STOPPED_STOP_CHARGING,
        BillingState.STARTING,
        BillingState.RUNNING,
        BillingState.DELETING,
    ]
    for interval in intervals:
        assert interval.day == interval.started_at.date()
        assert interval.ended_at <= datetime.combine(
            interval.day + timedelta(days=1), time.min, tzinfo=UTC
        )
    resizing = next(i for i in intervals if i.state == BillingState.RESIZING)
    assert resizing.basis == Basis.STOPPED and resizing.instance_type == SMALL
    # The deploying interval opened before any price was known and got a fresh one from the
    # price step: nothing is estimated.
    assert [i.state for i in intervals if i.rate_estimated] == []


def test_a_subscription_costs_its_price_over_the_term_and_stopping_saves_nothing(
    sim, team, alice, as_alice
) -> None:
    with clock(datetime(2026, 4, 6, 2, 0)) as traveller:
        instance, operation = deploy(
            team,
            alice,
            sim,
            name="prepaid-1",
            offer=(ZONE, SMALL),
            charge_type="PrePaid",
            period=1,
            period_unit="Month",
        )
        traveller.shift(600)
        assert drive(operation, sim).status == OperationStatus.SUCCEEDED
        traveller.shift(7200)
        act(instance, Kind.STOP, alice, sim, traveller, 60, mode="StopCharging")
        # The cloud cannot stop charging a subscription host: it stopped as KeepCharging.
        assert instance.stopped_mode == "KeepCharging"
        traveller.shift(36000)

        # 3,330 (type) + 200 GB x 1.0 (disk) + 10 Mbit/s x 23 (bandwidth) a month of 730 hours.
        monthly = MONTHLY[SMALL] + Decimal(200) + Decimal(230)
        seconds = 600 + 7200 + 60 + 36000
        expected = cost(monthly / 730, seconds)

        body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
        assert body["cost"]["currency"] == "CNY"
        assert Decimal(body["cost"]["so_far"]) == to_cent(expected)
        assert body["cost"]["savings"] == "0.00"
        assert body["cost"]["stopping_saves_money"] is False
        assert Decimal(body["cost"]["hourly_rate"]) == (monthly / 730).quantize(Decimal("0.0001"))

    stopped = UsageInterval.objects.get(instance=instance, ended_at__isnull=True)
    assert stopped.state == BillingState.STOPPED_KEEP_CHARGING
    assert stopped.basis == Basis.SUBSCRIPTION
    assert stopped.hourly_rate == stopped.running_hourly_rate


def test_a_pay_as_you_go_host_stopped_with_keep_charging_costs_as_much_as_running(
    sim, team, alice, as_alice
) -> None:
    with clock(datetime(2026, 5, 4, 9, 0)) as traveller:
        instance, operation = deploy(team, alice, sim, name="keep-1", offer=(ZONE, SMALL))
        assert drive(operation, sim).status == OperationStatus.SUCCEEDED
        act(instance, Kind.STOP, alice, sim, traveller, 0, mode="KeepCharging")
        traveller.shift(3600)
        body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
    assert Decimal(body["cost"]["so_far"]) == to_cent(cost(running_hour(SMALL), 3600))
    assert body["cost"]["savings"] == "0.00"
    assert body["cost"]["stopping_saves_money"] is True
