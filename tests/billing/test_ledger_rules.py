"""The ledger's rules: append-only, price changes, stale and unknown prices, billing days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from billing import ledger, quotes
from billing.models import BillingState, ClosedIntervalError, PriceQuote, UsageInterval
from billing.selectors import CostQuery, cost_report
from billing.services import prepare_price, refresh_prices
from instances.lifecycle import change_status
from instances.models import Status
from tests.billing.helpers import DISK_HOUR, STOPPED_HOUR, clock, cost, running_hour
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

TYPE = "ecs.gn6i-c4g1.xlarge"


@pytest.fixture
def priced(sim):
    """The hourly price of the factory's default host, read from cloudsim."""
    return quotes.refresh(
        quotes.key_for(
            region="cn-hangzhou", zone="cn-hangzhou-i", instance_type=TYPE, charge_type="PostPaid"
        )
    )


def start_ledger(instance) -> UsageInterval:
    return ledger.record_status(instance)


def test_a_closed_interval_is_never_edited_or_deleted(team, priced) -> None:
    with clock(datetime(2026, 7, 1, 10, 0)) as traveller:
        instance = make_instance(team)
        start_ledger(instance)
        traveller.shift(3600)
        change_status(instance, Status.STOPPED, stopped_mode="StopCharging")
    closed = UsageInterval.objects.get(instance=instance, ended_at__isnull=False)
    assert closed.cost == running_hour(TYPE)
    closed.cost = Decimal(0)
    with pytest.raises(ClosedIntervalError):
        closed.save()
    with pytest.raises(ClosedIntervalError):
        UsageInterval.objects.filter(pk=closed.pk).update(cost=Decimal(0))
    with pytest.raises(ClosedIntervalError):
        UsageInterval.objects.filter(instance=instance).update(rate_estimated=True)
    with pytest.raises(ClosedIntervalError):
        closed.delete()
    with pytest.raises(ClosedIntervalError):
        UsageInterval.objects.filter(pk=closed.pk).delete()
    closed.refresh_from_db()
    assert closed.cost == running_hour(TYPE)
    # The open interval is the one that may still change (it closes, or learns its price).
    assert UsageInterval.objects.open().filter(instance=instance).update(rate_estimated=True) == 1


def test_a_price_change_opens_a_new_interval_and_leaves_the_old_one_alone(
    sim, team, priced
) -> None:
    with clock(datetime(2026, 7, 2, 0, 0)) as traveller:
        instance = make_instance(team)
        # The stored price is an older one, read two hours ago: since then the cloud's price
        # went up to 9.95 an hour.
        PriceQuote.objects.filter(pk=priced.pk).update(
            instance_price=Decimal("7.90"),
            trade_price=Decimal("9.45"),
            fetched_at=datetime(2026, 7, 1, 22, 0, tzinfo=UTC),
        )
        first = start_ledger(instance)
        assert first.hourly_rate == Decimal("9.45") and first.rate_estimated  # stale price
        traveller.shift(5400)
        report = refresh_prices()
        assert report.describe_price_calls == 1 and report.repriced == 1
        traveller.shift(1800)
        change_status(instance, Status.STOPPED, stopped_mode="StopCharging")
    rows = list(UsageInterval.objects.filter(instance=instance).order_by("started_at"))
    assert [(r.state, r.hourly_rate, r.seconds) for r in rows] == [
        (BillingState.RUNNING, Decimal("9.45"), Decimal(5400)),
        (BillingState.RUNNING, running_hour(TYPE), Decimal(1800)),
        (BillingState.STOPPED_STOP_CHARGING, STOPPED_HOUR, None),
    ]
    assert not rows[1].rate_estimated
    assert rows[0].cost == cost(Decimal("9.45"), 5400)


def test_without_a_fresh_price_the_last_known_rate_is_used_and_marked_estimated(
    sim, team, priced, settings
) -> None:
    settings.NESTOPS_PRICE_TTL_SECONDS = 3600
    with clock(datetime(2026, 7, 3, 9, 0)) as traveller:
        PriceQuote.objects.filter(pk=priced.pk).update(
            fetched_at=datetime(2026, 7, 3, 9, 0, tzinfo=UTC)
        )
        instance = make_instance(team)
        assert not start_ledger(instance).rate_estimated
        traveller.shift(4000)
        # The cloud does not answer: the quote keeps its price and records why.
        sim.set_faults(action="DescribePrice", code="ServiceUnavailable", http_status=503)
        assert prepare_price(instance).error.startswith("ServiceUnavailable")
        change_status(instance, Status.STOPPING)
    stopping = UsageInterval.objects.get(instance=instance, ended_at__isnull=True)
    assert stopping.hourly_rate == running_hour(TYPE)
    assert stopping.rate_estimated


def test_an_interval_opened_before_any_price_is_unpriced_then_priced_never_zero(
    sim, team, as_alice
) -> None:
    with clock(datetime(2026, 7, 4, 6, 0)) as traveller:
        instance = make_instance(team)
        opened = start_ledger(instance)
        assert opened.hourly_rate is None and opened.rate_estimated and opened.currency == ""
        traveller.shift(600)
        body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
        assert body["cost"]["so_far"] is None and body["cost"]["estimated"] is True
        line = cost_report(
            CostQuery(since=date(2026, 7, 4), until=date(2026, 7, 4)), ["instance"]
        ).lines[0]
        assert line.unpriced_seconds == 600 and line.cost == 0 and line.estimated
        prepare_price(instance)  # the operation's price step, or the price job
        traveller.shift(600)
        body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
    opened.refresh_from_db()
    # A fresh price learnt 10 minutes in counts for the whole interval: no longer estimated.
    assert opened.hourly_rate == running_hour(TYPE) and not opened.rate_estimated
    assert body["cost"]["estimated"] is False
    assert Decimal(body["cost"]["so_far"]) == cost(running_hour(TYPE), 1200).quantize(
        Decimal("0.01")
    )


def test_a_price_learnt_long_after_the_interval_began_stays_estimated(
    sim, team, as_alice, settings
) -> None:
    settings.NESTOPS_PRICE_TTL_SECONDS = 3600
    with clock(datetime(2026, 7, 5, 6, 0)) as traveller:
        instance = make_instance(team)
        opened = start_ledger(instance)
        traveller.shift(3 * 3600)  # the cloud did not give a price for three hours
        prepare_price(instance)
        body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
    opened.refresh_from_db()
    assert opened.hourly_rate == running_hour(TYPE) and opened.rate_estimated
    assert body["cost"]["estimated"] is True


def test_an_interval_across_midnights_is_closed_as_one_row_per_day(team, priced) -> None:
    with clock(datetime(2026, 7, 5, 22, 0)) as traveller:
        instance = make_instance(team)
        start_ledger(instance)
        traveller.shift(timedelta(hours=27, minutes=30))
        change_status(instance, Status.STOPPING)
    rows = list(UsageInterval.objects.closed().filter(instance=instance).order_by("started_at"))
    assert [(r.day, r.seconds) for r in rows] == [
        (date(2026, 7, 5), Decimal(7200)),
        (date(2026, 7, 6), Decimal(86400)),
        (date(2026, 7, 7), Decimal(5400)),
    ]
    assert sum(r.cost for r in rows) == cost(running_hour(TYPE), 99000)


def test_billing_days_follow_the_billing_time_zone(team, priced, settings) -> None:
    settings.NESTOPS_BILLING_TIME_ZONE = "Asia/Shanghai"
    with clock(datetime(2026, 7, 8, 15, 0)) as traveller:  # 23:00 in Shanghai
        instance = make_instance(team)
        start_ledger(instance)
        traveller.shift(7200)
        change_status(instance, Status.STOPPING)
    rows = list(UsageInterval.objects.closed().filter(instance=instance).order_by("started_at"))
    assert [(r.day, r.seconds) for r in rows] == [
        (date(2026, 7, 8), Decimal(3600)),
        (date(2026, 7, 9), Decimal(3600)),
    ]


def test_a_deploy_that_failed_and_cleaned_up_costs_nothing_afterwards(team, priced) -> None:
    with clock(datetime(2026, 7, 10, 8, 0)) as traveller:
        instance = make_instance(team, status=Status.DEPLOYING, cloud_instance_id="")
        start_ledger(instance)
        traveller.shift(120)
        change_status(instance, Status.DEPLOY_FAILED, reason="QuotaExceed")
        assert not UsageInterval.objects.open().filter(instance=instance).exists()
        kept = make_instance(team, status=Status.DEPLOYING, cloud_instance_id="i-kept")
        start_ledger(kept)
        change_status(kept, Status.DEPLOY_FAILED, reason="kept for debugging")
    # NESTOPS_KEEP_FAILED_DEPLOYS: the host still exists, so it is still charged.
    assert UsageInterval.objects.open().get(instance=kept).state == BillingState.DEPLOY_FAILED


def test_a_stopped_host_without_bandwidth_billing_costs_its_disk_only(
    team, priced, settings
) -> None:
    settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED = False
    with clock(datetime(2026, 7, 11, 8, 0)):
        instance = make_instance(team)
        change_status(instance, Status.STOPPED, stopped_mode="StopCharging")
    stopped = UsageInterval.objects.open().get(instance=instance)
    assert stopped.hourly_rate == DISK_HOUR
    assert stopped.running_hourly_rate == running_hour(TYPE)
