"""POST /api/v1/estimates/ against cloudsim's prices, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth import get_user_model

from billing.models import PriceQuote
from tests.billing.helpers import HOURLY, MONTHLY, STOPPED_HOUR, running_hour
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/estimates/"
TYPE = "ecs.gn7i-c8g1.2xlarge"
BASE = {"region": "cn-hangzhou", "zone": "cn-hangzhou-i", "instance_type": TYPE}


def cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_office_hours_on_pay_as_you_go_beat_a_month_of_subscription(sim, as_alice) -> None:
    response = as_alice.post(
        URL, {**BASE, "hours_per_day": "8", "days_per_week": "5"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    running = running_hour(TYPE)  # 17.50 + 0.30 disk + 1.25 bandwidth = 19.05
    hours = Decimal(8 * 5 * 365) / 84  # 173.8 running hours a month of 730
    payg = hours * running + (730 - hours) * STOPPED_HOUR
    subscription = MONTHLY[TYPE] + 200 + 230  # type + 200 GB x 1.0 + 10 Mbit/s x 23
    break_even = (subscription - 730 * STOPPED_HOUR) / (running - STOPPED_HOUR)

    assert body["currency"] == "CNY"
    assert body["hourly"] == {
        "running": "19.0500",
        "instance_type": f"{HOURLY[TYPE]:.4f}",
        "system_disk": "0.3000",
        "bandwidth": "1.2500",
        "stopped": "1.5500",
        "stopped_includes_bandwidth": True,
    }
    assert body["usage"]["running_hours_per_month"] == "173.8"
    assert body["usage"]["stopped_hours_per_month"] == "556.2"
    assert body["pay_as_you_go"]["monthly"] == cents(payg)
    assert body["pay_as_you_go"]["stopped"] == cents((730 - hours) * STOPPED_HOUR)
    assert body["pay_as_you_go"]["always_on_monthly"] == cents(730 * running)
    assert body["subscription"]["price"] == cents(subscription)
    assert body["subscription"]["monthly"] == cents(subscription)
    assert body["subscription"]["stopping_saves_money"] is False
    assert "saves nothing" in body["subscription"]["note"]
    assert body["break_even_hours_per_month"] == str(break_even.quantize(Decimal("0.1")))
    assert body["recommendation"]["charge_type"] == "PostPaid"
    assert body["recommendation"]["monthly_saving"] == cents(subscription - payg)
    assert cents(payg) in body["recommendation"]["reason"]
    assert body["availability"] == {"in_stock": True, "message": ""}
    assert body["prices"]["pay_as_you_go"]["stale"] is False
    assert body["prices"]["pay_as_you_go"]["error"] is None


def test_an_always_on_host_is_cheaper_on_a_yearly_subscription(sim, as_alice) -> None:
    body = as_alice.post(
        URL,
        {**BASE, "always_on": True, "charge_type": "PrePaid", "period": 12},
        format="json",
    ).json()
    month = MONTHLY[TYPE] + 200 + 230
    assert body["usage"]["running_hours_per_month"] == "730.0"
    assert body["pay_as_you_go"]["monthly"] == cents(730 * running_hour(TYPE))
    # A year is charged as ten months.
    assert body["subscription"]["period_unit"] == "Year"
    assert body["subscription"]["price"] == cents(10 * month)
    assert body["subscription"]["list_price"] == cents(12 * month)
    assert body["subscription"]["monthly"] == cents(10 * month / 12)
    assert body["subscription"]["rules"][0]["id"] == "1001"
    assert body["recommendation"]["charge_type"] == "PrePaid"
    assert body["recommendation"]["monthly_saving"] == cents(
        730 * running_hour(TYPE) - 10 * month / 12
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"hours_per_day": "-1", "days_per_week": "5"}, "hours_per_day"),
        ({"hours_per_day": "25", "days_per_week": "5"}, "hours_per_day"),
        ({"hours_per_day": "8", "days_per_week": "8"}, "days_per_week"),
        ({"hours_per_day": "8", "days_per_week": "-2"}, "days_per_week"),
        ({"hours_per_day": "eight", "days_per_week": "5"}, "hours_per_day"),
        ({"hours_per_day": "NaN", "days_per_week": "5"}, "hours_per_day"),
        ({"hours_per_day": "1e400", "days_per_week": "5"}, "hours_per_day"),
        ({"days_per_week": "5"}, "hours_per_day"),
        ({"hours_per_day": "8"}, "days_per_week"),
        ({}, "hours_per_day"),
        ({"always_on": True, "hours_per_day": "8"}, "always_on"),
        ({"always_on": True, "period": 10}, "period"),
        ({"always_on": True, "period_unit": "Week", "period": 6}, "period"),
        ({"always_on": True, "system_disk_size": 10}, "system_disk_size"),
        ({"always_on": True, "bandwidth_out": 1000}, "bandwidth_out"),
        ({"always_on": True, "charge_type": "Free"}, "charge_type"),
    ],
)
def test_bad_usage_profiles_and_configurations_get_field_errors(sim, as_alice, data, field) -> None:
    response = as_alice.post(URL, {**BASE, **data}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["details"], body


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ({"region": "mars-1"}, "region"),
        ({"zone": "cn-shanghai-e"}, "zone"),
        ({"instance_type": "ecs.g7.large"}, "instance_type"),
        ({"zone": "cn-hangzhou-k", "instance_type": TYPE}, "instance_type"),
    ],
)
def test_configurations_the_cloud_does_not_offer_are_field_errors(
    sim, as_alice, where, field
) -> None:
    response = as_alice.post(URL, {**BASE, "always_on": True, **where}, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_a_sold_out_type_is_estimated_and_said_to_be_sold_out(sim, as_alice) -> None:
    sold_out = "ecs.gn7e-c16g1.4xlarge"
    sim.set_stock("cn-hangzhou-i", sold_out, 0)
    response = as_alice.post(
        URL, {**BASE, "instance_type": sold_out, "always_on": True}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["availability"]["in_stock"] is False
    assert "sold out" in body["availability"]["message"]
    assert sold_out in body["availability"]["message"]
    assert body["hourly"]["instance_type"] == "34.7000"


def test_a_stale_price_is_used_and_shown_as_stale_with_the_cloud_error(sim, as_alice) -> None:
    as_alice.post(URL, {**BASE, "always_on": True}, format="json")
    PriceQuote.objects.update(fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    sim.set_faults(action="DescribePrice", code="ServiceUnavailable", http_status=503)
    body = as_alice.post(URL, {**BASE, "always_on": True}, format="json").json()
    assert body["hourly"]["running"] == "19.0500"  # the last known price, not zero
    assert body["prices"]["pay_as_you_go"]["stale"] is True
    assert body["prices"]["pay_as_you_go"]["fetched_at"] == "2026-01-01T00:00:00Z"
    assert body["prices"]["pay_as_you_go"]["error"].startswith("ServiceUnavailable")


def test_no_price_at_all_is_an_error_not_a_zero(sim, as_alice) -> None:
    sim.set_faults(action="DescribePrice", code="ServiceUnavailable", http_status=503)
    response = as_alice.post(
        URL, {**BASE, "zone": "cn-hangzhou-h", "always_on": True}, format="json"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "price_unavailable"
    assert "ServiceUnavailable" in response.json()["message"]


def test_who_may_ask_for_an_estimate(sim, anonymous, as_bob, as_mallory) -> None:
    """Anyone in a team may (prices are not a team's); nobody else. No team object is involved,
    so there is no other team's object to hide."""
    data = {**BASE, "always_on": True}
    assert anonymous.post(URL, data, format="json").status_code == 401
    loner = get_user_model().objects.create_user("loner", password="loner-pw-123")
    refused = token_client(loner).post(URL, data, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert as_bob.post(URL, data, format="json").status_code == 200
    assert as_mallory.post(URL, data, format="json").status_code == 200
