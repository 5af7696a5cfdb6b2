//! Twisted's API as programs read it: the attributes and exceptions of
//! `DeferredQueue`, `DelayedCall`, `Deferred`, `LoopingCall` and the
//! reactor, the classes' names and modules, `addTimeout` on a Deferred
//! nothing else holds, `LoopingCall.withCount`'s first call, the order of
//! `callFromThread` calls, `returnValue`, and `task.Clock`. Each
//! expected output is what CPython 3.11 with Twisted 26.10 printed for the
//! same program when the test was written.

mod common;

fn output(source: &str) -> Vec<String> {
    common::printed("test.py", source)
}

#[test]
fn attributes_and_exceptions_of_twisteds_objects_as_twisted() {
    let out = output(
        r#"
from twisted.internet import defer, reactor, error, task

q = defer.DeferredQueue(size=3, backlog=1)
w = q.get()
print("waiting", len(q.waiting), q.waiting[0] is w, q.size, q.backlog)
try:
    q.get()
except defer.QueueUnderflow as e:
    print("underflow", repr(e))
q.put("a"); q.put("b"); q.put("c"); q.put("d")
print("pending", q.pending)
try:
    q.put("e")
except defer.QueueOverflow as e:
    print("overflow", repr(e))
w.addCallback(lambda x: print("got", x))

dc = reactor.callLater(1, print, "never")
print(dc.active(), dc.called, dc.cancelled)
dc.cancel()
print(dc.active(), dc.called, dc.cancelled)
for f in (dc.cancel, lambda: dc.reset(1), lambda: dc.delay(1)):
    try:
        f()
    except error.AlreadyCancelled as e:
        print(type(e).__name__, isinstance(e, ValueError), e)
dc2 = reactor.callLater(0, lambda: None)

d = defer.succeed(20)
d.addCallback(lambda x: x + 1)
print("result", d.result)
try:
    d.callback(1)
except defer.AlreadyCalledError as e:
    print("again", repr(e))
try:
    defer.Deferred().result
except AttributeError:
    print("no result yet")
f = defer.fail(KeyError("k"))
print("failure result", f.result.type, f.result.value)
f.addErrback(lambda _: None)
c = defer.Deferred()
c.cancel()
c.callback("ignored after a cancel")
c.addErrback(lambda f: print("cancelled", f.type))

lc = task.LoopingCall(lambda: None)
print("lc", lc.running, lc.interval)

def later():
    try:
        dc2.cancel()
    except error.AlreadyCalled as e:
        print(type(e).__name__, e, dc2.called, dc2.cancelled)
    lc.start(0.5)
    print("lc", lc.running, lc.interval)
    lc.stop()
    print("lc", lc.running)
    reactor.stop()
reactor.callLater(0.1, later)
reactor.run()
try:
    reactor.stop()
except error.ReactorNotRunning as e:
    print(type(e).__name__, isinstance(e, RuntimeError), e)
print(KeyError, defer.CancelledError, error.ConnectionDone, defer.FirstError, error.AlreadyCalled)
class Echo: pass
print(Echo, Echo.__module__, KeyError.__module__, error.ConnectionDone.__module__)
"#,
    );
    assert_eq!(
        out,
        [
            "waiting 1 True 3 1",
            "underflow QueueUnderflow()",
            "pending ['b', 'c', 'd']",
            "overflow QueueOverflow()",
            "got a",
            "True 0 0",
            "False 0 1",
            "AlreadyCancelled True Tried to cancel an already-cancelled event.",
            "AlreadyCancelled True Tried to cancel an already-cancelled event.",
            "AlreadyCancelled True Tried to cancel an already-cancelled event.",
            "result 21",
            "again AlreadyCalledError()",
            "no result yet",
            "failure result <class 'KeyError'> 'k'",
            "cancelled <class 'twisted.internet.defer.CancelledError'>",
            "lc False None",
            "AlreadyCalled Tried to cancel an already-called event. 1 0",
            "lc True 0.5",
            "lc False",
            "ReactorNotRunning True Can't stop reactor that isn't running.",
            "<class 'KeyError'> <class 'twisted.internet.defer.CancelledError'> <class 'twisted.internet.error.ConnectionDone'> <class 'twisted.internet.defer.FirstError'> <class 'twisted.internet.error.AlreadyCalled'>",
            "<class '__main__.Echo'> __main__ builtins twisted.internet.error",
        ]
    );
}

#[test]
fn a_timeout_holds_its_deferred_and_fails_with_twisteds_timeout_error() {
    // The Deferreds go out of the program's reach when `arm` returns: the
    // reactor's timer keeps each, as Twisted's does, so each times out.
    let out = output(
        r#"
from twisted.internet import defer, reactor

def arm(name, timeout):
    # Nothing but the reactor holds this Deferred once arm returns.
    d = defer.Deferred()
    d.addTimeout(timeout, reactor)
    d.addErrback(lambda f: print(name, f.type.__name__, f.value.args, f.getErrorMessage()))

arm("a", 0.2)
reactor.callLater(0.1, arm, "b", 1)
reactor.callLater(0.5, arm, "c", 0.25)
reactor.callLater(1.5, reactor.stop)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "a TimeoutError (0.2, 'Deferred') (0.2, 'Deferred')",
            "c TimeoutError (0.25, 'Deferred') (0.25, 'Deferred')",
            "b TimeoutError (1, 'Deferred') (1, 'Deferred')",
        ]
    );
}

#[test]
fn with_count_makes_its_first_call_at_start_as_twisteds_arithmetic_does() {
    // Twisted computes the intervals since `start - interval`: on the epoch
    // clock that rounds to just short of one interval for 0.1 s (no call at
    // start, the first at 0.1 s) and exactly one for 0.25 s and 1 s.
    let out = output(
        r#"
from twisted.internet import reactor, task

runs = {}
def loop(interval):
    calls = runs.setdefault(interval, [])
    lc = task.LoopingCall.withCount(lambda n: calls.append((n, round(reactor.seconds() - t0, 1))))
    lc.start(interval)
    return lc

t0 = reactor.seconds()
loops = [loop(0.1), loop(0.25), loop(1)]
def stop():
    for interval, calls in runs.items():
        print(interval, calls)
    reactor.stop()
reactor.callLater(2.05, stop)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "0.1 [(1, 0.1), (1, 0.2), (1, 0.3), (1, 0.4), (1, 0.5), (1, 0.6), (1, 0.7), (1, 0.8), (1, 0.9), (1, 1.0), (1, 1.1), (1, 1.2), (1, 1.3), (1, 1.4), (1, 1.5), (1, 1.6), (1, 1.7), (1, 1.8), (1, 1.9), (1, 2.0)]",
            "0.25 [(1, 0.0), (1, 0.3), (1, 0.5), (1, 0.8), (1, 1.0), (1, 1.3), (1, 1.5), (1, 1.8), (1, 2.0)]",
            "1 [(1, 0.0), (1, 1.0), (1, 2.0)]",
        ]
    );
}

#[test]
fn call_from_thread_joins_the_pools_results_in_the_inbox_and_return_value_ends_inline_callbacks() {
    // A job's `callFromThread` reaches the reactor before the job's result
    // (both go through Twisted's `threadCallQueue`, in order); one made by
    // the reactor thread while it runs the thread calls waits for the next
    // turn, after a `callLater(0)` made at the same time. `returnValue`
    // (deprecated, in most older examples) ends an `inlineCallbacks`
    // generator with its value.
    let out = output(
        r#"
from twisted.internet import reactor, threads, defer

order = []
def job(n):
    reactor.callFromThread(order.append, "callFromThread in job %d" % n)
    return n

@defer.inlineCallbacks
def old_style(n):
    r = yield threads.deferToThread(job, n)
    order.append("result %d" % r)
    defer.returnValue(r * 10)

@defer.inlineCallbacks
def main():
    v = yield old_style(1)
    order.append("returnValue gave %d" % v)
    reactor.callLater(0, order.append, "callLater(0)")
    reactor.callFromThread(order.append, "callFromThread in the reactor")
    v = yield old_style(2)
    order.append("returnValue gave %d" % v)
    for line in order:
        print(line)
    reactor.stop()

reactor.callWhenRunning(main)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "callFromThread in job 1",
            "result 1",
            "returnValue gave 10",
            "callLater(0)",
            "callFromThread in the reactor",
            "callFromThread in job 2",
            "result 2",
            "returnValue gave 20",
        ]
    );
}

#[test]
fn a_failure_prints_and_reprs_as_twisteds() {
    // CPython printed the same, but for the frames' files (full paths) and
    // one more frame before the program's, Twisted's own
    // (`.../twisted/internet/defer.py:1082:_runCallbacks`), which the
    // simulator does not keep.
    let out = output(
        r#"
from twisted.internet import defer
from twisted.python import failure

def inner(x):
    raise ValueError("bad %s" % x)
def cb(x):
    return inner(x)
d = defer.succeed(1)
d.addCallback(cb)
d.addErrback(lambda f: print(f))
f = failure.Failure(KeyError("k"))
print(f)
print(repr(f))
print(repr(failure.Failure(defer.CancelledError())))
print(failure.Failure(defer.CancelledError()))
"#,
    );
    assert_eq!(
        out,
        [
            "[Failure instance: Traceback: <class 'ValueError'>: bad 1",
            "test.py:8:cb",
            "test.py:6:inner",
            "]",
            "[Failure instance: Traceback (failure with no frames): <class 'KeyError'>: 'k'",
            "]",
            "<twisted.python.failure.Failure builtins.KeyError: 'k'>",
            "<twisted.python.failure.Failure twisted.internet.defer.CancelledError: >",
            "[Failure instance: Traceback (failure with no frames): <class 'twisted.internet.defer.CancelledError'>: ",
            "]",
        ]
    );
}

#[test]
fn protocols_call_their_bases_through_the_class_slice_bytes_and_hit_twisteds_limits() {
    // `Factory.buildProtocol(self, addr)` and
    // `LineReceiver.lineLengthExceeded(self, line)` called through the
    // class; bytes sliced; a line over MAX_LENGTH handed on with its
    // delimiter and all that followed it; a str written; the reactor run
    // twice.
    let out = output(
        r#"
from twisted.internet.protocol import Protocol, Factory, ClientFactory
from twisted.internet import reactor, error
from twisted.protocols.basic import LineReceiver

class Raw(Protocol):
    def dataReceived(self, data):
        print("raw got", data)
        try:
            self.transport.write("text")
        except TypeError as e:
            print("TypeError", e)
        self.transport.write(data[::-1])

class RawFactory(Factory):
    protocol = Raw
    def buildProtocol(self, addr):
        print("buildProtocol", type(addr).__name__)
        return Factory.buildProtocol(self, addr)

class Small(LineReceiver):
    MAX_LENGTH = 5
    def lineReceived(self, line):
        print("small line", line)
    def lineLengthExceeded(self, line):
        print("too long", len(line))
        return LineReceiver.lineLengthExceeded(self, line)
    def connectionLost(self, reason):
        print("small lost", reason.type.__name__)

class Client(Protocol):
    def connectionMade(self):
        self.transport.write(b"abc")
    def dataReceived(self, data):
        print("client got", data)
        self.transport.loseConnection()

class Client2(Protocol):
    def connectionMade(self):
        self.transport.write(b"ok\r\nthis is far too long\r\n")

class CF(ClientFactory):
    def __init__(self, proto):
        self.protocol = proto
    def clientConnectionLost(self, connector, reason):
        print("lost", reason.getErrorMessage())

p = reactor.listenTCP(0, RawFactory())
port = p.getHost().port
print("port assigned", port > 0)
b = b"hello world"
print(b[1:4], b[::-1], b[-3:], b[::2], b[0])
try:
    b["x"]
except TypeError as e:
    print(e)
reactor.connectTCP("127.0.0.1", port, CF(Client))
p2 = reactor.listenTCP(0, Factory.forProtocol(Small))
reactor.connectTCP("127.0.0.1", p2.getHost().port, CF(Client2))
def stop():
    p.stopListening()
    reactor.stop()
reactor.callLater(0.5, stop)
reactor.run()
try:
    reactor.run()
except error.ReactorNotRestartable:
    print("not restartable")
"#,
    );
    assert_eq!(
        out,
        [
            "port assigned True",
            "b'ell' b'dlrow olleh' b'rld' b'hlowrd' 104",
            "byte indices must be integers or slices, not str",
            "buildProtocol IPv4Address",
            "raw got b'abc'",
            "TypeError Data must be bytes",
            "small line b'ok'",
            "too long 22",
            "small lost ConnectionDone",
            "client got b'cba'",
            "lost Connection was closed cleanly.",
            "lost Connection was closed cleanly.",
            "not restartable",
        ]
    );
}

#[test]
fn the_scheduling_howtos_looping_call_fails_into_its_errback_with_twisteds_tracebacks() {
    // Twisted's "Scheduling tasks for the future" example, failing at the
    // end. CPython printed the same lines, but for the frame's file (its
    // full path; the program starts on the raw string's second line, so
    // line 13 here is its line 12) in the brief traceback; `printTraceback()` with no file
    // writes to Twisted's error log, which prints nothing before
    // `startLogging`.
    let out = output(
        r#"
from twisted.internet import task, reactor
loopTimes = 3
failInTheEnd = True
_loopCounter = 0
def runEverySecond():
    global _loopCounter
    if _loopCounter < loopTimes:
        _loopCounter += 1
        print('A new second has passed.')
        return
    if failInTheEnd:
        raise Exception('Failure during loop execution.')
    loop.stop()
def cbLoopDone(result):
    print("Loop done.")
    reactor.stop()
def ebLoopFailed(failure):
    print(failure.getBriefTraceback().splitlines()[-1])
    print(failure.getTraceback().splitlines()[-1])
    failure.printTraceback()
    reactor.stop()
loop = task.LoopingCall(runEverySecond)
loopDeferred = loop.start(1.0)
loopDeferred.addCallback(cbLoopDone)
loopDeferred.addErrback(ebLoopFailed)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "A new second has passed.",
            "A new second has passed.",
            "A new second has passed.",
            "test.py:13:runEverySecond",
            "builtins.Exception: Failure during loop execution.",
        ]
    );
}

#[test]
fn chain_deferred_passthru_execute_line_only_receiver_and_the_pool_helpers() {
    // CPython ran it with `reactor.getThreadPool()` as the pool, which the
    // simulator has no object for (`deferToThreadPool` takes any).
    let out = output(
        r#"
from twisted.internet import reactor, defer, threads
from twisted.protocols import basic
import threading

a, b = defer.Deferred(), defer.Deferred()
a.chainDeferred(b)
b.addCallback(lambda r: print("b got", r))
a.callback("chained")
print(a.result)
print(defer.passthru(5))
defer.execute(lambda x: x * 2, 21).addCallback(print)
defer.execute(lambda: 1 / 0).addErrback(lambda f: print("execute failed", f.type.__name__))
print(issubclass(basic.LineOnlyReceiver, basic.LineReceiver), basic.LineOnlyReceiver)

order = []
def work(tag):
    order.append((tag, threading.current_thread().name.startswith("PoolThread")))
threads.callMultipleInThread([(work, ("one",), {}), (work, ("two",), {})])
d = threads.deferToThreadPool(reactor, None, lambda: "from the pool")
d.addCallback(print)
def done():
    print(order)
    reactor.stop()
reactor.callLater(0.1, done)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "b got chained",
            "None",
            "5",
            "42",
            "execute failed ZeroDivisionError",
            "False <class 'twisted.protocols.basic.LineOnlyReceiver'>",
            "from the pool",
            "[('one', True), ('two', True)]",
        ]
    );
}

#[test]
fn a_task_clock_runs_calls_looping_calls_and_defer_later_as_twisteds() {
    // Twisted's `Clock` and `DelayedCall`: equal times run in the order
    // made, a call made while advancing runs in that advance only if due,
    // `reset`/`delay`, cancelling, and its errors; a LoopingCall and
    // `deferLater` on it, a failing call, a cancelled deferLater.
    let out = output(
        r#"
from twisted.internet import task

clock = task.Clock()
calls = []
dc = clock.callLater(1.0, calls.append, "a")
clock.callLater(1.0, calls.append, "b")
clock.callLater(0.5, calls.append, "c")
print(dc.getTime(), dc.active(), dc.called, dc.cancelled, clock.seconds())
print(len(clock.getDelayedCalls()), [c.getTime() for c in clock.getDelayedCalls()])
clock.advance(0.5)
print(calls, clock.seconds())
dc.reset(2)
print(dc.getTime())
clock.advance(0.5)
print(calls, clock.seconds())
dc.delay(1)
print(dc.getTime())
clock.advance(3)
print(calls, dc.called, dc.active())
try:
    dc.cancel()
except Exception as e:
    print(type(e).__name__, e)
x = clock.callLater(1, calls.append, "x")
x.cancel()
print(x.cancelled, x.active(), clock.getDelayedCalls())
try:
    x.reset(1)
except Exception as e:
    print(type(e).__name__, e)

# A call scheduled while advancing runs in the same advance only if due.
def chain(n):
    calls.append(n)
    if n < 3:
        clock.callLater(0, chain, n + 1)
    clock.callLater(1, calls.append, "late%d" % n)
del calls[:]
clock.callLater(1, chain, 0)
clock.advance(1)
print(calls, len(clock.getDelayedCalls()))
clock.pump([0.5, 0.5])
print(calls, clock.seconds())

lc = task.LoopingCall(calls.append, "t")
lc.clock = clock
del calls[:]
d = lc.start(1.0)
d.addCallback(lambda r: print("stopped", r is lc))
print(calls, lc.running)
clock.pump([1, 1, 0.5])
print(calls)
lc.stop()
print(lc.running, clock.getDelayedCalls())

def fails():
    raise ValueError("boom")
lc2 = task.LoopingCall(fails)
lc2.clock = clock
lc2.start(2, now=False).addErrback(lambda f: print("failed", f.getErrorMessage()))
clock.advance(2)
print(lc2.running)

d = task.deferLater(clock, 2, lambda x: x * 2, 21)
d.addCallback(print)
clock.advance(1)
print("half")
clock.advance(1)
d = task.deferLater(clock, 1)
d.addCallback(lambda r: print("none", r))
d.addErrback(lambda f: print("cancelled", f.check(Exception) is not None, type(f.value).__name__))
d.cancel()
print(clock.getDelayedCalls())
"#,
    );
    assert_eq!(
        out,
        [
            "1.0 True 0 0 0.0",
            "3 [0.5, 1.0, 1.0]",
            "['c'] 0.5",
            "2.5",
            "['c', 'b'] 1.0",
            "3.5",
            "['c', 'b', 'a'] 1 False",
            "AlreadyCalled Tried to cancel an already-called event.",
            "1 False []",
            "AlreadyCancelled Tried to cancel an already-cancelled event.",
            "[0, 1, 2, 3] 4",
            "[0, 1, 2, 3, 'late0', 'late1', 'late2', 'late3'] 6.0",
            "['t'] True",
            "['t', 't', 't']",
            "stopped True",
            "False []",
            "failed boom",
            "False",
            "half",
            "42",
            "cancelled True CancelledError",
            "[]",
        ]
    );
}

#[test]
fn a_looping_call_on_a_clock_counts_fails_resets_and_stops_as_twisteds() {
    // `task.Clock` is a class; `withCount` counts the intervals a clock's
    // jump skipped; a call's exception leaves `advance` with the rest still
    // pending; `lc.clock` is the reactor until set.
    let out = output(
        r#"
from twisted.internet import task, reactor

clock = task.Clock()
print(task.Clock, isinstance(clock, task.Clock), type(clock.callLater(5, print)).__name__)
seen = []
lc = task.LoopingCall.withCount(lambda n: seen.append((n, clock.seconds())))
lc.clock = clock
print(lc.clock is clock)
lc.start(1, now=False)
clock.advance(1)
clock.advance(2.5)
clock.advance(0.5)
print(seen, lc.running, lc.interval)
print(repr(lc).startswith("LoopingCall<1>("))
lc.stop()

def boom():
    raise KeyError("k")
clock.callLater(1, boom)
clock.callLater(1, print, "after boom")
try:
    clock.advance(1)
except KeyError as e:
    print("raised", e, len(clock.getDelayedCalls()))
clock.advance(0)
lc3 = task.LoopingCall(print, "x")
print(lc3.clock is reactor)
lc3.clock = clock
lc3.start(0.5)
lc3.reset()
clock.advance(0.5)
lc3.stop()
try:
    lc3.stop()
except AssertionError as e:
    print("assert", e)
"#,
    );
    assert_eq!(
        out,
        [
            "<class 'twisted.internet.task.Clock'> True DelayedCall",
            "True",
            "[(1, 1.0), (2, 3.5), (1, 4.0)] True 1",
            "True",
            "",
            "raised 'k' 1",
            "after boom",
            "True",
            "x",
            "x",
            "assert Tried to stop a LoopingCall that was not running.",
        ]
    );
}

#[test]
fn the_reactors_delayed_calls_thread_pool_and_trigger_ids_as_twisteds() {
    // `getDelayedCalls()` gives back the objects `callLater` returned
    // (a LoopingCall's next call among them), without the cancelled;
    // `getThreadPool()` is one object whose counts follow the pool's
    // threads; a trigger's id removes it once, as Twisted's.
    let out = output(
        r#"
from twisted.internet import reactor, task, threads
import time

p = reactor.getThreadPool()
print(type(p).__name__, type(p).__module__, p.min, p.max, p.name, p.started, p.joined, p.threads, p.working, p.waiters)
reactor.suggestThreadPoolSize(4)
print(p.max, p is reactor.getThreadPool())

def work():
    time.sleep(0.1)
    pp = reactor.getThreadPool()
    return (pp.started, len(pp.threads), pp.threads[0].name, pp.workers, pp.working)

def check():
    print("running", p.started, p.threads, p.working, p.waiters)
    d = threads.deferToThread(work)
    d.addCallback(print)
    d.addCallback(lambda _: print("after", len(p.threads), p.working, p.waiters))
    lc = task.LoopingCall(lambda: None)
    lc.start(1.0)
    pending = reactor.getDelayedCalls()
    print("pending", len(pending), dc in pending, [round(c.getTime() - reactor.seconds(), 1) for c in pending])
    reactor.callLater(0.5, lambda: (lc.stop(), reactor.stop()))

reactor.callWhenRunning(check)
tid = reactor.addSystemEventTrigger("before", "shutdown", print, "before shutdown")
tid2 = reactor.addSystemEventTrigger("after", "shutdown", print, "after shutdown", end="!\n")
print(type(tid).__name__, len(tid), tid[0], tid[1][0], tid[1][2], tid2[1][3])
reactor.removeSystemEventTrigger(tid)
try:
    reactor.removeSystemEventTrigger(tid)
except ValueError as e:
    print("ValueError", e)
try:
    reactor.removeSystemEventTrigger(("x",))
except ValueError as e:
    print("ValueError", e)
dc = reactor.callLater(5, print, "x")
dc2 = reactor.callLater(1, print, "y")
dc3 = reactor.callLater(3, print, "z")
dc3.cancel()
print([round(c.getTime() - reactor.seconds(), 1) for c in reactor.getDelayedCalls()], reactor.getDelayedCalls()[1] is dc2)
dc2.cancel()
reactor.run()
print("joined", p.started, p.joined)
"#,
    );
    assert_eq!(
        out,
        [
            "ThreadPool twisted.python.threadpool 0 10 twisted.internet.reactor False False [] [] []",
            "4 True",
            "tuple 2 shutdown before ('before shutdown',) {'end': '!\\n'}",
            "ValueError list.remove(x): x not in list",
            "ValueError not enough values to unpack (expected 2, got 1)",
            "[5.0, 1.0] True",
            "running True [] [] []",
            "pending 2 True [5.0, 1.0]",
            "(True, 1, 'PoolThread-twisted.internet.reactor-0', 1, [None])",
            "after 1 [] [None]",
            "after shutdown!",
            "joined False True",
        ]
    );
}

#[test]
fn a_reconnecting_client_factory_retries_with_twisteds_delays_and_gives_up() {
    // Twisted's ReconnectingClientFactory without jitter: each delay the
    // last times `factor`, up to `maxDelay`, until `maxRetries`; and
    // `math.log`, which its jitter (`random.normalvariate`) uses.
    let out = output(
        r#"
import math
from twisted.internet import reactor, protocol

print(math.log(8, 2), math.log(math.e), math.log(100, 10))
for a in [(0,), (-1,), (8, 1), (8, 0)]:
    try:
        math.log(*a)
    except Exception as e:
        print(type(e).__name__, e)

start = reactor.seconds()

class Factory(protocol.ReconnectingClientFactory):
    jitter = 0
    maxDelay = 10
    maxRetries = 5
    protocol = protocol.Protocol

    def clientConnectionFailed(self, connector, reason):
        print("failed at %.1f, retries %d, delay %.3f" % (reactor.seconds() - start, self.retries, self.delay))
        protocol.ReconnectingClientFactory.clientConnectionFailed(self, connector, reason)
        if self.retries > self.maxRetries:
            print("gave up", self.retries, self._callID)
            reactor.stop()

f = Factory()
print(isinstance(f, protocol.ClientFactory), f.initialDelay, f.factor, f.jitter, f.continueTrying)
reactor.connectTCP("127.0.0.1", 1, f)
reactor.run()
f.resetDelay()
print(f.delay, f.retries, f.continueTrying)
f.stopTrying()
print(f.continueTrying)
try:
    protocol.ReconnectingClientFactory().retry()
except ValueError as e:
    print("ValueError", e)
"#,
    );
    assert_eq!(
        out,
        [
            "3.0 1.0 2.0",
            "ValueError math domain error",
            "ValueError math domain error",
            "ZeroDivisionError float division by zero",
            "ValueError math domain error",
            "True 1.0 2.718281828459045 0 1",
            "failed at 0.0, retries 0, delay 1.000",
            "failed at 1.0, retries 1, delay 2.718",
            "failed at 3.7, retries 2, delay 7.389",
            "failed at 11.1, retries 3, delay 10.000",
            "failed at 21.1, retries 4, delay 10.000",
            "failed at 31.1, retries 5, delay 10.000",
            "gave up 6 None",
            "1.0 0 1",
            "0",
            "ValueError no connector to retry",
        ]
    );
}

#[test]
fn factories_start_and_stop_as_twisteds_do_start_and_do_stop() {
    // `startFactory` ran when the listener was up (after the lines that
    // followed `listenTCP`) and once per port; a client factory's never
    // ran; `stopListening` stopped the factory inside the call. Twisted's
    // `doStart` runs inside `listenTCP`/`connectTCP`, on the first port
    // only, and a port closes (`doStop`) in a later call.
    let out = output(
        r#"
from twisted.internet import reactor, protocol
class S(protocol.ServerFactory):
    protocol = protocol.Protocol
    def startFactory(self): print("server startFactory")
    def stopFactory(self): print("server stopFactory")
class C(protocol.ClientFactory):
    protocol = protocol.Protocol
    def startFactory(self): print("client startFactory")
    def startedConnecting(self, c): print("startedConnecting")
    def buildProtocol(self, addr):
        print("buildProtocol"); return protocol.ClientFactory.buildProtocol(self, addr)
f = S()
p = reactor.listenTCP(0, f)
p2 = reactor.listenTCP(0, f)
print("listening", f.numPorts)
reactor.connectTCP("127.0.0.1", p.getHost().port, C())
print("connecting")
def stop():
    p.stopListening()
    print("stopping one", f.numPorts)
    reactor.callLater(0.01, stop2)
def stop2():
    print("one port left", f.numPorts)
    p2.stopListening()
    reactor.callLater(0.01, reactor.stop)
reactor.callLater(0.01, stop)
reactor.run()
print(f.numPorts)
"#,
    );
    assert_eq!(
        out,
        [
            "server startFactory",
            "listening 2",
            "client startFactory",
            "startedConnecting",
            "connecting",
            "buildProtocol",
            "stopping one 2",
            "one port left 1",
            "server stopFactory",
            "0"
        ]
    );
}

#[test]
fn stopping_the_reactor_loses_every_connection_and_closes_every_port_as_twisteds_disconnect_all() {
    // Twisted's `disconnectAll`, a during-shutdown trigger: the program's
    // connections hear `connectionLost(ConnectionLost)`, a client's factory
    // `clientConnectionLost` and `stopFactory`, a port still listening
    // closes and stops its factory; all before the program's own
    // during-shutdown trigger. Before, nothing was told and the lines
    // between "before shutdown" and "during shutdown" were missing.
    let out = output(
        r#"
from twisted.internet import reactor, protocol
from twisted.protocols import basic


class Echo(basic.LineReceiver):
    def connectionMade(self):
        print("server: made")

    def lineReceived(self, line):
        self.sendLine(line)

    def connectionLost(self, reason):
        print("server: lost", reason.type.__name__, reason.getErrorMessage())


class Server(protocol.ServerFactory):
    protocol = Echo

    def stopFactory(self):
        print("server factory stopped")


class Client(basic.LineReceiver):
    def connectionMade(self):
        self.sendLine(b"hello")

    def lineReceived(self, line):
        print("client got", line)

    def connectionLost(self, reason):
        print("client: lost", reason.type.__name__)


class ClientF(protocol.ClientFactory):
    protocol = Client

    def clientConnectionLost(self, connector, reason):
        print("clientConnectionLost", reason.type.__name__)

    def stopFactory(self):
        print("client factory stopped")


port = reactor.listenTCP(0, Server())
reactor.connectTCP("127.0.0.1", port.getHost().port, ClientF())
reactor.addSystemEventTrigger("before", "shutdown", lambda: print("before shutdown"))
reactor.addSystemEventTrigger("during", "shutdown", lambda: print("during shutdown"))
reactor.addSystemEventTrigger("after", "shutdown", lambda: print("after shutdown"))
reactor.callLater(0.1, reactor.stop)
reactor.run()
print("end")
"#,
    );
    // CPython + Twisted 26.10 print these lines; the five in the middle come
    // in an order that changes from run to run there (Twisted walks a set of
    // its selectables), a client's three always together.
    let lost = "Connection to the other side was lost in a non-clean fashion: Connection lost.";
    let server_lost = format!("server: lost ConnectionLost {lost}");
    let (head, rest) = out.split_at(3);
    assert_eq!(head, ["server: made", "client got b'hello'", "before shutdown"]);
    let (middle, tail) = rest.split_at(5);
    let mut sorted = middle.to_vec();
    sorted.sort();
    let mut expected = vec![
        "client factory stopped".to_string(),
        "client: lost ConnectionLost".into(),
        "clientConnectionLost ConnectionLost".into(),
        "server factory stopped".into(),
        server_lost,
    ];
    expected.sort();
    assert_eq!(sorted, expected, "{out:?}");
    let client = middle.iter().position(|l| l == "client: lost ConnectionLost").unwrap();
    assert_eq!(
        middle[client..client + 3],
        ["client: lost ConnectionLost", "clientConnectionLost ConnectionLost", "client factory stopped"]
    );
    assert_eq!(tail, ["during shutdown", "after shutdown", "end"]);
}

#[test]
fn task_cooperate_and_coiterate_are_twisteds_cooperator() {
    // Twisted 26.10's Cooperator (task.py, in Python): tasks take turns a
    // step each within a 10 ms slice, a yielded Deferred pauses its task,
    // pause/resume/stop and their errors, a Cooperator not started, a
    // stopped one, `coiterate`. Before, `task.cooperate` did not exist.
    let out = output(
        r#"
from twisted.internet import reactor, defer, task


def numbers(name, n):
    for i in range(n):
        print(name, i)
        yield None


def waits():
    print("waits: before")
    d = defer.Deferred()
    reactor.callLater(0.05, d.callback, None)
    yield d
    print("waits: after")


def forever():
    while True:
        yield task.deferLater(reactor, 0.01, lambda: None)


def fails():
    yield None
    raise ValueError("boom")


def main():
    a = task.cooperate(numbers("a", 3))
    b = task.cooperate(numbers("b", 2))
    d = defer.DeferredList([a.whenDone(), b.whenDone()])
    d.addCallback(lambda r: print("both done", [ok for ok, _ in r]))
    w = task.cooperate(waits())
    w.whenDone().addCallback(lambda it: print("waits done", type(it).__name__))
    f = task.cooperate(fails())
    f.whenDone().addErrback(lambda fl: print("failed", fl.type.__name__, fl.getErrorMessage()))
    c = task.Cooperator(started=False)
    t = c.cooperate(numbers("c", 2))
    print("running?", c.running)
    reactor.callLater(0.02, c.start)
    p = task.cooperate(numbers("p", 5))
    p.pause()
    try:
        p.resume()
        p.resume()
    except task.NotPaused as e:
        print("NotPaused", type(e).__name__, isinstance(e, task.SchedulerError))
    s = task.cooperate(numbers("s", 4))
    def stop_s():
        try:
            s.stop()
        except task.TaskDone as e:
            print("s already done:", repr(e))
    reactor.callLater(0, stop_s)
    s.whenDone().addCallback(lambda it: print("s done", type(it).__name__))
    long = task.cooperate(forever())
    reactor.callLater(0.03, long.stop)
    long.whenDone().addErrback(lambda fl: print("stopped", fl.check(task.TaskStopped) is task.TaskStopped))
    def later():
        try:
            s.stop()
        except task.TaskFinished as e:
            print("already", type(e).__name__)
        c.stop()
        t2 = c.cooperate(numbers("x", 1))
        t2.whenDone().addErrback(lambda fl: print("scheduler stopped", fl.type.__name__))
        task.coiterate(iter("xy")).addCallback(lambda it: print("coiterate", list(it)))
    reactor.callLater(0.1, later)
    reactor.callLater(0.2, reactor.stop)


reactor.callWhenRunning(main)
reactor.run()
"#,
    );
    let expected = r#"running? False
NotPaused NotPaused True
a 0
b 0
waits: before
p 0
s 0
a 1
b 1
p 1
s 1
a 2
p 2
s 2
both done [True, True]
p 3
s 3
failed ValueError boom
s done generator
p 4
s already done: TaskDone()
c 0
c 1
stopped True
waits: after
waits done generator
already TaskDone
scheduler stopped SchedulerStopped
coiterate []"#;
    assert_eq!(out, expected.lines().collect::<Vec<_>>());
}

#[test]
fn a_failure_given_to_callback_runs_the_errbacks() {
    // Twisted's `_runCallbacks` sends a Failure down the errback chain
    // however it arrived; `d.callback(failure)` ran the callbacks with it.
    let out = output(
        r#"
from twisted.internet import defer
from twisted.python.failure import Failure
d = defer.Deferred()
d.addCallbacks(lambda v: print("callback", v), lambda f: print("errback", f.type.__name__, f.getErrorMessage()))
d.callback(Failure(ValueError("x")))
d2 = defer.succeed(1)
d2.addCallback(lambda v: Failure(KeyError("k")))
d2.addErrback(lambda f: print("errback2", f.type.__name__))
"#,
    );
    assert_eq!(out, ["errback ValueError x", "errback2 KeyError"]);
}

#[test]
fn a_logged_failure_names_its_class_by_its_module_with_twisteds_colon() {
    // Twisted logs `qual(type): message`, the `: ` kept when the message is
    // empty, and a class by the module that defined it (Twisted's own
    // `task.TaskDone` too). CPython 3.11 + Twisted 26.10 printed these
    // lines, besides the frames.
    let out = output(
        r#"
from twisted.internet import reactor, task
class Mine(Exception):
    pass
def f():
    raise ValueError()
def g():
    raise Mine()
def h():
    t = task.cooperate(iter([]))
    reactor.callLater(0, t.stop)
reactor.callLater(0, f)
reactor.callLater(0, g)
reactor.callLater(0, h)
reactor.callLater(0.1, reactor.stop)
reactor.run()
"#,
    );
    let names: Vec<&str> = out.iter().map(String::as_str).filter(|l| !l.starts_with("  ")).collect();
    let report = |name| ["while handling timed call", "Traceback (most recent call last):", name, ""];
    let expected: Vec<&str> =
        [report("builtins.ValueError: "), report("__main__.Mine: "), report("twisted.internet.task.TaskDone: ")]
            .concat();
    assert_eq!(names, expected);
}
