# random's other functions written in Python over the native generator
# (random, randrange, seeded by the run): sample, choices, gauss,
# normalvariate and expovariate, with CPython's checks and errors. The
# values differ from CPython's, whose generator and seed differ anyway.

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
