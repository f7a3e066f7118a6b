"""Schedules: windows and their boundaries (time zones, midnight, DST), and the job starting
and save-stopping a host in cloudsim at those boundaries."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from accounts.requester import Requester, Source
from autostop.schedule_windows import (
    ScheduleError,
    boundaries,
    intervals,
    is_open,
    parse_windows,
)
from autostop.schedules import apply_schedules, next_action, save_schedule
from instances.models import Status
from operations.models import Kind, OperationStatus
from operations.services import request_operation
from tests.autostop.driving import events, generate_in_background
from tests.driving import deploy, drive

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"},
    {"days": ["fri"], "start": "22:00", "end": "02:00"},
]


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


# --- windows and boundaries -----------------------------------------------------------------


def test_a_window_across_midnight_closes_the_next_day_in_its_time_zone() -> None:
    windows = parse_windows(OFFICE)
    found = boundaries(
        windows, SHANGHAI, local(SHANGHAI, 2027, 1, 8, 12, 0), local(SHANGHAI, 2027, 1, 9, 12, 0)
    )
    assert found == [
        (datetime(2027, 1, 8, 12, 0, tzinfo=UTC), "stop"),  # Fri 20:00 in Shanghai
        (datetime(2027, 1, 8, 14, 0, tzinfo=UTC), "start"),  # Fri 22:00
        (datetime(2027, 1, 8, 18, 0, tzinfo=UTC), "stop"),  # Sat 02:00
    ]
    assert is_open(windows, SHANGHAI, local(SHANGHAI, 2027, 1, 9, 1, 59))
    assert not is_open(windows, SHANGHAI, local(SHANGHAI, 2027, 1, 9, 2, 0))


def test_touching_windows_are_one_and_24_00_is_midnight() -> None:
    windows = parse_windows(
        [
            {"days": ["mon"], "start": "20:00", "end": "24:00"},
            {"days": ["tue"], "start": "00:00", "end": "08:00"},
        ]
    )
    monday = local(SHANGHAI, 2027, 1, 11, 0, 0)
    assert intervals(windows, SHANGHAI, monday, local(SHANGHAI, 2027, 1, 12, 23, 0)) == [
        (datetime(2027, 1, 11, 12, 0, tzinfo=UTC), datetime(2027, 1, 12, 0, 0, tzinfo=UTC))
    ]


def test_local_hours_hold_across_a_daylight_saving_change() -> None:
    windows = parse_windows([{"days": ["fri", "mon"], "start": "09:00", "end": "17:00"}])
    # New York moves from EST (UTC-5) to EDT (UTC-4) on Sunday 2027-03-14.
    found = boundaries(
        windows, NEW_YORK, local(NEW_YORK, 2027, 3, 12, 0, 0), local(NEW_YORK, 2027, 3, 16, 0, 0)
    )
    assert [at for at, _action in found] == [
        datetime(2027, 3, 12, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 12, 22, 0, tzinfo=UTC),
        datetime(2027, 3, 15, 13, 0, tzinfo=UTC),
        datetime(2027, 3, 15, 21, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([], "at least one window"),
        ([{"days": [], "start": "09:00", "end": "10:00"}], "at least one day"),
        ([{"days": ["funday"], "start": "09:00", "end": "10:00"}], "not a day"),
        ([{"days": ["mon", "mon"], "start": "09:00", "end": "10:00"}], "twice"),
        ([{"days": ["mon"], "start": "9", "end": "10:00"}], "not a time of day"),
        ([{"days": ["mon"], "start": "25:00", "end": "10:00"}], "not a time of day"),
        ([{"days": ["mon"], "start": "09:00", "end": "09:00"}], "give it a length"),
        (
            [
                {"days": ["mon"], "start": "09:00", "end": "12:00"},
                {"days": ["mon"], "start": "11:00", "end": "13:00"},
            ],
            "overlap",
        ),
        (
            [
                {"days": ["sun"], "start": "22:00", "end": "03:00"},
                {"days": ["mon"], "start": "02:00", "end": "05:00"},
            ],
            "overlap",
        ),
    ],
)
def test_windows_that_make_no_sense_are_refused(windows, message) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_windows(windows)


# --- the job against cloudsim ---------------------------------------------------------------


@pytest.fixture
def shanghai_clock():
    """The control plane's clock only: schedules read no cloud timestamps."""
    traveller = time_machine.travel(local(SHANGHAI, 2027, 1, 8, 21, 0), tick=True)
    yield traveller.start()
    traveller.stop()


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_runner", "mailbox")
def test_a_schedule_starts_and_save_stops_at_its_boundaries_and_respects_a_manual_start(
    sim, team, alice, shanghai_clock
) -> None:
    instance, operation = deploy(team, alice, sim, name="office-1")
    drive(operation, sim)
    stop, _ = request_operation(
        instance=instance, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    drive(stop, sim)
    schedule = save_schedule(
        instance=instance,
        time_zone="Asia/Shanghai",
        windows=parse_windows(OFFICE),
        enabled=True,
        actor=alice,
    )
    assert next_action(schedule)["local"] == "fri 2027-01-08 22:00 CST"

    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 8, 21, 59))
    assert apply_schedules().started == []
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 8, 22, 0, 40))
    assert apply_schedules().started == [instance.public_id]
    assert apply_schedules().started == []  # a boundary is acted on once
    start = instance.operations.get(kind=Kind.START, source=Source.SCHEDULE)
    assert drive(start, sim).status == OperationStatus.SUCCEEDED
    assert len(events(team, "schedule.started")) == 1

    # Across midnight: the window closes at 02:00 on Saturday.
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 9, 0, 30))
    assert apply_schedules().stopped == []
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 9, 2, 0, 30))
    assert apply_schedules().stopped == [instance.public_id]
    stop = instance.operations.filter(kind=Kind.STOP, source=Source.SCHEDULE).get()
    assert stop.params["mode"] == "StopCharging"
    assert drive(stop, sim).status == OperationStatus.SUCCEEDED
    instance.refresh_from_db()
    assert (instance.status, instance.stopped_mode) == (Status.STOPPED, "StopCharging")

    # Started by hand outside the windows: it runs until the next boundary (Monday 09:00,
    # an opening, so it keeps running; the closing at 20:00 stops it).
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 9, 3, 0))
    manual, _ = request_operation(
        instance=instance, kind=Kind.START, requester=Requester(source="api", actor=alice)
    )
    drive(manual, sim)
    for moment in [(9, 3, 1), (9, 12, 0), (10, 23, 0), (11, 9, 0, 30), (11, 19, 59)]:
        shanghai_clock.move_to(local(SHANGHAI, 2027, 1, *moment))
        report = apply_schedules()
        assert (report.started, report.stopped) == ([], []), moment
    schedule.refresh_from_db()
    assert next_action(schedule)["action"] == "stop"
    assert next_action(schedule)["local"] == "mon 2027-01-11 20:00 CST"

    # Someone is generating at the close: the team is warned once, and the stop waits until
    # the idle policy's warning period has passed with no activity (a user between two images
    # keeps the host).
    instance.refresh_from_db()
    job = generate_in_background(instance, steps=100)
    try:
        shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 11, 20, 0, 30))
        assert apply_schedules().waiting == {instance.public_id: "generating"}
    finally:
        job.join()
    assert apply_schedules().waiting == {instance.public_id: "in use"}
    assert len(events(team, "schedule.closing")) == 1
    warning = settings.NESTOPS_IDLE_WARNING_MINUTES
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 11, 20, warning - 1, 0))
    assert apply_schedules().stopped == []
    shanghai_clock.move_to(local(SHANGHAI, 2027, 1, 11, 20, warning, 31))
    assert apply_schedules().stopped == [instance.public_id]
    assert len(events(team, "schedule.stopped")) == 2
    assert len(events(team, "schedule.closing")) == 1
