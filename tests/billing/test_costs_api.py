"""GET /api/v1/costs/: grouping, filters, currencies, CSV, who sees what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import ledger, quotes
from billing.models import PriceQuote
from instances.lifecycle import change_status
from instances.models import Status
from tests.billing.helpers import clock
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

URL = "/api/v1/costs/"
NOW = datetime(2026, 8, 5, 10, 0)


@pytest.fixture
def fleet(sim, team, other_team):
    """Alpha: a CNY host that ran 4 hours then save-stopped, a USD host running for 34 hours;
    Other: a host that ran 10 hours. The clock stays at NOW (Wednesday 10:00 UTC)."""
    # An international-site price: the same ledger, another currency.
    PriceQuote.objects.create(
        **quotes.key_for(
            region="ap-southeast-1",
            zone="ap-southeast-1a",
            instance_type="ecs.gn6i-c4g1.xlarge",
            charge_type="PostPaid",
        ).as_filter(),
        currency="USD",
        instance_price=Decimal("1.70"),
        system_disk_price=Decimal("0.10"),
        bandwidth_price=Decimal("0.20"),
        trade_price=Decimal("2.00"),
        fetched_at=datetime(2026, 8, 4, tzinfo=UTC),
    )
    with clock(datetime(2026, 8, 3, 10, 0)) as traveller:
        quotes.refresh(
            quotes.key_for(
                region="cn-hangzhou",
                zone="cn-hangzhou-i",
                instance_type="ecs.gn6i-c4g1.xlarge",
                charge_type="PostPaid",
            )
        )
        cny = make_instance(team, name="cny-host")
        ledger.record_status(cny)
        other = make_instance(other_team, name="theirs")
        ledger.record_status(other)
        traveller.shift(4 * 3600)
        change_status(cny, Status.STOPPED, stopped_mode="StopCharging")
        traveller.shift(6 * 3600)
        change_status(other, Status.DELETED)
        traveller.move_to(datetime(2026, 8, 4, 0, 0, tzinfo=UTC))
        usd = make_instance(team, name="usd-host", region="ap-southeast-1", zone="ap-southeast-1a")
        ledger.record_status(usd)
        traveller.move_to(NOW.replace(tzinfo=UTC))
        yield {"cny": cny, "usd": usd, "other": other}


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_costs_per_instance_with_savings_and_totals_per_currency(fleet, as_alice) -> None:
    body = as_alice.get(URL, {"since": "2026-08-01", "until": "2026-08-31"}).json()
    assert body["group_by"] == ["instance"] and body["time_zone"] == "UTC"
    cny, usd = (
        next(r for r in body["results"] if r["instance"] == fleet[k].public_id)
        for k in ("cny", "usd")
    )
    # 4 h at 9.95 running, then 44 h stopped at 1.55 (disk and bandwidth) until now.
    assert (cny["cost"], cny["running_cost"], cny["savings"]) == ("108.00", "477.60", "369.60")
    # No price job ran in this test: the stop, 4 hours after the price was read, used a stale
    # quote (right figures, flagged).
    assert (cny["currency"], cny["hours"], cny["estimated"]) == ("CNY", "48.000", True)
    assert usd["estimated"] is False
    assert (usd["cost"], usd["currency"], usd["hours"]) == ("68.00", "USD", "34.000")
    assert len(body["results"]) == 2  # the other team's host is not Alpha's business
    assert [(t["currency"], t["cost"]) for t in body["totals"]] == [
        ("CNY", "108.00"),
        ("USD", "68.00"),
    ]


def test_costs_per_day_and_per_month_never_add_currencies(fleet, as_alice) -> None:
    days = rows(as_alice.get(URL, {"group_by": "day", "since": "2026-08-01"}))
    assert [(r["day"], r["currency"], r["cost"]) for r in days] == [
        ("2026-08-03", "CNY", "55.30"),  # 4 h x 9.95 + 10 h x 1.55
        ("2026-08-04", "CNY", "37.20"),  # 24 h x 1.55
        ("2026-08-04", "USD", "48.00"),
        ("2026-08-05", "CNY", "15.50"),  # 10 h so far
        ("2026-08-05", "USD", "20.00"),
    ]
    months = rows(as_alice.get(URL, {"group_by": "month"}))
    assert [(r["month"], r["currency"], r["cost"]) for r in months] == [
        ("2026-08-01", "CNY", "108.00"),
        ("2026-08-01", "USD", "68.00"),
    ]
    by_team_day = rows(as_alice.get(URL, {"group_by": "team,day", "since": "2026-08-05"}))
    assert [(r["team"], r["day"], r["cost"]) for r in by_team_day] == [
        ("alpha", "2026-08-05", "15.50"),
        ("alpha", "2026-08-05", "20.00"),
    ]


def test_filters_narrow_the_report(fleet, as_alice) -> None:
    only = rows(as_alice.get(URL, {"instance": fleet["cny"].public_id, "group_by": "day"}))
    assert {r["currency"] for r in only} == {"CNY"}
    asia = rows(as_alice.get(URL, {"region": "ap-southeast-1"}))
    assert [r["instance"] for r in asia] == [fleet["usd"].public_id]
    one_day = rows(as_alice.get(URL, {"since": "2026-08-04", "until": "2026-08-04"}))
    assert sorted((r["currency"], r["cost"]) for r in one_day) == [
        ("CNY", "37.20"),
        ("USD", "48.00"),
    ]
    assert rows(as_alice.get(URL, {"charge_type": "PrePaid"})) == []
    assert (
        rows(as_alice.get(URL, {"team": "alpha", "since": "2026-09-01", "until": "2026-09-30"}))
        == []
    )


def test_the_csv_export_reads_back_as_the_json_report(fleet, as_alice) -> None:
    params = {"group_by": "instance,day", "since": "2026-08-01", "until": "2026-08-31"}
    report = as_alice.get(URL, params).json()
    for response in (
        as_alice.get(URL, {**params, "format": "csv"}),
        as_alice.get(URL, params, HTTP_ACCEPT="text/csv"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert (
            'filename="nestops-costs-2026-08-01-2026-08-31.csv"'
            in (response["Content-Disposition"])
        )
        reader = csv.DictReader(io.StringIO(response.content.decode("utf-8")))
        assert reader.fieldnames == report["columns"]
        read_back = [
            {k: {"true": True, "false": False}.get(v, v) for k, v in row.items()} for row in reader
        ]
        assert read_back == report["results"]
        assert len(read_back) == 5


def test_bad_parameters_are_field_errors_even_for_csv(fleet, as_alice) -> None:
    for params, field in [
        ({"group_by": "planet"}, "group_by"),
        ({"group_by": "day,month"}, "group_by"),
        ({"group_by": "day,day"}, "group_by"),
        ({"since": "2026-08-10", "until": "2026-08-01"}, "since"),
        ({"since": "2024-01-01", "until": "2026-08-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"charge_type": "Free"}, "charge_type"),
    ]:
        for extra in ({}, {"format": "csv"}):
            response = as_alice.get(URL, {**params, **extra})
            assert response.status_code == 400, (params, extra)
            assert response["Content-Type"] == "application/json"
            assert field in response.json()["details"], params


def test_who_sees_which_costs(fleet, anonymous, as_bob, as_mallory) -> None:
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(URL, {"format": "csv"}).status_code == 401
    # A viewer reads his team's costs.
    assert {r["instance"] for r in rows(as_bob.get(URL))} == {
        fleet["cny"].public_id,
        fleet["usd"].public_id,
    }
    # An outsider sees only her own team's, and Alpha's team and hosts do not exist for her.
    assert [r["instance"] for r in rows(as_mallory.get(URL))] == [fleet["other"].public_id]
    for params in ({"team": "alpha"}, {"instance": fleet["cny"].public_id}):
        response = as_mallory.get(URL, params)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
