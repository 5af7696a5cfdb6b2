# collections.deque and collections.namedtuple for the simulator, written
# in the subset it runs. CPython's are C (deque) and generated classes
# (namedtuple); these print what those print for the usual uses.


class deque:
    def __init__(self, iterable=(), maxlen=None):
        if maxlen is not None:
            if not isinstance(maxlen, int):
                raise TypeError("an integer is required")
            if maxlen < 0:
                raise ValueError("maxlen must be non-negative")
        self._maxlen = maxlen
        self._items = []
        self.extend(iterable)

    @property
    def maxlen(self):
        return self._maxlen

    # The common calls in as few steps as they can: each step here is
    # simulated CPU time, where CPython's deque is C.
    def append(self, x):
        items = self._items
        items.append(x)
        if self._maxlen is not None and len(items) > self._maxlen:
            items.pop(0)

    def appendleft(self, x):
        items = self._items
        items.insert(0, x)
        if self._maxlen is not None and len(items) > self._maxlen:
            items.pop()

    def pop(self):
        if self._items:
            return self._items.pop()
        raise IndexError("pop from an empty deque")

    def popleft(self):
        if self._items:
            return self._items.pop(0)
        raise IndexError("pop from an empty deque")

    def extend(self, iterable):
        for x in list(iterable):
            self.append(x)

    def extendleft(self, iterable):
        for x in list(iterable):
            self.appendleft(x)

    def rotate(self, n=1):
        k = len(self._items)
        if k:
            n = n % k
            if n:
                self._items[:] = self._items[k - n:] + self._items[:k - n]

    def clear(self):
        self._items.clear()

    def copy(self):
        return deque(self._items, self._maxlen)

    def __copy__(self):
        return deque(self._items, self._maxlen)

    def count(self, x):
        return self._items.count(x)

    def index(self, x, *args):
        if x in self._items:
            return self._items.index(x, *args)
        raise ValueError(repr(x) + " is not in deque")

    def insert(self, i, x):
        if self._maxlen is not None and len(self._items) >= self._maxlen:
            raise IndexError("deque already at its maximum size")
        self._items.insert(i, x)

    def remove(self, value):
        if value not in self._items:
            raise ValueError(repr(value) + " is not in deque")
        self._items.remove(value)

    def reverse(self):
        self._items.reverse()

    def _index(self, i):
        if not isinstance(i, int):
            raise TypeError("sequence index must be integer, not '" + type(i).__name__ + "'")
        if i < -len(self._items) or i >= len(self._items):
            raise IndexError("deque index out of range")
        return i

    def __getitem__(self, i):
        return self._items[self._index(i)]

    def __setitem__(self, i, x):
        self._items[self._index(i)] = x

    def __delitem__(self, i):
        del self._items[self._index(i)]

    def __len__(self):
        return len(self._items)

    def __bool__(self):
        return len(self._items) > 0

    def __iter__(self):
        # CPython's raises if the deque changes while iterated; a copy is
        # the closest without that check.
        return iter(self._items[:])

    def __reversed__(self):
        return reversed(list(self._items))

    def __contains__(self, x):
        return x in self._items

    def __eq__(self, other):
        if isinstance(other, deque):
            return self._items == other._items
        return NotImplemented

    def __add__(self, other):
        if not isinstance(other, deque):
            raise TypeError('can only concatenate deque (not "' + type(other).__name__ + '") to deque')
        return deque(self._items + other._items, self._maxlen)

    def __repr__(self):
        if self._maxlen is None:
            return "deque(" + repr(self._items) + ")"
        return "deque(" + repr(self._items) + ", maxlen=" + str(self._maxlen) + ")"


def _fields_said(names):
    quoted = ["'" + n + "'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return quoted[0] + " and " + quoted[1]
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _astuple(other):
    if isinstance(other, tuple):
        return other
    if isinstance(other, _NamedTuple):
        return other._t
    return None


class _NamedTuple:
    def __init__(self, *args, **kwargs):
        cls = type(self)
        fields = cls._fields
        new = cls.__name__ + ".__new__()"
        if len(args) > len(fields):
            takes = str(len(fields) + 1)
            if cls._field_defaults:
                takes = "from " + str(len(fields) - len(cls._field_defaults) + 1) + " to " + takes
            raise TypeError(new + " takes " + takes + " positional arguments but " + str(len(args) + 1) + " were given")
        for name in kwargs:
            if name not in fields:
                raise TypeError(new + " got an unexpected keyword argument '" + name + "'")
            if fields.index(name) < len(args):
                raise TypeError(new + " got multiple values for argument '" + name + "'")
        values = list(args)
        missing = []
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs[name])
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                missing.append(name)
        if missing:
            s = "" if len(missing) == 1 else "s"
            raise TypeError(new + " missing " + str(len(missing)) + " required positional argument" + s + ": "
                            + _fields_said(missing))
        self._t = tuple(values)
        for name, value in zip(fields, values):
            setattr(self, name, value)

    @classmethod
    def _make(cls, iterable):
        return cls(*iterable)

    def _replace(self, **kwargs):
        values = dict(zip(type(self)._fields, self._t))
        for name in kwargs:
            if name not in values:
                raise ValueError("Got unexpected field names: " + repr(list(kwargs)))
            values[name] = kwargs[name]
        return type(self)(**values)

    def _asdict(self):
        return dict(zip(type(self)._fields, self._t))

    def __repr__(self):
        parts = [n + "=" + repr(v) for n, v in zip(type(self)._fields, self._t)]
        return type(self).__name__ + "(" + ", ".join(parts) + ")"

    def __getitem__(self, i):
        return self._t[i]

    def __len__(self):
        return len(self._t)

    def __iter__(self):
        return iter(self._t)

    def __contains__(self, x):
        return x in self._t

    def __hash__(self):
        return hash(self._t)

    def __eq__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t == t

    def __ne__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t != t

    def __lt__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t < t

    def __le__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t <= t

    def __gt__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t > t

    def __ge__(self, other):
        t = _astuple(other)
        return NotImplemented if t is None else self._t >= t

    def __add__(self, other):
        return self._t + _astuple(other)

    def count(self, x):
        return self._t.count(x)

    def index(self, x):
        return self._t.index(x)


def namedtuple(typename, field_names, *, rename=False, defaults=None, module=None):
    if isinstance(field_names, str):
        field_names = field_names.replace(",", " ").split()
    fields = tuple([str(n) for n in field_names])
    for name in fields:
        if not name or not (name[0].isalpha() or name[0] == "_") or not name.replace("_", "a").isalnum():
            raise ValueError("Type names and field names must be valid identifiers: " + repr(name))
        if name.startswith("_"):
            raise ValueError("Field names cannot start with an underscore: " + repr(name))
    seen = []
    for name in fields:
        if name in seen:
            raise ValueError("Encountered duplicate field name: " + repr(name))
        seen.append(name)
    field_defaults = {}
    if defaults is not None:
        defaults = tuple(defaults)
        if len(defaults) > len(fields):
            raise TypeError("Got more default values than field names")
        field_defaults = dict(zip(fields[len(fields) - len(defaults):], defaults))
    cls = _class(typename, _NamedTuple)
    cls._fields = fields
    cls._field_defaults = field_defaults
    return cls
