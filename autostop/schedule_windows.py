"""Weekly windows in a time zone, as pure arithmetic on times, weekdays and zones: parsing and
validating windows, the open periods they make, and the boundaries crossed between two moments.

A window is days of the week, an opening and a closing time in the schedule's IANA time zone
(``{"days": ["mon", "tue"], "start": "09:00", "end": "20:00"}``). A closing time at or before
the opening closes the next day (``22:00``-``02:00``); ``24:00`` closes at midnight. Windows that
touch are one window (Mon 20:00-24:00 and Tue 00:00-08:00 do not stop the host at midnight).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
START, STOP = "start", "stop"
MAX_WINDOWS = 28
WEEK = timedelta(days=7)


class ScheduleError(ValueError):
    """A schedule that does not make sense; the message says why."""


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time | None  # None: midnight at the end of the day ("24:00")

    def length(self) -> timedelta:
        begin = timedelta(hours=self.start.hour, minutes=self.start.minute)
        if self.end is None:
            finish = timedelta(days=1)
        else:
            finish = timedelta(hours=self.end.hour, minutes=self.end.minute)
            if finish <= begin:
                finish += timedelta(days=1)
        return finish - begin

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": [DAYS[d] for d in self.days],
            "start": f"{self.start:%H:%M}",
            "end": "24:00" if self.end is None else f"{self.end:%H:%M}",
        }


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_zone(name: str) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in _zone_names():
        raise ScheduleError(
            _("%(zone)s is not a time zone: use an IANA name such as Asia/Shanghai.")
            % {"zone": name}
        )
    return zoneinfo.ZoneInfo(name)


def _parse_time(value: Any, *, closing: bool) -> time | None:
    text = str(value or "").strip()
    if closing and text == "24:00":
        return None
    try:
        hours, minutes = text.split(":")
        if len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise ScheduleError(
            _("%(value)s is not a time of day: use HH:MM (24-hour, 24:00 for midnight at the end).")
            % {"value": text or "''"}
        ) from None


def parse_windows(raw: Any) -> list[Window]:
    """Validates windows as the API and the forms send them."""
    if not isinstance(raw, list) or not raw:
        raise ScheduleError(_("Give at least one window."))
    if len(raw) > MAX_WINDOWS:
        raise ScheduleError(_("At most %(count)s windows.") % {"count": MAX_WINDOWS})
    windows = []
    for item in raw:
        if not isinstance(item, dict):
            raise ScheduleError(_('A window is {"days": [...], "start": "HH:MM", "end": "HH:MM"}.'))
        days = item.get("days")
        if not isinstance(days, list) or not days:
            raise ScheduleError(_("A window needs at least one day (mon … sun)."))
        numbers = []
        for day in days:
            name = str(day).lower()[:3]
            if name not in DAYS:
                raise ScheduleError(_("%(day)s is not a day: use mon … sun.") % {"day": day})
            numbers.append(DAYS.index(name))
        if len(set(numbers)) != len(numbers):
            raise ScheduleError(_("A window names a day twice."))
        start = _parse_time(item.get("start"), closing=False)
        end = _parse_time(item.get("end"), closing=True)
        assert start is not None
        if end is not None and end == start:
            raise ScheduleError(
                _("A window opens and closes at %(time)s: give it a length.")
                % {"time": f"{start:%H:%M}"}
            )
        windows.append(Window(tuple(sorted(numbers)), start, end))
    _refuse_overlaps(windows)
    return windows


def _refuse_overlaps(windows: list[Window]) -> None:
    # On a plain weekly clock (minutes from Monday 00:00), windows may touch but not overlap.
    spans = []
    for window in windows:
        begin = window.start.hour * 60 + window.start.minute
        length = int(window.length().total_seconds() // 60)
        for day in window.days:
            start = day * 1440 + begin
            spans.append((start, start + length, window, day))
    week = 7 * 1440
    for i, (a_start, a_end, a_window, a_day) in enumerate(spans):
        for b_start, b_end, b_window, b_day in spans[i + 1 :]:
            for shift in (-week, 0, week):
                if a_start < b_end + shift and b_start + shift < a_end:
                    raise ScheduleError(
                        _("Windows overlap: %(a)s and %(b)s.")
                        % {"a": _label(a_window, a_day), "b": _label(b_window, b_day)}
                    )


def _label(window: Window, day: int) -> str:
    end = "24:00" if window.end is None else f"{window.end:%H:%M}"
    return f"{DAYS[day]} {window.start:%H:%M}-{end}"


def _local(day: date, at: time | None, zone: zoneinfo.ZoneInfo) -> datetime:
    if at is None:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    # A time skipped by a DST change (02:30 on a spring-forward day) is read with the offset
    # before the change, i.e. an hour later on the clock; a repeated one is its first instance.
    return datetime.combine(day, at, tzinfo=zone)


def intervals(
    windows: list[Window], zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The open periods (UTC, merged where they touch) overlapping [start, end]."""
    first = (start.astimezone(zone) - timedelta(days=2)).date()
    last = (end.astimezone(zone) + timedelta(days=1)).date()
    found = []
    day = first
    while day <= last:
        for window in windows:
            if day.weekday() in window.days:
                opens = _local(day, window.start, zone)
                if window.end is not None and window.end <= window.start:
                    closes = _local(day + timedelta(days=1), window.end, zone)
                else:
                    closes = _local(day, window.end, zone)
                found.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        day += timedelta(days=1)
    found.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in found:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return [(a, b) for a, b in merged if b >= start and a <= end]


def boundaries(
    windows: list[Window], zone: zoneinfo.ZoneInfo, after: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """Openings (start) and closings (stop) in (after, until], in order."""
    found = []
    for opens, closes in intervals(windows, zone, after, until):
        if after < opens <= until:
            found.append((opens, START))
        if after < closes <= until:
            found.append((closes, STOP))
    return sorted(found)


def next_boundary(
    windows: list[Window], zone: zoneinfo.ZoneInfo, now: datetime
) -> tuple[datetime, str] | None:
    ahead = boundaries(windows, zone, now, now + WEEK + timedelta(days=1))
    return ahead[0] if ahead else None


def is_open(windows: list[Window], zone: zoneinfo.ZoneInfo, at: datetime) -> bool:
    return any(a <= at < b for a, b in intervals(windows, zone, at, at))
