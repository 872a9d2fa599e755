"""Window arithmetic on hand-computed cases: ranges across midnight, placing a cadence, cron runs across time zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from compiler.model.units import Hours
from compiler.windows import first_outside, place
from helpers import edit, line_of, run_cli, schema_errors


def minutes(text: str) -> int:
    hour, minute = text.split(":")
    return int(hour) * 60 + int(minute)


@pytest.mark.parametrize("hours, inside, outside", [
    ("01:00-05:00", ["01:00", "04:59"], ["00:59", "05:00", "13:00"]),
    ("22:00-06:00", ["22:00", "23:59", "00:00", "05:59"], ["06:00", "21:59", "12:00"]),
    ("18:00-24:00", ["18:00", "23:59"], ["00:00", "17:59"]),
    ("00:00-24:00", ["00:00", "12:00", "23:59"], []),
])
def test_a_range_holds_its_start_but_not_its_end_and_may_cross_midnight(hours, inside, outside):
    window = Hours.parse(hours)
    assert [window.contains(minutes(t)) for t in inside] == [True] * len(inside)
    assert [window.contains(minutes(t)) for t in outside] == [False] * len(outside)


@pytest.mark.parametrize("text", ["25:00-06:00", "22:00", "22:00-24:30", "2:00-06:00", "22:60-23:00"])
def test_a_malformed_range_is_refused(text):
    with pytest.raises(ValueError, match="is not a range of hours"):
        Hours.parse(text)


def test_a_cadence_is_placed_at_the_start_of_the_first_range():
    assert place("weekly", [Hours.parse("01:30-05:00"), Hours.parse("12:00-14:00")]) == "30 1 * * 0"
    assert place("daily", [Hours.parse("22:15-06:00")]) == "15 22 * * *"


def test_every_run_inside_in_one_zone():
    assert first_outside("0 4 * * *", "Europe/Berlin", [Hours.parse("22:00-06:00")], "Europe/Berlin") is None


def test_the_first_run_outside_in_one_zone():
    found = first_outside("0 6 * * *", "Europe/Berlin", [Hours.parse("22:00-06:00")], "Europe/Berlin")
    assert found == datetime(2025, 1, 1, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_utc_schedule_inside_a_berlin_window_all_year():
    # 02:00 UTC is 03:00 CET in winter and 04:00 CEST in summer: inside 01:00-05:00 both ways
    assert first_outside("0 2 * * 0", "UTC", [Hours.parse("01:00-05:00")], "Europe/Berlin") is None


def test_a_utc_schedule_leaves_a_berlin_window_when_summer_time_starts():
    # 03:00 UTC is 04:00 CET, inside; from Sunday 30 March 2025 it is 05:00 CEST, the end of 01:00-05:00
    found = first_outside("0 3 * * 0", "UTC", [Hours.parse("01:00-05:00")], "Europe/Berlin")
    assert found == datetime(2025, 3, 30, 5, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert found.utcoffset().total_seconds() == 2 * 3600


def test_new_york_and_london_change_clocks_three_weeks_apart():
    # Saturday 23:30 in New York is Sunday 04:30 in London (EST = GMT - 5), inside 04:00-08:00; the US moves its
    # clocks on 9 March 2025, the UK on 30 March: on Saturday 15 March, 23:30 EDT is Sunday 03:30 GMT, outside
    found = first_outside("30 23 * * 6", "America/New_York", [Hours.parse("04:00-08:00")], "Europe/London")
    assert found == datetime(2025, 3, 16, 3, 30, tzinfo=ZoneInfo("Europe/London"))


def test_a_range_among_several_is_enough():
    windows = [Hours.parse("01:00-05:00"), Hours.parse("12:00-15:00")]
    assert first_outside("0 13 * * 1-5", "Europe/Dublin", windows, "Europe/Dublin") is None
    assert first_outside("@daily", "Europe/Dublin", windows, "Europe/Dublin") == datetime(
        2025, 1, 1, 0, 0, tzinfo=ZoneInfo("Europe/Dublin"))


# --- through the compiler: the environments' table, the spec's window, the rendered schedule and zone -----------
# The example environments declare eu-west-1: Europe/Dublin, low-carbon 01:00-05:00 and 12:00-15:00, off-peak
# 22:00-07:00; the recommender's pipeline runs weekly in the low-carbon hours, the fraud scorer trains at 01:30 daily.

REC, FRAUD = "spec/recommender.yaml", "spec/fraud-scorer.yaml"
DAILY = '  schedule: "30 1 * * *"\n'


def rendered(repo, env: str, system: str, file: str) -> dict:
    return yaml.safe_load((repo / "generated" / env / system / file).read_text())


def first_problem(repo) -> str:
    result = run_cli(repo, "validate")
    assert result.exit_code == 2, result.stderr
    return result.stderr.splitlines()[0]


def test_the_weekly_low_carbon_pipeline_starts_at_the_window_in_the_region_zone(repo):
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    for env in ("dev", "staging", "prod"):
        cron = rendered(repo, env, "recommender", "cronworkflow-recommender-pipeline.yaml")
        assert (cron["spec"]["schedules"], cron["spec"]["timezone"]) == (["0 1 * * 0"], "Europe/Dublin")
        assert schema_errors(cron) == []


def test_a_cron_job_inside_the_off_peak_hours_runs_in_the_region_zone(repo):
    edit(repo, FRAUD, DAILY, DAILY + "  window: off-peak\n")
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    cron_job = rendered(repo, "prod", "fraud-scorer", "cronjob-fraud-scorer-train.yaml")
    assert (cron_job["spec"]["schedule"], cron_job["spec"]["timeZone"]) == ("30 1 * * *", "Europe/Dublin")
    assert schema_errors(cron_job) == []


def test_a_cron_schedule_outside_its_window_is_an_error_at_the_schedule(repo):
    edit(repo, FRAUD, DAILY, '  schedule: "0 8 * * *"\n  window: low-carbon\n')
    line = line_of(repo, FRAUD, '  schedule: "0 8 * * *"')
    assert first_problem(repo) == (
        f"{FRAUD}:{line}:3: training.schedule: the run of Wed 01 Jan 2025 "
        "08:00 GMT starts outside the low-carbon hours 01:00-05:00, 12:00-15:00 (Europe/Dublin) in environment 'dev' "
        "[E204]")


def test_a_utc_schedule_is_checked_against_the_window_in_its_own_zone(repo):
    # 04:30 UTC is 04:30 in Dublin in winter, inside 01:00-05:00; 05:30 IST from Sunday 30 March 2025, outside
    edit(repo, FRAUD, DAILY, '  schedule: "30 4 * * *"\n  timeZone: UTC\n  window: low-carbon\n')
    assert "the run of Sun 30 Mar 2025 05:30 IST starts outside the low-carbon hours" in first_problem(repo)


def test_a_window_the_environment_does_not_declare_is_an_error_at_the_window(repo):
    for env in ("dev", "staging", "prod"):
        path = repo / "environments" / f"{env}.yaml"
        lines = path.read_text().splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.startswith("schedulingWindows:"))
        path.write_text("".join(lines[:start] + lines[start + 2:]))
    edit(repo, FRAUD, DAILY, "  schedule: weekly\n  window: low-carbon\n")
    assert first_problem(repo) == (
        f"{FRAUD}:{line_of(repo, FRAUD, '  window: low-carbon')}:3: training.window: environment 'dev' declares no "
        "low-carbon hours for region 'eu-west-1' (schedulingWindows.eu-west-1.lowCarbon in environments/dev.yaml) "
        "[E204]")


def test_a_cadence_needs_a_window(repo):
    edit(repo, FRAUD, DAILY, "  schedule: weekly\n")
    assert "training.schedule: schedule: weekly is placed inside training.window; set a window" in first_problem(repo)


def test_explicit_hours_in_the_spec_place_a_daily_run(repo):
    edit(repo, FRAUD, DAILY, '  schedule: daily\n  window: "23:15-04:00"\n')
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    cron_job = rendered(repo, "dev", "fraud-scorer", "cronjob-fraud-scorer-train.yaml")
    assert (cron_job["spec"]["schedule"], cron_job["spec"]["timeZone"]) == ("15 23 * * *", "Europe/Dublin")
