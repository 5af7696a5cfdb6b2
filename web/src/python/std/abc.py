# abc for the simulator, written in the subset it runs (CPython's is
# mostly C). There are no metaclasses here: `ABC` and `ABCMeta` are base
# classes (`class C(metaclass=ABCMeta)` compiles as `class C(ABCMeta)`)
# whose `__init_subclass__` hook works out a class's abstract methods as
# CPython's ABCMeta.__new__ does, and whose `__class_call__` hook refuses
# to instantiate a class that has some left, with CPython's message.
# Functions take no attributes here, so `abstractmethod` keeps the ones it
# marked in a table instead of setting `__isabstractmethod__`.

_abstract = {}


def abstractmethod(funcobj):
    _abstract[id(funcobj)] = funcobj
    return funcobj


def _is_abstract(value):
    # A property is abstract if its getter or setter is; a class or static
    # method if its function is.
    for attr in ("fget", "fset", "__func__"):
        inner = getattr(value, attr, None)
        if inner is not None and _is_abstract(inner):
            return True
    return id(value) in _abstract and _abstract[id(value)] is value


class _ABCBase:
    __abstractmethods__ = frozenset()

    def __init_subclass__(cls):
        abstracts = set()
        for name in cls._definition_order_:
            if _is_abstract(_lookup(cls, name)):
                abstracts.add(name)
        # The base's (inherited, until set below) that this class leaves.
        for name in cls.__abstractmethods__:
            if _is_abstract(_lookup(cls, name)):
                abstracts.add(name)
        cls.__abstractmethods__ = frozenset(abstracts)

    def __class_call__(cls, *args, **kwargs):
        if cls.__abstractmethods__:
            names = sorted(cls.__abstractmethods__)
            raise TypeError(
                "Can't instantiate abstract class %s with abstract method%s %s"
                % (cls.__name__, "s" if len(names) > 1 else "", ", ".join(names))
            )
        obj = _new(cls)
        init = _lookup(cls, "__init__")
        if init is not None:
            init(obj, *args, **kwargs)
        elif args or kwargs:
            raise TypeError(cls.__name__ + "() takes no arguments")
        return obj


class ABC(_ABCBase):
    pass


class ABCMeta(_ABCBase):
    pass
