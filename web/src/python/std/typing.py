# typing for the simulator, written in the subset it runs. Annotations
# are not evaluated here (CPython evaluates a module's and a class's, and a
# def's when it runs): what a program does with these names at run time is
# what needs them: aliases (`Vector = List[float]`), `TypeVar`, `NewType`,
# `cast`, `Generic[T]` and `Protocol` as bases, and their reprs.

import collections

TYPE_CHECKING = False


def _type_repr(t):
    if t is ...:
        return "..."
    if t is None or t is type(None):
        return "None"
    if isinstance(t, list):
        return "[" + ", ".join([_type_repr(a) for a in t]) + "]"
    if isinstance(t, (_Special, TypeVar)):
        return repr(t)
    name = getattr(t, "__name__", None)
    if name is None:
        return repr(t)
    module = getattr(t, "__module__", "builtins")
    if module == "builtins" or module is None:
        return name
    return module + "." + name


class _Special:
    def __init__(self, name, args=None, origin=None):
        self._name = name
        self.__args__ = args
        self.__origin__ = origin

    def __getitem__(self, params):
        if not isinstance(params, tuple):
            params = (params,)
        if self._name == "Optional":
            return _Special("Optional", params)
        if self._name == "Union":
            if len(params) == 2 and (params[1] is None or params[0] is None):
                return _Special("Optional", (params[0] if params[1] is None else params[1],))
            if len(params) == 1:
                return params[0]
        return _Special(self._name, params, self)

    def __call__(self, *args, **kwargs):
        raise TypeError("Type " + self._name + " cannot be instantiated; use " + self._name.lower() + "() instead")

    def __repr__(self):
        if self.__args__ is None:
            return "typing." + self._name
        return "typing." + self._name + "[" + ", ".join([_type_repr(a) for a in self.__args__]) + "]"

    def __eq__(self, other):
        if not isinstance(other, _Special):
            return NotImplemented
        return self._name == other._name and self.__args__ == other.__args__

    def __hash__(self):
        return hash(self._name)


class TypeVar:
    def __init__(self, name, *constraints, bound=None, covariant=False, contravariant=False):
        self.__name__ = name
        self.__constraints__ = constraints
        self.__bound__ = bound
        self._sign = "+" if covariant else "-" if contravariant else "~"

    def __repr__(self):
        return self._sign + self.__name__


class Generic:
    def __class_getitem__(cls, params):
        return cls


class Protocol:
    def __class_getitem__(cls, params):
        return cls


def cast(typ, val):
    return val


def NewType(name, tp):
    def new_type(x):
        return x

    return new_type


def overload(func):
    return func


def final(f):
    return f


def no_type_check(f):
    return f


def runtime_checkable(cls):
    return cls


Any = _Special("Any")
NoReturn = _Special("NoReturn")
ClassVar = _Special("ClassVar")
Final = _Special("Final")
Optional = _Special("Optional")
Union = _Special("Union")
Literal = _Special("Literal")
Callable = _Special("Callable")
List = _Special("List")
Dict = _Special("Dict")
Tuple = _Special("Tuple")
Set = _Special("Set")
FrozenSet = _Special("FrozenSet")
Type = _Special("Type")
Iterable = _Special("Iterable")
Iterator = _Special("Iterator")
Generator = _Special("Generator")
Sequence = _Special("Sequence")
MutableSequence = _Special("MutableSequence")
Mapping = _Special("Mapping")
MutableMapping = _Special("MutableMapping")
Awaitable = _Special("Awaitable")
Coroutine = _Special("Coroutine")
AsyncIterator = _Special("AsyncIterator")
Deque = _Special("Deque")
DefaultDict = _Special("DefaultDict")
Counter = _Special("Counter")
Hashable = _Special("Hashable")
Sized = _Special("Sized")
AnyStr = TypeVar("AnyStr", bytes, str)


# `class P(NamedTuple): x: int; y: int = 0`: a namedtuple whose fields are
# the class body's annotations, in order, and its defaults their values.
NamedTuple = collections.namedtuple("NamedTuple", [])


def _named_tuple_subclass(cls):
    fields = tuple(getattr(cls, "__annotations__", {}))
    defaults = {}
    for name in fields:
        if name in cls._definition_order_:
            defaults[name] = getattr(cls, name)
    cls._fields = fields
    cls._field_defaults = defaults


NamedTuple.__init_subclass__ = _named_tuple_subclass
