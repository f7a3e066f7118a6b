"""/api/v1/budgets/: team admins edit, members read, outsiders see nothing."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Role
from budgets.models import Budget
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/budgets/"


@pytest.fixture
def as_carol(carol):
    return token_client(carol)


@pytest.fixture
def budget(team):
    return Budget.objects.create(team=team, amount="1000.00", currency="CNY")


def detail(budget: Budget) -> str:
    return f"{URL}{budget.public_id}/"


def test_a_team_admin_creates_a_budget_with_the_default_thresholds(as_carol) -> None:
    response = as_carol.post(URL, {"team": "alpha", "amount": "1500"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("bg-")
    assert (body["team"], body["amount"], body["currency"]) == ("alpha", "1500.00", "CNY")
    assert body["thresholds"] == [50, 80, 100]
    assert body["stop_at_limit"] is False and body["enabled"] is True
    assert body["this_month"]["spent"] == "0.00"
    assert body["this_month"]["thresholds_fired"] == []


def test_a_team_admin_changes_and_deletes_the_budget(as_carol, budget) -> None:
    response = as_carol.patch(
        detail(budget),
        {"amount": "2000", "thresholds": [90, 25, 90], "stop_at_limit": True, "currency": "usd"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["amount"], body["thresholds"], body["currency"]) == ("2000.00", [25, 90], "USD")
    budget.refresh_from_db()
    assert budget.stop_at_limit and budget.updated_by.username == "carol"
    assert as_carol.delete(detail(budget)).status_code == 204
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"amount": "10", "thresholds": [0]}, "thresholds"),
        ({"amount": "10", "thresholds": [50, 5000]}, "thresholds"),
        ({"amount": "10", "thresholds": "50"}, "thresholds"),
        ({"amount": "10", "currency": "C1Y"}, "currency"),
        ({"amount": "10", "currency": "YUAN"}, "currency"),
        ({}, "amount"),
    ],
)
def test_bad_budgets_get_field_errors(as_carol, data, field) -> None:
    response = as_carol.post(URL, {"team": "alpha", **data}, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"], response.json()


def test_a_team_has_one_budget_and_it_stays_with_the_team(
    as_carol, budget, carol, other_team
) -> None:
    second = as_carol.post(URL, {"team": "alpha", "amount": "5"}, format="json")
    assert second.status_code == 400 and "team" in second.json()["details"]
    Membership.objects.create(user=carol, team=other_team, role=Role.ADMIN)
    moved = as_carol.patch(detail(budget), {"team": "other"}, format="json")
    assert moved.status_code == 400 and "team" in moved.json()["details"]


def test_members_read_budgets_and_only_admins_edit_them(as_alice, as_bob, budget) -> None:
    for client in (as_alice, as_bob):  # an operator and a viewer
        listing = client.get(URL)
        assert listing.status_code == 200
        assert [b["id"] for b in listing.json()["results"]] == [budget.public_id]
        assert client.get(detail(budget)).json()["amount"] == "1000.00"
        refused = client.patch(detail(budget), {"amount": "1"}, format="json")
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
        assert client.delete(detail(budget)).status_code == 403
    created = as_alice.post(URL, {"team": "alpha", "amount": "1"}, format="json")
    assert created.status_code == 403
    budget.refresh_from_db()
    assert str(budget.amount) == "1000.00"


def test_a_viewer_cannot_create_a_budget(as_bob) -> None:
    response = as_bob.post(URL, {"team": "alpha", "amount": "10"}, format="json")
    assert response.status_code == 403
    assert not Budget.objects.exists()


def test_outsiders_and_anonymous_get_nothing(anonymous, as_mallory, budget) -> None:
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(URL, {"team": "alpha", "amount": "1"}, format="json").status_code == 401
    assert anonymous.get(detail(budget)).status_code == 401
    assert as_mallory.get(URL).json()["results"] == []
    for method in ("get", "patch", "delete"):
        response = getattr(as_mallory, method)(detail(budget), {"amount": "1"}, format="json")
        assert response.status_code == 404, method
    refused = as_mallory.post(URL, {"team": "alpha", "amount": "1"}, format="json")
    assert refused.status_code == 400 and "team" in refused.json()["details"]
    budget.refresh_from_db()
    assert str(budget.amount) == "1000.00"
