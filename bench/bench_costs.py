"""The cost report for 1,000 instances with 30 days of intervals: wall seconds and database
queries per report (target: <= 1 s, a constant number of queries), per grouping and through
the API (JSON and CSV); and a page of the instance list, whose rows carry their cost so far.

Each instance ran 09:00-18:00 and was save-stopped the rest of every day for 30 days (three
closed intervals a day: 90,000 rows), and is running now (one open interval each).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harness import median, report, setup_django, timed, workdir

INSTANCES = int(os.environ.get("BENCH_COSTS_INSTANCES", "1000"))
DAYS = int(os.environ.get("BENCH_COSTS_DAYS", "30"))
RUNNING = Decimal("9.95")
STOPPED = Decimal("1.55")


def build(now: datetime) -> tuple[int, str]:
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken, Membership, Role, Team
    from billing.models import Basis, BillingState, UsageInterval
    from billing.money import prorate, seconds_between
    from instances.models import ServiceInstance, Status

    team = Team.objects.create(name="Bench", slug="bench")
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    Membership.objects.create(user=user, team=team, role=Role.VIEWER)
    ServiceInstance.objects.bulk_create(
        [
            ServiceInstance(
                team=team,
                name=f"host-{n}",
                region="cn-hangzhou",
                zone="cn-hangzhou-i",
                instance_type="ecs.gn6i-c4g1.xlarge",
                status=Status.RUNNING,
                cloud_instance_id=f"i-bench{n:08d}",
                webui_password="bench-password",
            )
            for n in range(INSTANCES)
        ],
        batch_size=1000,
    )
    ids = list(ServiceInstance.objects.values_list("pk", flat=True))
    first_day = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows: list[UsageInterval] = []
    totals: dict[int, tuple[Decimal, Decimal]] = {}

    def interval(instance_id: int, start: datetime, end: datetime | None, running: bool) -> None:
        rate = RUNNING if running else STOPPED
        seconds = seconds_between(start, end) if end else None
        # The instance's totals before this row, chained as the ledger chains them.
        cost_before, running_before = totals.get(instance_id, (Decimal(0), Decimal(0)))
        if end is not None:
            totals[instance_id] = (
                cost_before + prorate(rate, seconds),
                running_before + prorate(RUNNING, seconds),
            )
        rows.append(
            UsageInterval(
                cost_before=cost_before,
                running_cost_before=running_before,
                instance_id=instance_id,
                team_id=team.pk,
                state=BillingState.RUNNING if running else BillingState.STOPPED_STOP_CHARGING,
                basis=Basis.FULL if running else Basis.STOPPED,
                charge_type="PostPaid",
                instance_type="ecs.gn6i-c4g1.xlarge",
                started_at=start,
                ended_at=end,
                day=start.date(),
                hourly_rate=rate,
                running_hourly_rate=RUNNING,
                currency="CNY",
                seconds=seconds,
                cost=prorate(rate, seconds) if end else None,
                running_cost=prorate(RUNNING, seconds) if end else None,
            )
        )

    for instance_id in ids:
        for day in range(DAYS):
            midnight = first_day + timedelta(days=day)
            nine, six = midnight + timedelta(hours=9), midnight + timedelta(hours=18)
            interval(instance_id, midnight, nine, running=False)
            interval(instance_id, nine, six, running=True)
            interval(instance_id, six, midnight + timedelta(days=1), running=False)
        interval(instance_id, now.replace(hour=0, minute=0, second=0, microsecond=0), None, True)
        if len(rows) >= 20000:
            UsageInterval.objects.bulk_create(rows)
            rows.clear()
    UsageInterval.objects.bulk_create(rows)
    _token, plain = ApiToken.issue(user=user, name="bench")
    return team.pk, plain


def main() -> None:
    folder = workdir("costs")
    setup_django(folder)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from billing.models import UsageInterval
    from billing.selectors import CostQuery, cost_report

    now = datetime.now(UTC)
    team_id, token = build(now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum would have done by now
            cursor.execute("ANALYZE")
    since = (now - timedelta(days=DAYS)).date()
    query = CostQuery(since=since, until=now.date(), team_ids=[team_id])

    figures: dict[str, object] = {
        "instances": INSTANCES,
        "days": DAYS,
        "intervals": UsageInterval.objects.count(),
    }
    expected_day = 9 * RUNNING + 15 * STOPPED
    for name, group_by in (
        ("instance", ["instance"]),
        ("team", ["team"]),
        ("day", ["day"]),
        ("month", ["month"]),
        ("instance_day", ["instance", "day"]),
    ):
        with CaptureQueriesContext(connection) as queries:
            durations, result = timed(lambda g=group_by: cost_report(query, g), repeat=5)
        figures[f"{name}_seconds_median"] = median(durations)
        figures[f"{name}_queries"] = len(queries) // 5
        figures[f"{name}_lines"] = len(result.lines)
    total = cost_report(query, ["team"]).totals[0].cost
    closed_part = expected_day * DAYS * INSTANCES
    assert total >= closed_part, (total, closed_part)

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    for name, params in (
        ("api_instance_json", {"group_by": "instance"}),
        ("api_instance_day_csv", {"group_by": "instance,day", "format": "csv"}),
    ):
        params = {**params, "since": since.isoformat(), "until": now.date().isoformat()}

        def call(p: dict[str, str] = params) -> int:
            response = client.get("/api/v1/costs/", p)
            assert response.status_code == 200, response.content[:300]
            return len(response.content)

        with CaptureQueriesContext(connection) as queries:
            durations, size = timed(call, repeat=3)
        figures[f"{name}_seconds_median"] = median(durations)
        figures[f"{name}_queries"] = len(queries) // 3
        figures[f"{name}_bytes"] = size

    # The instance list with cost so far: its subqueries sum ~90 intervals for each of 50 rows.
    def page() -> None:
        response = client.get("/api/v1/instances/")
        assert response.status_code == 200, response.content[:300]
        assert response.json()["results"][0]["cost"]["currency"] == "CNY"

    with CaptureQueriesContext(connection) as queries:
        durations, _ = timed(page, repeat=20)
    figures["instance_list_page_seconds_median"] = median(durations)
    figures["instance_list_page_queries"] = len(queries) // 20
    report(
        "bench_costs",
        figures,
        f"{connection.vendor}; cost_report() in-process and GET /api/v1/costs/ through Django's "
        "test client (token auth); 3 closed intervals a day per instance plus one open",
    )


if __name__ == "__main__":
    main()
