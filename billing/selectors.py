"""Reads of the ledger: cost reports, month-to-date spending, cost so far on instances.

Closed intervals each lie within one billing day, so grouping them by instance, team, day or
month is one SQL aggregate. Open intervals (at most one per instance) are added in Python, cut
at billing midnights up to now. Sums are always per currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Team
from billing import money
from billing.models import MONEY, UsageInterval
from instances.models import ServiceInstance

# Group name -> the columns it adds to a report line.
GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    "team": ("team",),
    "instance": ("team", "instance", "instance_name"),
    "month": ("month",),
    "day": ("day",),
}
# What SQL groups by for each: ids and days only. Labels (slugs, public ids, names) are read
# once afterwards, and months are folded from days in Python: grouping on joined text or on a
# truncated date costs more than the rest of the report.
SQL_KEYS = {"team": "team_id", "instance": "instance_id", "month": "day", "day": "day"}
GROUPS = tuple(GROUP_COLUMNS)
AMOUNT_COLUMNS = (
    "currency",
    "cost",
    "running_cost",
    "savings",
    "hours",
    "estimated",
    "unpriced_hours",
)


@dataclass(frozen=True)
class CostQuery:
    """What a report covers: billing days ``since``..``until`` (inclusive) of some teams."""

    since: date
    until: date
    team_ids: Sequence[int] | None = None  # None: every team (superusers)
    team_id: int | None = None
    instance_id: int | None = None
    region: str = ""
    charge_type: str = ""

    def scope(self, intervals: QuerySet[UsageInterval]) -> QuerySet[UsageInterval]:
        if self.team_ids is not None:
            intervals = intervals.filter(team_id__in=list(self.team_ids))
        if self.team_id is not None:
            intervals = intervals.filter(team_id=self.team_id)
        if self.instance_id is not None:
            intervals = intervals.filter(instance_id=self.instance_id)
        if self.region:
            intervals = intervals.filter(instance__region=self.region)
        if self.charge_type:
            intervals = intervals.filter(charge_type=self.charge_type)
        return intervals


@dataclass
class CostLine:
    """The cost of one group in one currency."""

    key: dict[str, Any]
    currency: str
    cost: Decimal = Decimal(0)
    running_cost: Decimal = Decimal(0)
    seconds: Decimal = Decimal(0)
    estimated: bool = False
    unpriced_seconds: Decimal = Decimal(0)

    @property
    def savings(self) -> Decimal:
        return self.running_cost - self.cost

    def as_row(self) -> dict[str, Any]:
        """The line as the API and the CSV show it (amounts to the cent, hours to 0.001)."""
        row = {name: _text(value) for name, value in self.key.items()}
        row.update(
            {
                "currency": self.currency,
                "cost": money.cents(self.cost),
                "running_cost": money.cents(self.running_cost),
                "savings": money.cents(self.savings),
                "hours": _hours(self.seconds),
                "estimated": self.estimated,
                "unpriced_hours": _hours(self.unpriced_seconds),
            }
        )
        return row


@dataclass
class CostReport:
    lines: list[CostLine]
    totals: list[CostLine] = field(default_factory=list)

    def columns(self, group_by: Sequence[str]) -> list[str]:
        names: list[str] = []
        for group in group_by:
            for name in GROUP_COLUMNS[group]:
                if name not in names:
                    names.append(name)
        return [*names, *AMOUNT_COLUMNS]


def _text(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _hours(seconds: Decimal) -> str:
    return str((seconds / money.SECONDS_PER_HOUR).quantize(Decimal("0.001")))


def cost_report(
    query: CostQuery, group_by: Sequence[str], *, now: datetime | None = None
) -> CostReport:
    """Cost, cost if left running, savings, hours and flags per group and currency.

    Two or three queries whatever the size: the labels of the instances or teams the lines
    name, the closed intervals' aggregate, and the open intervals.
    """
    now = now or timezone.now()
    sql_keys = list(dict.fromkeys(SQL_KEYS[g] for g in group_by))
    names = list(dict.fromkeys(n for g in group_by for n in GROUP_COLUMNS[g]))
    label = _labeller(query, group_by)
    lines: dict[tuple[Any, ...], CostLine] = {}

    def line(values: dict[str, Any], currency: str) -> CostLine:
        key = (*label(values), currency)
        found = lines.get(key)
        if found is None:
            found = lines[key] = CostLine(
                key=dict(zip(names, key, strict=False)), currency=currency
            )
        return found

    closed = query.scope(
        UsageInterval.objects.closed().filter(day__gte=query.since, day__lte=query.until)
    )
    aggregated = (
        closed.values(*sql_keys, "currency")
        .annotate(
            total_cost=Coalesce(Sum("cost"), Value(Decimal(0)), output_field=DecimalField(**MONEY)),
            total_running=Coalesce(
                Sum("running_cost"), Value(Decimal(0)), output_field=DecimalField(**MONEY)
            ),
            total_seconds=Sum("seconds"),
            estimated_count=Sum(
                Case(When(rate_estimated=True, then=1), default=0, output_field=IntegerField())
            ),
            unpriced=Sum(
                Case(
                    When(hourly_rate__isnull=True, then=F("seconds")),
                    default=Value(Decimal(0)),
                    output_field=DecimalField(max_digits=16, decimal_places=6),
                )
            ),
        )
        .order_by()
    )
    for row in aggregated:
        found = line(row, row["currency"])
        found.cost += row["total_cost"]
        found.running_cost += row["total_running"]
        found.seconds += row["total_seconds"] or 0
        found.estimated = found.estimated or bool(row["estimated_count"])
        found.unpriced_seconds += row["unpriced"] or 0

    start = money.day_start(query.since)
    end = min(money.day_start(query.until + timedelta(days=1)), now)
    for interval in _open_intervals(query, end):
        for day, seg_start, seg_end in money.split_by_day(max(interval["started_at"], start), end):
            seconds = money.seconds_between(seg_start, seg_end)
            found = line({**interval, "day": day}, interval["currency"])
            found.seconds += seconds
            found.estimated = found.estimated or interval["rate_estimated"]
            if interval["hourly_rate"] is None:
                found.unpriced_seconds += seconds
                found.estimated = True
                continue
            found.cost += money.prorate(interval["hourly_rate"], seconds) or 0
            found.running_cost += money.prorate(interval["running_hourly_rate"], seconds) or 0

    # Every position of a key holds one type (labels are text, days are dates): plain tuples
    # sort, with no per-value conversion.
    ordered = sorted(lines.items(), key=lambda item: item[0])
    found_lines = [found for _key, found in ordered]
    return CostReport(lines=found_lines, totals=_totals(found_lines))


def _labeller(query: CostQuery, group_by: Sequence[str]) -> Callable[[dict[str, Any]], tuple]:
    """A function from a row keyed by ids and days to the values people read, in column order
    (months folded from days); reads the instances' or teams' labels once."""
    instances: dict[int, tuple[str, str, str]] = {}
    teams: dict[int, str] = {}
    if "instance" in group_by:
        in_report = query.scope(
            UsageInterval.objects.filter(
                Q(day__gte=query.since, day__lte=query.until) | Q(ended_at__isnull=True)
            )
        ).values("instance_id")
        instances = {
            pk: (slug, public_id, name)
            for pk, slug, public_id, name in ServiceInstance.objects.filter(
                pk__in=in_report
            ).values_list("pk", "team__slug", "public_id", "name")
        }
    elif "team" in group_by:
        found = Team.objects.all()
        if query.team_ids is not None:
            found = found.filter(pk__in=list(query.team_ids))
        teams = dict(found.values_list("pk", "slug"))

    parts: list[Callable[[dict[str, Any]], tuple]] = []
    for group in group_by:
        if group == "instance":
            parts.append(lambda row: instances[row["instance_id"]])
        elif group == "team" and "instance" not in group_by:
            parts.append(lambda row: (teams.get(row["team_id"], ""),))
        elif group == "month":
            parts.append(lambda row: (row["day"].replace(day=1),))
        elif group == "day":
            parts.append(lambda row: (row["day"],))
    label = parts[0]
    for part in parts[1:]:
        label = _joined(label, part)
    return label


def _joined(
    first: Callable[[dict[str, Any]], tuple], second: Callable[[dict[str, Any]], tuple]
) -> Callable[[dict[str, Any]], tuple]:
    return lambda row: first(row) + second(row)


def _open_intervals(query: CostQuery, end: datetime) -> Iterable[dict[str, Any]]:
    return (
        query.scope(UsageInterval.objects.open())
        .filter(started_at__lt=end)
        .values(
            "started_at",
            "hourly_rate",
            "running_hourly_rate",
            "currency",
            "rate_estimated",
            "team_id",
            "instance_id",
        )
    )


def _totals(lines: Iterable[CostLine]) -> list[CostLine]:
    totals: dict[str, CostLine] = {}
    for found in lines:
        total = totals.setdefault(found.currency, CostLine(key={}, currency=found.currency))
        total.cost += found.cost
        total.running_cost += found.running_cost
        total.seconds += found.seconds
        total.estimated = total.estimated or found.estimated
        total.unpriced_seconds += found.unpriced_seconds
    return [totals[c] for c in sorted(totals)]


def month_to_date(
    team_ids: Sequence[int], *, now: datetime | None = None
) -> dict[tuple[int, str], Decimal]:
    """What each team has spent this billing month, per currency: {(team id, currency): cost}."""
    now = now or timezone.now()
    today = money.billing_day(now)
    query = CostQuery(since=money.month_start(today), until=today, team_ids=team_ids)
    spent: dict[tuple[int, str], Decimal] = {}
    closed = (
        query.scope(UsageInterval.objects.closed().filter(day__gte=query.since))
        .values("team_id", "currency")
        .annotate(total=Sum("cost"))
        .order_by()
    )
    for row in closed:
        key = (row["team_id"], row["currency"])
        spent[key] = spent.get(key, Decimal(0)) + (row["total"] or 0)
    start = money.day_start(query.since)
    for interval in _open_intervals(query, now):
        seconds = money.seconds_between(max(interval["started_at"], start), now)
        cost = money.prorate(interval["hourly_rate"], seconds)
        if cost is not None:
            key = (interval["team_id"], interval["currency"])
            spent[key] = spent.get(key, Decimal(0)) + cost
    return spent


def spend_rates(team_ids: Sequence[int]) -> dict[tuple[int, str], Decimal]:
    """What each team spends per hour right now, per currency: the rates of its open ledger
    intervals added up (an interval whose rate is not known yet adds nothing)."""
    rows = (
        UsageInterval.objects.open()
        .filter(team_id__in=team_ids, hourly_rate__isnull=False)
        .values("team_id", "currency")
        .annotate(rate=Sum("hourly_rate"))
        .order_by()
    )
    return {(row["team_id"], row["currency"]): row["rate"] or Decimal(0) for row in rows}


# --- cost so far on instances -------------------------------------------------------------------


def with_costs(instances: QuerySet[ServiceInstance]) -> QuerySet[ServiceInstance]:
    """Annotates each instance with its latest interval (in the same query: the list stays at
    a constant number of queries, and each row costs one index seek per column however long
    the history): the totals before it, and its own cost or its start and rates while open.
    ``instance_cost`` turns them into the cost so far."""
    latest = UsageInterval.objects.filter(instance=OuterRef("pk")).order_by("-started_at", "-id")
    money_field = DecimalField(**MONEY)

    def column(name: str, output: Any = None) -> Subquery:
        return Subquery(latest.values(name)[:1], output_field=output)

    return instances.annotate(
        cost_currency=column("currency"),
        cost_before=column("cost_before", money_field),
        cost_running_before=column("running_cost_before", money_field),
        cost_estimated_before=column("estimated_before"),
        cost_rate_estimated=column("rate_estimated"),
        cost_started_at=column("started_at"),
        cost_ended_at=column("ended_at"),
        cost_rate=column("hourly_rate", money_field),
        cost_running_rate=column("running_hourly_rate", money_field),
        cost_last=column("cost", money_field),
        cost_last_running=column("running_cost", money_field),
    )


@dataclass(frozen=True)
class InstanceCost:
    currency: str
    so_far: Decimal | None
    running_cost: Decimal | None
    hourly_rate: Decimal | None
    estimated: bool

    @property
    def savings(self) -> Decimal | None:
        if self.so_far is None or self.running_cost is None:
            return None
        return self.running_cost - self.so_far


def instance_cost(instance: ServiceInstance, now: datetime | None = None) -> InstanceCost | None:
    """Cost so far of an instance annotated by ``with_costs``; None without any interval."""
    currency = getattr(instance, "cost_currency", None)
    if currency is None:
        return None
    rate = instance.cost_rate
    estimated = bool(instance.cost_estimated_before or instance.cost_rate_estimated or rate is None)
    if not currency:
        # Only unpriced intervals so far: the cost is unknown, which is not zero.
        return InstanceCost(
            currency="", so_far=None, running_cost=None, hourly_rate=None, estimated=True
        )
    so_far = instance.cost_before or Decimal(0)
    running = instance.cost_running_before or Decimal(0)
    if instance.cost_ended_at is not None:
        # Nothing open (a deleted host): its last interval closes the account.
        so_far += instance.cost_last or 0
        running += instance.cost_last_running or 0
        rate = None
    elif rate is not None:
        seconds = money.seconds_between(instance.cost_started_at, now or timezone.now())
        so_far += money.prorate(rate, seconds) or 0
        running += money.prorate(instance.cost_running_rate, seconds) or 0
    return InstanceCost(
        currency=currency,
        so_far=so_far,
        running_cost=running,
        hourly_rate=rate,
        estimated=estimated,
    )
