# math for the simulator: the functions written in Python over the native
# ones (sqrt, floor, ceil, log, exp, the trigonometry), with CPython's
# results and errors for the usual arguments.

tau = 2 * pi
nan = float("nan")


def _int(x, name):
    if isinstance(x, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    if not isinstance(x, int):
        raise TypeError("'" + type(x).__name__ + "' object cannot be interpreted as an integer")
    return int(x)


def isnan(x):
    x = float(x)
    return x != x


def isinf(x):
    return float(x) in (inf, -inf)


def isfinite(x):
    return not isnan(x) and not isinf(x)


def isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0):
    if rel_tol < 0.0 or abs_tol < 0.0:
        raise ValueError("tolerances must be non-negative")
    if a == b:
        return True
    if isinf(a) or isinf(b):
        return False
    diff = fabs(b - a)
    return diff <= fabs(rel_tol * b) or diff <= fabs(rel_tol * a) or diff <= abs_tol


def trunc(x):
    return int(x)


def copysign(x, y):
    x = fabs(x)
    y = float(y)
    if y < 0 or (y == 0 and str(y).startswith("-")):
        return -x
    return x


# cbrt and acosh as glibc computes them (CPython calls the C library's):
# Rust's, from musl, differ in the last place for some arguments
# (cbrt(2.0), acosh(3.7)).
_CBRT2 = 1.2599210498948731648
_FACTORS = [1.0 / 1.5874010519681994748, 1.0 / _CBRT2, 1.0, _CBRT2, 1.5874010519681994748]


def cbrt(x):
    x = float(x)
    if x == 0.0 or x != x or x in (inf, -inf):
        return x + x
    xm, xe = frexp(fabs(x))
    # glibc's polynomial, by Horner's rule, then one rational correction.
    u = 0.784932344976639262 - 0.145263899385486377 * xm
    u = -1.83469277483613086 + u * xm
    u = 2.44693122563534430 + u * xm
    u = -2.11499494167371287 + u * xm
    u = 1.50819193781584896 + u * xm
    u = 0.354895765043919860 + u * xm
    t2 = u * u * u
    q = int(xe / 3)
    ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * _FACTORS[2 + xe - 3 * q]
    return ldexp(ym if x > 0.0 else -ym, q)


def acosh(x):
    x = float(x)
    if not x >= 1.0:
        if x != x:
            return x
        raise ValueError("math domain error")
    if x > 268435456.0:
        return log(x) + 0.6931471805599453
    if x > 2.0:
        return log(2.0 * x - 1.0 / (x + sqrt(x * x - 1.0)))
    t = x - 1.0
    return log1p(t + sqrt(2.0 * t + t * t))


def radians(x):
    return float(x) * (pi / 180.0)


def degrees(x):
    return float(x) * (180.0 / pi)


def gcd(*integers):
    g = 0
    for n in integers:
        a, b = abs(_int(n, "gcd")), g
        while b:
            a, b = b, a % b
        g = a
    return g


def lcm(*integers):
    m = 1
    for n in integers:
        n = abs(_int(n, "lcm"))
        if n == 0:
            return 0
        m = m * n // gcd(m, n)
    return m


def factorial(n):
    if isinstance(n, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    n = _int(n, "factorial")
    if n < 0:
        raise ValueError("factorial() not defined for negative values")
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def _counts(n, k, name):
    # perm's and comb's arguments, with CPython's errors.
    n, k = _int(n, name), _int(k, name)
    if n < 0:
        raise ValueError("n must be a non-negative integer")
    if k < 0:
        raise ValueError("k must be a non-negative integer")
    return n, k


def perm(n, k=None):
    n, k = _counts(n, n if k is None else k, "perm")
    if k > n:
        return 0
    out = 1
    for i in range(n - k + 1, n + 1):
        out *= i
    return out


def comb(n, k):
    n, k = _counts(n, k, "comb")
    if k > n:
        return 0
    k = min(k, n - k)
    out = 1
    for i in range(1, k + 1):
        out = out * (n - k + i) // i
    return out


def prod(iterable, *, start=1):
    out = start
    for x in iterable:
        out = out * x
    return out


def isqrt(n):
    n = _int(n, "isqrt")
    if n < 0:
        raise ValueError("isqrt() argument must be nonnegative")
    x = int(sqrt(n))
    while x * x > n:
        x -= 1
    while (x + 1) * (x + 1) <= n:
        x += 1
    return x


def _dl_mul(x, y):
    # x * y exactly, as hi + lo (Veltkamp-Dekker splitting).
    t = x * 134217729.0
    xh = t - (t - x)
    xl = x - xh
    t = y * 134217729.0
    yh = t - (t - y)
    yl = y - yh
    p = xh * yh
    q = xh * yl + xl * yh
    z = p + q
    return z, p - z + q + xl * yl


def _vector_norm(xs):
    # CPython's vector_norm: scaled by the largest's power of two
    # (losslessly), squared exactly, summed with compensation, and the
    # square root corrected once, so hypot(1e200, 1e200) neither overflows
    # nor rounds differently.
    if inf in xs:
        return inf
    if any(x != x for x in xs):
        return nan
    top = max(xs, default=0.0)
    if top == 0.0 or len(xs) <= 1:
        return top
    e = frexp(top)[1]
    if e < -1023:
        tiny = 2.2250738585072014e-308
        return tiny * _vector_norm([x / tiny for x in xs])
    scale = ldexp(1.0, -e)
    csum, frac1, frac2 = 1.0, 0.0, 0.0
    for x in xs:
        hi, lo = _dl_mul(x * scale, x * scale)
        total = csum + hi
        frac2 += (csum - total) + hi
        csum = total
        frac1 += lo
    h = sqrt(csum - 1.0 + (frac1 + frac2))
    hi, lo = _dl_mul(-h, h)
    total = csum + hi
    frac2 += (csum - total) + hi
    csum = total
    frac1 += lo
    x = csum - 1.0 + (frac1 + frac2)
    h += x / (2.0 * h)
    return h / scale


def hypot(*coordinates):
    return _vector_norm([fabs(float(c)) for c in coordinates])


def dist(p, q):
    p, q = tuple(p), tuple(q)
    if len(p) != len(q):
        raise ValueError("both points must have the same number of dimensions")
    return _vector_norm([fabs(float(a) - float(b)) for a, b in zip(p, q)])


def pow(x, y):
    return float(x) ** float(y)


def fsum(iterable):
    # `_partials`: Shewchuk's exact partial sums (`std/exact.py`).
    partials = _partials(iterable)
    # Rounded once, as CPython's msum: added from the largest down until
    # the sum is inexact, then rounded half-even across the partials left
    # (summing them smallest first rounds some ties the other way).
    n = len(partials)
    if not n:
        return 0.0
    n -= 1
    hi = partials[n]
    lo = 0.0
    while n:
        x = hi
        n -= 1
        y = partials[n]
        hi = x + y
        lo = y - (hi - x)
        if lo:
            break
    if n and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        if y == x - hi:
            hi = x
    return hi
