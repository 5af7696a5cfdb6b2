# heapq's Python half for the simulator: heappush, heappop, heapify,
# heappushpop and heapreplace are native (python/heapq.rs), as CPython's
# are C; these are what CPython's heapq.py has in Python.


def merge(*iterables, key=None, reverse=False):
    items = []
    for it in iterables:
        items.extend(it)
    return iter(sorted(items, key=key, reverse=reverse))


def nsmallest(n, iterable, key=None):
    return sorted(iterable, key=key)[:max(n, 0)]


def nlargest(n, iterable, key=None):
    return sorted(iterable, key=key, reverse=True)[:max(n, 0)]
