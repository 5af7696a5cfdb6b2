# enum for the simulator, written in the subset it runs. A class that
# derives from Enum is finished by `__init_subclass__` (the interpreter
# passes the body's definition order as `_definition_order_`): each
# member becomes an instance with `name` and `value`; `Color(1)`,
# `Color['RED']`, `for c in Color`, `len(Color)` and `c in Color` go
# through the class hooks `__class_call__`, `__class_getitem__`,
# `__class_iter__` and `__class_len__`.


class auto:
    def __init__(self):
        self.value = None


def _next_value(cls, name, last_values):
    if cls._str_values_:
        return name.lower()
    for v in reversed(last_values):
        if isinstance(v, int):
            return v + 1
    return 1


def _skip(name, value):
    # Methods, class and static methods and properties are not members.
    if name.startswith("_") or callable(value):
        return True
    return value is not None and not isinstance(value, (int, float, str, bytes, tuple, frozenset, auto))


class Enum:
    _str_values_ = False

    def __init_subclass__(cls):
        members = {}
        by_value = {}
        names = []
        values = []
        for name in cls._definition_order_:
            value = getattr(cls, name)
            if _skip(name, value) and not isinstance(value, auto):
                continue
            if isinstance(value, auto):
                value = _next_value(cls, name, values)
            values.append(value)
            if value in by_value:
                member = by_value[value]
            else:
                member = _new(cls)
                member._name_ = name
                member._value_ = value
                member.name = name
                member.value = value
                by_value[value] = member
                names.append(name)
            members[name] = member
            setattr(cls, name, member)
        cls._member_map_ = members
        cls._value2member_map_ = by_value
        cls._member_names_ = names

    def __class_call__(cls, value):
        if value in cls._value2member_map_:
            return cls._value2member_map_[value]
        if isinstance(value, cls):
            return value
        raise ValueError(repr(value) + " is not a valid " + cls.__name__)

    def __class_getitem__(cls, name):
        return cls._member_map_[name]

    def __class_iter__(cls):
        return [cls._member_map_[n] for n in cls._member_names_]

    def __class_len__(cls):
        return len(cls._member_names_)

    def __repr__(self):
        return "<" + type(self).__name__ + "." + self._name_ + ": " + repr(self._value_) + ">"

    def __str__(self):
        return type(self).__name__ + "." + self._name_

    def __format__(self, spec):
        return format(str(self), spec)

    def __hash__(self):
        return hash(self._name_)

    def __reduce_ex__(self, proto):
        return (type(self), (self._value_,))


class IntEnum(Enum):
    # CPython's is an int too: equal to its value, ordered, printed as it.
    def __str__(self):
        return str(self._value_)

    def __format__(self, spec):
        return format(self._value_, spec)

    def __eq__(self, other):
        if isinstance(other, IntEnum):
            return self._value_ == other._value_
        return self._value_ == other

    def __hash__(self):
        return hash(self._value_)

    def __lt__(self, other):
        return self._value_ < (other._value_ if isinstance(other, IntEnum) else other)

    def __le__(self, other):
        return self._value_ <= (other._value_ if isinstance(other, IntEnum) else other)

    def __gt__(self, other):
        return self._value_ > (other._value_ if isinstance(other, IntEnum) else other)

    def __ge__(self, other):
        return self._value_ >= (other._value_ if isinstance(other, IntEnum) else other)

    def __int__(self):
        return self._value_

    def __index__(self):
        return self._value_

    # Arithmetic gives a plain int, as CPython's (an int subclass) does.

    def __add__(self, other):
        return self._value_ + _int(other)

    def __radd__(self, other):
        return _int(other) + self._value_

    def __sub__(self, other):
        return self._value_ - _int(other)

    def __rsub__(self, other):
        return _int(other) - self._value_

    def __mul__(self, other):
        return self._value_ * _int(other)

    def __rmul__(self, other):
        return _int(other) * self._value_

    def __truediv__(self, other):
        return self._value_ / _int(other)

    def __rtruediv__(self, other):
        return _int(other) / self._value_

    def __floordiv__(self, other):
        return self._value_ // _int(other)

    def __rfloordiv__(self, other):
        return _int(other) // self._value_

    def __mod__(self, other):
        return self._value_ % _int(other)

    def __rmod__(self, other):
        return _int(other) % self._value_

    def __pow__(self, other):
        return self._value_ ** _int(other)

    def __rpow__(self, other):
        return _int(other) ** self._value_

    def __and__(self, other):
        return self._value_ & _int(other)

    def __rand__(self, other):
        return _int(other) & self._value_

    def __or__(self, other):
        return self._value_ | _int(other)

    def __ror__(self, other):
        return _int(other) | self._value_

    def __xor__(self, other):
        return self._value_ ^ _int(other)

    def __rxor__(self, other):
        return _int(other) ^ self._value_

    def __lshift__(self, other):
        return self._value_ << _int(other)

    def __rlshift__(self, other):
        return _int(other) << self._value_

    def __rshift__(self, other):
        return self._value_ >> _int(other)

    def __rrshift__(self, other):
        return _int(other) >> self._value_

    def __neg__(self):
        return -self._value_

    def __pos__(self):
        return self._value_

    def __abs__(self):
        return abs(self._value_)

    def __invert__(self):
        return ~self._value_

    def __bool__(self):
        return self._value_ != 0


def _int(x):
    return x._value_ if isinstance(x, IntEnum) else x


class StrEnum(Enum):
    _str_values_ = True

    def __str__(self):
        return self._value_

    def __format__(self, spec):
        return format(self._value_, spec)

    def __eq__(self, other):
        if isinstance(other, StrEnum):
            return self._value_ == other._value_
        return self._value_ == other

    def __hash__(self):
        return hash(self._value_)


def unique(cls):
    for name in cls._definition_order_:
        if name in cls._member_map_ and cls._member_map_[name]._name_ != name:
            alias = cls._member_map_[name]
            raise ValueError("duplicate values found in " + repr(cls) + ": " + name + " -> " + alias._name_)
    return cls
