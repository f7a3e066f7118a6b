"""Budgets fire when the spend crosses them, not at the next sweep: the ledger's rates tell
when the next crossing comes, and the stop is asked early enough to end at the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing import ledger, quotes, selectors
from budgets.checks import check_budgets
from budgets.models import Budget
from instances.lifecycle import change_status
from instances.models import Status, StopMode
from operations.models import Kind, Operation
from tests.billing.helpers import HOURLY, STOPPED_HOUR, clock
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

ZONE = "cn-hangzhou-i"
SMALL = "ecs.gn6i-c4g1.xlarge"
RUNNING_HOUR = HOURLY[SMALL] + STOPPED_HOUR  # type + disk + bandwidth: 9.95 CNY an hour


def price_small_host() -> None:
    quotes.refresh(
        quotes.key_for(region="cn-hangzhou", zone=ZONE, instance_type=SMALL, charge_type="PostPaid")
    )


def spent(team) -> Decimal:
    return selectors.month_to_date([team.pk]).get((team.pk, "CNY"), Decimal(0))


def test_the_next_check_is_the_moment_of_the_next_crossing(sim, team) -> None:
    budget = Budget.objects.create(team=team, amount="99.50", currency="CNY")
    with clock(datetime(2026, 9, 1, 0, 0)) as traveller:
        price_small_host()
        ledger.record_status(make_instance(team))
        start = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
        report = check_budgets()
        # 50 % of 99.50 at 9.95 an hour: five hours from now (to the next whole second).
        assert start + timedelta(hours=5) <= report.next_check_at
        assert report.next_check_at <= start + timedelta(hours=5, seconds=2)
        traveller.move_to(report.next_check_at)
        assert check_budgets().fired == ["alpha 50%"]
        assert start + timedelta(hours=8) <= check_budgets().next_check_at
        assert check_budgets().next_check_at <= start + timedelta(hours=8, seconds=2)
    assert budget.alerts.count() == 1


def test_a_3_cny_budget_stops_the_host_by_101_percent(sim, team, settings) -> None:
    settings.NESTOPS_BUDGET_STOP_LEAD_SECONDS = 30
    Budget.objects.create(team=team, amount="3.00", currency="CNY", stop_at_limit=True)
    with clock(datetime(2026, 9, 1, 0, 0)) as traveller:
        price_small_host()
        host = make_instance(team, status=Status.RUNNING)
        ledger.record_status(host)
        report = check_budgets()
        fired = []
        # Each run names the next crossing (50 %, 80 %, then the stop); go from one to the next.
        while not report.stopped and len(fired) < 5:
            traveller.move_to(report.next_check_at)
            report = check_budgets()
            fired += report.fired
        assert report.stopped == [host.public_id]
        assert fired == ["alpha 50%", "alpha 80%"]
        stop = Operation.objects.get(instance=host, kind=Kind.STOP)
        # The stop takes the lead it was given; the host then costs only its disk.
        traveller.shift(settings.NESTOPS_BUDGET_STOP_LEAD_SECONDS)
        host.refresh_from_db()
        change_status(host, Status.STOPPED, stopped_mode=StopMode.STOP_CHARGING)
        assert stop.params["mode"] == StopMode.STOP_CHARGING
        assert spent(team) <= Decimal("3.03")
        assert spent(team) >= Decimal("2.95")


def test_a_budget_in_a_currency_the_cloud_does_not_bill_in_is_refused(carol) -> None:
    from tests.conftest import token_client

    response = token_client(carol).post(
        "/api/v1/budgets/", {"team": "alpha", "amount": "10", "currency": "XYZ"}, format="json"
    )
    assert response.status_code == 400
    assert "currency" in response.json()["details"]
    assert not Budget.objects.exists()
