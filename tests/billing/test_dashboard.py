"""The billing pages of the dashboard: costs with the daily chart, cost so far on the
instance list and page, the estimate in the create wizard."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import UserPreference
from billing import ledger, quotes
from budgets.models import Budget
from instances.lifecycle import change_status
from instances.models import Status
from tests.billing.helpers import STOPPED_HOUR, clock, cost, running_hour, to_cent
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

SMALL = "ecs.gn6i-c4g1.xlarge"
NOW = datetime(2026, 8, 5, 10, 0, tzinfo=UTC)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def price(instance_type: str = SMALL, **key) -> None:
    quotes.refresh(
        quotes.key_for(
            region="cn-hangzhou",
            zone="cn-hangzhou-i",
            instance_type=instance_type,
            charge_type=key.pop("charge_type", "PostPaid"),
            **key,
        )
    )


@pytest.fixture
def history(sim, team, other_team):
    """Alpha's host ran 10 hours on 3 August, then save-stopped; Other's host ran meanwhile.
    The clock stays at NOW (5 August, 10:00 UTC)."""
    with clock(datetime(2026, 8, 3, 8, 0)) as traveller:
        price()
        ours = make_instance(team, name="painter")
        ledger.record_status(ours)
        theirs = make_instance(other_team, name="theirs")
        ledger.record_status(theirs)
        traveller.shift(10 * 3600)
        change_status(ours, Status.STOPPED, stopped_mode="StopCharging")
        traveller.move_to(NOW)
        yield {"ours": ours, "theirs": theirs}


def test_the_billing_pages_need_a_login(client) -> None:
    for path in ("/costs/", "/costs/budget/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_costs_page_charts_each_instance_and_lists_what_it_cost(history, alice) -> None:
    page = client_for(alice).get("/costs/").content.decode()
    expected = cost(running_hour(SMALL), 36000) + cost(STOPPED_HOUR, 40 * 3600)
    saved = cost(running_hour(SMALL) - STOPPED_HOUR, 40 * 3600)
    assert '<svg class="cost-chart"' in page and 'role="img"' in page
    # Three days so far, the host costs something on each: three bars of its colour.
    assert len(re.findall(r'<rect [^>]*fill="#0072b2"', page)) == 3
    assert "painter" in page and "theirs" not in page
    assert f"{to_cent(expected)} CNY" in page and f"{to_cent(saved)} CNY" in page
    assert "Budget" in page and "This team has no budget." in page
    csv_link = re.search(r'href="(/api/v1/costs/\?[^"]*group_by=instance%2Cday[^"]*)"', page)
    assert csv_link is not None
    download = client_for(alice).get(csv_link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "painter" in download.content.decode()


def test_another_month_and_a_month_without_costs(history, alice) -> None:
    client = client_for(alice)
    empty = client.get("/costs/?month=2026-06").content.decode()
    assert "No cost this month." in empty and "2026-06" in empty
    assert "?month=2026-07" in empty  # the next month is offered, it is in the past
    assert "Next month" not in client.get("/costs/").content.decode()
    assert client.get("/costs/?month=nonsense").status_code == 200


def test_the_costs_page_shows_the_budget(history, team, alice) -> None:
    Budget.objects.create(team=team, amount="200", currency="CNY")
    page = client_for(alice).get("/costs/").content.decode()
    spent = to_cent(cost(running_hour(SMALL), 36000) + cost(STOPPED_HOUR, 40 * 3600))
    assert f"{spent} of 200.00 CNY spent" in page
    assert 'class="meter"' in page


def test_the_list_shows_cost_so_far_in_the_same_number_of_queries(history, team, alice) -> None:
    client = client_for(alice)
    client.get("/")  # the user's preferences exist from now on
    with CaptureQueriesContext(connection) as few:
        page = client.get("/").content.decode()
    with clock(NOW.replace(tzinfo=None)):
        for _ in range(15):
            ledger.record_status(make_instance(team))
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few) <= 10
    assert "Cost so far" in page
    spent = to_cent(cost(running_hour(SMALL), 36000) + cost(STOPPED_HOUR, 40 * 3600))
    assert f"{spent} CNY" in page


def test_the_instance_page_shows_cost_savings_rates_and_a_chart(history, alice) -> None:
    ours = history["ours"]
    page = client_for(alice).get(f"/instances/{ours.public_id}/").content.decode()
    assert "Saved by stopping" in page
    assert f"{to_cent(cost(running_hour(SMALL) - STOPPED_HOUR, 40 * 3600))} CNY" in page
    assert "9.95 CNY per hour" in page and "1.55 CNY per hour" in page
    assert '<svg class="cost-chart"' in page
    assert len(re.findall(r"<rect ", page)) == 3
    assert "The figures of the chart" in page


def test_the_stop_dialog_says_what_a_save_stopped_host_costs(sim, team, alice) -> None:
    price()
    running = make_instance(team, status=Status.RUNNING)
    ledger.record_status(running)
    page = client_for(alice).get(f"/instances/{running.public_id}/").content.decode()
    assert "Save-stopped, this host is counted at 1.55 CNY per hour instead of 9.95 CNY." in page


def test_a_subscription_host_page_says_stopping_saves_nothing(sim, team, alice) -> None:
    price(charge_type="PrePaid", period=1, period_unit="Month")
    prepaid = make_instance(team, charge_type="PrePaid", period=1, period_unit="Month")
    ledger.record_status(prepaid)
    page = client_for(alice).get(f"/instances/{prepaid.public_id}/").content.decode()
    assert "Stopping it saves nothing." in page
    assert "5.1507 CNY per hour" in page  # 3,760 a month over 730 hours


def test_a_host_without_a_price_yet_is_not_shown_as_costing_nothing(sim, team, alice) -> None:
    unpriced = make_instance(team, instance_type="ecs.gn7i-c16g1.4xlarge")
    ledger.record_status(unpriced)
    page = client_for(alice).get(f"/instances/{unpriced.public_id}/").content.decode()
    assert "The price of this host is not known yet" in page
    listing = client_for(alice).get("/").content.decode()
    assert 'title="Price not known yet"' in listing


# --- the create wizard --------------------------------------------------------------------------


def wizard_data(**changes) -> dict:
    data = {
        "name": "wizard-1",
        "template": "sd-webui",
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-i",
        "instance_type": "ecs.gn7i-c8g1.2xlarge",
        "charge_type": "PostPaid",
        "period": "1",
        "network": "new",
        "vpc_cidr": "192.168.0.0/16",
        "vswitch_cidr": "192.168.0.0/24",
        "usage": "hours",
        "hours_per_day": "8",
        "days_per_week": "5",
    }
    data.update(changes)
    return data


def test_the_wizard_estimates_the_month_for_the_usage_profile(sim, alice) -> None:
    client = client_for(alice)
    page = client.get("/instances/new/").content.decode()
    assert 'name="hours_per_day"' in page and 'value="8"' in page
    summary = client.post("/instances/new/summary/", wizard_data()).content.decode()
    api = token_estimate(alice)
    assert "Estimate for your usage" in summary
    assert f"{api['pay_as_you_go']['monthly']} CNY" in summary
    assert f"{api['subscription']['monthly']} CNY" in summary
    assert f"Above {api['break_even_hours_per_month']} running hours a month" in summary
    assert "Cheaper here: pay-as-you-go with save-stop." in summary
    always = client.post("/instances/new/summary/", wizard_data(usage="always")).content.decode()
    assert "Always on: 730 hours a month." in always
    assert "Cheaper here: a subscription." in always


def token_estimate(user) -> dict:
    from tests.conftest import token_client

    return (
        token_client(user)
        .post(
            "/api/v1/estimates/",
            {
                "region": "cn-hangzhou",
                "zone": "cn-hangzhou-i",
                "instance_type": "ecs.gn7i-c8g1.2xlarge",
                "hours_per_day": "8",
                "days_per_week": "5",
            },
            format="json",
        )
        .json()
    )


def test_the_wizard_says_why_there_is_no_estimate(sim, alice) -> None:
    client = client_for(alice)
    bad = client.post("/instances/new/summary/", wizard_data(hours_per_day="30")).content.decode()
    assert "Ensure this value is less than or equal to 24." in bad
    sim.set_stock("cn-hangzhou-i", "ecs.gn7e-c16g1.4xlarge", 0)
    sold_out = client.post(
        "/instances/new/summary/", wizard_data(instance_type="ecs.gn7e-c16g1.4xlarge")
    ).content.decode()
    assert "is sold out in zone cn-hangzhou-i right now" in sold_out
    sim.set_faults(action="DescribePrice", code="ServiceUnavailable", http_status=503)
    failing = client.post(
        "/instances/new/summary/", wizard_data(zone="cn-hangzhou-h")
    ).content.decode()
    assert "No estimate:" in failing and "Nothing is shown as zero." in failing


def test_the_costs_page_speaks_chinese(history, alice) -> None:
    UserPreference.objects.update_or_create(user=alice, defaults={"language": "zh-hans"})
    page = client_for(alice).get("/costs/").content.decode()
    assert "每个实例的每日费用" in page and "费用" in page
