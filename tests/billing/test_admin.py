"""The billing admin pages: quotes (with a refresh action), the ledger read only, budgets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing import ledger, quotes
from billing.models import PriceQuote, UsageInterval
from budgets.models import Budget
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@x.io", "root-pw-123")
    client = Client()
    client.force_login(user)
    return client


def test_the_billing_pages_list_what_exists(sim, team, admin_client) -> None:
    quote = quotes.refresh(
        quotes.key_for(
            region="cn-hangzhou",
            zone="cn-hangzhou-i",
            instance_type="ecs.gn6i-c4g1.xlarge",
            charge_type="PostPaid",
        )
    )
    interval = ledger.record_status(make_instance(team))
    budget = Budget.objects.create(team=team, amount="10", currency="CNY")
    for path in (
        "/admin/billing/pricequote/",
        f"/admin/billing/pricequote/{quote.pk}/change/",
        "/admin/billing/usageinterval/",
        f"/admin/billing/usageinterval/{interval.pk}/change/",
        "/admin/budgets/budget/",
        f"/admin/budgets/budget/{budget.pk}/change/",
        "/admin/budgets/budgetalert/",
        "/admin/notifications/notificationdelivery/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_the_ledger_cannot_be_changed_from_the_admin(sim, team, admin_client) -> None:
    interval = ledger.record_status(make_instance(team))
    assert admin_client.get("/admin/billing/usageinterval/add/").status_code == 403
    page = admin_client.get(f"/admin/billing/usageinterval/{interval.pk}/change/")
    assert b'name="_save"' not in page.content
    response = admin_client.post(
        f"/admin/billing/usageinterval/{interval.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert UsageInterval.objects.filter(pk=interval.pk).exists()


def test_quotes_can_be_refreshed_from_the_admin(sim, admin_client) -> None:
    key = quotes.key_for(
        region="cn-hangzhou",
        zone="cn-hangzhou-i",
        instance_type="ecs.gn7i-c8g1.2xlarge",
        charge_type="PostPaid",
    )
    stale = PriceQuote.objects.create(**key.as_filter())
    response = admin_client.post(
        "/admin/billing/pricequote/",
        {"action": "refresh", "_selected_action": [stale.pk]},
        follow=True,
    )
    assert response.status_code == 200
    stale.refresh_from_db()
    assert stale.has_prices and str(stale.trade_price) == "19.0500000000"
