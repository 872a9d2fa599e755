"""Scheduling windows: the hours a region's grid is low-carbon or its prices off-peak, and cron schedules in them.

An environment declares, per region, its time zone and its windows as wall-clock ranges (`01:00-05:00`; a range may
cross midnight, `22:00-06:00`; each an `Hours`, the unit in model/units.py). A spec asks for a window by name
(`low-carbon`, `off-peak`) or gives the hours itself. Two operations:

- `place`: a cadence (`daily`, `weekly`) becomes the cron expression that starts at the beginning of the first range
  (weekly runs on Sunday), in the window's time zone, so the compiler can write it for the user.
- `first_outside`: the first run of a written cron schedule (in its own time zone) whose wall-clock time in the
  window's zone falls outside every range. The runs are those of a fixed year (2025, as the cost estimate counts),
  so the answer does not depend on the day the compiler runs; the daylight-saving changes of that year are in it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from .model.units import Hours, cron_expression

# The fixed year whose runs are counted, here and by the cost estimate (cost.py): 8760 h, no leap day.
YEAR = (datetime(2025, 1, 1), datetime(2026, 1, 1))


def place(cadence: str, hours: list[Hours]) -> str:
    """The cron expression for a `daily` or `weekly` run at the start of the first range."""
    first = hours[0]
    minute, hour = first.start % 60, first.start // 60
    return f"{minute} {hour} * * {'*' if cadence == 'daily' else '0'}"


def first_outside(schedule: str, schedule_zone: str, hours: list[Hours], window_zone: str) -> datetime | None:
    """The first run in `YEAR` of `schedule` (read in `schedule_zone`) that starts outside every range (read in
    `window_zone`), as a time in the window's zone; None when every run starts inside."""
    source, target = ZoneInfo(schedule_zone), ZoneInfo(window_zone)
    # cronsim walks naive wall-clock times; each is then placed in its zone (a time skipped by a clock change is
    # run an hour later by the controllers, which this reads the same way: fold=0 moves it forward)
    start, end = YEAR
    for run in CronSim(cron_expression(schedule), start - timedelta(minutes=1)):
        if run >= end:
            return None
        local = run.replace(tzinfo=source).astimezone(target)
        if not any(h.contains(local.hour * 60 + local.minute) for h in hours):
            return local
    return None
