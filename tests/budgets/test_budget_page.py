"""The budget page of the dashboard: admins set, change and delete it; members read it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from budgets.models import Budget

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_team_admin_sets_changes_and_deletes_the_budget(team, carol) -> None:
    client = client_for(carol)
    page = client.get("/costs/budget/").content.decode()
    assert "No budget yet" in page and 'name="amount"' in page
    response = client.post(
        "/costs/budget/",
        {
            "amount": "3000",
            "currency": "cny",
            "thresholds": "90, 50%",
            "stop_at_limit": "on",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get(team=team)
    assert (budget.amount, budget.currency, budget.thresholds) == (Decimal("3000"), "CNY", [50, 90])
    assert budget.stop_at_limit and budget.updated_by == carol
    page = client.get("/costs/budget/").content.decode()
    assert "0.00 / 3000.00 CNY" in page and 'value="50, 90"' in page
    assert client.post("/costs/budget/delete/").status_code == 302
    assert not Budget.objects.exists()


def test_bad_budget_values_are_shown_inline_and_kept(team, carol) -> None:
    response = client_for(carol).post(
        "/costs/budget/", {"amount": "-5", "currency": "C1Y", "thresholds": "50, lots"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give whole percentages" in page and "three-letter currency code" in page
    assert 'value="50, lots"' in page and 'value="-5"' in page
    assert not Budget.objects.exists()


def test_members_read_the_budget_and_only_admins_change_it(team, alice, bob, mallory) -> None:
    Budget.objects.create(team=team, amount="100", currency="CNY", thresholds=[75])
    for user in (alice, bob):
        client = client_for(user)
        page = client.get("/costs/budget/").content.decode()
        assert "100.00 CNY" in page and "75" in page and 'name="amount"' not in page
        assert "Team admins can change the budget." in page
        assert client.post("/costs/budget/", {"amount": "1", "currency": "CNY"}).status_code == 403
        assert client.post("/costs/budget/delete/").status_code == 403
    assert Budget.objects.get(team=team).amount == Decimal("100")
    # Mallory's team has no budget; Alpha's is not hers to see.
    page = client_for(mallory).get("/costs/budget/").content.decode()
    assert "100.00" not in page and "Team admins can set a budget." in page
