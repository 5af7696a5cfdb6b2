"""What loops of Python cost an iteration: CPython's thread CPU time, or the
simulation's virtual time (a benchmark, not a test).

    python3 web/benches/instr_costs.py            # CPython 3.11 on this machine
    twine-sim web/benches/instr_costs.py          # the simulation's costs

Each line is a loop and its nanoseconds an iteration, the fastest of five
rounds after ten to let CPython specialise it. `python::cost` was fitted
to CPython's figures from this file (see its table for the date and the
figures).
"""
import time

N = 20000
clock = getattr(time, "thread_time", None) or time.perf_counter

class O:
    def __init__(self):
        self.a = 1
    def m(self):
        return 1

def f():
    pass

def g(x, y):
    return x

def local_while():
    i = 0
    n = N
    while i < n:
        i += 1

def for_pass():
    for _ in range(N):
        pass

def for_call():
    for _ in range(N):
        f()

def for_call2():
    for i in range(N):
        g(i, 2)

def for_attr():
    o = O()
    for _ in range(N):
        x = o.a

def for_setattr():
    o = O()
    for i in range(N):
        o.a = i

def for_method():
    o = O()
    for _ in range(N):
        o.m()

def for_append():
    l = []
    for i in range(N):
        l.append(i)

def for_subscr():
    d = {1: 2}
    for _ in range(N):
        x = d[1]

def for_setitem():
    d = {}
    for i in range(N):
        d[i & 63] = i

def for_tuple():
    for i in range(N):
        t = (i, i)

def for_list():
    for i in range(N):
        t = [i, i, i]

def for_fstring():
    for i in range(N):
        s = f"n={i}"

def for_arith():
    x = 0
    for i in range(N):
        x = (x + i * 3) % 1000

def for_compare():
    c = 0
    for i in range(N):
        if i < 100 or i == 500:
            c += 1

def for_len():
    l = [1, 2, 3]
    for _ in range(N):
        n = len(l)

def for_strmethod():
    s = "gil-read-then-write"
    for _ in range(N):
        s.endswith("-locked")

hits = 0
def global_inc():
    global hits
    for _ in range(N):
        hits += 1

def for_isinstance():
    for i in range(N):
        isinstance(i, int)

def for_listcomp():
    for _ in range(N // 10):
        l = [x for x in range(10)]

def for_try():
    for i in range(N):
        try:
            x = i
        except ValueError:
            pass

def for_lock():
    import threading
    lk = threading.Lock()
    for _ in range(N):
        with lk:
            pass

VARIANT = 'nogil-unlocked'
def counter():
    global hits
    for _ in range(N):
        if VARIANT.endswith('-locked'):
            pass
        elif VARIANT == 'gil-read-then-write':
            pass
        else:
            hits += 1
def mkclass():
    for _ in range(N // 10):
        class A:
            pass
def mkfunc():
    for _ in range(N):
        def h():
            pass
def raise_catch():
    for _ in range(N):
        try:
            raise ValueError("x")
        except ValueError:
            pass
def gen():
    def g():
        for i in range(N):
            yield i
    for _ in g():
        pass
def kwcall():
    def k(a, b=1):
        return a
    for _ in range(N):
        k(1, b=2)
def unpack():
    t = (1, 2)
    for _ in range(N):
        a, b = t
def strcmp():
    s = VARIANT
    for _ in range(N):
        s == 'gil-read-then-write'
BENCHES = [local_while, for_pass, for_call, for_call2, for_attr, for_setattr, for_method, for_append,
           for_subscr, for_setitem, for_tuple, for_list, for_fstring, for_arith, for_compare, for_len,
           for_strmethod, global_inc, for_isinstance, for_listcomp, for_try, for_lock,
           counter, mkclass, mkfunc, raise_catch, gen, kwcall, unpack, strcmp]

for b in BENCHES:
    n = N // 10 if b is mkclass else N
    # CPython specialises a function's code after eight calls (a `while`
    # loop's backward jumps do not count): measure it specialised, as hot
    # code runs.
    for _ in range(10):
        b()
    best = float("inf")
    for _ in range(5):
        t = clock()
        b()
        best = min(best, clock() - t)
    print(f"{b.__name__} {best / n * 1e9:.1f}")
