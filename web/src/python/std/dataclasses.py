# dataclasses for the simulator, written in the subset it runs: the
# fields come from the class body's `__annotations__` (recorded as text:
# annotations are not evaluated here), and the generated methods are
# shared functions reading the class's fields, not code made per class.


class _MissingType:
    def __repr__(self):
        return "MISSING"


MISSING = _MissingType()


class FrozenInstanceError(AttributeError):
    pass


class Field:
    def __init__(self, default, default_factory, init, repr, hash, compare, metadata, kw_only):
        self.name = None
        self.type = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.hash = hash
        self.compare = compare
        self.metadata = metadata
        self.kw_only = kw_only

    def __repr__(self):
        return ("Field(name=" + repr(self.name) + ",type=" + repr(self.type) + ",default=" + repr(self.default)
                + ",default_factory=" + repr(self.default_factory) + ",init=" + repr(self.init)
                + ",repr=" + repr(self.repr) + ",hash=" + repr(self.hash) + ",compare=" + repr(self.compare)
                + ",metadata=" + repr(self.metadata) + ",kw_only=" + repr(self.kw_only) + ",_field_type=_FIELD)")


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True, hash=None, compare=True,
          metadata=None, kw_only=MISSING):
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, hash, compare, metadata, kw_only)


def _is_classvar(annotation):
    return annotation.startswith("ClassVar") or annotation.startswith("typing.ClassVar")


def _fields_of(cls):
    return getattr(cls, "__dataclass_fields__", None)


def _init(self, *args, **kwargs):
    cls = type(self)
    fields = [f for f in cls.__dataclass_fields__.values() if f.init]
    where = cls.__name__ + ".__init__()"
    if len(args) > len(fields):
        required = len([f for f in fields if f.default is MISSING and f.default_factory is MISSING])
        takes = str(len(fields) + 1)
        if required < len(fields):
            takes = "from " + str(required + 1) + " to " + takes
        raise TypeError(where + " takes " + takes + " positional arguments but " + str(len(args) + 1) + " were given")
    names = [f.name for f in fields]
    for name in kwargs:
        if name not in names:
            raise TypeError(where + " got an unexpected keyword argument '" + name + "'")
        if names.index(name) < len(args):
            raise TypeError(where + " got multiple values for argument '" + name + "'")
    missing = []
    values = {}
    for i, f in enumerate(fields):
        if i < len(args):
            values[f.name] = args[i]
        elif f.name in kwargs:
            values[f.name] = kwargs[f.name]
        elif f.default is not MISSING:
            values[f.name] = f.default
        elif f.default_factory is not MISSING:
            values[f.name] = f.default_factory()
        else:
            missing.append(f.name)
    if missing:
        quoted = ["'" + n + "'" for n in missing]
        if len(quoted) == 1:
            said = quoted[0]
        elif len(quoted) == 2:
            said = quoted[0] + " and " + quoted[1]
        else:
            said = ", ".join(quoted[:-1]) + ", and " + quoted[-1]
        s = "" if len(missing) == 1 else "s"
        raise TypeError(where + " missing " + str(len(missing)) + " required positional argument" + s + ": " + said)
    # As CPython's generated `__init__`, past a frozen class's `__setattr__`.
    for f in cls.__dataclass_fields__.values():
        if f.init:
            object.__setattr__(self, f.name, values[f.name])
        elif f.default is not MISSING:
            object.__setattr__(self, f.name, f.default)
        elif f.default_factory is not MISSING:
            object.__setattr__(self, f.name, f.default_factory())
    post = getattr(self, "__post_init__", None)
    if post is not None:
        post()


def _repr(self):
    cls = type(self)
    parts = [f.name + "=" + repr(getattr(self, f.name)) for f in cls.__dataclass_fields__.values() if f.repr]
    return cls.__name__ + "(" + ", ".join(parts) + ")"


def _key(obj):
    return tuple([getattr(obj, f.name) for f in type(obj).__dataclass_fields__.values() if f.compare])


def _eq(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) == _key(other)


def _lt(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) < _key(other)


def _le(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) <= _key(other)


def _gt(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) > _key(other)


def _ge(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _key(self) >= _key(other)


def _hash(self):
    return hash(_key(self))


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError("cannot assign to field " + repr(name))


def _frozen_delattr(self, name):
    raise FrozenInstanceError("cannot delete field " + repr(name))


def _process(cls, init, repr, eq, order, frozen, unsafe_hash):
    # A dataclass base's fields first (the class's own, if it inherits
    # them, are the same fields again).
    fields = dict(_fields_of(cls) or {})
    annotations = getattr(cls, "__annotations__", {})
    for name, annotation in annotations.items():
        if _is_classvar(annotation):
            continue
        default = getattr(cls, name, MISSING)
        if isinstance(default, Field):
            f = default
        else:
            if isinstance(default, (list, dict, set)):
                raise ValueError("mutable default " + str(type(default)) + " for field " + name
                                 + " is not allowed: use default_factory")
            f = field(default=default)
        f.name = name
        f.type = annotation
        fields[name] = f
        if isinstance(default, Field) and f.default is not MISSING:
            setattr(cls, name, f.default)
    seen_default = None
    for f in fields.values():
        if not f.init:
            continue
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = f.name
        elif seen_default is not None:
            raise TypeError("non-default argument '" + f.name + "' follows default argument")
    cls.__dataclass_fields__ = fields
    if init:
        cls.__init__ = _init
    if repr:
        cls.__repr__ = _repr
    if eq:
        cls.__eq__ = _eq
    if order:
        if not eq:
            raise ValueError("eq must be true if order is true")
        cls.__lt__ = _lt
        cls.__le__ = _le
        cls.__gt__ = _gt
        cls.__ge__ = _ge
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    if unsafe_hash or (eq and frozen):
        cls.__hash__ = _hash
    return cls


def dataclass(cls=None, *, init=True, repr=True, eq=True, order=False, unsafe_hash=False, frozen=False,
              match_args=True, kw_only=False, slots=False):
    def wrap(cls):
        return _process(cls, init, repr, eq, order, frozen, unsafe_hash)

    if cls is None:
        return wrap
    return wrap(cls)


def fields(class_or_instance):
    fs = _fields_of(class_or_instance)
    if fs is None:
        raise TypeError("must be called with a dataclass type or instance")
    return tuple(fs.values())


def is_dataclass(obj):
    return _fields_of(obj) is not None


def _copy_value(v, dict_factory):
    if _fields_of(v) is not None and not callable(v):
        return asdict(v, dict_factory=dict_factory)
    if isinstance(v, list):
        return [_copy_value(x, dict_factory) for x in v]
    if isinstance(v, tuple):
        return tuple([_copy_value(x, dict_factory) for x in v])
    if isinstance(v, dict):
        return {_copy_value(k, dict_factory): _copy_value(x, dict_factory) for k, x in v.items()}
    return v


def asdict(obj, *, dict_factory=dict):
    if _fields_of(obj) is None:
        raise TypeError("asdict() should be called on dataclass instances")
    return dict_factory([(f.name, _copy_value(getattr(obj, f.name), dict_factory)) for f in fields(obj)])


def astuple(obj, *, tuple_factory=tuple):
    if _fields_of(obj) is None:
        raise TypeError("astuple() should be called on dataclass instances")
    return tuple_factory([_copy_value(getattr(obj, f.name), dict) for f in fields(obj)])


def replace(obj, **changes):
    if _fields_of(obj) is None:
        raise TypeError("replace() should be called on dataclass instances")
    values = {}
    for f in fields(obj):
        if f.init:
            values[f.name] = changes.pop(f.name) if f.name in changes else getattr(obj, f.name)
    if changes:
        raise TypeError(type(obj).__name__ + ".__init__() got an unexpected keyword argument '" + list(changes)[0] + "'")
    return type(obj)(**values)
