"""Reads of the ledger: cost reports, month-to-date spending, cost so far on instances.

Closed intervals each lie within one billing day, so grouping them by instance, team, day or
month is one SQL aggregate. Open intervals (at most one per instance) are added in Python, cut
at billing midnights up to now. Sums are always per currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    Exists,
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
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from billing import money
from billing.models import MONEY, UsageInterval
from instances.models import ServiceInstance

# Group name -> the columns it adds to a report line, and where SQL finds each.
GROUP_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "team": (("team", "team__slug"),),
    "instance": (
        ("team", "team__slug"),
        ("instance", "instance__public_id"),
        ("instance_name", "instance__name"),
    ),
    "month": (("month", "month"),),
    "day": (("day", "day"),),
}
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
            for name, _source in GROUP_COLUMNS[group]:
                if name not in names:
                    names.append(name)
        return [*names, *AMOUNT_COLUMNS]


def _text(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _hours(seconds: Decimal) -> str:
    return str((seconds / money.SECONDS_PER_HOUR).quantize(Decimal("0.001")))


def _key_sources(group_by: Sequence[str]) -> list[tuple[str, str]]:
    sources: list[tuple[str, str]] = []
    for group in group_by:
        for pair in GROUP_COLUMNS[group]:
            if pair not in sources:
                sources.append(pair)
    return sources


def cost_report(
    query: CostQuery, group_by: Sequence[str], *, now: datetime | None = None
) -> CostReport:
    """Cost, cost if left running, savings, hours and flags per group and currency."""
    now = now or timezone.now()
    sources = _key_sources(group_by)
    lines: dict[tuple[Any, ...], CostLine] = {}

    def line(values: dict[str, Any], currency: str) -> CostLine:
        key = {name: values[source] for name, source in sources}
        found = lines.get((*key.values(), currency))
        if found is None:
            found = lines[(*key.values(), currency)] = CostLine(key=key, currency=currency)
        return found

    closed = query.scope(
        UsageInterval.objects.closed().filter(day__gte=query.since, day__lte=query.until)
    )
    if "month" in group_by:
        closed = closed.annotate(month=TruncMonth("day"))
    aggregated = (
        closed.values(*(source for _name, source in sources), "currency")
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
            values = {
                **interval,
                "day": day,
                "month": money.month_start(day),
            }
            seconds = money.seconds_between(seg_start, seg_end)
            found = line(values, interval["currency"])
            found.seconds += seconds
            found.estimated = found.estimated or interval["rate_estimated"]
            if interval["hourly_rate"] is None:
                found.unpriced_seconds += seconds
                found.estimated = True
                continue
            found.cost += money.prorate(interval["hourly_rate"], seconds) or 0
            found.running_cost += money.prorate(interval["running_hourly_rate"], seconds) or 0

    ordered = sorted(lines.values(), key=lambda x: (*(str(v) for v in x.key.values()), x.currency))
    return CostReport(lines=ordered, totals=_totals(ordered))


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
            "team__slug",
            "team_id",
            "instance__public_id",
            "instance__name",
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


# --- cost so far on instances -------------------------------------------------------------------


def with_costs(instances: QuerySet[ServiceInstance]) -> QuerySet[ServiceInstance]:
    """Annotates what each instance has cost, in the same query (the list stays at a constant
    number of queries): closed totals in the currency of its latest interval, and the open
    interval's start and rates, from which ``instance_cost`` adds the time since."""
    intervals = UsageInterval.objects.filter(instance=OuterRef("pk"))
    open_interval = intervals.filter(ended_at__isnull=True)
    latest = intervals.order_by("-started_at", "-pk")
    money_field = DecimalField(**MONEY)

    def closed_sum(column: str) -> Subquery:
        return Subquery(
            intervals.filter(ended_at__isnull=False, currency=OuterRef("cost_currency"))
            .values("instance")
            .annotate(total=Sum(column))
            .values("total"),
            output_field=money_field,
        )

    return instances.annotate(
        cost_currency=Subquery(latest.values("currency")[:1]),
    ).annotate(
        cost_closed=closed_sum("cost"),
        cost_closed_running=closed_sum("running_cost"),
        cost_open_since=Subquery(open_interval.values("started_at")[:1]),
        cost_open_rate=Subquery(open_interval.values("hourly_rate")[:1], output_field=money_field),
        cost_open_running_rate=Subquery(
            open_interval.values("running_hourly_rate")[:1], output_field=money_field
        ),
        cost_estimated=Exists(
            intervals.filter(Q(rate_estimated=True) | Q(hourly_rate__isnull=True))
        ),
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
    if not currency:
        # Only unpriced intervals so far: the cost is unknown, which is not zero.
        return InstanceCost(
            currency="", so_far=None, running_cost=None, hourly_rate=None, estimated=True
        )
    now = now or timezone.now()
    so_far = instance.cost_closed or Decimal(0)
    running = instance.cost_closed_running or Decimal(0)
    rate = instance.cost_open_rate
    if instance.cost_open_since is not None and rate is not None:
        seconds = money.seconds_between(instance.cost_open_since, now)
        so_far += money.prorate(rate, seconds) or 0
        running += money.prorate(instance.cost_open_running_rate, seconds) or 0
    return InstanceCost(
        currency=currency,
        so_far=so_far,
        running_cost=running,
        hourly_rate=rate,
        estimated=bool(instance.cost_estimated),
    )
