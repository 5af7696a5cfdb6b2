# statistics for the simulator, written in the subset it runs. CPython's
# results and errors: `mean`, `variance` and `pvariance` of ints are exact
# (an int when the fraction is whole, as CPython's), `median` and
# `quantiles` are CPython's algorithms. CPython sums floats exactly (with
# fractions) and rounds once; here float sums are exact (Shewchuk's
# partials, as `math.fsum`'s) carried in double-double (106 bits) through
# the division and the square root, then rounded once: the same float but
# on data built to land on a rounding tie.

import math


class StatisticsError(ValueError):
    pass


# `_partials(values)`: the exact sum as Shewchuk's partials (`std/exact.py`,
# which `math.fsum` uses too), given to this module as it is imported.


def _dd_sum(values):
    # The exact sum as a double-double (hi, lo): hi the rounded sum.
    partials = _partials(values)
    hi = 0.0
    for p in reversed(partials):
        hi += p
    rest = _partials(partials + [-hi])
    lo = 0.0
    for p in reversed(rest):
        lo += p
    return hi, lo


def _fsum(values):
    return _dd_sum(values)[0]


def _split(a):
    t = 134217729.0 * a
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_div(hi, lo, d):
    # (hi + lo) / d, rounded once.
    q = hi / d
    p, e = _two_prod(q, d)
    return q, (((hi - p) - e) + lo) / d


def _dd_sqrt(hi, lo):
    # sqrt(hi + lo) rounded once (a Newton step in double-double).
    if hi <= 0.0:
        return 0.0
    s = math.sqrt(hi)
    p, e = _two_prod(s, s)
    return s + (((hi - p) - e) + lo) / (2.0 * s)


def _float_mean(data):
    hi, lo = _dd_sum(data)
    q, r = _dd_div(hi, lo, float(len(data)))
    return q + r


def _all_ints(data):
    for x in data:
        if not isinstance(x, int):
            return False
    return True


def _exact(num, den):
    # A fraction as CPython's `_convert` makes it for int data.
    if num % den == 0:
        return num // den
    return num / den


def mean(data):
    data = list(data)
    n = len(data)
    if n < 1:
        raise StatisticsError("mean requires at least one data point")
    if _all_ints(data):
        return _exact(sum(data), n)
    return _float_mean(data)


def fmean(data, weights=None):
    data = list(data)
    if weights is not None:
        weights = list(weights)
        if len(weights) != len(data):
            raise StatisticsError("data and weights must be the same length")
        total = _fsum(weights)
        if not total:
            raise StatisticsError("sum of weights must be non-zero")
        return _fsum([x * w for x, w in zip(data, weights)]) / total
    n = len(data)
    if n < 1:
        raise StatisticsError("fmean requires at least one data point")
    # CPython's: fsum(data) / n, not the exact mean.
    return _fsum(data) / n


def median(data):
    data = sorted(data)
    n = len(data)
    if n == 0:
        raise StatisticsError("no median for empty data")
    if n % 2 == 1:
        return data[n // 2]
    i = n // 2
    return (data[i - 1] + data[i]) / 2


def median_low(data):
    data = sorted(data)
    n = len(data)
    if n == 0:
        raise StatisticsError("no median for empty data")
    if n % 2 == 1:
        return data[n // 2]
    return data[n // 2 - 1]


def median_high(data):
    data = sorted(data)
    n = len(data)
    if n == 0:
        raise StatisticsError("no median for empty data")
    return data[n // 2]


def _counts(data):
    counts = {}
    for x in data:
        counts[x] = counts.get(x, 0) + 1
    return counts


def mode(data):
    counts = _counts(data)
    if not counts:
        raise StatisticsError("no mode for empty data")
    best = None
    most = 0
    for x, c in counts.items():
        if c > most:
            best, most = x, c
    return best


def multimode(data):
    counts = _counts(data)
    if not counts:
        return []
    most = max(counts.values())
    return [x for x, c in counts.items() if c == most]


def quantiles(data, *, n=4, method="exclusive"):
    if n < 1:
        raise StatisticsError("n must be at least 1")
    data = sorted(data)
    ld = len(data)
    if ld < 2:
        raise StatisticsError("must have at least two data points")
    if method == "inclusive":
        m = ld - 1
        result = []
        for i in range(1, n):
            j, delta = divmod(i * m, n)
            interpolated = (data[j] * (n - delta) + data[j + 1] * delta) / n
            result.append(interpolated)
        return result
    if method == "exclusive":
        m = ld + 1
        result = []
        for i in range(1, n):
            j = i * m // n
            j = 1 if j < 1 else ld - 1 if j > ld - 1 else j
            delta = i * m - j * n
            interpolated = (data[j - 1] * (n - delta) + data[j] * delta) / n
            result.append(interpolated)
        return result
    raise ValueError("Unknown method: " + repr(method))


def _ss(data, c):
    # The sum of squared deviations from c (the mean when None), over a
    # divisor, and the data's length: for ints exact, as (numerator,
    # divisor); for floats a double-double (hi, lo) over 1.
    n = len(data)
    if n == 0:
        return 0, 1, 0
    if c is None and _all_ints(data):
        total = sum(data)
        squares = sum([x * x for x in data])
        return n * squares - total * total, n, n
    if c is not None:
        # CPython's: each (x - c) ** 2 rounded, their sum exact.
        return _dd_sum([(x - c) * (x - c) for x in data]), 1, n
    hi, lo = _dd_sum(data)
    ch, cl = _dd_div(hi, lo, float(n))
    terms = []
    devs = []
    for x in data:
        x = float(x)
        d = x - ch
        back = d - x
        e = ((x - (d - back)) + (-ch - back)) - cl
        p, pe = _two_prod(d, d)
        terms.extend([p, pe, 2.0 * d * e])
        devs.extend([d, e])
    # CPython subtracts the deviations' squared sum over n (0 but for
    # rounding) as well.
    dh, dl = _dd_sum(devs)
    terms.append(-(dh * dh) / n)
    return _dd_sum(terms), 1, n


def _var(num, den, n):
    # num / (den * n) as a double-double.
    if den == 1:
        return _dd_div(num[0], num[1], float(n))
    return _dd_div(float(num), 0.0, float(den * n))


def variance(data, xbar=None):
    data = list(data)
    num, den, n = _ss(data, xbar)
    if n < 2:
        raise StatisticsError("variance requires at least two data points")
    if den != 1:
        return _exact(num, den * (n - 1))
    hi, lo = _var(num, den, n - 1)
    return hi + lo


def pvariance(data, mu=None):
    data = list(data)
    num, den, n = _ss(data, mu)
    if n < 1:
        raise StatisticsError("pvariance requires at least one data point")
    if den != 1:
        return _exact(num, den * n)
    hi, lo = _var(num, den, n)
    return hi + lo


def stdev(data, xbar=None):
    data = list(data)
    num, den, n = _ss(data, xbar)
    if n < 2:
        raise StatisticsError("stdev requires at least two data points")
    hi, lo = _var(num, den, n - 1)
    return _dd_sqrt(hi, lo)


def pstdev(data, mu=None):
    data = list(data)
    num, den, n = _ss(data, mu)
    if n < 1:
        raise StatisticsError("pstdev requires at least one data point")
    hi, lo = _var(num, den, n)
    return _dd_sqrt(hi, lo)
