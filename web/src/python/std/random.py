# random's other functions written in Python over the native generator
# (random, randrange, seeded by the run): sample, choices, gauss,
# normalvariate and expovariate, with CPython's checks and errors. The
# values differ from CPython's, whose generator and seed differ anyway.
#
# `Random(seed)`: a generator of its own, CPython's Mersenne Twister
# (`_randommodule.c`), so its values are CPython's for an int or float
# seed. Every intermediate stays within 64 bits (the state's words are
# 32-bit), as ints here are.

import math
from bisect import bisect as _bisect


def _sequence(population):
    # CPython's `isinstance(population, collections.abc.Sequence)`.
    if isinstance(population, (set, frozenset, dict)) or not hasattr(population, "__getitem__"):
        raise TypeError("Population must be a sequence.  For dicts or sets, use sorted(d).")
    return population


def sample(population, k, *, counts=None):
    if counts is not None:
        population = [x for x, c in zip(population, counts) for _ in range(c)]
    pool = list(_sequence(population))
    n = len(pool)
    if not 0 <= k <= n:
        raise ValueError("Sample larger than population or is negative")
    # CPython's partial shuffle: each pick leaves the pool.
    result = []
    for i in range(k):
        j = randrange(n - i)
        result.append(pool[j])
        pool[j] = pool[n - i - 1]
    return result


def choices(population, weights=None, *, cum_weights=None, k=1):
    n = len(population)
    if cum_weights is None:
        if weights is None:
            return [population[math.floor(random() * n)] for _ in range(k)]
        if isinstance(weights, int):
            raise TypeError("The number of choices must be a keyword argument: k=" + str(weights))
        cum_weights = []
        total = 0
        for w in weights:
            total += w
            cum_weights.append(total)
    elif weights is not None:
        raise TypeError("Cannot specify both weights and cumulative weights")
    if len(cum_weights) != n:
        raise ValueError("The number of weights does not match the population")
    total = cum_weights[-1] + 0.0
    if total <= 0.0:
        raise ValueError("Total of weights must be greater than zero")
    if not math.isfinite(total):
        raise ValueError("Total of weights must be finite")
    return [population[_bisect(cum_weights, random() * total, 0, n - 1)] for _ in range(k)]


def gauss(mu=0.0, sigma=1.0):
    # Box-Muller (CPython's gauss uses it too); `1 - random()` is never 0.
    r = math.sqrt(-2.0 * math.log(1.0 - random()))
    return mu + sigma * r * math.cos(2.0 * math.pi * random())


def normalvariate(mu=0.0, sigma=1.0):
    return gauss(mu, sigma)


def expovariate(lambd=1.0):
    return -math.log(1.0 - random()) / lambd


_N = 624
_M = 397


class Random:
    def __init__(self, x=None):
        self.seed(x)

    def seed(self, a=None, version=2):
        if a is None:
            # CPython seeds from the OS: here from the run's generator.
            key = [randrange(4294967296) for _ in range(_N)]
        elif isinstance(a, float):
            # CPython seeds from hash(a) as an unsigned 64-bit int.
            h = hash(a)
            key = [h & 0xFFFFFFFF, (h >> 32) & 0xFFFFFFFF]
            if key[1] == 0:
                key = key[:1]
        elif isinstance(a, int):
            n = -a if a < 0 else a
            key = []
            while n:
                key.append(n & 0xFFFFFFFF)
                n >>= 32
            if not key:
                key = [0]
        elif isinstance(a, (str, bytes)):
            raise NotImplementedError("random.Random: a str or bytes seed is not supported here: seed with an int")
        else:
            raise TypeError("The only supported seed types are: None,\nint, float, str, bytes, and bytearray.")
        self._init_by_array(key)

    def _init_genrand(self, s):
        mt = [0] * _N
        mt[0] = s
        for i in range(1, _N):
            p = mt[i - 1]
            mt[i] = (1812433253 * (p ^ (p >> 30)) + i) & 0xFFFFFFFF
        self._mt = mt

    def _init_by_array(self, key):
        self._init_genrand(19650218)
        mt = self._mt
        n = len(key)
        i = 1
        j = 0
        for _ in range(max(_N, n)):
            p = mt[i - 1]
            mt[i] = ((mt[i] ^ ((p ^ (p >> 30)) * 1664525)) + key[j] + j) & 0xFFFFFFFF
            i += 1
            j += 1
            if i >= _N:
                mt[0] = mt[_N - 1]
                i = 1
            if j >= n:
                j = 0
        for _ in range(_N - 1):
            p = mt[i - 1]
            mt[i] = ((mt[i] ^ ((p ^ (p >> 30)) * 1566083941)) - i) & 0xFFFFFFFF
            i += 1
            if i >= _N:
                mt[0] = mt[_N - 1]
                i = 1
        mt[0] = 0x80000000
        self._mti = _N

    def _genrand(self):
        mt = self._mt
        if self._mti >= _N:
            for kk in range(_N):
                y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % _N] & 0x7FFFFFFF)
                mt[kk] = mt[(kk + _M) % _N] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self._mti = 0
        y = mt[self._mti]
        self._mti += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        return y ^ (y >> 18)

    def random(self):
        a = self._genrand() >> 5
        b = self._genrand() >> 6
        return (a * 67108864 + b) / 9007199254740992

    def getrandbits(self, k):
        if not isinstance(k, int):
            raise TypeError("'" + type(k).__name__ + "' object cannot be interpreted as an integer")
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        if k > 63:
            raise OverflowError("getrandbits(" + str(k) + "): more than 63 bits is not supported here (ints are 64-bit)")
        if k <= 32:
            return self._genrand() >> (32 - k) if k else 0
        low = self._genrand()
        return ((self._genrand() >> (64 - k)) << 32) | low

    def _randbelow(self, n):
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return r

    def randrange(self, start, stop=None, step=1):
        istart = _integer(start, "non-integer arg 1 for randrange()")
        if stop is None:
            if step != 1:
                raise TypeError("Missing a non-None stop argument")
            if istart > 0:
                return self._randbelow(istart)
            raise ValueError("empty range for randrange()")
        istop = _integer(stop, "non-integer stop for randrange()")
        width = istop - istart
        istep = _integer(step, "non-integer step for randrange()")
        if istep == 1:
            if width > 0:
                return istart + self._randbelow(width)
            raise ValueError("empty range for randrange() (%d, %d, %d)" % (istart, istop, width))
        if istep > 0:
            n = (width + istep - 1) // istep
        elif istep < 0:
            n = (width + istep + 1) // istep
        else:
            raise ValueError("zero step for randrange()")
        if n <= 0:
            raise ValueError("empty range for randrange()")
        return istart + istep * self._randbelow(n)

    def randint(self, a, b):
        return self.randrange(a, b + 1)

    def choice(self, seq):
        if not len(seq):
            raise IndexError("Cannot choose from an empty sequence")
        return seq[self._randbelow(len(seq))]

    def shuffle(self, x):
        for i in range(len(x) - 1, 0, -1):
            j = self._randbelow(i + 1)
            x[i], x[j] = x[j], x[i]

    def uniform(self, a, b):
        return a + (b - a) * self.random()


def _integer(x, message):
    # CPython's `_index(x)`, or else `int(x)` if equal to x (deprecated there).
    if isinstance(x, int):
        return x
    n = int(x)
    if n != x:
        raise ValueError(message)
    return n
