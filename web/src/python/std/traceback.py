# traceback for the simulator: CPython 3.11's functions that format and
# print an exception, over the native `_format` (the lines an uncaught
# exception prints, with its chain). No stack walking (`extract_stack`,
# `print_stack`): the simulator keeps no frame objects.

import sys


# `format_exception(exc)`, or the old `format_exception(type, value, tb)`.
def _value(exc, value):
    return exc if value is None and isinstance(exc, BaseException) else value


def format_exception(exc, /, value=None, tb=None, limit=None, chain=True):
    return _format(_value(exc, value), chain)


def format_exception_only(exc, /, value=None):
    return _format(_value(exc, value), False)[-1:]


def print_exception(exc, /, value=None, tb=None, limit=None, file=None, chain=True):
    print("".join(format_exception(exc, value, chain=chain)), end="", file=sys.stderr if file is None else file)


def format_exc(limit=None, chain=True):
    return "".join(_format(sys.exception(), chain))


def print_exc(limit=None, file=None, chain=True):
    print(format_exc(chain=chain), end="", file=sys.stderr if file is None else file)
