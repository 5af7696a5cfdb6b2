"""twine.py: run a twine playground experiment in real CPython with Twisted.

A playground experiment is a plain Twisted program plus a few calls to this
module for what Python cannot say by itself: the machine it models, CPU work,
the clients that load its server, its variants. In the playground these calls
drive the simulation; here they do the real thing:

- ``machine(cores=4, gil=True, switch_interval_ms=5)`` pins the process to
  ``cores`` CPUs (when the machine has them) and sets the GIL's switch
  interval. CPython 3.11 always has a GIL: ``gil=False`` is recorded and
  reported (``runtime.gil``), not obeyed;
- ``cpu(ms)`` burns ``ms`` milliseconds of this thread's CPU time (a spin on
  ``time.thread_time``, so time spent waiting for the GIL or a core does not
  count as work done, as in the simulation; under 50 us, a loop counted to
  the thread's own speed, since a clock read alone costs about 0.8 us);
- ``clients(...)`` starts a real load generator in a separate process (so it
  does not compete for this interpreter's GIL) once the reactor runs: TCP line
  clients on loopback sending request numbers as lines and timing the echoes,
  open loop (``rate_per_s``) or closed loop (``closed=K``). When every request
  is answered the reactor stops;
- ``duration(ms)`` stops the reactor after ``ms`` milliseconds;
- ``variant(name="title", ...)`` returns the variant chosen with
  ``--variant NAME`` (default: the first one).

Run an experiment with ``python3 experiment.py [--variant V] [--seed N]
[--metrics]``. Without ``--metrics`` the program prints as usual; with it,
printed lines are captured and, at exit, one JSON object goes to standard
output with the fields ``twine-sim --metrics`` prints that a real run can
measure: ``requests`` (latency percentiles in ms by nearest rank, throughput),
``reactor.lag`` (how late timed calls ran), ``output`` (each printed line with
its time in ms since start and its thread), ``time_ms``, ``end_reason``, plus
``runtime`` (what ran it). So a run here can be diffed against the simulation.

This module needs only the standard library (and Twisted, when the program
uses ``clients`` or ``duration``).
"""

import atexit
import heapq
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

__all__ = ["machine", "cpu", "clients", "duration", "variant", "now"]

_START = time.perf_counter()


def now():
    """Seconds since the program started (the simulation's virtual clock)."""
    return time.perf_counter() - _START


def _ms(seconds):
    return round(seconds * 1000.0, 6)


# ---- command line ---------------------------------------------------------

def _take_flag(name, has_value):
    """Removes ``--name [value]`` (or ``--name=value``) from sys.argv."""
    argv = sys.argv
    for i, arg in enumerate(argv[1:], start=1):
        if arg == name:
            if not has_value:
                del argv[i]
                return True
            if i + 1 >= len(argv):
                raise SystemExit(f"twine: {name} needs a value")
            value = argv[i + 1]
            del argv[i:i + 2]
            return value
        if has_value and arg.startswith(name + "="):
            del argv[i]
            return arg.split("=", 1)[1]
    return None


_METRICS = bool(_take_flag("--metrics", False))
_SEED = int(_take_flag("--seed", True) or os.environ.get("TWINE_SEED", "1"))
_VARIANT_FLAG = _take_flag("--variant", True) or os.environ.get("TWINE_VARIANT")
random.seed(_SEED)

_settings = {"cores": None, "gil": True, "switch_interval_ms": None, "noise": True}
_chosen_variant = None
_clients = None
_ended = {"reason": "quiet"}


# ---- printed output -------------------------------------------------------

# The main thread runs the reactor: 0, as in the simulation; others are
# numbered in the order they first print.
_thread_numbers = {threading.main_thread().ident: 0}


def _thread_number():
    return _thread_numbers.setdefault(threading.get_ident(), len(_thread_numbers))


def _written(t, text):
    """The report's record of a line of output the current thread wrote at ``t``."""
    return {"t_ms": _ms(t), "thread": _thread_number(), "name": threading.current_thread().name, "text": text}


class _Capture:
    """Standard output that records each printed line with its time and thread."""

    def __init__(self, inner, echo):
        self._inner = inner
        self._echo = echo
        # Per thread, its unfinished line: [pieces, record, time of the last
        # piece]. The pieces are joined only once a newline ends the line (so
        # a line written in many pieces, by json.dump or print(..., end=""),
        # costs its length, not its length squared); the record and time are
        # for a program that ends before the newline.
        self._partial = {}
        self._lines = []
        self._lock = threading.Lock()

    def write(self, text):
        t = now()
        ident = threading.get_ident()
        with self._lock:
            unfinished = self._partial.get(ident)
            if unfinished is None:
                unfinished = self._partial[ident] = [[], None, t]
            *complete, rest = text.split("\n")
            if complete:
                complete[0] = "".join(unfinished[0]) + complete[0]
                self._lines.extend(_written(t, line) for line in complete)
                unfinished[0] = []
            if rest:
                if not unfinished[0]:
                    # The line's writer, looked up once and not for every piece.
                    unfinished[1] = _written(t, None)
                unfinished[0].append(rest)
                unfinished[2] = t
        if self._echo:
            self._inner.write(text)
        return len(text)

    def lines(self):
        """The lines written, with each thread's unfinished last line (as the simulation reports it)."""
        with self._lock:
            unfinished = [
                dict(record, t_ms=_ms(t), text="".join(pieces))
                for pieces, record, t in self._partial.values() if pieces
            ]
            by_time = lambda r: r["t_ms"]
            return list(heapq.merge(self._lines, sorted(unfinished, key=by_time), key=by_time))

    def flush(self):
        if self._echo:
            self._inner.flush()

    def __getattr__(self, name):
        return getattr(self._inner, name)


_real_stdout = sys.stdout
_capture = _Capture(_real_stdout, echo=not _METRICS)
sys.stdout = _capture


# ---- the machine ----------------------------------------------------------

def machine(cores=None, gil=True, switch_interval_ms=None, noise=True, **ignored):
    """Sets up the machine the experiment models, as far as a real one can.

    ``noise=False`` only affects the simulation (it turns off its model of a
    real machine's wake-up latency and CPU speed variation); a real machine
    has no such switch, so here it is only recorded.
    """
    _settings.update(cores=cores, gil=gil, switch_interval_ms=switch_interval_ms, noise=noise)
    if cores is not None and hasattr(os, "sched_setaffinity"):
        available = sorted(os.sched_getaffinity(0))
        if cores <= len(available):
            os.sched_setaffinity(0, available[:cores])
    if switch_interval_ms is not None:
        sys.setswitchinterval(switch_interval_ms / 1000.0)


def _burn(n):
    """An empty loop of ``n`` iterations. It runs over ``itertools.repeat``,
    whose iterations all cost the same (``range`` makes a new int past 256)."""
    for _ in itertools.repeat(None, n):
        pass


def _typical(calls, rounds=5):
    """The median of a few rounds of ``calls()`` in this thread's CPU time:
    an interrupted round is left out, and so is a lucky one. Calibrated on
    the fastest rounds, ``cpu(0.01)`` took 10.32 us at the median of 16
    processes here (9.6-10.8); on the median rounds, 10.09 (9.4-11.1),
    the two interleaved (2026-12-05)."""
    took = []
    for _ in range(rounds):
        started = time.thread_time()
        calls()
        took.append(time.thread_time() - started)
    return sorted(took)[rounds // 2]


def _iteration_cost():
    """Seconds of this thread's CPU time one iteration of ``_burn`` costs,
    from calls of two sizes."""

    def small():
        for _ in range(200):
            _burn(10)

    def large():
        for _ in range(4):
            _burn(50_000)

    return max((_typical(large) / 4 - _typical(small) / 200) / 49_990, 1e-10)


def _call_cost():
    """Seconds of this thread's CPU time a ``cpu()`` call costs besides its
    burn: ``cpu(0)`` calls, less the loop that makes them. The simulation
    charges ``cpu(ms)`` as ``ms`` with the call in it, so a call must not
    add its own ~0.5 us on top (counter-race.py's ``cpu(0.001)`` took
    1.35 us, widening the window between its read and its write)."""

    def calls():
        for _ in range(200):
            cpu(0)

    def loop():
        for _ in range(200):
            pass

    return max((_typical(calls) - _typical(loop)) / 200, 0.0)


# Burns shorter than this are counted loops: a clock read
# (``time.thread_time()``, a system call) costs about 0.8 us, so timing
# ``cpu(0.001)`` made it 2.3 us. Longer burns are timed, at most a read over.
_COUNTED_S = 50e-6


# A counted burn of at least this many iterations (about 5 us) corrects its
# thread's iteration cost. The same loop runs at a different speed in each
# thread: 4.4 to 8.4 ns an iteration in ten threads of one process here
# (CPython 3.11, 2026-12-06), steady within a thread, so a speed measured
# once, in the main thread, made ``cpu(0.01)`` burn 6.8 to 11.5 us.
_LEARN_FROM = 1000


def cpu(ms):
    """Burns ``ms`` milliseconds of this thread's CPU time."""
    seconds = ms / 1000.0
    if seconds < _COUNTED_S:
        speed = _thread_speed.__dict__
        per_iteration = speed.get("cost", _PER_ITERATION)
        n = max(round((seconds - _PER_CALL) / per_iteration), 0)
        started = time.perf_counter()
        _burn(n)
        took = time.perf_counter() - started
        if n >= _LEARN_FROM:
            ran = (took - _TIMING_COST) / n
            # A burn the GIL or the OS interrupted says nothing of the speed.
            if per_iteration / 2 < ran < 2 * per_iteration:
                speed["cost"] = 0.75 * per_iteration + 0.25 * ran
        return
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _timing_cost():
    """Seconds between the two clock reads around a counted burn of none."""
    took = []
    for _ in range(1000):
        started = time.perf_counter()
        _burn(0)
        took.append(time.perf_counter() - started)
    return sorted(took)[len(took) // 2]


# Each thread's cost of one iteration of ``_burn``, once it has burned enough
# to know (``cpu()``); until then the main thread's, measured at import.
_thread_speed = threading.local()
_PER_ITERATION = _iteration_cost()
_TIMING_COST = _timing_cost()
# ``cpu()`` reads it: zero while the call's own cost is timed.
_PER_CALL = 0.0
_PER_CALL = _call_cost()


def variant(**titles):
    """The variant chosen with ``--variant`` (default: the first given)."""
    global _chosen_variant
    if not titles:
        raise TypeError("variant() needs at least one name=title")
    names = list(titles)
    chosen = _VARIANT_FLAG or names[0]
    if chosen not in titles:
        raise SystemExit(f"twine: no variant {chosen!r}; this experiment has: {', '.join(names)}")
    _chosen_variant = chosen
    return chosen


def duration(ms):
    """Stops the reactor ``ms`` milliseconds from now."""
    from twisted.internet import reactor

    def stop():
        if reactor.running:
            _ended["reason"] = "duration"
            reactor.stop()

    reactor.callLater(ms / 1000.0, stop)


# ---- loop lag: how late timed calls run -----------------------------------

_lags = []


def _watch_timers():
    try:
        from twisted.internet import reactor
    except ImportError:
        return
    if getattr(reactor, "_twine_watched", False):
        return
    original = reactor.callLater

    def call_later(delay, f, *args, **kwargs):
        due = reactor.seconds() + max(delay, 0)

        def timed(*a, **kw):
            _lags.append(max(reactor.seconds() - due, 0.0))
            return f(*a, **kw)

        return original(delay, timed, *args, **kwargs)

    reactor.callLater = call_later
    reactor._twine_watched = True


# Installing the default reactor here is what `from twisted.internet import
# reactor` in the program does a moment later; the clock starts after it, so
# importing Twisted is not charged to the experiment.
_watch_timers()
_START = time.perf_counter()


# ---- clients --------------------------------------------------------------

def clients(rate_per_s=None, requests=None, connections=1, arrival="fixed", port=1234,
            closed=None, think_ms=0.0, think="fixed", start_ms=0.0, host="127.0.0.1"):
    """Loads the server on ``port`` with line clients, once the reactor runs."""
    global _clients
    if (rate_per_s is None) == (closed is None):
        raise TypeError("clients() needs either rate_per_s=... (open loop) or closed=K (closed loop)")
    if requests is None:
        raise TypeError("clients() needs requests=N (a real run must end)")
    spec = {
        "host": host, "port": port, "requests": requests, "seed": _SEED,
        "start_ms": start_ms,
    }
    if closed is None:
        spec.update(kind="open", rate_per_s=rate_per_s, connections=connections, arrival=arrival)
    else:
        spec.update(kind="closed", clients=closed, think_ms=think_ms, think=think)
    _clients = {"spec": spec, "result": None}
    from twisted.internet import reactor
    reactor.callWhenRunning(_start_load, spec)


def _start_load(spec):
    from twisted.internet import reactor
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--load", json.dumps(spec)],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )

    def wait():
        out, _ = proc.communicate()
        try:
            _clients["result"] = json.loads(out.decode() or "null")
        except ValueError:
            _clients["result"] = None
        reactor.callFromThread(_load_done)

    threading.Thread(target=wait, name="twine-load", daemon=True).start()


def _load_done():
    from twisted.internet import reactor
    if reactor.running:
        _ended["reason"] = "quiet"
        reactor.stop()


# ---- the clients' schedule (twine_scenario::arrivals, ported) -------------
#
# The simulation and `twine run` draw a seed's arrival times and think times
# from twine_scenario's arrivals module; these are the same numbers, bit for
# bit (SplitMix64, and a logarithm from + - * / only, as there), so CPython's
# load generator sends on the same schedule for the same seed. Times are
# integer nanoseconds from the load's start.

_MASK = (1 << 64) - 1
_OPEN_STREAM = 0xa8817a1500000001
_CLOSED_STREAM = 0xc105edc11e470002
_GAMMA = 0x9e3779b97f4a7c15


class _Rng:
    """twine_scenario::rng::Rng."""

    def __init__(self, seed):
        self.state = (seed ^ 0x6a09e667f3bcc909) & _MASK

    def skip(self, n):
        self.state = (self.state + _GAMMA * n) & _MASK

    def next_u64(self):
        self.state = (self.state + _GAMMA) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & _MASK
        return z ^ (z >> 31)

    def next_f64(self):
        return float(self.next_u64() >> 11) * (1.0 / float(1 << 53))

    def exponential(self, mean):
        return -mean * _ln(1.0 - self.next_f64())


def _ln(x):
    """twine_scenario::rng::ln for x in (0, 1] and beyond (never subnormal here)."""
    import struct
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    exponent = ((bits >> 52) & 0x7ff) - 1023
    mantissa = struct.unpack("<d", struct.pack("<Q", (bits & 0x000fffffffffffff) | 0x3ff0000000000000))[0]
    if mantissa > 1.4142135623730951:
        mantissa /= 2.0
        exponent += 1
    s = (mantissa - 1.0) / (mantissa + 1.0)
    s2 = s * s
    term = s
    total = s
    for k in range(1, 14):
        term *= s2
        total += term / float(2 * k + 1)
    return 2.0 * total + float(exponent) * 0.6931471805599453


def _round_ns(x):
    """Rust's f64::round (half away from zero) then `as u64` (saturating)."""
    import math
    if x != x or x <= 0:
        return 0
    if x >= 2.0 ** 64:
        return _MASK
    whole = math.floor(x)
    return min(int(whole) + (1 if x - whole >= 0.5 else 0), _MASK)


def _open_arrivals(seed, start_ns, mean_gap_ns, poisson, n):
    """The first n open-loop send times (twine_scenario::arrivals::OpenArrivals)."""
    rng = _Rng(seed ^ _OPEN_STREAM)
    due, out = start_ns, []
    for _ in range(n):
        out.append(due)
        gap = rng.exponential(mean_gap_ns) if poisson else mean_gap_ns
        due = min(due + max(_round_ns(gap), 1), _MASK)
    return out


class _ClosedClient:
    """twine_scenario::arrivals::ClosedClient: one client's first send and think times."""

    def __init__(self, seed, client, think_ns, exponential):
        root = _Rng(seed ^ _CLOSED_STREAM)
        root.skip(client)
        self.rng = _Rng(root.next_u64())
        self.think, self.exponential = think_ns, exponential

    def first_send(self, start_ns):
        return start_ns + _round_ns(self.rng.next_f64() * float(self.think))

    def pause(self):
        return _round_ns(self.rng.exponential(float(self.think))) if self.exponential else self.think


def _ms_ns(ms):
    """A scenario's milliseconds in nanoseconds, rounded as twine_scenario compiles them."""
    return _round_ns(ms * 1e6)


def _load(spec):
    """The load generator (its own process): prints its measurements as JSON."""
    seed = spec["seed"]
    t0 = time.perf_counter()
    start_ns = _ms_ns(spec["start_ms"])
    n_conns = spec["connections"] if spec["kind"] == "open" else spec["clients"]
    # Open loop: `requests` in all; closed loop: per client, as in the simulation.
    total = spec["requests"] * (1 if spec["kind"] == "open" else n_conns)
    sent_at = {}
    latencies = []
    socks = []
    for _ in range(n_conns):
        s = socket.create_connection((spec["host"], spec["port"]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
    import selectors
    sel = selectors.DefaultSelector()
    buffers = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
        buffers[i] = b""
    state = {"first": None, "last": None, "next_req": 0}

    def send(conn, req):
        now_ = time.perf_counter()
        sent_at[req] = now_
        if state["first"] is None:
            state["first"] = now_
        socks[conn].sendall(f"{req}\r\n".encode())

    # Open loop: arrival times fixed in advance; closed loop: per-client next send.
    next_send = {}
    arrivals = []
    closed = []
    if spec["kind"] == "open":
        due = _open_arrivals(seed, start_ns, 1e9 / spec["rate_per_s"], spec["arrival"] == "poisson", total)
        arrivals = [t0 + ns / 1e9 for ns in due]
    else:
        think_ns = _ms_ns(spec["think_ms"])
        closed = [_ClosedClient(seed, c, think_ns, spec["think"] == "exponential") for c in range(n_conns)]
        for c in range(n_conns):
            next_send[c] = t0 + closed[c].first_send(start_ns) / 1e9
    owner = {}
    sent_by = [0] * n_conns
    deadline = time.perf_counter() + 600
    while len(latencies) < total and time.perf_counter() < deadline:
        now_ = time.perf_counter()
        if spec["kind"] == "open":
            while state["next_req"] < total and arrivals[state["next_req"]] <= now_:
                req = state["next_req"]
                state["next_req"] += 1
                send(req % n_conns, req)
            wake = arrivals[state["next_req"]] if state["next_req"] < total else now_ + 1
        else:
            for c, at in list(next_send.items()):
                if at is not None and at <= now_ and state["next_req"] < total:
                    req = state["next_req"]
                    state["next_req"] += 1
                    owner[req] = c
                    sent_by[c] += 1
                    next_send[c] = None
                    send(c, req)
            pending = [at for at in next_send.values() if at is not None]
            wake = min(pending) if pending else now_ + 1
        for key, _ in sel.select(timeout=max(0.0, min(wake - time.perf_counter(), 0.5))):
            i = key.data
            try:
                chunk = socks[i].recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(socks[i])
                continue
            buffers[i] += chunk
            *lines, buffers[i] = buffers[i].split(b"\r\n")
            t = time.perf_counter()
            for line in lines:
                try:
                    req = int(line)
                except ValueError:
                    continue
                if req in sent_at:
                    latencies.append(t - sent_at.pop(req))
                    state["last"] = t
                    if spec["kind"] == "closed":
                        c = owner.pop(req)
                        if sent_by[c] < spec["requests"]:
                            next_send[c] = t + closed[c].pause() / 1e9
    for s in socks:
        s.close()
    ordered = sorted(latencies)

    def pct(p):
        if not ordered:
            return 0.0
        import math
        rank = min(max(math.ceil(p * len(ordered)), 1), len(ordered))
        return _ms(ordered[rank - 1])

    span = (state["last"] or 0) - (state["first"] or 0)
    json.dump({
        "sent": total - (total - state["next_req"]),
        "completed": len(latencies),
        "in_flight": state["next_req"] - len(latencies),
        "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99),
        "max_ms": _ms(ordered[-1]) if ordered else 0.0,
        "mean_ms": _ms(sum(ordered) / len(ordered)) if ordered else 0.0,
        "throughput_per_s": len(latencies) / span if span > 0 else 0.0,
    }, sys.stdout)


# ---- the report -----------------------------------------------------------

def _percentiles(values):
    ordered = sorted(values)
    if not ordered:
        return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "mean_ms": 0.0}
    import math

    def pct(p):
        rank = min(max(math.ceil(p * len(ordered)), 1), len(ordered))
        return _ms(ordered[rank - 1])

    return {
        "samples": len(ordered), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
        "max_ms": _ms(ordered[-1]), "mean_ms": _ms(sum(ordered) / len(ordered)),
    }


def _report():
    if not _METRICS:
        return
    main = sys.modules.get("__main__")
    name = os.path.splitext(os.path.basename(getattr(main, "__file__", "") or "experiment"))[0]
    try:
        import twisted
        twisted_version = twisted.__version__
    except ImportError:
        twisted_version = None
    result = (_clients or {}).get("result") or {}
    requests = {k: result.get(k, 0) for k in (
        "sent", "completed", "in_flight", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms", "throughput_per_s")}
    report = {
        "scenario": name,
        "variant": _chosen_variant,
        "seed": _SEED,
        "end_reason": _ended["reason"],
        "time_ms": _ms(now()),
        "requests": requests,
        "reactor": {"lag": _percentiles(_lags)},
        "output": _capture.lines(),
        "runtime": {
            "python": sys.version.split()[0],
            "twisted": twisted_version,
            "gil": True,
            "gil_requested": _settings["gil"],
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cores_requested": _settings["cores"],
            "switch_interval_ms": sys.getswitchinterval() * 1000.0,
            # Recorded only: a real machine's noise cannot be switched off.
            "noise_requested": _settings["noise"],
        },
    }
    _real_stdout.write(json.dumps(report) + "\n")
    _real_stdout.flush()


if __name__ == "__main__":
    schedule = _take_flag("--schedule", True)
    if schedule is not None:
        # For the tests: a seed's open-loop send times, or a closed-loop
        # client's first send and then its think times, in nanoseconds.
        s = json.loads(schedule)
        if s["kind"] == "open":
            out = _open_arrivals(s["seed"], s["start_ns"], s["mean_gap_ns"], s["poisson"], s["n"])
        else:
            c = _ClosedClient(s["seed"], s["client"], s["think_ns"], s["exponential"])
            out = [c.first_send(s["start_ns"])] + [c.pause() for _ in range(s["n"] - 1)]
        json.dump(out, _real_stdout)
        raise SystemExit(0)
    load = _take_flag("--load", True)
    if load is None:
        raise SystemExit("twine.py is imported by an experiment: python3 experiment.py [--metrics]")
    sys.stdout = _real_stdout
    _load(json.loads(load))
else:
    atexit.register(_report)
