//! Python values. Everything lives behind `Rc` (a simulation is one Rust
//! thread; Python threads are simulated), mutable containers behind
//! `RefCell`. Identity (`is`, hashing of instances) is the `Rc` pointer.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::code::Code;
use super::trash;

/// A cell: a variable shared between a function and the functions nested in it.
pub(crate) type CellRef = Rc<RefCell<Value>>;

/// A Python value.
#[derive(Clone, Debug, Default)]
pub(crate) enum Value {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    /// An int past 64 bits (`bigint`): never one that fits an `Int`.
    Big(Rc<num_bigint::BigInt>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<RefCell<List>>),
    Tuple(Rc<Tuple>),
    Dict(Rc<RefCell<Dict>>),
    /// A set: a dict of its elements (see `sets`).
    Set(Rc<RefCell<Dict>>),
    /// `range(start, stop, step)`.
    Range(i64, i64, i64),
    /// `slice(start, stop, step)`.
    Slice(Rc<[Value; 3]>),
    Func(Rc<Function>),
    /// A built-in function or a method of a built-in object (`this`).
    Builtin(Rc<Builtin>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    /// A function bound to its instance.
    Method(Rc<(Value, Rc<Function>)>),
    Module(Rc<Module>),
    Iter(Rc<RefCell<Iter>>),
    /// A built-in type used as a value: `int`, `str`, `list`, ...
    Type(TypeId),
    /// `super()`: the class whose base to search, and the instance.
    Super(Rc<(Rc<Class>, Value)>),
    /// An object of the `threading`/`twine` modules.
    Native(Rc<Native>),
    /// What calling a function that `yield`s returns.
    Generator(Rc<Generator>),
}

/// A list's items: a `Vec` (which it derefs to) whose drop goes through
/// [`trash::bury`], so dropping `a = [a]` nested 200000 times does not recurse
/// 200000 levels deep.
///
/// Not `Clone`, on purpose: `l.borrow().clone()` then clones the `Vec`.
#[derive(Debug, Default)]
pub(crate) struct List(pub Vec<Value>);

impl std::ops::Deref for List {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for List {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl Drop for List {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            trash::bury(std::mem::take(&mut self.0));
        }
    }
}

/// An iterator's drop frees the values it holds through [`trash::bury`]:
/// `x = zip(x)` 100,000 times is a chain of iterators as deep as a nested
/// list, and dropping it recursed until the stack overflowed.
impl Drop for Iter {
    fn drop(&mut self) {
        let take = std::mem::take::<Value>;
        let held: Vec<Value> = match self {
            Iter::Range { .. } => return,
            Iter::Seq(v, _) | Iter::Repeat(v, _) => vec![take(v)],
            Iter::Items(items, _) => std::mem::take(items),
            Iter::Keys(items, _, of, _) => std::mem::take(items).into_iter().chain([take(of)]).collect(),
            Iter::Count(a, b) => vec![take(a), take(b)],
            Iter::Cycle(src, saved, _) => src.take().into_iter().chain(std::mem::take(saved)).collect(),
            Iter::Chain(outer, inner) => std::iter::once(take(outer)).chain(inner.take()).collect(),
            Iter::Islice { src, .. } => src.take().into_iter().collect(),
            Iter::Accumulate { src, total, func, initial } => {
                [Some(take(src)), total.take(), Some(take(func)), initial.take()].into_iter().flatten().collect()
            }
            Iter::Zip { its, end } => {
                let fill = match end {
                    ZipEnd::Fill(v) => Some(take(v)),
                    _ => None,
                };
                std::mem::take(its).into_iter().flatten().chain(fill).collect()
            }
            Iter::Map { func, its } => std::iter::once(take(func)).chain(std::mem::take(its)).collect(),
            Iter::Filter { func, src } => vec![take(func), take(src)],
            Iter::Enumerate { src, .. } => vec![take(src)],
        };
        if !held.is_empty() {
            trash::bury(held);
        }
    }
}

/// A tuple's items: a boxed slice (which it derefs to) whose drop goes
/// through [`trash::bury`], as [`List`]'s does.
#[derive(Debug, Default)]
pub(crate) struct Tuple(pub Box<[Value]>);

impl std::ops::Deref for Tuple {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.0
    }
}

impl Drop for Tuple {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            trash::bury(std::mem::take(&mut self.0));
        }
    }
}

/// A generator: its function's frame, stopped at a `yield` (`None` once it
/// finished, or while it runs).
#[derive(Debug)]
pub(crate) struct Generator {
    pub name: Rc<str>,
    pub frame: RefCell<Option<super::vm::Frame>>,
    pub started: Cell<bool>,
    /// Its frame runs now (on some thread's stack, or a built-in's loop).
    pub running: Cell<bool>,
    /// An `async def`'s: awaited, not iterated.
    pub coroutine: bool,
}

/// The built-in types that can be named (`isinstance(x, int)`, `int("3")`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeId {
    Int,
    Float,
    Str,
    Bool,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    Bytes,
    NoneType,
    Object,
    /// Any other built-in type, by its name (`type(g)` of a generator,
    /// a coroutine, a Deferred): it names itself and answers `isinstance`,
    /// but makes no instances.
    Named(&'static str),
}

impl TypeId {
    pub fn name(self) -> &'static str {
        match self {
            TypeId::Int => "int",
            TypeId::Float => "float",
            TypeId::Str => "str",
            TypeId::Bool => "bool",
            TypeId::List => "list",
            TypeId::Tuple => "tuple",
            TypeId::Dict => "dict",
            TypeId::Set => "set",
            TypeId::FrozenSet => "frozenset",
            TypeId::Bytes => "bytes",
            TypeId::NoneType => "NoneType",
            TypeId::Object => "object",
            TypeId::Named(name) => name,
        }
    }
}

/// A built-in callable: its name, and the object it is a method of.
#[derive(Debug)]
pub(crate) struct Builtin {
    pub name: &'static str,
    pub this: Option<Value>,
}

/// A user-defined function (or lambda, or comprehension body).
#[derive(Debug)]
pub(crate) struct Function {
    pub code: Rc<Code>,
    pub globals: Rc<Globals>,
    pub defaults: Vec<Value>,
    pub kwdefaults: Vec<(Rc<str>, Value)>,
    pub closure: Vec<CellRef>,
    /// The class whose body defined it, for `super()`.
    pub owner: RefCell<Option<Rc<Class>>>,
}

impl Function {
    /// A function made from its code alone, with `globals` (no defaults,
    /// no closure, no class): a code constant, or a top-level function of
    /// the library's Python taken from its module's constants without
    /// running its `def`.
    pub(crate) fn of_code(code: Rc<Code>, globals: Rc<Globals>) -> Value {
        Value::Func(Rc::new(Function {
            code,
            globals,
            defaults: Vec::new(),
            kwdefaults: Vec::new(),
            closure: Vec::new(),
            owner: RefCell::new(None),
        }))
    }

    /// Its `__qualname__`, which CPython's call errors and reprs name it
    /// by: `Class.method`, `outer.<locals>.inner`.
    pub(crate) fn qualname(&self) -> Rc<str> {
        Rc::clone(&self.code.qualname)
    }
}

/// Defaults and closure cells can hold functions in turn (`f = lambda
/// f=f: f` in a loop): freed through [`trash::bury`].
impl Drop for Function {
    fn drop(&mut self) {
        if !self.defaults.is_empty() || !self.kwdefaults.is_empty() || !self.closure.is_empty() {
            let children = (
                std::mem::take(&mut self.defaults),
                std::mem::take(&mut self.kwdefaults),
                std::mem::take(&mut self.closure),
            );
            trash::bury(children);
        }
    }
}

/// A module's variables: what every thread shares.
#[derive(Debug, Default)]
pub(crate) struct Globals {
    pub vars: RefCell<HashMap<Rc<str>, Value>>,
}

/// A class: single inheritance; attributes in a map.
#[derive(Debug)]
pub(crate) struct Class {
    pub name: Rc<str>,
    /// `__qualname__`: `outer.<locals>.K` for a class a function defines.
    pub qualname: Rc<str>,
    pub base: Option<Rc<Class>>,
    pub attrs: RefCell<HashMap<Rc<str>, Value>>,
}

impl Class {
    pub fn new(name: &str, base: Option<Rc<Class>>) -> Rc<Class> {
        Rc::new(Class { name: name.into(), qualname: name.into(), base, attrs: RefCell::default() })
    }

    /// A library class of `module` (its `__module__`).
    pub fn in_module(name: &str, base: Option<Rc<Class>>, module: &str) -> Rc<Class> {
        let class = Class::new(name, base);
        class.attrs.borrow_mut().insert("__module__".into(), Value::str(module));
        class
    }

    /// Its module (`__module__`): the library's classes set their own; a
    /// class the program defines is `__main__`'s.
    pub fn module(&self) -> Rc<str> {
        match self.attrs.borrow().get("__module__") {
            Some(Value::Str(m)) => Rc::clone(m),
            _ => "__main__".into(),
        }
    }

    /// How `repr` names it: `KeyError` for a built-in class, else
    /// `module.Name` (`__main__.Echo`, `twisted.internet.error.ConnectionDone`).
    pub fn path(&self) -> String {
        match &*self.module() {
            "builtins" => self.name.to_string(),
            m => format!("{m}.{}", self.qualname),
        }
    }

    /// Looks `name` up along the base chain.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.attrs.borrow().get(name) {
            return Some(v.clone());
        }
        self.base.as_ref().and_then(|b| b.lookup(name))
    }

    /// Whether `self` is `other` or derives from it.
    pub fn is_subclass(self: &Rc<Class>, other: &Rc<Class>) -> bool {
        let mut c = Some(Rc::clone(self));
        while let Some(class) = c {
            if Rc::ptr_eq(&class, other) {
                return true;
            }
            c = class.base.clone();
        }
        false
    }
}

/// An instance of a user class (exceptions included).
#[derive(Debug)]
pub(crate) struct Instance {
    pub class: Rc<Class>,
    pub attrs: RefCell<Attrs>,
}

/// An instance's attributes: in assignment order, or, once the program has
/// asked for its `__dict__` (`vars(obj)`, full module only), in that dict,
/// which then is them: a change to either is a change to the other.
#[derive(Debug)]
pub(crate) enum Attrs {
    Own(Vec<(Rc<str>, Value)>),
    Dict(Rc<RefCell<Dict>>),
}

impl Default for Attrs {
    fn default() -> Attrs {
        Attrs::Own(Vec::new())
    }
}

impl Attrs {
    pub fn get(&self, name: &str) -> Option<Value> {
        match self {
            Attrs::Own(v) => v.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.clone()),
            // A scan, as for its own list: no key to make on each look-up.
            Attrs::Dict(d) => {
                let d = d.borrow();
                let found = d.items().find(|(k, _)| matches!(k, Value::Str(k) if &**k == name));
                found.map(|(_, v)| v.clone())
            }
        }
    }

    pub fn set(&mut self, name: &str, value: Value) {
        match self {
            Attrs::Own(v) => match v.iter_mut().find(|(k, _)| &**k == name) {
                Some(slot) => slot.1 = value,
                None => v.push((name.into(), value)),
            },
            Attrs::Dict(d) => {
                let name: Rc<str> = name.into();
                d.borrow_mut().insert(Key::Str(Rc::clone(&name)), Value::Str(name), value);
            }
        }
    }

    /// Removes `name`; false if there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        match self {
            Attrs::Own(v) => v.iter().position(|(k, _)| &**k == name).map(|at| v.remove(at)).is_some(),
            Attrs::Dict(d) => d.borrow_mut().remove(&Key::Str(name.into())).is_some(),
        }
    }

    /// The attributes in order (a dict's keys that are strs).
    pub fn items(&self) -> Vec<(Rc<str>, Value)> {
        match self {
            Attrs::Own(v) => v.clone(),
            Attrs::Dict(d) => {
                let d = d.borrow();
                d.items()
                    .filter_map(|(k, v)| if let Value::Str(k) = k { Some((Rc::clone(k), v.clone())) } else { None })
                    .collect()
            }
        }
    }
}

/// A linked list of 300000 `Node`s is freed through [`trash::bury`].
impl Drop for Instance {
    fn drop(&mut self) {
        // (A dict's entries are buried when the dict goes.)
        if let Attrs::Own(attrs) = std::mem::take(self.attrs.get_mut()) {
            if !attrs.is_empty() {
                trash::bury(attrs);
            }
        }
    }
}

impl Instance {
    pub fn get(&self, name: &str) -> Option<Value> {
        self.attrs.borrow().get(name)
    }

    pub fn set(&self, name: &str, value: Value) {
        self.attrs.borrow_mut().set(name, value);
    }

    /// Its `__dict__`: from now on where its attributes are.
    pub fn dict(&self) -> Rc<RefCell<Dict>> {
        let mut attrs = self.attrs.borrow_mut();
        if let Attrs::Dict(d) = &*attrs {
            return Rc::clone(d);
        }
        let mut d = Dict::default();
        for (k, v) in attrs.items() {
            d.insert(Key::Str(Rc::clone(&k)), Value::Str(k), v);
        }
        let d = Rc::new(RefCell::new(d));
        *attrs = Attrs::Dict(Rc::clone(&d));
        d
    }
}

/// A module object (`import random`).
#[derive(Debug)]
pub(crate) struct Module {
    pub name: &'static str,
    pub attrs: HashMap<&'static str, Value>,
}

/// Iterator state. Lists and strings are walked by index (as CPython does);
/// other iterables are snapshotted into `Items` when iteration starts. The
/// rest are the lazy iterators of `zip` and `itertools`, which take their
/// sources' values one at a time, as CPython's do (`count()` is endless);
/// see `itertools::next`.
#[derive(Debug)]
pub(crate) enum Iter {
    Seq(Value, usize),
    Range {
        next: i64,
        stop: i64,
        step: i64,
    },
    Items(Vec<Value>, usize),
    /// A dict's keys or a set's elements, taken when iteration starts, and
    /// the dict or set with its size then: CPython's iterator fails if the
    /// size changed meanwhile.
    Keys(Vec<Value>, usize, Value, usize),
    /// `count(start, step)`: the next value and the step.
    Count(Value, Value),
    /// `repeat(x, n)`: `None` for endless.
    Repeat(Value, Option<i64>),
    /// `cycle(it)`: the source until it ends (`None` then), and what it gave.
    Cycle(Option<Value>, Vec<Value>, usize),
    /// `chain`: an iterator of iterables, and the iterator of the one being walked.
    Chain(Value, Option<Value>),
    /// `islice`: CPython's state: the source (`None` once done), how many
    /// of its values were taken, the index of the next one to give, stop, step.
    Islice {
        src: Option<Value>,
        taken: i64,
        next: i64,
        stop: Option<i64>,
        step: i64,
    },
    /// `accumulate(it, func, initial=)`: the source, the running total, the
    /// function (`None`: `+`).
    Accumulate {
        src: Value,
        total: Option<Value>,
        func: Value,
        initial: Option<Value>,
    },
    /// `zip(*its)` and `zip_longest(*its, fillvalue=v)`: the sources,
    /// `None` for each one `zip_longest` saw end.
    Zip {
        its: Vec<Option<Value>>,
        end: ZipEnd,
    },
    /// `map(func, *its)`: the function and its sources.
    Map {
        func: Value,
        its: Vec<Value>,
    },
    /// `filter(func, it)`: the test (`None`: the value's truth) and the source.
    Filter {
        func: Value,
        src: Value,
    },
    /// `enumerate(it, start)`: the source and the next count.
    Enumerate {
        src: Value,
        count: i64,
    },
}

impl Iter {
    /// The name of its type, as CPython's errors give it (`'map' object
    /// is not subscriptable`); "iterator" for a container's.
    pub fn type_name(&self) -> &'static str {
        match self {
            Iter::Map { .. } => "map",
            Iter::Filter { .. } => "filter",
            Iter::Enumerate { .. } => "enumerate",
            Iter::Zip { end: ZipEnd::Fill(_), .. } => "itertools.zip_longest",
            Iter::Zip { .. } => "zip",
            Iter::Count(..) => "itertools.count",
            Iter::Repeat(..) => "itertools.repeat",
            Iter::Cycle(..) => "itertools.cycle",
            Iter::Chain(..) => "itertools.chain",
            Iter::Islice { .. } => "itertools.islice",
            Iter::Accumulate { .. } => "itertools.accumulate",
            Iter::Range { .. } => "range_iterator",
            Iter::Seq(..) | Iter::Items(..) | Iter::Keys(..) => "iterator",
        }
    }
}

/// What a `zip` does when one of its sources ends.
#[derive(Clone, Debug)]
pub(crate) enum ZipEnd {
    /// `zip(...)`: it ends too.
    Stop,
    /// `zip(..., strict=True)`: it ends if all the others do, else raises.
    Strict,
    /// `zip_longest(..., fillvalue=v)`: `v` stands in until all have ended.
    Fill(Value),
}

/// Objects of the `threading` module and friends, mapped onto the engine.
#[derive(Debug)]
pub(crate) enum Native {
    /// A lock: the engine lock's index. `RLock`s count their owner's holds.
    Lock { lock: u32, reentrant: bool, owner: Cell<Option<u32>>, depth: Cell<u32> },
    /// An event: set or not, and the engine lock its waiters queue on (held by nobody while clear).
    Event { set: Cell<bool>, lock: u32 },
    /// `threading.Condition(lock)`, as CPython's threading.py builds it: its
    /// lock (a `Native::Lock`), and its waiters.
    Condition { name: Rc<str>, lock: Value, waiters: RefCell<Waiters> },
    /// `threading.Semaphore(n)` (`bound` `None`) and `BoundedSemaphore(n)`:
    /// CPython's is a counter under a Condition; the Condition's lock is
    /// only ever held inside one call here, so only its waiters are kept.
    Semaphore { name: Rc<str>, value: Cell<i64>, bound: Option<i64>, waiters: RefCell<Waiters> },
    /// A thread; `done` is the engine lock its thread holds until it ends.
    Thread(Rc<ThreadObj>),
    /// `twisted.internet.reactor`.
    Reactor,
    /// What `reactor.callLater` returns.
    DelayedCall(twine_core::reactor::DelayedCall),
    /// A real twine-core Deferred carrying Python values.
    Deferred(twine_core::defer::Deferred<Value>),
    /// What an errback receives: the exception.
    Failure(Value),
    /// `task.LoopingCall(f, *args)`: the core LoopingCall once started.
    LoopingCall { f: Value, args: Vec<Value>, lc: Looping, count: bool },
    /// A connection's transport.
    Transport(TransportRef),
    /// `defer.DeferredLock()`.
    DeferredLock(twine_core::defer::DeferredLock),
    /// `defer.DeferredSemaphore(n)`.
    DeferredSemaphore(twine_core::defer::DeferredSemaphore),
    /// `functools.partial(f, ...)`.
    Partial(Rc<super::functools::Partial>),
    /// `d.keys()`, `d.values()`, `d.items()`: a live view of the dict
    /// (`Value::Dict`), full module only (`super::views`).
    DictView(super::views::View, Value),
    /// `queue.Queue()`, `queue.LifoQueue()`, `queue.PriorityQueue()` or `queue.SimpleQueue()`.
    Queue(Rc<super::queue::QueueObj>),
    /// `defer.DeferredQueue()`.
    DeferredQueue(twine_core::defer::DeferredQueue<Value>),
    /// What `reactor.connectTCP` returns.
    Connector(super::net::ConnectorRef),
    /// What `reactor.listenTCP` returns.
    Port(super::net::PortRef),
    /// `property(fget, fset)`: an attribute computed by its getter (and
    /// stored by its setter) on the class's instances.
    Property { fget: Value, fset: Value },
    /// `classmethod(f)`: bound to the class it is looked up through.
    ClassMethod(Value),
    /// `staticmethod(f)`: never bound.
    StaticMethod(Value),
    /// `threading.local()`: each thread's attributes, by thread.
    Local(RefCell<HashMap<u32, HashMap<Rc<str>, Value>>>),
    /// A caught exception's `__traceback__`: the frames it left up to where it was caught.
    Traceback(super::errors::Tb),
}

/// The threads waiting on a Condition (or Semaphore): CPython's deque of
/// locks, one per waiting thread, held by it and waited on until `notify`
/// releases it, oldest first. CPython makes a new lock per wait; here each
/// engine lock is reused once its thread has let it go, so that the
/// trace's and the metrics' list of locks stays as long as the most
/// threads that ever waited at once.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    pub queue: VecDeque<u32>,
    pub made: Vec<u32>,
}

/// A core transport (which has no `Debug`).
#[derive(Clone)]
pub(crate) struct TransportRef(pub twine_core::protocol::Transport);

impl std::fmt::Debug for TransportRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transport")
    }
}

/// A started `LoopingCall` (core's has no `Debug`).
#[derive(Default)]
pub(crate) struct Looping(RefCell<Option<twine_core::task::LoopingCall>>, RefCell<Value>, RefCell<Option<Value>>);

impl Looping {
    /// The library's Python LoopingCall this one became when the program
    /// gave it another clock (`lc.clock = task.Clock()`): its methods and
    /// attributes are that object's from then on (`clock.rs`).
    pub fn on_clock(&self) -> &RefCell<Option<Value>> {
        &self.2
    }

    /// The interval as `start` was given it (`None` before): Twisted's
    /// `LoopingCall.interval`, an int if it was given one.
    pub fn given(&self) -> &RefCell<Value> {
        &self.1
    }
}

impl std::ops::Deref for Looping {
    type Target = RefCell<Option<twine_core::task::LoopingCall>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Debug for Looping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoopingCall")
    }
}

/// A `threading.Thread`.
#[derive(Debug)]
pub(crate) struct ThreadObj {
    pub name: RefCell<Rc<str>>,
    pub target: Value,
    pub args: Vec<Value>,
    pub kwargs: Vec<(Rc<str>, Value)>,
    pub started: Cell<bool>,
    pub done: Cell<bool>,
    /// The engine lock held while it runs; joiners queue on it.
    pub done_lock: Cell<Option<u32>>,
    /// The engine lock its `start()` caller waits on until it first runs
    /// (CPython's `Thread._started` event), let go then.
    pub start_lock: Cell<Option<u32>>,
    /// Its simulated thread, once the engine made it.
    pub tid: Cell<Option<u32>>,
    /// `daemon=`, as set: the program exits without waiting for it
    /// (`Runtime::only_daemons_left`).
    pub daemon: Cell<bool>,
}

/// A hashable key: equal values give equal keys (`1`, `1.0` and `True` alike).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    None,
    Int(i64),
    /// An int past 64 bits, or a float of that size that is a whole number.
    Big(num_bigint::BigInt),
    Float(u64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Vec<Key>),
    Id(usize),
    /// An instance whose class defines `__hash__`: its hash, and the
    /// identity of the first instance equal to it (`extras::key`).
    Hashed(i64, usize),
    /// A frozenset: its elements' keys, sorted (the order they were added in
    /// does not matter).
    FrozenSet(Vec<Key>),
}

/// Why a value cannot be a dict key or a set element.
pub(crate) enum Unhashable {
    /// A mutable type's (its name): `unhashable type: 'list'`.
    Type(Rc<str>),
    /// Tuples nested past [`nesting::DEPTH_LIMIT`](super::nesting::DEPTH_LIMIT).
    TooDeep,
}

/// A dict: insertion-ordered entries, indexed by key.
#[derive(Debug, Default)]
pub(crate) struct Dict {
    entries: Vec<Option<(Value, Value)>>,
    index: HashMap<Key, usize>,
    /// A set's: it is a `frozenset` (hashable; no method changes it).
    pub frozen: bool,
    /// A set literal's: how many of its first entries CPython built from a
    /// frozenset constant (`sets::literal`), which puts them in another order.
    pub constants: u32,
    /// A dict's: plain, or one of `collections`' kinds.
    pub kind: DictKind,
}

/// What a dict is beyond a dict (`collections`, full module only).
#[derive(Clone, Debug, Default)]
pub(crate) enum DictKind {
    #[default]
    Plain,
    /// `defaultdict(factory)`: a missing key gets `factory()`, stored.
    Default(Value),
    /// `Counter()`: a missing key reads as 0.
    Counter,
    /// `OrderedDict()`: order counts in `==` and it can be changed
    /// (`move_to_end`, `popitem(last=False)`).
    Ordered,
}

/// `d = {1: d}` nested 200000 times is freed through [`trash::bury`].
impl Drop for Dict {
    fn drop(&mut self) {
        if !self.entries.is_empty() {
            trash::bury(std::mem::take(&mut self.entries));
        }
    }
}

impl Dict {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn get(&self, key: &Key) -> Option<Value> {
        self.index.get(key).and_then(|&i| self.entries[i].as_ref()).map(|(_, v)| v.clone())
    }

    pub fn insert(&mut self, key: Key, k: Value, v: Value) {
        match self.index.get(&key) {
            Some(&i) => {
                if let Some(entry) = self.entries[i].as_mut() {
                    entry.1 = v;
                }
            }
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push(Some((k, v)));
            }
        }
    }

    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let i = self.index.remove(key)?;
        let out = self.entries[i].take().map(|(_, v)| v);
        self.tidy();
        out
    }

    /// Moves the entry of `key` to the end, or the front
    /// (`OrderedDict.move_to_end`); false if there is none.
    pub fn move_to_end(&mut self, key: &Key, last: bool) -> bool {
        let Some(&i) = self.index.get(key) else { return false };
        let entry = self.entries[i].take();
        if last {
            self.index.insert(key.clone(), self.entries.len());
            self.entries.push(entry);
        } else {
            self.index.values_mut().for_each(|slot| *slot += 1);
            self.index.insert(key.clone(), 0);
            self.entries.insert(0, entry);
        }
        // An LRU cache moves an entry on each hit: the slots it leaves go.
        self.tidy();
        true
    }

    /// Compacts once most slots are removed entries'.
    fn tidy(&mut self) {
        if self.entries.len() > 32 && self.index.len() * 2 < self.entries.len() {
            self.compact();
        }
    }

    /// Drops the removed entries' slots. The keys are kept, not made again:
    /// an instance's key comes from its `__hash__`, which needs the VM.
    fn compact(&mut self) {
        let mut moved = vec![0; self.entries.len()];
        let mut entries = Vec::with_capacity(self.index.len());
        for (i, e) in self.entries.drain(..).enumerate() {
            if e.is_some() {
                moved[i] = entries.len();
                entries.push(e);
            }
        }
        for slot in self.index.values_mut() {
            *slot = moved[*slot];
        }
        self.entries = entries;
    }

    /// The entries in order, each with its key.
    pub fn keyed_items(&self) -> Vec<(Key, Value, Value)> {
        let mut keys: Vec<Option<&Key>> = vec![None; self.entries.len()];
        for (k, &i) in &self.index {
            keys[i] = Some(k);
        }
        let mut out = Vec::with_capacity(self.index.len());
        for (e, k) in self.entries.iter().zip(keys) {
            if let (Some((k0, v)), Some(key)) = (e, k) {
                out.push((key.clone(), k0.clone(), v.clone()));
            }
        }
        out
    }

    /// Whether some entry has the key `key`.
    pub fn has(&self, key: &Key) -> bool {
        self.index.contains_key(key)
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.index.keys()
    }

    /// The keys, in the entries' order.
    pub fn ordered_keys(&self) -> Vec<&Key> {
        let mut keys: Vec<(&Key, &usize)> = self.index.iter().collect();
        keys.sort_by_key(|&(_, i)| *i);
        keys.into_iter().map(|(k, _)| k).collect()
    }

    pub fn items(&self) -> impl DoubleEndedIterator<Item = &(Value, Value)> {
        self.entries.iter().flatten()
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(List(items))))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(Tuple(items.into())))
    }

    pub fn dict(d: Dict) -> Value {
        Value::Dict(Rc::new(RefCell::new(d)))
    }

    pub fn builtin(name: &'static str, this: Option<Value>) -> Value {
        Value::Builtin(Rc::new(Builtin { name, this }))
    }

    /// The type's name, as error messages show it.
    pub fn type_name(&self) -> Rc<str> {
        match self {
            // CPython's datetime types are C types named with their module.
            Value::Instance(i) if super::pystd::HERE && &*i.class.module() == "datetime" => {
                format!("datetime.{}", i.class.name).into()
            }
            Value::Instance(i) => Rc::clone(&i.class.name),
            other => other.builtin_type_name().into(),
        }
    }

    /// The name of a value's built-in type (`"object"` for an instance of
    /// a class: [`type_name`](Self::type_name) names its class).
    pub fn builtin_type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Big(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(d) if super::collections::HERE => super::collections::type_name(&d.borrow().kind),
            Value::Dict(_) => "dict",
            Value::Set(d) if super::sets::frozen(d) => "frozenset",
            Value::Set(_) => "set",
            Value::Range(..) => "range",
            Value::Slice(_) => "slice",
            Value::Func(_) => "function",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Class(_) | Value::Type(_) => "type",
            Value::Instance(_) => "object",
            Value::Method(_) => "method",
            Value::Module(_) => "module",
            Value::Iter(it) => it.borrow().type_name(),
            Value::Generator(g) if g.coroutine => "coroutine",
            Value::Generator(_) => "generator",
            Value::Super(_) => "super",
            Value::Native(n) => match &**n {
                Native::Lock { reentrant: false, .. } => "lock",
                Native::Lock { .. } => "RLock",
                Native::Event { .. } => "Event",
                Native::Condition { .. } => "Condition",
                Native::Semaphore { bound: None, .. } => "Semaphore",
                Native::Semaphore { .. } => "BoundedSemaphore",
                Native::Thread(_) => "Thread",
                Native::Reactor => "EPollReactor",
                Native::DelayedCall(_) => "DelayedCall",
                Native::Deferred(_) => "Deferred",
                Native::Failure(_) => "Failure",
                Native::LoopingCall { .. } => "LoopingCall",
                Native::Transport(_) => "Transport",
                Native::DeferredLock(_) => "DeferredLock",
                Native::DeferredSemaphore(_) => "DeferredSemaphore",
                Native::DeferredQueue(_) => "DeferredQueue",
                Native::Queue(q) => q.type_name(),
                Native::Partial(_) => "partial",
                Native::DictView(view, _) => view.type_name(),
                Native::Connector(_) => "Connector",
                Native::Port(_) => "Port",
                Native::Property { .. } => "property",
                Native::ClassMethod(_) => "classmethod",
                Native::StaticMethod(_) => "staticmethod",
                Native::Local(_) => "_thread._local",
                Native::Traceback(_) => "traceback",
            },
        }
    }

    /// Truthiness, as `bool(x)`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) | Value::Set(d) => d.borrow().len() > 0,
            Value::Range(start, stop, step) => range_len(*start, *stop, *step) > 0,
            Value::Native(n) if super::views::HERE => match &**n {
                Native::DictView(_, d) => d.truthy(),
                _ => true,
            },
            _ => true,
        }
    }

    /// The hash key, or why there is none.
    pub fn key(&self) -> Result<Key, Unhashable> {
        Ok(match self {
            Value::None => Key::None,
            Value::Bool(b) => Key::Int(*b as i64),
            Value::Int(i) => Key::Int(*i),
            Value::Big(b) => Key::Big((**b).clone()),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Key::Int(*f as i64),
            // `2.0 ** 64` and `2 ** 64` are one key, as equal numbers are.
            Value::Float(f) if super::bigint::HERE && f.fract() == 0.0 && f.is_finite() => {
                match num_traits::FromPrimitive::from_f64(*f) {
                    Some(b) => Key::Big(b),
                    None => Key::Float(f.to_bits()),
                }
            }
            Value::Float(f) => Key::Float(f.to_bits()),
            Value::Str(s) => Key::Str(Rc::clone(s)),
            Value::Bytes(b) => Key::Bytes(Rc::clone(b)),
            Value::Tuple(t) => {
                let _walking = super::nesting::enter(self.identity(), false).map_err(|_| Unhashable::TooDeep)?;
                Key::Tuple(t.iter().map(Value::key).collect::<Result<_, _>>()?)
            }
            Value::Set(d) if super::sets::frozen(d) => {
                let mut keys: Vec<Key> = d.borrow().keys().cloned().collect();
                keys.sort();
                Key::FrozenSet(keys)
            }
            Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => {
                return Err(Unhashable::Type(self.type_name()))
            }
            other => Key::Id(other.identity()),
        })
    }

    /// An address standing for the object's identity.
    pub fn identity(&self) -> usize {
        match self {
            Value::List(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Dict(r) | Value::Set(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Func(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Builtin(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Class(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Instance(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Method(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Module(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Iter(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Generator(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Native(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Tuple(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Str(r) => r.as_ptr() as usize,
            Value::Type(TypeId::Named(name)) => name.as_ptr() as usize,
            Value::Type(t) => t.name().as_ptr() as usize,
            Value::None => 0,
            Value::Bool(b) => 2 + *b as usize,
            _ => 4,
        }
    }

    /// `a is b`.
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b && (-5..=256).contains(a),
            (Value::Type(a), Value::Type(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b) || (a.len() <= 1 && a == b),
            (Value::Tuple(a), Value::Tuple(b)) => Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty()),
            (Value::Method(a), Value::Method(b)) => Rc::ptr_eq(a, b),
            // Singletons made afresh where they appear (`...`).
            (Value::Builtin(a), Value::Builtin(b)) if a.this.is_none() && b.this.is_none() => {
                Rc::ptr_eq(a, b) || (a.name == b.name && matches!(a.name, "Ellipsis" | "NotImplemented"))
            }
            // One Deferred may reach the program in more than one wrapper
            // (`DeferredQueue.waiting` makes new ones).
            (Value::Native(a), Value::Native(b)) => match (&**a, &**b) {
                (Native::Deferred(a), Native::Deferred(b)) => a.ptr_eq(b),
                _ => Rc::ptr_eq(a, b),
            },
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b) && a.identity() == b.identity(),
        }
    }

    /// The instance's class, for user objects and exceptions.
    pub fn class(&self) -> Option<&Rc<Class>> {
        match self {
            Value::Instance(i) => Some(&i.class),
            _ => None,
        }
    }
}

/// The number of values in `range(start, stop, step)`.
pub(crate) fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    }
}
