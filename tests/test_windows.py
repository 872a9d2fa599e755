"""Window arithmetic on hand-computed cases: ranges across midnight, placing a cadence, cron runs across time zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from compiler.windows import Hours, first_outside, place
from conftest import edit, run_cli, schema_errors


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


# --- through the compiler: the environment's table, the spec's window, the rendered schedule and zone -------------

REC, FRAUD = "spec/recommender.yaml", "spec/fraud-scorer.yaml"
WINDOWS = ("schedulingWindows:\n  eu-west-1:\n    timeZone: Europe/Dublin\n"
           "    lowCarbon: [\"01:00-05:00\", \"12:00-15:00\"]\n    offPeak: [\"22:00-06:00\"]\n")


@pytest.fixture
def windowed(repo):
    for env in ("dev", "staging", "prod"):
        path = repo / "environments" / f"{env}.yaml"
        path.write_text(path.read_text() + WINDOWS)
    return repo


def generated(repo, env: str, system: str, kind: str) -> dict:
    """The training object of a kind (CronJob, CronWorkflow) for a system in an environment."""
    return yaml.safe_load((repo / "generated" / env / system / f"{kind}-{system}-train.yaml").read_text())


def test_a_weekly_low_carbon_schedule_is_placed_at_the_window_start_in_the_region_zone(windowed):
    edit(windowed, REC, '  schedule: "0 3 * * 0"\n', "  schedule: weekly\n  window: low-carbon\n")
    result = run_cli(windowed, "compile", "--offline")
    assert result.exit_code == 0, result.stderr
    for env in ("dev", "staging", "prod"):
        workflow = generated(windowed, env, "recommender", "cronworkflow")
        assert (workflow["spec"]["schedule"], workflow["spec"]["timezone"]) == ("0 1 * * 0", "Europe/Dublin")
        assert schema_errors(workflow) == []


def test_a_cron_job_inside_the_off_peak_hours_runs_in_the_region_zone(windowed):
    edit(windowed, FRAUD, '  schedule: "30 1 * * *"\n', '  schedule: "30 1 * * *"\n  window: off-peak\n')
    assert run_cli(windowed, "compile", "--offline").exit_code == 0
    cron_job = generated(windowed, "prod", "fraud-scorer", "cronjob")
    assert (cron_job["spec"]["schedule"], cron_job["spec"]["timeZone"]) == ("30 1 * * *", "Europe/Dublin")
    assert schema_errors(cron_job) == []


def test_a_cron_schedule_outside_its_window_is_an_error_at_the_schedule(windowed):
    edit(windowed, REC, '  schedule: "0 3 * * 0"\n', '  schedule: "0 6 * * 0"\n  window: low-carbon\n')
    result = run_cli(windowed, "validate")
    assert result.exit_code == 2
    line = windowed.joinpath(REC).read_text().splitlines().index('  schedule: "0 6 * * 0"') + 1
    assert result.stderr.splitlines()[0] == (
        f"{REC}:{line}:3: training.schedule: the run of Sun 05 Jan 2025 06:00 GMT starts outside the low-carbon hours "
        "01:00-05:00, 12:00-15:00 (Europe/Dublin) in environment 'dev' [E204]")


def test_a_utc_schedule_is_checked_against_the_window_in_its_own_zone(windowed):
    # 04:30 UTC is 04:30 in Dublin in winter, inside 01:00-05:00; 05:30 IST from 30 March 2025, outside
    edit(windowed, REC, '  schedule: "0 3 * * 0"\n',
         '  schedule: "30 4 * * 0"\n  timeZone: UTC\n  window: low-carbon\n')
    result = run_cli(windowed, "validate")
    assert "the run of Sun 30 Mar 2025 05:30 IST starts outside the low-carbon hours" in result.stderr


def test_a_window_the_environment_does_not_declare_is_an_error_at_the_window(repo):
    edit(repo, REC, '  schedule: "0 3 * * 0"\n', "  schedule: weekly\n  window: low-carbon\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = repo.joinpath(REC).read_text().splitlines().index("  window: low-carbon") + 1
    assert result.stderr.splitlines()[0] == (
        f"{REC}:{line}:3: training.window: environment 'dev' declares no low-carbon hours for region 'eu-west-1' "
        "(schedulingWindows.eu-west-1.lowCarbon in environments/dev.yaml) [E204]")


def test_a_cadence_needs_a_window(repo):
    edit(repo, REC, '  schedule: "0 3 * * 0"\n', "  schedule: weekly\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "training.schedule: schedule: weekly is placed inside training.window; set a window" in result.stderr


def test_explicit_hours_in_the_spec_place_a_daily_run(repo):
    edit(repo, FRAUD, '  schedule: "30 1 * * *"\n', '  schedule: daily\n  window: "23:15-04:00"\n')
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    cron_job = generated(repo, "dev", "fraud-scorer", "cronjob")
    # no region table and no zone given: the hours are UTC, and the CronJob says so rather than run in the
    # controller's own zone
    assert (cron_job["spec"]["schedule"], cron_job["spec"]["timeZone"]) == ("15 23 * * *", "UTC")
    assert "timezone" not in generated(repo, "dev", "recommender", "cronworkflow")["spec"]  # no window: as before
