"""Scheduling windows: the hours a region's grid is low-carbon or its prices off-peak, and cron schedules in them.

An environment declares, per region, its time zone and its windows as wall-clock ranges (`01:00-05:00`; a range may
cross midnight, `22:00-06:00`). A spec asks for a window by name (`low-carbon`, `off-peak`) or gives the hours
itself. Two operations:

- `place`: a cadence (`daily`, `weekly`) becomes the cron expression that starts at the beginning of the first range
  (weekly runs on Sunday), in the window's time zone, so the compiler can write it for the user.
- `first_outside`: the first run of a written cron schedule (in its own time zone) whose wall-clock time in the
  window's zone falls outside every range. The runs are those of a fixed year (2025, as the cost estimate counts),
  so the answer does not depend on the day the compiler runs; the daylight-saving changes of that year are in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from .model.units import cron_expression

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
YEAR = 2025


@dataclass(frozen=True)
class Hours:
    """A daily range of wall-clock minutes [start, end); `end < start` crosses midnight, `end == start` is all day."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Hours:
        match = _RANGE.match(text)
        if not match or (match[3] == "24" and match[4] != "00"):
            raise ValueError(f"{text!r} is not a range of hours: write HH:MM-HH:MM, e.g. 22:00-06:00")
        start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
        return cls(start, end % (24 * 60))

    def contains(self, minute: int) -> bool:
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


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
    start, end = datetime(YEAR, 1, 1), datetime(YEAR + 1, 1, 1)
    for run in CronSim(cron_expression(schedule), start - timedelta(minutes=1)):
        if run >= end:
            return None
        local = run.replace(tzinfo=source).astimezone(target)
        if not any(h.contains(local.hour * 60 + local.minute) for h in hours):
            return local
    return None
