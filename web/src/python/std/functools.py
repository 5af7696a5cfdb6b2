# functools' decorators written in Python, over the native partial, reduce
# and wraps: lru_cache and cache (with cache_info and cache_clear),
# cmp_to_key and total_ordering, as CPython's behave for the usual uses.

from collections import namedtuple

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


class _Cached:
    def __init__(self, func, maxsize, typed):
        self.__wrapped__ = func
        self.__name__ = func.__name__
        self.__qualname__ = getattr(func, "__qualname__", func.__name__)
        self._maxsize = maxsize
        self._cache = {}
        self._order = []
        self._hits = 0
        self._misses = 0

    def __call__(self, *args, **kwargs):
        key = args
        if kwargs:
            key = args + (_KWD_MARK,) + tuple(kwargs.items())
        if key in self._cache:
            self._hits += 1
            if self._maxsize is not None:
                self._order.remove(key)
                self._order.append(key)
            return self._cache[key]
        self._misses += 1
        result = self.__wrapped__(*args, **kwargs)
        if self._maxsize is None:
            self._cache[key] = result
        elif self._maxsize > 0:
            if len(self._order) >= self._maxsize:
                del self._cache[self._order.pop(0)]
            self._cache[key] = result
            self._order.append(key)
        return result

    def cache_info(self):
        return CacheInfo(self._hits, self._misses, self._maxsize, len(self._cache))

    def cache_clear(self):
        self._cache.clear()
        self._order.clear()
        self._hits = 0
        self._misses = 0


_KWD_MARK = ("functools._KWD_MARK",)


def lru_cache(maxsize=128, typed=False):
    if callable(maxsize) and not isinstance(maxsize, bool):
        return _Cached(maxsize, 128, False)
    if maxsize is not None:
        if not isinstance(maxsize, int):
            raise TypeError("Expected first argument to be an integer, a callable, or None")
        if maxsize < 0:
            maxsize = 0

    def decorating(func):
        return _Cached(func, maxsize, typed)

    return decorating


def cache(func):
    return _Cached(func, None, False)


def cmp_to_key(mycmp):
    class K:
        __slots__ = ["obj"]

        def __init__(self, obj):
            self.obj = obj

        def __lt__(self, other):
            return mycmp(self.obj, other.obj) < 0

        def __gt__(self, other):
            return mycmp(self.obj, other.obj) > 0

        def __eq__(self, other):
            return mycmp(self.obj, other.obj) == 0

        def __le__(self, other):
            return mycmp(self.obj, other.obj) <= 0

        def __ge__(self, other):
            return mycmp(self.obj, other.obj) >= 0

        __hash__ = None

    return K


def total_ordering(cls):
    ops = ["__lt__", "__le__", "__gt__", "__ge__"]
    roots = [op for op in ops if _defines(cls, op)]
    if not roots:
        raise ValueError("must define at least one ordering operation: < > <= >=")
    root = roots[0]

    def lt(self, other):
        return _by(self, other, root, "__lt__")

    def le(self, other):
        return _by(self, other, root, "__le__")

    def gt(self, other):
        return _by(self, other, root, "__gt__")

    def ge(self, other):
        return _by(self, other, root, "__ge__")

    for name, f in [("__lt__", lt), ("__le__", le), ("__gt__", gt), ("__ge__", ge)]:
        if name not in roots:
            setattr(cls, name, f)
    return cls


def _defines(cls, op):
    # Its own or a base's, not object's.
    return getattr(cls, op, None) is not getattr(object, op, None)


def _by(self, other, root, wanted):
    # `wanted` from `root` and `==`, as CPython's total_ordering derives it.
    r = getattr(self, root)(other)
    if r is NotImplemented:
        return r
    eq = self == other
    if root == "__lt__":
        return {"__le__": r or eq, "__gt__": not r and not eq, "__ge__": not r}[wanted]
    if root == "__le__":
        return {"__lt__": r and not eq, "__gt__": not r, "__ge__": not r or eq}[wanted]
    if root == "__gt__":
        return {"__lt__": not r and not eq, "__le__": not r, "__ge__": r or eq}[wanted]
    return {"__lt__": not r, "__le__": not r or eq, "__gt__": r and not eq}[wanted]
