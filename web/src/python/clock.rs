//! `twisted.internet.task.Clock`, the DelayedCalls it makes, `deferLater`
//! on it and a `LoopingCall` driven by it (`lc.clock = clock`): Twisted's
//! own code, in Python. A Clock is pure: its time is a number the program
//! moves with `advance`, it never touches the simulated reactor or time.
//!
//! And the class of `reactor.getThreadPool()`'s object, whose attributes
//! read the simulated pool ([`pool_state`]).
//!
//! The classes are made once per run by running [`SOURCE`]'s `_classes()`
//! when the program first imports a `twisted` module (the module's `Clock`
//! is then a class, as Twisted's: `isinstance` and subclasses work).
//!
//! The presets use none of it: the light module leaves it out ([`HERE`]).

use std::rc::Rc;

use super::value::{Function, Globals, Native, Value};
use super::vm::{PyResult, Vm};

/// Whether this build has it: the full module's only.
pub(crate) const HERE: bool = super::compile::PARSER;

/// Twisted 26.10's `Clock` and `base.DelayedCall` (`task.py`, `base.py`),
/// and its `LoopingCall` for a LoopingCall given another clock. Differences
/// from Twisted's text: `maybeDeferred` written out; a DelayedCall's repr
/// is Twisted's without the address; `AlreadyCalled`/`AlreadyCancelled`
/// carry their message as an argument (as the reactor's DelayedCall here).
const SOURCE: &str = "\
def _classes():
    class DelayedCall:
        __module__ = 'twisted.internet.base'
        debug = False

        def __init__(self, time, func, args, kw, cancel, reset, seconds):
            self.time, self.func, self.args, self.kw = time, func, args, kw
            self.resetter = reset
            self.canceller = cancel
            self.seconds = seconds
            self.cancelled = self.called = 0
            self.delayed_time = 0.0

        def getTime(self):
            return self.time + self.delayed_time

        def cancel(self):
            if self.cancelled:
                raise _AlreadyCancelled('Tried to cancel an already-cancelled event.')
            elif self.called:
                raise _AlreadyCalled('Tried to cancel an already-called event.')
            else:
                self.canceller(self)
                self.cancelled = 1
                del self.func, self.args, self.kw

        def reset(self, secondsFromNow):
            if self.cancelled:
                raise _AlreadyCancelled('Tried to cancel an already-cancelled event.')
            elif self.called:
                raise _AlreadyCalled('Tried to cancel an already-called event.')
            else:
                newTime = self.seconds() + secondsFromNow
                if newTime < self.time:
                    self.delayed_time = 0.0
                    self.time = newTime
                    self.resetter(self)
                else:
                    self.delayed_time = newTime - self.time

        def delay(self, secondsLater):
            if self.cancelled:
                raise _AlreadyCancelled('Tried to cancel an already-cancelled event.')
            elif self.called:
                raise _AlreadyCalled('Tried to cancel an already-called event.')
            else:
                self.delayed_time += secondsLater
                if self.delayed_time < 0.0:
                    self.activate_delay()
                    self.resetter(self)

        def activate_delay(self):
            self.time += self.delayed_time
            self.delayed_time = 0.0

        def active(self):
            return not (self.cancelled or self.called)

        def __le__(self, other):
            return self.time <= other.time

        def __lt__(self, other):
            return self.time < other.time

        def __repr__(self):
            if hasattr(self, 'func'):
                func = getattr(self.func, '__qualname__', None)
                if func is None:
                    func = getattr(self.func, '__name__', None)
                if func is None:
                    func = repr(self.func)
            else:
                func = None
            now = self.seconds()
            L = ['<DelayedCall [%ss] called=%s cancelled=%s' % (self.time - now, self.called, self.cancelled)]
            if func is not None:
                L.extend((' ', func, '('))
                if self.args:
                    L.append(', '.join([repr(e) for e in self.args]))
                    if self.kw:
                        L.append(', ')
                if self.kw:
                    L.append(', '.join(['%s=%r' % (k, v) for (k, v) in self.kw.items()]))
                L.append(')')
            L.append('>')
            return ''.join(L)

    class Clock:
        __module__ = 'twisted.internet.task'
        rightNow = 0.0

        def __init__(self):
            self.calls = []

        def seconds(self):
            return self.rightNow

        def _sortCalls(self):
            self.calls.sort(key=lambda a: a.getTime())

        def callLater(self, delay, callable, *args, **kw):
            dc = DelayedCall(self.seconds() + delay, callable, args, kw, self.calls.remove, lambda c: None, self.seconds)
            self.calls.append(dc)
            self._sortCalls()
            return dc

        def getDelayedCalls(self):
            return self.calls

        def advance(self, amount):
            self.rightNow += amount
            self._sortCalls()
            while self.calls and self.calls[0].getTime() <= self.seconds():
                call = self.calls.pop(0)
                call.called = 1
                call.func(*call.args, **call.kw)
                self._sortCalls()

        def pump(self, timings):
            for amount in timings:
                self.advance(amount)

    class LoopingCall:
        __module__ = 'twisted.internet.task'
        call = None
        running = False
        _deferred = None
        interval = None
        _runAtStart = False
        starttime = None
        _realLastTime = None

        def __init__(self, f, a, clock, count):
            self.f = f
            self.a = a
            self.kw = {}
            self.clock = clock
            if count:
                self.f = self._counter
                self._countCallable = f

        def _counter(self):
            now = self.clock.seconds()
            if self.interval == 0:
                self._realLastTime = now
                return self._countCallable(1, *self.a)
            lastTime = self._realLastTime
            if lastTime is None:
                lastTime = self.starttime
                if self._runAtStart:
                    lastTime -= self.interval
            lastInterval = self._intervalOf(lastTime)
            thisInterval = self._intervalOf(now)
            count = thisInterval - lastInterval
            if count > 0:
                self._realLastTime = now
                return self._countCallable(count, *self.a)
            return None

        def _intervalOf(self, t):
            elapsedTime = t - self.starttime
            intervalNum = int(elapsedTime / self.interval)
            return intervalNum

        def start(self, interval, now=True):
            if self.running:
                raise _AssertionError('Tried to start an already running LoopingCall.')
            if interval < 0:
                raise ValueError('interval must be >= 0')
            self.running = True
            deferred = self._deferred = _Deferred()
            self.starttime = self.clock.seconds()
            self.interval = interval
            self._runAtStart = now
            if now:
                self()
            else:
                self._scheduleFrom(self.starttime)
            return deferred

        def stop(self):
            if not self.running:
                raise _AssertionError('Tried to stop a LoopingCall that was not running.')
            self.running = False
            if self.call is not None:
                self.call.cancel()
                self.call = None
                d, self._deferred = self._deferred, None
                d.callback(self._owner)

        def reset(self):
            if not self.running:
                raise _AssertionError('Tried to reset a LoopingCall that was not running.')
            if self.call is not None:
                self.call.cancel()
                self.call = None
                self.starttime = self.clock.seconds()
                self._scheduleFrom(self.starttime)

        def __call__(self):
            def cb(result):
                if self.running:
                    self._scheduleFrom(self.clock.seconds())
                else:
                    d, self._deferred = self._deferred, None
                    d.callback(self._owner)

            def eb(failure):
                self.running = False
                d, self._deferred = self._deferred, None
                d.errback(failure)

            self.call = None
            try:
                result = self.f(*self.a)
            except BaseException as e:
                d = _fail(e)
            else:
                d = result if _isDeferred(result) else _succeed(result)
            d.addCallback(cb)
            d.addErrback(eb)

        def _scheduleFrom(self, when):
            def howLong():
                if self.interval == 0:
                    return 0
                runningFor = when - self.starttime
                untilNextInterval = self.interval - (runningFor % self.interval)
                if when == when + untilNextInterval:
                    return self.interval
                return untilNextInterval

            self.call = self.clock.callLater(howLong(), self)

    def deferLater(clock, delay, callable=None, *args, **kw):
        def deferLaterCancel(deferred):
            delayedCall.cancel()

        def cb(result):
            if callable is None:
                return None
            return callable(*args, **kw)

        d = _Deferred(deferLaterCancel)
        d.addCallback(cb)
        delayedCall = clock.callLater(delay, d.callback, None)
        return d

    class ThreadPool:
        __module__ = 'twisted.python.threadpool'
        min = 0
        name = 'twisted.internet.reactor'

        def __getattr__(self, name):
            return _poolState(name)

    # CPython's `random.normalvariate` (Kinderman and Monahan), over this
    # run's `random.random()`.
    def normalvariate(mu, sigma):
        while True:
            u1 = _random()
            u2 = 1.0 - _random()
            z = 1.7155277699214135 * (u1 - 0.5) / u2
            zz = z * z / 4.0
            if zz <= -_log(u2):
                break
        return mu + z * sigma

    class ReconnectingClientFactory:
        maxDelay = 3600
        initialDelay = 1.0
        factor = 2.7182818284590451
        jitter = 0.119626565582
        delay = initialDelay
        retries = 0
        maxRetries = None
        _callID = None
        connector = None
        clock = None
        noisy = True
        continueTrying = 1

        def clientConnectionFailed(self, connector, reason):
            if self.continueTrying:
                self.connector = connector
                self.retry()

        def clientConnectionLost(self, connector, unused_reason):
            if self.continueTrying:
                self.connector = connector
                self.retry()

        def retry(self, connector=None):
            if not self.continueTrying:
                if self.noisy:
                    _logmsg('Abandoning %s on explicit request' % (connector,))
                return
            if connector is None:
                if self.connector is None:
                    raise ValueError('no connector to retry')
                else:
                    connector = self.connector
            self.retries += 1
            if self.maxRetries is not None and (self.retries > self.maxRetries):
                if self.noisy:
                    _logmsg('Abandoning %s after %d retries.' % (connector, self.retries))
                return
            if self.jitter:
                self.delay = normalvariate(self.delay, self.delay * self.jitter)
            if self.noisy:
                _logmsg('%s will retry in %d seconds' % (connector, self.delay))

            def reconnector():
                self._callID = None
                connector.connect()

            if self.clock is None:
                self.clock = _reactor
            self._callID = self.clock.callLater(self.delay, reconnector)
            self.delay = min(self.delay * self.factor, self.maxDelay)

        def stopTrying(self):
            if self._callID:
                self._callID.cancel()
                self._callID = None
            self.continueTrying = 0
            if self.connector:
                try:
                    self.connector.stopConnecting()
                except RuntimeError:
                    pass

        def resetDelay(self):
            self.delay = self.initialDelay
            self.retries = 0
            self._callID = None
            self.continueTrying = 1

    class SchedulerError(Exception):
        __module__ = 'twisted.internet.task'

    class SchedulerStopped(SchedulerError):
        __module__ = 'twisted.internet.task'

    class TaskFinished(SchedulerError):
        __module__ = 'twisted.internet.task'

    class TaskDone(TaskFinished):
        __module__ = 'twisted.internet.task'

    class TaskStopped(TaskFinished):
        __module__ = 'twisted.internet.task'

    class TaskFailed(TaskFinished):
        __module__ = 'twisted.internet.task'

    class NotPaused(SchedulerError):
        __module__ = 'twisted.internet.task'

    class _Timer:
        MAX_SLICE = 0.01

        def __init__(self):
            self.end = _time() + self.MAX_SLICE

        def __call__(self):
            return _time() >= self.end

    _EPSILON = 0.00000001

    def _defaultScheduler(callable):
        return _reactor.callLater(_EPSILON, callable)

    class CooperativeTask:
        __module__ = 'twisted.internet.task'

        def __init__(self, iterator, cooperator):
            self._iterator = iterator
            self._cooperator = cooperator
            self._deferreds = []
            self._pauseCount = 0
            self._completionState = None
            self._completionResult = None
            cooperator._addTask(self)

        def whenDone(self):
            d = _Deferred()
            if self._completionState is None:
                self._deferreds.append(d)
            else:
                d.callback(self._completionResult)
            return d

        def pause(self):
            self._checkFinish()
            self._pauseCount += 1
            if self._pauseCount == 1:
                self._cooperator._removeTask(self)

        def resume(self):
            if self._pauseCount == 0:
                raise NotPaused()
            self._pauseCount -= 1
            if self._pauseCount == 0 and self._completionState is None:
                self._cooperator._addTask(self)

        def _completeWith(self, completionState, deferredResult):
            self._completionState = completionState
            self._completionResult = deferredResult
            if not self._pauseCount:
                self._cooperator._removeTask(self)
            for d in self._deferreds:
                d.callback(deferredResult)

        def stop(self):
            self._checkFinish()
            self._completeWith(TaskStopped(), _Failure(TaskStopped()))

        def _checkFinish(self):
            if self._completionState is not None:
                raise self._completionState

        def _oneWorkUnit(self):
            try:
                result = next(self._iterator)
            except StopIteration:
                self._completeWith(TaskDone(), self._iterator)
            except BaseException:
                self._completeWith(TaskFailed(), _Failure())
            else:
                if _isDeferred(result):
                    self.pause()

                    def failLater(failure):
                        self._completeWith(TaskFailed(), failure)

                    result.addCallbacks(lambda result: self.resume(), failLater)

    class Cooperator:
        __module__ = 'twisted.internet.task'
        _mustScheduleOnStart = False

        def __init__(self, terminationPredicateFactory=_Timer, scheduler=_defaultScheduler, started=True):
            self._tasks = []
            self._metarator = iter(())
            self._terminationPredicateFactory = terminationPredicateFactory
            self._scheduler = scheduler
            self._delayedCall = None
            self._stopped = False
            self._started = started

        def coiterate(self, iterator, doneDeferred=None):
            if doneDeferred is None:
                doneDeferred = _Deferred()
            whenDone = CooperativeTask(iterator, self).whenDone()
            whenDone.chainDeferred(doneDeferred)
            return doneDeferred

        def cooperate(self, iterator):
            return CooperativeTask(iterator, self)

        def _addTask(self, task):
            if self._stopped:
                self._tasks.append(task)
                task._completeWith(SchedulerStopped(), _Failure(SchedulerStopped()))
            else:
                self._tasks.append(task)
                self._reschedule()

        def _removeTask(self, task):
            self._tasks.remove(task)
            if not self._tasks and self._delayedCall:
                self._delayedCall.cancel()
                self._delayedCall = None

        def _tasksWhileNotStopped(self):
            terminator = self._terminationPredicateFactory()
            while self._tasks:
                for t in self._metarator:
                    yield t
                    if terminator():
                        return
                self._metarator = iter(self._tasks)

        def _tick(self):
            self._delayedCall = None
            for taskObj in self._tasksWhileNotStopped():
                taskObj._oneWorkUnit()
            self._reschedule()

        def _reschedule(self):
            if not self._started:
                self._mustScheduleOnStart = True
                return
            if self._delayedCall is None and self._tasks:
                self._delayedCall = self._scheduler(self._tick)

        def start(self):
            self._stopped = False
            self._started = True
            if self._mustScheduleOnStart:
                del self._mustScheduleOnStart
                self._reschedule()

        def stop(self):
            self._stopped = True
            for taskObj in self._tasks:
                taskObj._completeWith(SchedulerStopped(), _Failure(SchedulerStopped()))
            self._tasks = []
            if self._delayedCall is not None:
                self._delayedCall.cancel()
                self._delayedCall = None

        @property
        def running(self):
            return self._started and not self._stopped

    _theCooperator = Cooperator()

    def coiterate(iterator):
        return _theCooperator.coiterate(iterator)

    def cooperate(iterator):
        return _theCooperator.cooperate(iterator)

    cooperator = (Cooperator, CooperativeTask, coiterate, cooperate, SchedulerError, SchedulerStopped,
                  TaskFinished, TaskDone, TaskStopped, TaskFailed, NotPaused)
    return DelayedCall, Clock, LoopingCall, deferLater, ThreadPool, ReconnectingClientFactory, cooperator
";

thread_local! {
    /// [`SOURCE`] compiled.
    static CODE: std::cell::RefCell<Option<Rc<super::code::Code>>> = const { std::cell::RefCell::new(None) };
}

/// Makes the classes (once per run, when a `twisted` module is first
/// imported): `rt.library` then holds `Clock`, `DelayedCall`,
/// `_LoopingCall` (a LoopingCall on another clock), `_deferLater` and
/// `ThreadPool` (`reactor.getThreadPool()`'s class) and
/// `_ReconnectingClientFactory` (the body of `protocol`'s, whose base,
/// `ClientFactory`, is made in Rust: `twisted::module` copies it).
pub(crate) fn prepare(vm: &mut Vm<'_>) -> PyResult<()> {
    if vm.rt.library.borrow().contains_key("Clock") {
        return Ok(());
    }
    // Compiled once per thread (runs are many: a sweep, the tests); each
    // run makes its own functions and classes from it.
    let code = match CODE.with(|c| c.borrow().clone()) {
        Some(code) => code,
        None => {
            let code = super::compile::compile_module("<twisted.internet.task>", SOURCE)
                .map_err(|e| vm.rt.error("SystemError", &format!("twisted.internet.task: {e:?}")))?;
            CODE.with(|c| *c.borrow_mut() = Some(Rc::clone(&code)));
            code
        }
    };
    let globals: Rc<Globals> = Rc::default();
    {
        let mut vars = globals.vars.borrow_mut();
        for (n, builtin) in [
            ("_Deferred", "defer.Deferred"),
            ("_isDeferred", "defer._isDeferred"),
            ("_fail", "defer.fail"),
            ("_succeed", "defer.succeed"),
            ("_poolState", "threads._poolState"),
            ("_random", "random.random"),
            ("_log", "math.log"),
            ("_logmsg", "log.msg"),
            ("_time", "time.time"),
            ("_Failure", "failure.Failure"),
        ] {
            vars.insert(n.into(), Value::builtin(builtin, None));
        }
        vars.insert("_reactor".into(), Value::Native(Rc::new(Native::Reactor)));
        for (n, class) in [
            ("_AlreadyCalled", "AlreadyCalled"),
            ("_AlreadyCancelled", "AlreadyCancelled"),
            ("_AssertionError", "AssertionError"),
        ] {
            vars.insert(n.into(), Value::Class(vm.rt.exc_class(class)));
        }
        for c in &code.consts {
            if let Value::Func(f) = c {
                vars.insert(Rc::clone(&f.code.name), Function::of_code(Rc::clone(&f.code), Rc::clone(&globals)));
            }
        }
    }
    let make = globals.vars.borrow().get("_classes").cloned();
    let Some(make) = make else {
        return Err(vm.rt.error("SystemError", "twisted.internet.task: no _classes"));
    };
    // Making them is the library's import, not the program's work: it
    // costs no virtual CPU (a program that never uses a Clock runs exactly
    // as before) nor instructions of the program's budget.
    // Nor does it count as the program calling what the light module
    // leaves out (`property`, `iter`): the light module never makes them.
    let (pending, instructions, full_only) = (vm.pending, vm.rt.instructions(), vm.rt.full_only.get());
    let made = vm.call_nested(make, Vec::new());
    vm.pending = pending;
    vm.rt.set_instructions(instructions);
    vm.rt.full_only.set(full_only);
    let made = made?;
    let Value::Tuple(made) = made else {
        return Err(vm.rt.error("SystemError", "twisted.internet.task: _classes made no classes"));
    };
    let mut library = vm.rt.library.borrow_mut();
    for (name, v) in ["DelayedCall", "Clock", "_LoopingCall", "_deferLater", "ThreadPool", "_ReconnectingClientFactory"]
        .into_iter()
        .zip(made.iter())
    {
        library.insert(name, v.clone());
    }
    if let Some(Value::Tuple(cooperator)) = made.get(6) {
        for (name, v) in COOPERATOR.iter().zip(cooperator.iter()) {
            library.insert(name, v.clone());
        }
    }
    Ok(())
}

/// `twisted.internet.task`'s cooperative scheduler, Twisted's own code:
/// its names in the module, in the order `_classes()` returns them.
pub(crate) const COOPERATOR: [&str; 11] = [
    "Cooperator",
    "CooperativeTask",
    "coiterate",
    "cooperate",
    "SchedulerError",
    "SchedulerStopped",
    "TaskFinished",
    "TaskDone",
    "TaskStopped",
    "TaskFailed",
    "NotPaused",
];

/// The library's `name` made by [`prepare`], if it ran.
pub(crate) fn get(rt: &super::Runtime, name: &str) -> Option<Value> {
    rt.library.borrow().get(name).cloned()
}

/// Whether `clock` is the reactor: a LoopingCall or `deferLater` on it is
/// the native one.
pub(crate) fn is_reactor(clock: &Value) -> bool {
    matches!(clock, Value::Native(n) if matches!(**n, Native::Reactor))
}

/// `lc.NAME = v` on a native LoopingCall. `lc.clock = clock` with another
/// clock than the reactor makes it the library's Python LoopingCall on that
/// clock (Twisted's: `start` reads `self.clock`); afterwards every attribute
/// set goes to that object.
pub(crate) fn set_looping_attr(vm: &mut Vm<'_>, n: &Rc<Native>, name: &str, v: Value) -> PyResult<()> {
    let Native::LoopingCall { f, args, lc, count } = &**n else {
        return Err(vm.rt.error("AttributeError", &format!("'LoopingCall' object has no attribute '{name}'")));
    };
    let on_clock = lc.on_clock().borrow().clone();
    if let Some(Value::Instance(i)) = on_clock {
        i.set(name, v);
        return Ok(());
    }
    if name != "clock" {
        return Err(vm.rt.error("AttributeError", &format!("'LoopingCall' object has no attribute '{name}'")));
    }
    if is_reactor(&v) {
        return Ok(());
    }
    if lc.borrow().as_ref().is_some_and(|l| l.running()) {
        // Twisted's would make the next call on the new clock; this model
        // moves a LoopingCall to another clock only before it starts.
        return Err(vm.rt.error(
            "RuntimeError",
            "set lc.clock before lc.start(): a LoopingCall running on the reactor cannot move to another clock here",
        ));
    }
    let Some(class) = get(vm.rt, "_LoopingCall") else {
        return Err(vm.rt.error("SystemError", "twisted.internet.task was not imported"));
    };
    let made = vm.call_nested(class, vec![f.clone(), Value::tuple(args.clone()), v, Value::Bool(*count)])?;
    if let Value::Instance(i) = &made {
        // What `start`'s Deferred fires with: the program's object.
        i.set("_owner", Value::Native(Rc::clone(n)));
    }
    *lc.on_clock().borrow_mut() = Some(made);
    Ok(())
}

/// The Python LoopingCall a native one became, if it did.
pub(crate) fn on_clock(n: &Native) -> Option<Value> {
    match n {
        Native::LoopingCall { lc, .. } if HERE => lc.on_clock().borrow().clone(),
        _ => None,
    }
}

/// An attribute of a native LoopingCall: its Python LoopingCall's data (a
/// LoopingCall on another clock), or `clock`, the reactor.
pub(crate) fn looping_attr(rt: &super::Runtime, n: &Native, name: &str) -> Option<Value> {
    if !HERE || !matches!(n, Native::LoopingCall { .. }) {
        return None;
    }
    match on_clock(n) {
        Some(Value::Instance(i)) if matches!(name, "running" | "interval" | "clock" | "starttime" | "call") => {
            i.get(name).or_else(|| i.class.lookup(name))
        }
        // The program's `reactor` object, so `lc.clock is reactor`.
        None if name == "clock" => match rt.import("twisted.internet") {
            Ok(Value::Module(m)) => m.attrs.get("reactor").cloned(),
            _ => None,
        },
        _ => None,
    }
}

/// An attribute of `reactor.getThreadPool()`, as Twisted's `ThreadPool`
/// (`ThreadPool(0, 10, 'twisted.internet.reactor')`, started when the
/// reactor runs, stopped in its shutdown) over the simulated pool, which
/// starts threads on demand up to its size as Twisted's `Team` does.
pub(crate) fn pool_state(vm: &mut Vm<'_>, name: &str) -> PyResult<Value> {
    use twine_core::reactor::Lifecycle;
    let stats = vm.sh.pool_stats.get();
    let running =
        vm.sh.reactor().is_some_and(|r| matches!(r.lifecycle(), Lifecycle::Running | Lifecycle::ShuttingDown));
    let count = |n: usize| Value::list(vec![Value::None; n]);
    Ok(match name {
        "max" => Value::Int(vm.rt.pool_max.get().map_or(10, i64::from)),
        "started" => Value::Bool(running && !vm.rt.shut_down.get()),
        "joined" => Value::Bool(vm.rt.shut_down.get()),
        "workers" => Value::Int(stats.threads as i64),
        "working" => count(stats.busy),
        "waiters" => count(stats.threads.saturating_sub(stats.busy)),
        // The pool's threads in the order they started, as Twisted's list.
        "threads" => {
            let names = vm.sh.thread_names.borrow().clone();
            let tids = names.iter().enumerate().filter(|(_, n)| n.starts_with("pool-")).map(|(t, _)| t as u32);
            Value::list(tids.map(|t| super::builtins::thread_object(vm, t)).collect())
        }
        _ => {
            let more = if name.starts_with("__") {
                String::new()
            } else {
                " (this model of the reactor's pool has min, max, name, started, joined, threads, workers, working and waiters)".to_owned()
            };
            return Err(vm.rt.error("AttributeError", &format!("'ThreadPool' object has no attribute '{name}'{more}")));
        }
    })
}

/// CPython 3.11's `threading.Barrier` (threading.py), over this
/// interpreter's `Condition` and `Lock`, so its waits are the engine's
/// (`parties`, `n_waiting` and `broken`, properties there, come through
/// `__getattr__`, which costs attribute loads nothing elsewhere).
const BARRIER: &str = "\
def _barrier():
    class Barrier:
        __module__ = 'threading'

        def __init__(self, parties, action=None, timeout=None):
            self._cond = _Condition(_Lock())
            self._action = action
            self._timeout = timeout
            self._parties = parties
            self._state = 0
            self._count = 0

        def __getattr__(self, name):
            if name == 'parties':
                return self._parties
            if name == 'n_waiting':
                if self._state == 0:
                    return self._count
                return 0
            if name == 'broken':
                return self._state == -2
            raise AttributeError(\"'Barrier' object has no attribute '%s'\" % name)

        def wait(self, timeout=None):
            if timeout is None:
                timeout = self._timeout
            with self._cond:
                self._enter()
                index = self._count
                self._count += 1
                try:
                    if index + 1 == self._parties:
                        self._release()
                    else:
                        self._wait(timeout)
                    return index
                finally:
                    self._count -= 1
                    self._exit()

        def _enter(self):
            while self._state in (-1, 1):
                self._cond.wait()
            if self._state < 0:
                raise _BrokenBarrierError
            assert self._state == 0

        def _release(self):
            try:
                if self._action:
                    self._action()
                self._state = 1
                self._cond.notify_all()
            except:
                self._break()
                raise

        def _wait(self, timeout):
            if not self._cond.wait_for(lambda: self._state != 0, timeout):
                self._break()
                raise _BrokenBarrierError
            if self._state < 0:
                raise _BrokenBarrierError
            assert self._state == 1

        def _exit(self):
            if self._count == 0:
                if self._state in (-1, 1):
                    self._state = 0
                    self._cond.notify_all()

        def reset(self):
            with self._cond:
                if self._count > 0:
                    if self._state == 0:
                        self._state = -1
                    elif self._state == -2:
                        self._state = -1
                else:
                    self._state = 0
                self._cond.notify_all()

        def abort(self):
            with self._cond:
                self._break()

        def _break(self):
            self._state = -2
            self._cond.notify_all()

    return Barrier
";

/// `threading.Barrier`'s class, made once per run (its making costs the
/// program nothing: it is the library's import).
pub(crate) fn barrier_class(vm: &mut Vm<'_>) -> PyResult<Value> {
    if let Some(c) = get(vm.rt, "Barrier") {
        return Ok(c);
    }
    let code = super::compile::compile_module("threading.py", BARRIER)
        .map_err(|e| vm.rt.error("SystemError", &format!("threading.Barrier: {e:?}")))?;
    let globals: Rc<Globals> = Rc::default();
    let mut make = None;
    {
        let mut vars = globals.vars.borrow_mut();
        vars.insert("_Condition".into(), Value::builtin("threading.Condition", None));
        vars.insert("_Lock".into(), Value::builtin("threading.Lock", None));
        vars.insert("_BrokenBarrierError".into(), Value::Class(vm.rt.exc_class("BrokenBarrierError")));
        for c in &code.consts {
            if let Value::Func(f) = c {
                let func = super::value::Function::of_code(Rc::clone(&f.code), Rc::clone(&globals));
                vars.insert(Rc::clone(&f.code.name), func.clone());
                make = Some(func);
            }
        }
    }
    let make = make.ok_or_else(|| vm.rt.error("SystemError", "threading.Barrier: no class"))?;
    // Nor does it count as the program calling what the light module
    // leaves out (`property`, `iter`): the light module never makes them.
    let (pending, instructions, full_only) = (vm.pending, vm.rt.instructions(), vm.rt.full_only.get());
    let made = vm.call_nested(make, Vec::new());
    vm.pending = pending;
    vm.rt.set_instructions(instructions);
    vm.rt.full_only.set(full_only);
    let made = made?;
    vm.rt.library.borrow_mut().insert("Barrier", made.clone());
    Ok(made)
}
