# time's calendar functions for the simulator: `gmtime`, `localtime`,
# `mktime`, `strftime`, `strptime`, `asctime`, `ctime` and `struct_time`,
# over the simulated clock (`_now`, the native `time.time`). The simulated
# machine's timezone is UTC: `localtime` is `gmtime`, as CPython's with
# TZ=UTC. The native `time` module calls these (its `sleep`, `time`,
# `monotonic` stay native).

_DAYNAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_FULL_DAYNAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHNAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_FULL_MONTHNAMES = ["January", "February", "March", "April", "May", "June", "July",
                    "August", "September", "October", "November", "December"]
_FIELDS = ("tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst")


class struct_time:
    def __init__(self, seq):
        t = tuple(seq)
        if len(t) != 9:
            raise TypeError("time.struct_time() takes a 9-sequence (%d-sequence given)" % len(t))
        self._t = t
        self.tm_year, self.tm_mon, self.tm_mday, self.tm_hour, self.tm_min, self.tm_sec, \
            self.tm_wday, self.tm_yday, self.tm_isdst = t
        self.tm_zone = "UTC"
        self.tm_gmtoff = 0

    def __getitem__(self, i):
        return self._t[i]

    def __len__(self):
        return 9

    def __iter__(self):
        return iter(self._t)

    def __eq__(self, other):
        if isinstance(other, struct_time):
            return self._t == other._t
        return self._t == other

    def __hash__(self):
        return hash(self._t)

    def __repr__(self):
        parts = ["%s=%r" % (name, value) for name, value in zip(_FIELDS, self._t)]
        return "time.struct_time(" + ", ".join(parts) + ")"


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(y, m, d):
    # Days since 1970-01-01 (Howard Hinnant's algorithm).
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _seconds(secs):
    if secs is None:
        secs = _now()
    if not isinstance(secs, (int, float)):
        raise TypeError("'%s' object cannot be interpreted as an integer" % type(secs).__name__)
    return int(secs // 1)


def gmtime(secs=None):
    t = _seconds(secs)
    days = t // 86400
    rem = t - days * 86400
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    yday = days - _days_from_civil(y, 1, 1) + 1
    wday = (days + 3) % 7
    return struct_time((y, m, d, rem // 3600, rem // 60 % 60, rem % 60, wday, yday, 0))


def localtime(secs=None):
    return gmtime(secs)


def mktime(t):
    t = tuple(t)
    days = _days_from_civil(t[0], 1, 1) + _days_from_civil(2001, t[1], 1) - _days_from_civil(2001, 1, 1)
    if t[1] > 2 and _is_leap(t[0]):
        days += 1
    days += t[2] - 1
    return float(days * 86400 + t[3] * 3600 + t[4] * 60 + t[5])


def _tuple(t):
    if t is None:
        return localtime()
    if not isinstance(t, (tuple, struct_time)):
        raise TypeError("Tuple or struct_time argument required")
    return t


def asctime(t=None):
    t = _tuple(t)
    return "%s %s %2d %02d:%02d:%02d %d" % (_DAYNAMES[t[6]], _MONTHNAMES[t[1] - 1], t[2], t[3], t[4], t[5], t[0])


def ctime(secs=None):
    return asctime(localtime(secs))


def strftime(format, t=None):
    if not isinstance(format, str):
        raise TypeError("strftime() argument 1 must be str, not %s" % type(format).__name__)
    t = _tuple(t)
    year, mon, mday, hour, minute, sec, wday, yday, isdst = tuple(t)
    out = []
    i = 0
    n = len(format)
    while i < n:
        ch = format[i]
        i += 1
        if ch != "%" or i == n:
            out.append(ch)
            continue
        ch = format[i]
        i += 1
        if ch == "Y":
            out.append(str(year))
        elif ch == "m":
            out.append("%02d" % mon)
        elif ch == "d":
            out.append("%02d" % mday)
        elif ch == "e":
            out.append("%2d" % mday)
        elif ch == "H":
            out.append("%02d" % hour)
        elif ch == "I":
            out.append("%02d" % ((hour + 11) % 12 + 1))
        elif ch == "M":
            out.append("%02d" % minute)
        elif ch == "S":
            out.append("%02d" % sec)
        elif ch == "p":
            out.append("AM" if hour < 12 else "PM")
        elif ch == "y":
            out.append("%02d" % (year % 100))
        elif ch == "C":
            out.append("%02d" % (year // 100))
        elif ch == "a":
            out.append(_DAYNAMES[wday])
        elif ch == "A":
            out.append(_FULL_DAYNAMES[wday])
        elif ch == "b" or ch == "h":
            out.append(_MONTHNAMES[mon - 1])
        elif ch == "B":
            out.append(_FULL_MONTHNAMES[mon - 1])
        elif ch == "j":
            out.append("%03d" % yday)
        elif ch == "w":
            out.append(str((wday + 1) % 7))
        elif ch == "u":
            out.append(str(wday + 1))
        elif ch == "U":
            out.append("%02d" % ((yday - 1 + 7 - (wday + 1) % 7) // 7))
        elif ch == "W":
            out.append("%02d" % ((yday - 1 + 7 - wday) // 7))
        elif ch == "c":
            out.append(asctime(t))
        elif ch == "x":
            out.append("%02d/%02d/%02d" % (mon, mday, year % 100))
        elif ch == "X" or ch == "T":
            out.append("%02d:%02d:%02d" % (hour, minute, sec))
        elif ch == "D":
            out.append("%02d/%02d/%02d" % (mon, mday, year % 100))
        elif ch == "F":
            out.append("%d-%02d-%02d" % (year, mon, mday))
        elif ch == "R":
            out.append("%02d:%02d" % (hour, minute))
        elif ch == "z":
            out.append("+0000")
        elif ch == "Z":
            out.append("UTC")
        elif ch == "n":
            out.append("\n")
        elif ch == "t":
            out.append("\t")
        elif ch == "%":
            out.append("%")
        else:
            out.append("%" + ch)
    return "".join(out)


def strptime(string, format="%a %b %d %H:%M:%S %Y"):
    # datetime's parser (CPython's time.strptime and datetime's share
    # _strptime too).
    import datetime
    return datetime.datetime.strptime(string, format).timetuple()
