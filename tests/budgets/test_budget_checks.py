"""check_budgets: thresholds fire once a month each; the action stops only the team's running
pay-as-you-go hosts (the last test does it to real hosts in cloudsim)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail

from accounts.requester import Source
from billing import ledger, quotes
from budgets.checks import check_budgets
from budgets.models import AlertKind, Budget, BudgetAlert
from instances.models import Status
from notifications import services as notifications
from notifications.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from operations.models import Kind, Operation, OperationStatus
from tests.billing.helpers import clock
from tests.driving import deploy, drive
from tests.factories import make_instance

ZONE = "cn-hangzhou-i"
SMALL = "ecs.gn6i-c4g1.xlarge"


def price_small_host() -> None:
    quotes.refresh(
        quotes.key_for(region="cn-hangzhou", zone=ZONE, instance_type=SMALL, charge_type="PostPaid")
    )


def fired(budget: Budget) -> list[tuple[str, str, int]]:
    return sorted(
        (f"{a.month:%Y-%m}", a.kind, a.threshold) for a in BudgetAlert.objects.filter(budget=budget)
    )


@pytest.mark.django_db
def test_each_threshold_fires_once_a_month(sim, team, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    NotificationChannel.objects.create(team=team, name="ops", kind="email", target="ops@x.io")
    # 9.95 an hour: 50 % of 99.50 after 5 hours, 80 % after 8, 100 % after 10.
    budget = Budget.objects.create(team=team, amount="99.50", currency="CNY")
    with clock(datetime(2026, 9, 1, 0, 0)) as traveller:
        price_small_host()
        ledger.record_status(make_instance(team))
        traveller.shift(4 * 3600)
        assert check_budgets().fired == []
        traveller.shift(3600)
        assert check_budgets().fired == ["alpha 50%"]
        assert check_budgets().fired == []
        traveller.shift(3.5 * 3600)
        assert check_budgets().fired == ["alpha 80%"]
        traveller.shift(1.5 * 3600)
        assert check_budgets().fired == ["alpha 100%"]
        traveller.shift(20 * 3600)
        assert check_budgets().fired == []
        # A new month starts from nothing: October's first 5 hours reach 50 % again.
        traveller.move_to(datetime(2026, 10, 1, 5, 0, tzinfo=UTC))
        assert check_budgets().fired == ["alpha 50%"]
    assert fired(budget) == [
        ("2026-09", AlertKind.THRESHOLD, 50),
        ("2026-09", AlertKind.THRESHOLD, 80),
        ("2026-09", AlertKind.THRESHOLD, 100),
        ("2026-10", AlertKind.THRESHOLD, 50),
    ]
    deliveries = list(NotificationDelivery.objects.order_by("created_at"))
    assert [d.event for d in deliveries] == ["budget.threshold"] * 4
    assert deliveries[1].data["thresholds"] == [80]
    assert deliveries[1].data["spent"] == "84.58"  # 8.5 hours at 9.95
    assert deliveries[1].data["percent"] == "85.0"
    for delivery in deliveries:
        notifications.deliver(delivery.pk)
    assert NotificationDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 4
    assert "85.0 %" in mail.outbox[1].subject and "84.58 CNY" in mail.outbox[1].body


@pytest.mark.django_db
def test_thresholds_crossed_together_fire_together_and_only_in_the_budget_currency(
    sim, team, other_team
) -> None:
    usd = Budget.objects.create(team=other_team, amount="1", currency="USD")
    cny = Budget.objects.create(team=team, amount="10", currency="CNY", thresholds=[25, 90])
    with clock(datetime(2026, 9, 1, 0, 0)) as traveller:
        price_small_host()
        ledger.record_status(make_instance(team))
        ledger.record_status(make_instance(other_team))  # spends CNY, budgeted in USD
        traveller.shift(3600)
        report = check_budgets()
    assert report.fired == ["alpha 25%", "alpha 90%"]
    assert fired(usd) == []
    assert sorted(a.threshold for a in BudgetAlert.objects.filter(budget=cny)) == [25, 90]
    assert NotificationDelivery.objects.count() == 0  # no channel: recorded, nothing to send


@pytest.mark.django_db
def test_disabled_budgets_and_teams_under_budget_fire_nothing(sim, team) -> None:
    Budget.objects.create(team=team, amount="1", currency="CNY", enabled=False)
    with clock(datetime(2026, 9, 1, 0, 0)) as traveller:
        price_small_host()
        ledger.record_status(make_instance(team))
        traveller.shift(3600)
        assert check_budgets().checked == 0
    assert not BudgetAlert.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_runner")
def test_the_budget_stops_only_the_teams_running_pay_as_you_go_hosts(
    sim, team, alice, other_team, mallory
) -> None:
    NotificationChannel.objects.create(
        team=team, name="hook", kind="webhook", target="http://127.0.0.1:9/hook"
    )
    with clock(datetime(2026, 9, 14, 8, 0)) as traveller:
        payg, op1 = deploy(team, alice, sim, name="payg-1", offer=(ZONE, SMALL))
        prepaid, op2 = deploy(
            team,
            alice,
            sim,
            name="prepaid-1",
            offer=(ZONE, SMALL),
            charge_type="PrePaid",
            period=1,
            period_unit="Month",
        )
        theirs, op3 = deploy(other_team, mallory, sim, name="theirs-1", offer=(ZONE, SMALL))
        for operation in (op1, op2, op3):
            assert drive(operation, sim).status == OperationStatus.SUCCEEDED
        parked = make_instance(team, status=Status.STOPPED, stopped_mode="StopCharging")
        Budget.objects.create(team=team, amount="20", currency="CNY", stop_at_limit=True)
        Budget.objects.create(team=other_team, amount="20", currency="CNY", stop_at_limit=True)
        traveller.shift(3600)  # Alpha: 9.95 + 3760 / 730 = 15.10 so far; Other: 9.95
        first = check_budgets()
        assert (first.fired, first.stopped) == (["alpha 50%"], [])
        traveller.shift(1800)  # Alpha: 22.65, past its 20; Other: 14.93
        report = check_budgets()
        assert report.fired == ["alpha 80%", "alpha 100%", "other 50%"]
        assert report.stopped == [payg.public_id]
        assert check_budgets().stopped == []  # once a month
        stops = list(Operation.objects.filter(kind=Kind.STOP))
        assert [(s.instance_id, s.source, s.params["mode"], s.actor) for s in stops] == [
            (payg.pk, Source.BUDGET, "StopCharging", None)
        ]
        assert drive(stops[0], sim).status == OperationStatus.SUCCEEDED

    for instance in (payg, prepaid, theirs, parked):
        instance.refresh_from_db()
    assert (payg.status, payg.stopped_mode) == (Status.STOPPED, "StopCharging")
    cloud = sim.instance(payg.cloud_instance_id)
    assert (cloud["status"], cloud["stopped_mode"]) == ("Stopped", "StopCharging")
    assert prepaid.status == Status.RUNNING and theirs.status == Status.RUNNING
    assert sim.instance(prepaid.cloud_instance_id)["status"] == "Running"
    assert sim.instance(theirs.cloud_instance_id)["status"] == "Running"
    assert parked.status == Status.STOPPED

    action = NotificationDelivery.objects.get(event="budget.action")
    assert action.data["stopped"] == [{"instance": payg.public_id, "operation": stops[0].public_id}]
    assert action.data["skipped"][0]["instance"] == prepaid.public_id
    assert "saves nothing" in action.data["skipped"][0]["reason"]
    # Alpha's channel heard of 50 %, then of 80 and 100 % together; Other has no channel.
    assert NotificationDelivery.objects.filter(event="budget.threshold").count() == 2
