# open() for the simulator: the simulated machine's disk, in memory, empty
# when the run starts. A file the program writes is there until the run
# ends, for it to read back (and for os.path.exists). Text is UTF-8, and
# each write reaches the disk at once (no buffer to flush); modes r, w, a
# and x, each with b or t; not "+". The disk (`_disk`, shared with `os`
# and `os.path`) maps each file's absolute path to its bytes, and each
# directory's to None: at the start the working directory and those above.


def _path(file):
    import os

    return os.path.abspath(file)


class UnsupportedOperation(OSError):
    pass


UnsupportedOperation.__module__ = "io"


class _Stream:
    """What a file and an in-memory stream share: reading `_data` from `_pos`."""

    _closed_message = "I/O operation on closed file."

    def __init__(self, data):
        self._data = data
        self._pos = 0
        self.closed = False

    def _check(self):
        if self.closed:
            raise ValueError(self._closed_message)

    def _check_read(self):
        self._check()

    def read(self, size=-1):
        self._check_read()
        end = len(self._data) if size is None or size < 0 else self._pos + size
        out = self._data[self._pos:end]
        self._pos += len(out)
        return out

    def readline(self, size=-1):
        self._check_read()
        end = self._data.find("\n" if isinstance(self._data, str) else b"\n", self._pos)
        end = len(self._data) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        out = self._data[self._pos:end]
        self._pos = max(self._pos, end)
        return out

    def readlines(self):
        return list(self)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def seek(self, offset, whence=0):
        self._check_read()
        self._pos = offset if whence == 0 else (self._pos + offset if whence == 1 else len(self._data) + offset)
        return self._pos

    def tell(self):
        self._check()
        return self._pos

    def flush(self):
        self._check()

    def close(self):
        self.closed = True

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _File(_Stream):
    def __init__(self, name, mode, path, binary, readable, data):
        # What a reader reads: the file as it was when opened.
        _Stream.__init__(self, data if binary else data.decode())
        self.name = name
        self.mode = mode
        self._path = path
        self._binary = binary
        self._readable = readable

    def _check_read(self):
        self._check()
        if not self._readable:
            raise UnsupportedOperation("not readable")

    def write(self, s):
        self._check()
        if self._readable:
            raise UnsupportedOperation("not writable")
        if self._binary and not isinstance(s, (bytes, bytearray)):
            raise TypeError(f"a bytes-like object is required, not '{type(s).__name__}'")
        if not self._binary and not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        _disk[self._path] = _disk[self._path] + (bytes(s) if self._binary else s.encode())
        return len(s)

    def readable(self):
        return self._readable

    def writable(self):
        return not self._readable

    def __repr__(self):
        if self._binary:
            kind = "BufferedReader" if self._readable else "BufferedWriter"
            return f"<_io.{kind} name={self.name!r}>"
        return f"<_io.TextIOWrapper name={self.name!r} mode={self.mode!r} encoding='UTF-8'>"


def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
    if not isinstance(file, str):
        raise TypeError(f"expected str, bytes or os.PathLike object, not {type(file).__name__}")
    kinds = [c for c in mode if c in "rwax"]
    if any(c not in "rwaxbt+" for c in mode) or len(set(mode)) != len(mode):
        raise ValueError(f"invalid mode: '{mode}'")
    if "b" in mode and "t" in mode:
        raise ValueError("can't have text and binary mode at once")
    if len(kinds) != 1:
        start = "M" if not kinds else "m"
        raise ValueError(start + "ust have exactly one of create/read/write/append mode" + (" and at most one plus" if not kinds else ""))
    if "+" in mode:
        raise ValueError(f"mode '{mode}' (reading and writing one file) is not supported here: open it twice")
    binary = "b" in mode
    if binary and encoding is not None:
        raise ValueError("binary mode doesn't take an encoding argument")
    import os

    path = _path(file)
    kind = kinds[0]
    if file == "" or (kind == "r" and path not in _disk) or not os.path.isdir(os.path.dirname(path)):
        raise FileNotFoundError(2, "No such file or directory", file)
    if _disk.get(path, b"") is None:
        raise IsADirectoryError(21, "Is a directory", file)
    if kind == "x" and path in _disk:
        raise FileExistsError(17, "File exists", file)
    if kind in "wx":
        _disk[path] = b""
    elif kind == "a":
        _disk[path] = _disk.get(path, b"")
    return _File(file, mode, path, binary, kind == "r", _disk[path] if kind == "r" else b"")


# In-memory streams: text (StringIO) or bytes (BytesIO), read and written
# at one position, as CPython's.
class _Memory(_Stream):
    _closed_message = "I/O operation on closed file"
    _empty = ""

    def __init__(self, initial_value=None):
        _Stream.__init__(self, self._empty if initial_value is None else initial_value)

    def write(self, s):
        self._check()
        if not isinstance(s, type(self._empty)):
            raise TypeError(self._wrong(s))
        v = self._data
        if self._pos > len(v):
            # Past the end (after a seek): the gap is zeros, as CPython's.
            v = v + (b"\0" if self._empty == b"" else "\0") * (self._pos - len(v))
        self._data = v[:self._pos] + s + v[self._pos + len(s):]
        self._pos += len(s)
        return len(s)

    def getvalue(self):
        self._check()
        return self._data

    def truncate(self, size=None):
        self._check()
        self._data = self._data[: self._pos if size is None else size]
        return len(self._data)


class StringIO(_Memory):
    _empty = ""

    def _wrong(self, s):
        return f"string argument expected, got '{type(s).__name__}'"


class BytesIO(_Memory):
    _empty = b""

    def _wrong(self, s):
        return f"a bytes-like object is required, not '{type(s).__name__}'"
