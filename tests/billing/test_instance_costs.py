"""Cost so far on the instance list and detail: right, and at a constant number of queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import ledger, quotes
from instances.lifecycle import change_status
from instances.models import Status
from nestops.beat import PERIODIC_JOBS
from tests.billing.helpers import STOPPED_HOUR, clock, cost, running_hour, to_cent
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

TYPE = "ecs.gn6i-c4g1.xlarge"


def hosts_with_history(team, count: int, traveller) -> list:
    """``count`` hosts that each ran 2 hours, were save-stopped for 3, and run again since."""
    found = []
    for _ in range(count):
        instance = make_instance(team)
        ledger.record_status(instance)
        found.append(instance)
    traveller.shift(7200)
    for instance in found:
        change_status(instance, Status.STOPPED, stopped_mode="StopCharging")
    traveller.shift(3 * 3600)
    for instance in found:
        change_status(instance, Status.RUNNING)
    traveller.shift(1800)
    return found


def list_queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/instances/")
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_list_shows_cost_so_far_and_savings_in_a_constant_number_of_queries(
    sim, team, as_alice
) -> None:
    with clock(datetime(2026, 10, 5, 8, 0)) as traveller:
        quotes.refresh(
            quotes.key_for(
                region="cn-hangzhou",
                zone="cn-hangzhou-i",
                instance_type=TYPE,
                charge_type="PostPaid",
            )
        )
        hosts_with_history(team, 1, traveller)
        one, body = list_queries(as_alice)
        hosts_with_history(team, 12, traveller)
        many, _body = list_queries(as_alice)
    assert one == many <= 6
    expected_cost = cost(running_hour(TYPE), 7200 + 1800) + cost(STOPPED_HOUR, 3 * 3600)
    expected_saving = cost(running_hour(TYPE) - STOPPED_HOUR, 3 * 3600)
    assert body["results"][0]["cost"] == {
        "currency": "CNY",
        "so_far": str(to_cent(expected_cost)),
        "savings": str(to_cent(expected_saving)),
        "hourly_rate": "9.9500",
        "estimated": True,  # the 5-hour-old price was stale when the host started again
        "stopping_saves_money": True,
    }
    # 2.5 h x 9.95 + 3 h x 1.55 = 29.525
    assert Decimal(body["results"][0]["cost"]["so_far"]) == Decimal("29.53")


def test_an_instance_without_any_interval_has_no_cost_yet(team, as_alice) -> None:
    instance = make_instance(team)
    body = as_alice.get(f"/api/v1/instances/{instance.public_id}/").json()
    assert body["cost"] is None


def test_budgets_are_checked_every_minute_and_prices_refreshed() -> None:
    # Every minute, and at the moment of each crossing (budgets.tasks schedules that run).
    assert PERIODIC_JOBS["check budgets"] == ("budgets.check", 60)
    assert PERIODIC_JOBS["refresh prices"][0] == "billing.refresh_prices"


def test_a_host_deployed_through_the_api_is_not_estimated_once_its_price_is_known(
    sim, team, alice, as_alice
) -> None:
    from operations.models import Operation
    from tests.driving import drive, in_stock_offer

    zone, instance_type = in_stock_offer()
    created = as_alice.post(
        "/api/v1/instances/",
        {
            "name": "api-priced-1",
            "region": "cn-hangzhou",
            "zone": zone,
            "instance_type": instance_type,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    deploying = as_alice.get(f"/api/v1/instances/{created.json()['id']}/").json()
    assert deploying["cost"]["estimated"] is True  # no price looked up yet

    operation = drive(Operation.objects.get(public_id=created.json()["operation"]["id"]), sim)

    assert operation.status == "succeeded", operation.log
    body = as_alice.get(f"/api/v1/instances/{created.json()['id']}/").json()
    assert body["status"] == "running"
    assert body["cost"]["estimated"] is False
    listed = as_alice.get("/api/v1/instances/", {"search": "api-priced-1"}).json()["results"]
    assert listed[0]["cost"]["estimated"] is False
