//! The standard library modules programs written for experiments import
//! beyond the simulator's core ones: `collections.deque` and
//! `collections.namedtuple`, `typing`. Each expected output is what CPython 3.11
//! (`python3`) printed for the same program when the test was written.

mod common;

fn output(source: &str) -> Vec<String> {
    common::printed("test.py", source)
}

#[test]
fn deque_as_cpython_with_and_without_maxlen() {
    let out = output(
        r#"
from collections import deque, namedtuple
import collections
d = deque([1, 2, 3], maxlen=3)
d.append(4); d.appendleft(0)
print(d, len(d), d.popleft(), d.pop())
e = deque()
print(e, bool(e), bool(d), repr(e))
e.extend([1, 2, 3]); e.extendleft("ab")
print(e, e[0], e[-1], 3 in e, 9 in e)
e.rotate(2); print(e)
e.rotate(-3); print(e)
e.rotate(); print(e)
print(list(e), len(e), e.maxlen, d.maxlen, e.count(1))
e[0] = 'z'; print(e)
del e[1]; print(e)
e.remove(3); print(e); e.reverse(); print(e)
print(e == deque(e), e == list(e), e.index(1))
e.insert(1, 'q'); print(e, e.copy())
e.clear(); print(e, len(e))
try:
    e.pop()
except IndexError as x:
    print("IndexError:", x)
try:
    e.popleft()
except IndexError as x:
    print("IndexError:", x)
try:
    e[3]
except IndexError as x:
    print("IndexError:", x)
q = deque(maxlen=2)
for i in range(5):
    q.append(i)
print(q, sum(q), max(q), sorted(q, reverse=True))
q.extendleft([7, 8, 9]); print(q)
print(deque(range(3)) + deque([5]))
for x in deque("abc"):
    print(x, end=" ")
print()
print(type(d).__name__, isinstance(d, deque), deque('ab', 5))
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "deque([2], maxlen=3) 3 0 3",
            "deque([]) False True deque([])",
            "deque(['b', 'a', 1, 2, 3]) b 3 True False",
            "deque([2, 3, 'b', 'a', 1])",
            "deque(['a', 1, 2, 3, 'b'])",
            "deque(['b', 'a', 1, 2, 3])",
            "['b', 'a', 1, 2, 3] 5 None 3 1",
            "deque(['z', 'a', 1, 2, 3])",
            "deque(['z', 1, 2, 3])",
            "deque(['z', 1, 2])",
            "deque([2, 1, 'z'])",
            "True False 1",
            "deque([2, 'q', 1, 'z']) deque([2, 'q', 1, 'z'])",
            "deque([]) 0",
            "IndexError: pop from an empty deque",
            "IndexError: pop from an empty deque",
            "IndexError: deque index out of range",
            "deque([3, 4], maxlen=2) 7 4 [4, 3]",
            "deque([9, 8], maxlen=2)",
            "deque([0, 1, 2, 5])",
            "a b c ",
            "deque True deque(['a', 'b'], maxlen=5)",
        ]
    );
}

#[test]
fn namedtuple_as_cpython_a_tuple_with_names() {
    let out = output(
        r#"
from collections import namedtuple
P = namedtuple("P", "x y")
p = P(1, y=2)
print(p, p.x + p.y, p._replace(x=5), p._asdict())
print(p[0], p[-1], p[:1], len(p), tuple(p), list(p))
a, b = p
print(a, b, *p)
print(p == (1, 2), (1, 2) == p, p == P(1, 2), p != P(2, 1), hash(p) == hash((1, 2)))
print(P._fields, P.__name__, type(p).__name__)
Q = namedtuple('Q', ['host', 'port', 'proto'], defaults=['tcp'])
q = Q('localhost', 8080)
print(q, q.proto, Q._field_defaults, Q._make(['a', 1, 'udp']))
R = namedtuple('R', 'a, b, c')
print(R(1, 2, 3), repr(R('s', 2.5, None)), str(R(1, [2], {3: 4})))
print(sorted([P(2, 1), P(1, 5), P(1, 2)]))
print(p.count(1), p.index(2), 2 in p, p < P(1, 3))
d = {p: 'here'}
print(d[P(1, 2)], d[(1, 2)])
print("%s and %d" % (p, p.x), f"{p}", "{}".format(p))
try:
    P(1)
except TypeError as e:
    print("TypeError:", e)
try:
    p.z
except AttributeError as e:
    print("AttributeError:", e)
x, y = P(x=3, y=4)
print(x * y, max(P(3, 9)))
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "P(x=1, y=2) 3 P(x=5, y=2) {'x': 1, 'y': 2}",
            "1 2 (1,) 2 (1, 2) [1, 2]",
            "1 2 1 2",
            "True True True True True",
            "('x', 'y') P P",
            "Q(host='localhost', port=8080, proto='tcp') tcp {'proto': 'tcp'} Q(host='a', port=1, proto='udp')",
            "R(a=1, b=2, c=3) R(a='s', b=2.5, c=None) R(a=1, b=[2], c={3: 4})",
            "[P(x=1, y=2), P(x=1, y=5), P(x=2, y=1)]",
            "1 1 True True",
            "here here",
            "P(x=1, y=2) and 1 P(x=1, y=2) P(x=1, y=2)",
            "TypeError: P.__new__() missing 1 required positional argument: 'y'",
            "AttributeError: 'P' object has no attribute 'z'",
            "12 9",
        ]
    );
}

#[test]
fn typing_names_aliases_typevars_and_generic_bases() {
    let out = output(
        r#"
from __future__ import annotations
from typing import Optional, List, Dict, Tuple, Set, Any, Callable, Union, Iterable, Iterator, Generator, TypeVar
from typing import Generic, Protocol, cast, NewType, Sequence, Mapping, FrozenSet, Type, NoReturn, ClassVar, Final
import typing

T = TypeVar("T")
UserId = NewType("UserId", int)
Vector = List[float]
counts: Dict[str, int] = {}
limit: int


def scale(v: Vector, k: float = 2.0) -> Vector:
    return [k * x for x in v]


def first(items: Iterable[T]) -> Optional[T]:
    for x in items:
        return x
    return None


def gen(n: int) -> Generator[int, None, None]:
    total: int = 0
    for i in range(n):
        total += i
        yield total


class Stack(Generic[T]):
    size: int = 0

    def __init__(self) -> None:
        self.items: List[T] = []

    def push(self, item: T) -> None:
        self.items.append(item)
        self.size += 1

    def pop(self) -> T:
        self.size -= 1
        return self.items.pop()


class Greeter(Protocol):
    def greet(self) -> str: ...


def call(f: Callable[[int], str], x: Union[int, str]) -> Tuple[str, ...]:
    return (f(x),)


counts["a"] = 1
s: Stack[int] = Stack()
s.push(3)
s.push(4)
print(scale([1.0, 2.5]), first([7, 8]), first([]), list(gen(4)), s.pop(), s.size, counts)
print(UserId(5), cast(int, "x"), call(str, 9), Stack.size)
print(T, Vector, Optional[int], Dict[str, int], Any, typing.List, Union[int, str])
print(typing.TYPE_CHECKING, Callable[[int], str], Tuple[int, ...], Type[int], Set, Sequence[str])
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "[2.0, 5.0] 7 None [0, 1, 3, 6] 4 1 {'a': 1}",
            "5 x ('9',) 0",
            "~T typing.List[float] typing.Optional[int] typing.Dict[str, int] typing.Any typing.List typing.Union[int, str]",
            "False typing.Callable[[int], str] typing.Tuple[int, ...] typing.Type[int] typing.Set typing.Sequence[str]",
        ]
    );
}

#[test]
fn annotations_run_as_cpython_runs_them_and_ellipsis_is_a_value() {
    let out = output(
        r#"
from typing import Optional, List, Dict


class Node:
    value: int
    next: Optional["Node"] = None

    def __init__(self, value: int) -> None:
        self.value = value


def stub(x: int) -> int: ...


def local() -> Dict[str, List[int]]:
    seen: Dict[str, List[int]] = {}
    unknown_name: SomethingNotDefined
    seen["a"] = [1]
    return seen


Pairs = list[tuple[int, str]]
print(Node(3).value, Node.next, stub(1), local(), ..., ... is ..., Pairs([(1, "a")]))
print(dict[str, int]({"k": 1}))
"#,
    );
    // CPython 3.11's output (CPython evaluates neither a function's local annotations nor a string's contents).
    assert_eq!(out, ["3 None None {'a': [1]} Ellipsis True [(1, 'a')]", "{'k': 1}",]);
}
