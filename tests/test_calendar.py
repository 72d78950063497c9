"""Rule G6: follow-ups are never scheduled on Chinese public holidays; 调休 make-up days are workdays.

Expected values come from the official 2026 schedule as shipped in chinese_calendar 1.11:
  中秋 2026-09-25 (Fri) .. 09-27 off;  国庆 2026-10-01 (Thu) .. 10-07 (Wed) off, 10-08 (Thu) is a
  normal workday;  make-up workdays 2026-09-20 (Sun) and 2026-10-10 (Sat).
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huifang.core.calendar import (
    DEFAULT_TZ,
    BusinessCalendar,
    CalendarFileError,
    YearSchedule,
    builtin_years,
    load_schedule_file,
)

D = date.fromisoformat

# A made-up (not official) 2027 schedule used to exercise import.
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03",
                 "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
                 "2027-02-10", "2027-02-11", "2027-02-12"],
    "workdays": ["2027-02-14", "2027-02-20"],  # a make-up Sunday and a make-up Saturday
    "source": "test notice 2027",
}


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar()


@pytest.fixture
def cal_2027(tmp_path) -> BusinessCalendar:
    f = tmp_path / "2027.json"
    f.write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")
    return BusinessCalendar(load_schedule_file(f))


# --------------------------------------------------------------------------- built-in data

def test_g6_builtin_years_are_2004_to_2026_and_tz():
    assert builtin_years() == list(range(2004, 2027))
    assert DEFAULT_TZ == "Asia/Shanghai"


def test_g6_builtin_days_agree_with_chinese_calendar(cal):
    d = D("2004-01-01")
    while d <= D("2026-12-31"):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_g6_national_day_2026_days(cal):
    for day in ("2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"):
        assert cal.is_holiday(D(day)) and D(day).weekday() < 5  # Mon-Fri days off
    assert cal.is_holiday(D("2026-10-03")) and cal.is_holiday(D("2026-10-04"))
    assert cal.is_workday(D("2026-10-08"))  # chinese_calendar: National Day ends 10-07
    assert cal.is_workday(D("2026-10-10"))  # Saturday make-up workday
    assert cal.is_workday(D("2026-09-20"))  # Sunday make-up workday
    assert cal.is_holiday(D("2026-10-11"))  # ordinary Sunday
    assert cal.is_holiday(D("2026-09-25"))  # 中秋, a Friday


def test_g6_national_day_2026_skips_holiday(cal):
    # Workdays strictly after Wed 2026-09-30: 10-01..10-07 off; Thu 10-08 (1), Fri 10-09 (2),
    # Sat 10-10 make-up (3), Sun 10-11 off, Mon 10-12 (4), Tue 10-13 (5).
    assert cal.add_workdays(D("2026-09-30"), 5) == D("2026-10-13")
    assert cal.add_workdays(D("2026-09-30"), 1) == D("2026-10-08")
    assert cal.add_workdays(D("2026-09-30"), 3) == D("2026-10-10")
    # From a holiday: the first workday after 10-03 is 10-08.
    assert cal.add_workdays(D("2026-10-03"), 1) == D("2026-10-08")
    # Sun 09-20 counts: after Sat 09-19, workday #1 is 09-20, #2 is Mon 09-21.
    assert cal.add_workdays(D("2026-09-19"), 2) == D("2026-09-21")


def test_g6_add_workdays_zero_and_negative(cal):
    assert cal.add_workdays(D("2026-10-01"), 0) == D("2026-10-08")
    assert cal.add_workdays(D("2026-10-09"), 0) == D("2026-10-09")
    assert cal.add_workdays(D("2026-10-08"), -1) == D("2026-09-30")
    # Before Mon 09-28: 09-25..27 off (中秋), so 1 back is Thu 09-24.
    assert cal.add_workdays(D("2026-09-28"), -1) == D("2026-09-24")
    # Across the year boundary both ways.
    assert cal.add_workdays(cal.add_workdays(D("2025-12-15"), 40), -40) == D("2025-12-15")


def test_g6_add_days_rolls_forward_out_of_holiday(cal):
    assert cal.add_days(D("2026-09-28"), 5) == D("2026-10-08")   # lands on 10-03 -> 顺延 to 10-08
    assert cal.add_days(D("2026-09-30"), 1) == D("2026-10-08")   # lands on 10-01
    assert cal.add_days(D("2026-10-01"), 9) == D("2026-10-10")   # make-up Saturday stays
    assert cal.add_days(D("2026-10-01"), 10) == D("2026-10-12")  # ordinary Sunday rolls to Monday
    assert cal.add_days(D("2026-09-01"), 14) == D("2026-09-15")  # plain workday unchanged


def test_g6_next_previous_workday(cal):
    assert cal.next_workday(D("2026-10-01")) == D("2026-10-08")
    assert cal.next_workday(D("2026-09-20")) == D("2026-09-20")
    assert cal.previous_workday(D("2026-10-07")) == D("2026-09-30")
    assert cal.previous_workday(D("2026-09-27")) == D("2026-09-24")
    assert cal.previous_workday(D("2026-10-11")) == D("2026-10-10")


def test_g6_workdays_between(cal):
    assert cal.workdays_between(D("2026-09-30"), D("2026-10-13")) == 5
    assert cal.workdays_between(D("2026-10-13"), D("2026-09-30")) == -5
    assert cal.workdays_between(D("2026-10-01"), D("2026-10-07")) == 0
    assert cal.workdays_between(D("2026-10-05"), D("2026-10-05")) == 0
    year_2025 = sum(chinese_calendar.is_workday(D("2025-01-01") + timedelta(days=i)) for i in range(365))
    assert cal.workdays_between(D("2024-12-31"), D("2025-12-31")) == year_2025


# --------------------------------------------------------------------------- 2027 and import

def test_g6_2027_not_official_is_provisional_with_weekday_fallback(cal):
    assert not cal.is_official(2027) and cal.is_official(2026)
    assert 2027 not in cal.known_years()
    assert cal.provisional_years(D("2026-12-01"), D("2028-03-01")) == [2027, 2028]
    assert cal.provisional_years(D("2027-03-01"), D("2026-12-01")) == [2027]
    assert cal.is_provisional(D("2026-11-01"), D("2027-01-05"))
    assert not cal.is_provisional(D("2026-01-01"), D("2026-12-31"))
    assert cal.is_holiday(D("2027-01-01"))          # Friday, but 元旦 is fixed by law (test_G6_provisional_...)
    assert cal.is_workday(D("2027-01-04"))          # Monday: no official data -> workday
    assert cal.is_holiday(D("2027-01-02"))          # Saturday
    assert cal.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")
    assert cal.add_workdays(D("2027-02-05"), 1) == D("2027-02-08")
    assert cal.workdays_between(D("2027-02-05"), D("2027-02-28")) == 15


def test_g6_import_2027_makes_it_official_and_moves_deadlines(cal, cal_2027):
    assert cal_2027.is_official(2027) and 2027 in cal_2027.known_years()
    assert not cal_2027.is_provisional(D("2026-11-01"), D("2027-12-31"))
    assert cal_2027.schedule(2027).source == "test notice 2027"
    # New Year 01-01..03 off -> first workday of 2027 is Mon 01-04 (was Fri 01-01 provisionally).
    assert cal_2027.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")
    # Spring Festival 02-06..12 off, Sat 02-13 weekend, Sun 02-14 make-up workday.
    assert cal_2027.add_workdays(D("2027-02-05"), 1) == D("2027-02-14")
    assert cal_2027.add_days(D("2027-02-05"), 3) == D("2027-02-14")
    # Feb 6..28: 14 (1) + 15-19 (5) + 20 make-up (1) + 22-26 (5) = 12, vs 15 with the fallback.
    assert cal_2027.workdays_between(D("2027-02-05"), D("2027-02-28")) == 12
    # A 2026 deadline is unaffected by importing 2027.
    assert cal_2027.add_workdays(D("2026-09-30"), 5) == cal.add_workdays(D("2026-09-30"), 5)


def test_g6_import_overrides_builtin_year_and_later_import_wins():
    base = BusinessCalendar().schedule(2026)
    extra = YearSchedule(2026, base.holidays | {D("2026-10-08")}, base.workdays, "correction")
    c = BusinessCalendar([extra])
    assert c.is_holiday(D("2026-10-08"))
    assert c.add_workdays(D("2026-09-30"), 5) == D("2026-10-14")
    assert BusinessCalendar([extra, base]).add_workdays(D("2026-09-30"), 5) == D("2026-10-13")


def test_g6_year_schedule_json_roundtrip_and_list_file(tmp_path):
    s = YearSchedule.from_json(SCHEDULE_2027)
    assert s.to_json() == {**SCHEDULE_2027, "holidays": sorted(SCHEDULE_2027["holidays"])}
    assert YearSchedule.from_json(s.to_json()) == s
    s2028 = {"year": 2028, "holidays": ["2028-01-01"]}
    f = tmp_path / "years.json"
    f.write_text(json.dumps([s2028, SCHEDULE_2027]), encoding="utf-8")
    got = load_schedule_file(f)
    assert [y.year for y in got] == [2027, 2028]
    assert got[1].source == "years.json" and got[1].workdays == frozenset()


def test_g6_csv_gb18030_with_chinese_kinds(tmp_path):
    text = ("date,kind,name\r\n"
            "2027-01-01,休,元旦\r\n"
            "2027-02-06,假日,春节\r\n"
            "2027-02-08,休,春节\r\n"
            "2027-02-08,holiday,春节(重复)\r\n"    # duplicate holiday is fine
            "\r\n"
            "2027-02-14,班,春节调休\r\n"
            "2027-02-20,补班,春节调休\r\n"
            "2027-03-01,Workday,周一本就上班\r\n")  # a Mon-Fri workday is allowed
    f = tmp_path / "日历.csv"
    f.write_bytes(text.encode("gb18030"))
    [s] = load_schedule_file(f)
    assert s.year == 2027 and s.source == "日历.csv"
    assert s.holidays == {D("2027-01-01"), D("2027-02-06"), D("2027-02-08")}
    assert s.workdays == {D("2027-02-14"), D("2027-02-20"), D("2027-03-01")}
    c = BusinessCalendar([s])
    assert c.is_workday(D("2027-02-14")) and c.is_holiday(D("2027-02-08"))


def test_g6_csv_utf8_bom_groups_years(tmp_path):
    f = tmp_path / "cal.csv"
    f.write_text("date,kind\n2027-01-01,holiday\n2028-01-03,holiday\n2028-01-08,workday\n",
                 encoding="utf-8-sig")
    got = load_schedule_file(f)
    assert [(s.year, len(s.holidays), len(s.workdays)) for s in got] == [(2027, 1, 0), (2028, 1, 1)]


CSV_HEAD = "date,kind,name\n2027-01-01,holiday,元旦\n"
BAD_FILES = [
    ("calendar.csv", CSV_HEAD + "2027-02-06,休,\n2027-02-07,休,\n2027-02-08,休,\n2027-02-09,休,\n2027-02-10,hol,\n",
     "calendar.csv row 7: kind 'hol' is not one of holiday, workday (or 休, 班)"),
    ("calendar.csv", CSV_HEAD + "2027-13-01,holiday,x\n",
     "calendar.csv row 3: date '2027-13-01' is not a date (YYYY-MM-DD)"),
    ("calendar.csv", CSV_HEAD + "2027-02-07,workday,\n2027-02-07,holiday,\n",
     "calendar.csv row 4: 2027-02-07 is holiday here but workday in row 3; keep one of them"),
    ("calendar.csv", "day,type\n2027-01-01,holiday\n", "calendar.csv row 1: header must be date,kind[,name]"),
    ("calendar.csv", CSV_HEAD + "2027-01-02,holiday,a,b\n", "calendar.csv row 3: expected columns date,kind,name"),
    ("calendar.csv", "date,kind\n\n", "calendar.csv: no dates after the header"),
    ("calendar.csv", CSV_HEAD + "2026-12-27,workday,\n", "calendar.csv row 3: year 2026 has workdays but no holidays"),
    ("calendar.csv", "", "calendar.csv: file is empty"),
    ("2027.json", '{"year": 2027, "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-13-01"]}',
     "2027.json: holidays[3] '2027-13-01' is not a date (YYYY-MM-DD)"),
    ("2027.json", '{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2028-01-02"]}',
     "2027.json: workdays[0] '2028-01-02' is not in year 2027; move it to a 2028 entry"),
    ("2027.json", '{"year": 2027, "holidays": ["2027-01-01", "2027-02-07"], "workdays": ["2027-02-07"]}',
     "2027.json: workdays[0] '2027-02-07' is also in holidays[1]; keep it in one list"),
    ("2027.json", '[{"year": 2027, "holidays": ["2027-01-01"]}, {"year": "2028", "holidays": []}]',
     "2027.json: [1].year '2028' is not a year number (e.g. 2027)"),
    ("2027.json", '{"year": 2027, "holiday": ["2027-01-01"]}',
     "2027.json: unknown field 'holiday'; allowed: year, holidays, workdays, source"),
    ("2027.json", '{"year": 2027, "holidays": []}', "2027.json: holidays is empty"),
    ("2027.json", '{"year": 2027, "holidays": "2027-01-01"}', "2027.json: holidays must be a list"),
    ("2027.json", '{"holidays": ["2027-01-01"]}', "2027.json: year is missing"),
    ("2027.json", '{"year": 2027,\n "holidays": [}', "2027.json: not valid JSON (Expecting value at line 2"),
    ("2027.json", "[]", "2027.json: the list is empty"),
    ("2027.json", '[{"year": 2027, "holidays": ["2027-01-01"]}, {"year": 2027, "holidays": ["2027-01-02"]}]',
     "2027.json: year 2027 appears 2 times"),
    ("2027.json", "  \n", "2027.json: file is empty"),
]


@pytest.mark.parametrize("name,content,message", BAD_FILES, ids=[m.split(":", 1)[1][:40] for _, _, m in BAD_FILES])
def test_g6_bad_calendar_file_gives_one_line_error(tmp_path, name, content, message):
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarFileError) as exc:
        load_schedule_file(f)
    text = str(exc.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert isinstance(exc.value, ValueError)


def test_g6_missing_file_is_calendar_file_error(tmp_path):
    with pytest.raises(CalendarFileError, match=r"^nope\.csv: cannot read file"):
        load_schedule_file(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- properties and speed

@settings(max_examples=300, deadline=None)
@given(d=st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31)), n=st.integers(1, 60))
def test_g6_property_add_workdays_consistent(d, n):
    cal = BusinessCalendar()
    r = cal.add_workdays(d, n)
    assert cal.is_workday(r) and r > d
    assert cal.workdays_between(d, r) == n
    assert cal.add_workdays(r, -n) == cal.previous_workday(d)  # n back from r is the last workday <= d


def test_g6_add_workdays_uses_the_cache_not_the_library(monkeypatch, cal):
    """Speed is measured in benchmarks/, not asserted here; this checks the cache is used."""
    cal.add_workdays(D("2026-01-05"), 260)  # warm the per-year cache
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda d: pytest.fail("per-day library call"))
    for i in range(2_000):
        cal.add_workdays(D("2025-01-01") + timedelta(days=i % 365), 260)
