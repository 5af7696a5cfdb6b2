# copy for the simulator, written in the subset it runs: copy() and
# deepcopy() of the built-in containers (a defaultdict's or Counter's
# copy is one too), instances (their attributes; `__copy__` and
# `__deepcopy__` when a class defines them), shared and cyclic parts
# copied once, as CPython's memo does.


class Error(Exception):
    pass


error = Error


def _atomic(x):
    return x is None or isinstance(x, (int, float, str, bool, bytes)) or callable(x)


def copy(x):
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return x.copy()
    if isinstance(x, set):
        return set(x)
    if isinstance(x, tuple) or _atomic(x) or isinstance(x, frozenset):
        return x
    method = getattr(x, "__copy__", None)
    if method is not None:
        return method()
    return _clone(x)


def deepcopy(x, memo=None):
    if memo is None:
        memo = {}
    key = id(x)
    if key in memo:
        return memo[key]
    if _atomic(x):
        return x
    if isinstance(x, list):
        y = []
        memo[key] = y
        for item in x:
            y.append(deepcopy(item, memo))
        return y
    if isinstance(x, dict):
        y = x.copy()
        y.clear()
        memo[key] = y
        for k, v in x.items():
            y[deepcopy(k, memo)] = deepcopy(v, memo)
        return y
    if isinstance(x, tuple):
        items = [deepcopy(item, memo) for item in x]
        for a, b in zip(items, x):
            if a is not b:
                y = tuple(items)
                memo[key] = y
                return y
        return x
    if isinstance(x, frozenset):
        return x
    if isinstance(x, set):
        y = set()
        memo[key] = y
        for item in x:
            y.add(deepcopy(item, memo))
        return y
    method = getattr(x, "__deepcopy__", None)
    if method is not None:
        y = method(memo)
        memo[key] = y
        return y
    y = _clone(x)
    memo[key] = y
    for name, value in vars(x).items():
        setattr(y, name, deepcopy(value, memo))
    return y
