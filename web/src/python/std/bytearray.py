# The built-in bytearray for the simulator, written in the subset it runs:
# a mutable list of byte values. CPython's is C; this one prints, compares
# and raises as it does for the usual uses. The methods it shares with
# bytes (find, split, startswith, upper, ...) run on a bytes copy, and a
# bytes result comes back a bytearray, as CPython's methods return.


def _byte(x):
    if not isinstance(x, int):
        raise TypeError("'" + type(x).__name__ + "' object cannot be interpreted as an integer")
    if x < 0 or x > 255:
        raise ValueError("byte must be in range(0, 256)")
    return x


def _values(source):
    # The byte values of something bytes-like or an iterable of ints.
    if isinstance(source, (bytes, bytearray)):
        return list(source)
    if isinstance(source, str):
        raise TypeError("can assign only bytes, buffers, or iterables of ints in range(0, 256)")
    return [_byte(x) for x in source]


class bytearray:
    __module__ = "builtins"
    __hash__ = None

    def __init__(self, source=None, encoding=None, errors="strict"):
        if source is None:
            self._b = []
        elif isinstance(source, str):
            if encoding is None:
                raise TypeError("string argument without an encoding")
            self._b = list(source.encode(encoding, errors))
        elif encoding is not None:
            raise TypeError("encoding without a string argument")
        elif isinstance(source, int):
            if source < 0:
                raise ValueError("negative count")
            self._b = [0] * source
        else:
            self._b = _values(source)

    def __bytes__(self):
        return bytes(self._b)

    def __repr__(self):
        text = repr(bytes(self._b))
        if text.startswith('b"'):
            # CPython's escapes the quote its bytes repr leaves alone.
            text = 'b"' + text[2:-1].replace("'", "\\'") + '"'
        return "bytearray(" + text + ")"

    def __len__(self):
        return len(self._b)

    def __iter__(self):
        return iter(list(self._b))

    def __contains__(self, x):
        if isinstance(x, int):
            return _byte(x) in self._b
        return bytes(x) in bytes(self._b)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return bytearray(self._b[i])
        if not isinstance(i, int):
            raise TypeError("bytearray indices must be integers or slices, not " + type(i).__name__)
        if i < -len(self._b) or i >= len(self._b):
            raise IndexError("bytearray index out of range")
        return self._b[i]

    def __setitem__(self, i, x):
        if isinstance(i, slice):
            self._b[i] = _values(x)
            return
        if not isinstance(i, int):
            raise TypeError("bytearray indices must be integers or slices, not " + type(i).__name__)
        if i < -len(self._b) or i >= len(self._b):
            raise IndexError("bytearray index out of range")
        self._b[i] = _byte(x)

    def __delitem__(self, i):
        if not isinstance(i, (int, slice)):
            raise TypeError("bytearray indices must be integers or slices, not " + type(i).__name__)
        if isinstance(i, int) and (i < -len(self._b) or i >= len(self._b)):
            raise IndexError("bytearray index out of range")
        del self._b[i]

    def __eq__(self, other):
        if isinstance(other, (bytes, bytearray)):
            return bytes(self._b) == bytes(other)
        return NotImplemented

    def __ne__(self, other):
        if isinstance(other, (bytes, bytearray)):
            return bytes(self._b) != bytes(other)
        return NotImplemented

    def __lt__(self, other):
        return bytes(self._b) < bytes(other)

    def __le__(self, other):
        return bytes(self._b) <= bytes(other)

    def __gt__(self, other):
        return bytes(self._b) > bytes(other)

    def __ge__(self, other):
        return bytes(self._b) >= bytes(other)

    def __add__(self, other):
        if not isinstance(other, (bytes, bytearray)):
            raise TypeError("can't concat " + type(other).__name__ + " to bytearray")
        return bytearray(self._b + list(other))

    def __radd__(self, other):
        if not isinstance(other, bytes):
            return NotImplemented
        return other + bytes(self._b)

    def __iadd__(self, other):
        if not isinstance(other, (bytes, bytearray)):
            raise TypeError("can't concat " + type(other).__name__ + " to bytearray")
        self._b.extend(list(other))
        return self

    def __mul__(self, n):
        return bytearray(self._b * n)

    def __rmul__(self, n):
        return bytearray(self._b * n)

    def append(self, x):
        self._b.append(_byte(x))

    def extend(self, iterable):
        self._b.extend(_values(iterable))

    def insert(self, i, x):
        self._b.insert(i, _byte(x))

    def pop(self, i=-1):
        if not self._b:
            raise IndexError("pop from empty bytearray")
        if i < -len(self._b) or i >= len(self._b):
            raise IndexError("pop index out of range")
        return self._b.pop(i)

    def remove(self, x):
        if _byte(x) not in self._b:
            raise ValueError("value not found in bytearray")
        self._b.remove(x)

    def clear(self):
        self._b.clear()

    def copy(self):
        return bytearray(self._b)

    def reverse(self):
        self._b.reverse()

    def decode(self, encoding="utf-8", errors="strict"):
        return bytes(self._b).decode(encoding, errors)

    def __getattr__(self, name):
        if name.startswith("_") or not hasattr(b"", name):
            raise AttributeError("'bytearray' object has no attribute '" + name + "'")
        method = getattr(bytes(self._b), name)

        def call(*args, **kwargs):
            out = method(*args, **kwargs)
            if isinstance(out, bytes):
                return bytearray(out)
            if isinstance(out, list):
                return [bytearray(x) if isinstance(x, bytes) else x for x in out]
            if isinstance(out, tuple):
                return tuple([bytearray(x) if isinstance(x, bytes) else x for x in out])
            return out

        return call
