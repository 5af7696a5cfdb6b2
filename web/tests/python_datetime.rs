//! `time`'s calendar (`gmtime`, `localtime`, `mktime`, `strftime`,
//! `asctime`, `ctime`) and `datetime` (`date`, `time`, `datetime`,
//! `timedelta`, `timezone`). The simulated machine's timezone is UTC, so
//! each expected output is what CPython 3.11 (`python3`) printed for the
//! same program with `TZ=UTC` when the test was written. No test reads the
//! real clock: timestamps are fixed, and `now()` is compared with itself a
//! `time.sleep` apart.

mod common;

fn output(source: &str) -> Vec<String> {
    common::printed("test.py", source)
}

/// The error an uncaught exception ends the run with: its place, then
/// the traceback.
fn error(source: &str) -> String {
    common::uncaught(source)
}

/// `time.gmtime`/`localtime` as a `struct_time`, `strftime`'s common
/// directives, `ctime`, `asctime`, `mktime`, and the calendar across leap
/// years and week numbers.
#[test]
fn time_calendar_functions_as_cpython_in_utc() {
    let out = output(
        r#"
import time

t = time.gmtime(1700000000)
print(t)
print(t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday, t.tm_yday)
print(t[0], t[:3], len(t), tuple(t))
print(time.localtime(0))
print(time.gmtime(951782400))  # 2000-02-29
print(time.gmtime(-86401.5))
print(time.strftime("%Y-%m-%d %H:%M:%S", t))
print(time.strftime("%a %A %b %B %d %j %w %U %W %y %I%p %%", t))
print(time.strftime("%c | %x | %X", t))
print(time.ctime(1700000000))
print(time.ctime(86400 * 9))
print(time.asctime(time.gmtime(0)))
print(time.mktime(t), time.mktime(time.localtime(951782400)))
print(time.localtime(1700000000) == t)
start = time.time()
now = time.localtime()
print(time.mktime(now) == int(start))
print(time.strftime("%H:%M", time.localtime(start)) == time.strftime("%H:%M"))
for y in (1999, 2000, 2023, 2024, 2100):
    ts = time.mktime((y, 12, 31, 12, 0, 0, 0, 0, 0))
    print(y, time.gmtime(ts).tm_yday, time.strftime("%a %U %W", time.gmtime(ts)))
"#,
    );
    assert_eq!(
        out,
        [
            "time.struct_time(tm_year=2023, tm_mon=11, tm_mday=14, tm_hour=22, tm_min=13, tm_sec=20, tm_wday=1, tm_yday=318, tm_isdst=0)",
            "2023 11 14 22 13 20 1 318",
            "2023 (2023, 11, 14) 9 (2023, 11, 14, 22, 13, 20, 1, 318, 0)",
            "time.struct_time(tm_year=1970, tm_mon=1, tm_mday=1, tm_hour=0, tm_min=0, tm_sec=0, tm_wday=3, tm_yday=1, tm_isdst=0)",
            "time.struct_time(tm_year=2000, tm_mon=2, tm_mday=29, tm_hour=0, tm_min=0, tm_sec=0, tm_wday=1, tm_yday=60, tm_isdst=0)",
            "time.struct_time(tm_year=1969, tm_mon=12, tm_mday=30, tm_hour=23, tm_min=59, tm_sec=58, tm_wday=1, tm_yday=364, tm_isdst=0)",
            "2023-11-14 22:13:20",
            "Tue Tuesday Nov November 14 318 2 46 46 23 10PM %",
            "Tue Nov 14 22:13:20 2023 | 11/14/23 | 22:13:20",
            "Tue Nov 14 22:13:20 2023",
            "Sat Jan 10 00:00:00 1970",
            "Thu Jan  1 00:00:00 1970",
            "1700000000.0 951782400.0",
            "True",
            "True",
            "True",
            "1999 365 Fri 52 52",
            "2000 366 Sun 53 52",
            "2023 365 Sun 53 52",
            "2024 366 Tue 52 53",
            "2100 365 Fri 52 52",
        ]
    );
}

/// `datetime`'s types: construction from a fixed timestamp, `isoformat`,
/// `strftime` (and `f"{d:%H:%M}"`), `str`/`repr`, arithmetic with
/// `timedelta`, comparisons, hashing, `fromisoformat`, `combine`,
/// `replace`, `timezone`s and `astimezone`.
#[test]
fn datetime_date_time_timedelta_timezone_as_cpython() {
    let out = output(
        r#"
from datetime import datetime, date, time, timedelta, timezone
import datetime as dt

d = datetime.fromtimestamp(1700000000)
print(d)
print(repr(d))
print(d.isoformat(), d.isoformat(sep=" "), d.isoformat(timespec="minutes"))
print(d.strftime("%Y-%m-%d %H:%M:%S.%f %a %b %j %p"))
print(d.date(), d.time(), repr(d.date()), repr(d.time()))
print(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
print(d.weekday(), d.isoweekday(), d.isocalendar(), d.timetuple())
print(d.timestamp(), d.ctime())
u = datetime.fromtimestamp(1700000000.25, tz=timezone.utc)
print(u, repr(u), u.isoformat(), u.tzinfo, repr(timezone.utc))
print(u.strftime("%Y-%m-%dT%H:%M:%S%z %Z"), u.utcoffset())
print(datetime.utcfromtimestamp(0), datetime(2024, 2, 29, 12, 30))
td = timedelta(days=1, hours=2, minutes=3, seconds=4.5)
print(td, repr(td), td.total_seconds(), td.days, td.seconds, td.microseconds)
print(timedelta(hours=-1), repr(timedelta(hours=-1)), -td, abs(-td), td * 2, td / 2, td // 3, td / timedelta(hours=1))
print(timedelta(milliseconds=1500), timedelta(weeks=2), timedelta(0), repr(timedelta(0)))
print(d + td, d - td, d - datetime(2023, 1, 1), (d - datetime(2023, 1, 1)).days)
print(date(2024, 1, 31) + timedelta(days=30), date(2024, 3, 1) - date(2023, 3, 1))
print(d < d + td, d == datetime(2023, 11, 14, 22, 13, 20), max(date(2020, 1, 1), date(2019, 5, 5)))
print(sorted([datetime(2024, 1, 2), datetime(2023, 5, 6), datetime(2024, 1, 1, 23)]))
print(d.replace(year=2030, hour=0), date.fromisoformat("2024-03-05"), datetime.fromisoformat("2024-03-05T10:20:30"))
print(time(9, 5), time(9, 5, 7, 123), repr(time(9, 5)), time(13, 45).strftime("%I:%M %p"), time(9, 5).isoformat())
print(date(2024, 12, 25).strftime("%A %d %B %Y"), date(2024, 12, 25).toordinal(), date.fromordinal(739000))
print(datetime.combine(date(2024, 1, 1), time(8, 30)), datetime(2024, 1, 1) + timedelta(microseconds=1))
print(f"{d:%H:%M}", "{:%Y}".format(d), str(date(2024, 1, 1)), {d: 1}[datetime.fromtimestamp(1700000000)])
print(dt.datetime.min, dt.datetime.max, dt.date.max, dt.timedelta.max, dt.MINYEAR, dt.MAXYEAR)
print(timezone(timedelta(hours=2)), repr(timezone(timedelta(hours=-5), "EST")), u.astimezone(timezone(timedelta(hours=2))))
print(d.astimezone(timezone.utc), datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
try:
    date(2023, 2, 29)
except ValueError as e:
    print("ValueError:", e)
try:
    d - u
except TypeError as e:
    print("TypeError:", e)
try:
    d < u
except TypeError as e:
    print("TypeError:", e)
try:
    d + 1
except TypeError as e:
    print("TypeError:", e)
"#,
    );
    assert_eq!(
        out,
        [
            "2023-11-14 22:13:20",
            "datetime.datetime(2023, 11, 14, 22, 13, 20)",
            "2023-11-14T22:13:20 2023-11-14 22:13:20 2023-11-14T22:13",
            "2023-11-14 22:13:20.000000 Tue Nov 318 PM",
            "2023-11-14 22:13:20 datetime.date(2023, 11, 14) datetime.time(22, 13, 20)",
            "2023 11 14 22 13 20 0",
            "1 2 datetime.IsoCalendarDate(year=2023, week=46, weekday=2) time.struct_time(tm_year=2023, tm_mon=11, tm_mday=14, tm_hour=22, tm_min=13, tm_sec=20, tm_wday=1, tm_yday=318, tm_isdst=-1)",
            "1700000000.0 Tue Nov 14 22:13:20 2023",
            "2023-11-14 22:13:20.250000+00:00 datetime.datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=datetime.timezone.utc) 2023-11-14T22:13:20.250000+00:00 UTC datetime.timezone.utc",
            "2023-11-14T22:13:20+0000 UTC 0:00:00",
            "1970-01-01 00:00:00 2024-02-29 12:30:00",
            "1 day, 2:03:04.500000 datetime.timedelta(days=1, seconds=7384, microseconds=500000) 93784.5 1 7384 500000",
            "-1 day, 23:00:00 datetime.timedelta(days=-1, seconds=82800) -2 days, 21:56:55.500000 1 day, 2:03:04.500000 2 days, 4:06:09 13:01:32.250000 8:41:01.500000 26.05125",
            "0:00:01.500000 14 days, 0:00:00 0:00:00 datetime.timedelta(0)",
            "2023-11-16 00:16:24.500000 2023-11-13 20:10:15.500000 317 days, 22:13:20 317",
            "2024-03-01 366 days, 0:00:00",
            "True True 2020-01-01",
            "[datetime.datetime(2023, 5, 6, 0, 0), datetime.datetime(2024, 1, 1, 23, 0), datetime.datetime(2024, 1, 2, 0, 0)]",
            "2030-11-14 00:13:20 2024-03-05 2024-03-05 10:20:30",
            "09:05:00 09:05:07.000123 datetime.time(9, 5) 01:45 PM 09:05:00",
            "Wednesday 25 December 2024 739245 2024-04-24",
            "2024-01-01 08:30:00 2024-01-01 00:00:00.000001",
            "22:13 2023 2024-01-01 1",
            "0001-01-01 00:00:00 9999-12-31 23:59:59.999999 9999-12-31 999999999 days, 23:59:59.999999 1 9999",
            "UTC+02:00 datetime.timezone(datetime.timedelta(days=-1, seconds=68400), 'EST') 2023-11-15 00:13:20.250000+02:00",
            "2023-11-14 22:13:20+00:00 1704067200.0",
            "ValueError: day is out of range for month",
            "TypeError: can't subtract offset-naive and offset-aware datetimes",
            "TypeError: can't compare offset-naive and offset-aware datetimes",
            "TypeError: unsupported operand type(s) for +: 'datetime.datetime' and 'int'",
        ]
    );
}

/// CPython's (its C module's) messages for out-of-range fields, naive
/// and aware datetimes mixed, and operands of the wrong type.
#[test]
fn datetime_errors_as_cpython() {
    let out = output(
        r#"
from datetime import date, datetime, time, timedelta, timezone
for f in [lambda: date(2023, 2, 29), lambda: date(2023, 13, 1), lambda: date(0, 1, 1), lambda: datetime(2023, 1, 1, 24),
          lambda: time(1, 60), lambda: time(1, 1, 60), lambda: time(1, 1, 1, 10**6), lambda: date(2023.0, 1, 1), lambda: timedelta(days=10**9),
          lambda: date(2024,1,1) + 1, lambda: 1 - date(2024,1,1), lambda: date(2024,1,1) < 5, lambda: timedelta(1) < 5,
          lambda: datetime(2024,1,1) - datetime(2024,1,1,tzinfo=timezone.utc), lambda: datetime(2024,1,1) < datetime(2024,1,1,tzinfo=timezone.utc),
          lambda: date.fromisoformat("2024-13-01"), lambda: datetime.fromisoformat("nope"), lambda: timedelta(1) + 1, lambda: time(1) + timedelta(1),
          lambda: timezone(timedelta(hours=25)), lambda: date(2024,1,1) == datetime(2024,1,1), lambda: timedelta(hours=1) * 1.5, lambda: timedelta(1) / 0]:
    try:
        print(f())
    except Exception as e:
        print(type(e).__name__, e)
"#,
    );
    assert_eq!(
        out,
        [
            "ValueError day is out of range for month",
            "ValueError month must be in 1..12",
            "ValueError year 0 is out of range",
            "ValueError hour must be in 0..23",
            "ValueError minute must be in 0..59",
            "ValueError second must be in 0..59",
            "ValueError microsecond must be in 0..999999",
            "TypeError 'float' object cannot be interpreted as an integer",
            "OverflowError days=1000000000; must have magnitude <= 999999999",
            "TypeError unsupported operand type(s) for +: 'datetime.date' and 'int'",
            "TypeError unsupported operand type(s) for -: 'int' and 'datetime.date'",
            "TypeError '<' not supported between instances of 'datetime.date' and 'int'",
            "TypeError '<' not supported between instances of 'datetime.timedelta' and 'int'",
            "TypeError can't subtract offset-naive and offset-aware datetimes",
            "TypeError can't compare offset-naive and offset-aware datetimes",
            "ValueError month must be in 1..12",
            "ValueError Invalid isoformat string: 'nope'",
            "TypeError unsupported operand type(s) for +: 'datetime.timedelta' and 'int'",
            "TypeError unsupported operand type(s) for +: 'datetime.time' and 'datetime.timedelta'",
            "ValueError offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1, seconds=3600).",
            "False",
            "1:30:00",
            "ZeroDivisionError integer division or modulo by zero",
        ]
    );
    // Uncaught, the error is at the user's line, with no frame inside
    // `datetime` (CPython's is written in C).
    let err = error("from datetime import date\n\nd = date(2023, 2, 29)\n");
    assert_eq!(
        err,
        "test.py:3:5: ValueError: day is out of range for month\n\
         Traceback (most recent call last):\n  \
         File \"test.py\", line 3, in <module>\n    \
         d = date(2023, 2, 29)\n        \
         ^^^^^^^^^^^^^^^^^\n\
         ValueError: day is out of range for month"
    );
    // `time`'s calendar is written in Python, but no module a program can
    // import (CPython has no `_time` either).
    let err = error("import _time\n");
    assert!(err.starts_with("test.py:1:1: ModuleNotFoundError: No module named '_time'"), "{err}");
    let err = error("import time\ntime.strftime(5)\n");
    assert!(err.ends_with("\nTypeError: strftime() argument 1 must be str, not int"), "{err}");
}

/// `datetime.now()`, `utcnow()`, `date.today()` and `time.time()` read
/// the simulated clock: two readings a `time.sleep(1.5)` apart differ by
/// the sleep.
#[test]
fn now_reads_the_simulated_clock() {
    let out = output(
        r#"
import time
from datetime import datetime, date, timedelta, timezone

start = datetime.now()
time.sleep(1.5)
end = datetime.now()
elapsed = end - start
# The sleep's 1.5 s, and the simulated time the two readings' own code
# took (about 0.1 ms here; CPython's a little more, from the real clock).
print(round(elapsed.total_seconds(), 1), elapsed >= timedelta(seconds=1.5))
print(elapsed < timedelta(seconds=1.51))
print(type(start).__name__, start.tzinfo, datetime.now(timezone.utc).tzinfo)
print(abs(datetime.utcnow() - datetime.now()) < timedelta(seconds=1))
print(date.today() == datetime.now().date(), abs(datetime.now().timestamp() - time.time()) < 1)
print(datetime.fromtimestamp(time.time()).year >= 1970)
t0 = time.time()
time.sleep(0.25)
print(round(time.time() - t0, 2))
"#,
    );
    assert_eq!(out, ["1.5 True", "True", "datetime None UTC", "True", "True True", "True", "0.25",]);
}

/// More of `datetime`: local time (UTC here) and timestamps of naive
/// datetimes, ISO calendars, `fromisoformat` with offsets, `timedelta`
/// from and times floats, `divmod` and `%` of timedeltas, `format()`, a
/// program's own `tzinfo` and a subclass of `datetime` (its repr names
/// the class alone, as CPython's C type does).
#[test]
fn datetime_more_conversions_and_user_subclasses_as_cpython() {
    let out = output(
        r#"
from datetime import datetime, date, time, timedelta, timezone
d = datetime(2024, 3, 10, 8, 5, 9, 250000)
print(d.astimezone(), d.astimezone().tzname(), d.timestamp(), d.utctimetuple())
print(datetime.fromisocalendar(2024, 10, 7), date(2024, 3, 10).isocalendar().week, date.fromisocalendar(2020, 53, 5))
print(time.fromisoformat("10:20:30.5"), time(10, 20, 30, 500000).isoformat("milliseconds"), d.isoformat(timespec="microseconds"))
print(divmod(timedelta(hours=25), timedelta(hours=7)), timedelta(hours=25) % timedelta(hours=7), timedelta(hours=25) // timedelta(hours=7))
print(min(timedelta(1), timedelta(hours=1)), sum([timedelta(minutes=m) for m in range(5)], timedelta()), {timedelta(1): "day"}[timedelta(hours=24)])
print(d.date().replace(month=12), d.time().replace(microsecond=0), d.timetz(), datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=9))).timetz())
print(date(2024, 1, 1).ctime(), date(2024, 1, 1).weekday(), date.today() > date(2000, 1, 1), d.toordinal(), date.min, date.resolution)
print(bool(timedelta(0)), bool(timedelta(seconds=1)), -timedelta(days=1, seconds=1), +timedelta(1), timedelta(seconds=-1).total_seconds())
print(datetime.fromisoformat("2024-03-10T08:05:09+02:00"), datetime.fromisoformat("2024-03-10 08:05"), datetime.fromisoformat("2024-03-10T08:05:09.123Z"))
print(datetime(2024, 12, 31, 23, 59, 59) + timedelta(seconds=1), date(2024, 2, 28) + timedelta(1), date(2023, 2, 28) + timedelta(1))
print(timedelta(days=1.5, hours=0.5), timedelta(microseconds=-1), timedelta(seconds=0.0000015), timedelta(minutes=1) * 0.1, timedelta(1) / 3)
print(sorted({date(2024, 1, 2), date(2024, 1, 1)}), datetime.max - datetime.min, (date(2024, 3, 10) - date(2024, 1, 1)).days)
print(format(d, "%d/%m/%Y"), format(d), "{:%A}".format(d), d.strftime("%%Y=%Y %z|%Z|"), datetime.now(timezone.utc).strftime("%z %Z"))
print(timezone.utc == timezone(timedelta(0)), timezone.min, timezone.max, str(timezone(timedelta(hours=5, minutes=30))))
from datetime import tzinfo


class EST(tzinfo):
    def utcoffset(self, dt):
        return timedelta(hours=-5)

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        return "EST"


class Stamp(datetime):
    def label(self):
        return self.strftime("%b %d")


e = datetime(2024, 1, 1, 12, tzinfo=EST())
print(e, e.tzname(), e.astimezone(timezone.utc), repr(e.utcoffset()), e == datetime(2024, 1, 1, 17, tzinfo=timezone.utc))
m = Stamp(2024, 5, 6)
print(m.label(), m + timedelta(days=1), type(m + timedelta(days=1)).__name__, m.replace(day=7).label(), repr(m))
"#,
    );
    assert_eq!(
        out,
        [
            "2024-03-10 08:05:09.250000+00:00 UTC 1710057909.25 time.struct_time(tm_year=2024, tm_mon=3, tm_mday=10, tm_hour=8, tm_min=5, tm_sec=9, tm_wday=6, tm_yday=70, tm_isdst=0)",
            "2024-03-10 00:00:00 10 2021-01-01",
            "10:20:30.500000 10:20:30.500 2024-03-10T08:05:09.250000",
            "(3, datetime.timedelta(seconds=14400)) 4:00:00 3",
            "1:00:00 0:10:00 day",
            "2024-12-10 08:05:09 08:05:09.250000 00:00:00+09:00",
            "Mon Jan  1 00:00:00 2024 0 True 738955 0001-01-01 1 day, 0:00:00",
            "False True -2 days, 23:59:59 1 day, 0:00:00 -1.0",
            "2024-03-10 08:05:09+02:00 2024-03-10 08:05:00 2024-03-10 08:05:09.123000+00:00",
            "2025-01-01 00:00:00 2024-02-29 2023-03-01",
            "1 day, 12:30:00 -1 day, 23:59:59.999999 0:00:00.000002 0:00:06 8:00:00",
            "[datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)] 3652058 days, 23:59:59.999999 69",
            "10/03/2024 2024-03-10 08:05:09.250000 Sunday %Y=2024 || +0000 UTC",
            "True UTC-23:59 UTC+23:59 UTC+05:30",
            "2024-01-01 12:00:00-05:00 EST 2024-01-01 17:00:00+00:00 datetime.timedelta(days=-1, seconds=68400) True",
            "May 06 2024-05-07 00:00:00 Stamp May 07 Stamp(2024, 5, 6, 0, 0)",
        ]
    );
}

/// `datetime.strptime`: the common directives, with and without
/// separators, 12-hour clocks, names, fractions, offsets, day of year, and
/// CPython's messages for data that does not match.
#[test]
fn strptime_as_cpython() {
    let out = output(
        r#"
from datetime import datetime
for text, fmt in [("2024-01-05 13:04:09", "%Y-%m-%d %H:%M:%S"), ("20240105", "%Y%m%d"), ("5/1/24", "%d/%m/%y"), ("05/01/70", "%d/%m/%y"),
                  ("Jan 5 2024 1:02 PM", "%b %d %Y %I:%M %p"), ("Friday, 5 January 2024", "%A, %d %B %Y"), ("2024-01-05T13:04:09.25", "%Y-%m-%dT%H:%M:%S.%f"),
                  ("2024-01-05 13:04:09+0530", "%Y-%m-%d %H:%M:%S%z"), ("2024-01-05T13:04:09-08:00", "%Y-%m-%dT%H:%M:%S%z"), ("2024-01-05T13:04:09Z", "%Y-%m-%dT%H:%M:%S%z"),
                  ("2024 100", "%Y %j"), ("12:30", "%H:%M"), ("100%", "%d%%"), ("  2024  ", " %Y "), ("12 am", "%I %p"), ("12 PM", "%I %p"),
                  ("2024-13-01", "%Y-%m-%d"), ("2024-02-30", "%Y-%m-%d"), ("2024-01-05 extra", "%Y-%m-%d"), ("2024-01", "%Y-%m-%d"), ("24-01-05", "%Y-%m-%d"),
                  ("2024", "%Q"), ("jan 05 2024", "%b %d %Y"), ("2024-1-5", "%Y-%m-%d")]:
    try:
        print(repr(datetime.strptime(text, fmt)))
    except ValueError as e:
        print("ValueError:", e)
"#,
    );
    assert_eq!(
        out,
        [
            "datetime.datetime(2024, 1, 5, 13, 4, 9)",
            "datetime.datetime(2024, 1, 5, 0, 0)",
            "datetime.datetime(2024, 1, 5, 0, 0)",
            "datetime.datetime(1970, 1, 5, 0, 0)",
            "datetime.datetime(2024, 1, 5, 13, 2)",
            "datetime.datetime(2024, 1, 5, 0, 0)",
            "datetime.datetime(2024, 1, 5, 13, 4, 9, 250000)",
            "datetime.datetime(2024, 1, 5, 13, 4, 9, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))",
            "datetime.datetime(2024, 1, 5, 13, 4, 9, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=57600)))",
            "datetime.datetime(2024, 1, 5, 13, 4, 9, tzinfo=datetime.timezone.utc)",
            "datetime.datetime(2024, 4, 9, 0, 0)",
            "datetime.datetime(1900, 1, 1, 12, 30)",
            "ValueError: time data '100%' does not match format '%d%%'",
            "datetime.datetime(2024, 1, 1, 0, 0)",
            "datetime.datetime(1900, 1, 1, 0, 0)",
            "datetime.datetime(1900, 1, 1, 12, 0)",
            "ValueError: time data '2024-13-01' does not match format '%Y-%m-%d'",
            "ValueError: day is out of range for month",
            "ValueError: unconverted data remains:  extra",
            "ValueError: time data '2024-01' does not match format '%Y-%m-%d'",
            "ValueError: time data '24-01-05' does not match format '%Y-%m-%d'",
            "ValueError: 'Q' is a bad directive in format '%Q'",
            "datetime.datetime(2024, 1, 5, 0, 0)",
            "datetime.datetime(2024, 1, 5, 0, 0)",
        ]
    );
}

/// `time.strptime`: a `struct_time` (its `tm_isdst` -1, as CPython's),
/// by `datetime`'s parser, and `ctime`'s layout as the default format.
#[test]
fn time_strptime_as_cpython() {
    let out = output(
        r#"
import time
print(time.strptime("2024-03-10 08:05:09", "%Y-%m-%d %H:%M:%S"))
print(time.strptime("Sun Mar 10 08:05:09 2024"))
print(time.mktime(time.strptime("1970-01-02", "%Y-%m-%d")), time.strptime("12", "%H").tm_hour)
try:
    time.strptime("x", "%Y")
except ValueError as e:
    print("ValueError:", e)
"#,
    );
    assert_eq!(
        out,
        [
            "time.struct_time(tm_year=2024, tm_mon=3, tm_mday=10, tm_hour=8, tm_min=5, tm_sec=9, tm_wday=6, tm_yday=70, tm_isdst=-1)",
            "time.struct_time(tm_year=2024, tm_mon=3, tm_mday=10, tm_hour=8, tm_min=5, tm_sec=9, tm_wday=6, tm_yday=70, tm_isdst=-1)",
            "86400.0 12",
            "ValueError: time data 'x' does not match format '%Y'",
        ]
    );
}
