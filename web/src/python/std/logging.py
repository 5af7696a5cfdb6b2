# logging for the simulator, written in the subset it runs: loggers by
# dotted name under the root, levels, StreamHandler and Formatter
# (`%(levelname)s:%(name)s:%(message)s` by default), basicConfig, and
# CPython's last-resort handler (a bare message on stderr) when nothing
# is configured. Records carry the simulated clock (`time.time()`).

import sys
import time
import threading

CRITICAL = 50
FATAL = CRITICAL
ERROR = 40
WARNING = 30
WARN = WARNING
INFO = 20
DEBUG = 10
NOTSET = 0

_levelToName = {CRITICAL: "CRITICAL", ERROR: "ERROR", WARNING: "WARNING", INFO: "INFO", DEBUG: "DEBUG", NOTSET: "NOTSET"}
_nameToLevel = {"CRITICAL": CRITICAL, "FATAL": FATAL, "ERROR": ERROR, "WARN": WARNING, "WARNING": WARNING,
                "INFO": INFO, "DEBUG": DEBUG, "NOTSET": NOTSET}

BASIC_FORMAT = "%(levelname)s:%(name)s:%(message)s"
_start = time.time()
_disabled = [0]


def getLevelName(level):
    if level in _levelToName:
        return _levelToName[level]
    if level in _nameToLevel:
        return _nameToLevel[level]
    return "Level " + str(level)


def addLevelName(level, name):
    _levelToName[level] = name
    _nameToLevel[name] = level


def _checkLevel(level):
    if isinstance(level, int):
        return level
    if str(level) == level:
        if level not in _nameToLevel:
            raise ValueError("Unknown level: " + repr(level))
        return _nameToLevel[level]
    raise TypeError("Level not an integer or a valid string: " + repr(level))


class LogRecord:
    def __init__(self, name, level, msg, args):
        self.name = name
        self.levelno = level
        self.levelname = getLevelName(level)
        self.msg = msg
        self.args = args
        self.created = time.time()
        self.msecs = int((self.created - int(self.created)) * 1000)
        self.relativeCreated = (self.created - _start) * 1000
        self.thread = threading.get_ident()
        self.threadName = threading.current_thread().name
        self.process = 1
        self.processName = "MainProcess"
        self.pathname = sys.argv[0] if hasattr(sys, "argv") else "experiment.py"
        self.filename = self.pathname
        self.module = self.filename.rsplit(".", 1)[0]
        self.funcName = "<module>"
        self.lineno = 0
        self.exc_info = None
        self.exc_text = None
        self.stack_info = None

    def getMessage(self):
        msg = str(self.msg)
        if self.args:
            msg = msg % self.args
        return msg

    def __repr__(self):
        return "<LogRecord: " + self.name + ", " + str(self.levelno) + ", " + self.pathname + ", " + str(self.lineno) + ', "' + str(self.msg) + '">'


class Formatter:
    def __init__(self, fmt=None, datefmt=None, style="%"):
        if style not in ("%", "{", "$"):
            raise ValueError("Style must be one of: %,{,$")
        if fmt is None:
            fmt = "%(message)s" if style == "%" else "{message}" if style == "{" else "${message}"
        self._fmt = fmt
        self._style = style
        self.datefmt = datefmt

    def usesTime(self):
        return "asctime" in self._fmt

    def formatTime(self, record, datefmt=None):
        ct = time.localtime(record.created)
        if datefmt:
            return time.strftime(datefmt, ct)
        s = time.strftime("%Y-%m-%d %H:%M:%S", ct)
        return "%s,%03d" % (s, record.msecs)

    def format(self, record):
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        values = dict(vars(record))
        if self._style == "{":
            s = self._fmt.format(**values)
        elif self._style == "$":
            s = self._fmt
            for k, v in values.items():
                s = s.replace("${" + k + "}", str(v)).replace("$" + k, str(v))
        else:
            s = self._fmt % values
        if record.exc_text:
            if s[-1:] != "\n":
                s = s + "\n"
            s = s + record.exc_text
        return s


_defaultFormatter = Formatter()


class Filterer:
    def __init__(self):
        self.filters = []

    def addFilter(self, f):
        if f not in self.filters:
            self.filters.append(f)

    def removeFilter(self, f):
        if f in self.filters:
            self.filters.remove(f)

    def filter(self, record):
        for f in self.filters:
            ok = f.filter(record) if hasattr(f, "filter") else f(record)
            if not ok:
                return False
        return True


class Filter:
    def __init__(self, name=""):
        self.name = name

    def filter(self, record):
        if not self.name or self.name == record.name:
            return True
        return record.name.startswith(self.name + ".")


class Handler(Filterer):
    def __init__(self, level=NOTSET):
        Filterer.__init__(self)
        self.level = _checkLevel(level)
        self.formatter = None

    def setLevel(self, level):
        self.level = _checkLevel(level)

    def setFormatter(self, fmt):
        self.formatter = fmt

    def format(self, record):
        return (self.formatter or _defaultFormatter).format(record)

    def handle(self, record):
        if self.filter(record):
            self.emit(record)

    def emit(self, record):
        raise NotImplementedError("emit must be implemented by Handler subclasses")

    def flush(self):
        pass

    def close(self):
        pass


class StreamHandler(Handler):
    terminator = "\n"

    def __init__(self, stream=None):
        Handler.__init__(self)
        self.stream = stream

    def emit(self, record):
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(self.format(record) + self.terminator)

    def __repr__(self):
        name = "<stderr>" if self.stream is None or self.stream is sys.stderr else "<stdout>"
        return "<StreamHandler " + name + " (" + getLevelName(self.level) + ")>"


class NullHandler(Handler):
    def emit(self, record):
        pass


lastResort = StreamHandler()
lastResort.level = WARNING


class Logger(Filterer):
    def __init__(self, name, level=NOTSET):
        Filterer.__init__(self)
        self.name = name
        self.level = _checkLevel(level)
        self.parent = None
        self.propagate = True
        self.handlers = []
        self.disabled = False

    def setLevel(self, level):
        self.level = _checkLevel(level)

    def getEffectiveLevel(self):
        logger = self
        while logger is not None:
            if logger.level:
                return logger.level
            logger = logger.parent
        return NOTSET

    def isEnabledFor(self, level):
        if _disabled[0] >= level:
            return False
        return level >= self.getEffectiveLevel()

    def addHandler(self, h):
        if h not in self.handlers:
            self.handlers.append(h)

    def removeHandler(self, h):
        if h in self.handlers:
            self.handlers.remove(h)

    def hasHandlers(self):
        logger = self
        while logger is not None:
            if logger.handlers:
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False

    def getChild(self, suffix):
        name = suffix if self is root else self.name + "." + suffix
        return getLogger(name)

    def _log(self, level, msg, args, exc_info=None, extra=None, stack_info=False, stacklevel=1):
        record = LogRecord(self.name, level, msg, args)
        if extra:
            for k in extra:
                setattr(record, k, extra[k])
        if exc_info:
            record.exc_text = _exc_text(exc_info)
        if self.disabled or not self.filter(record):
            return
        found = 0
        logger = self
        while logger is not None:
            for h in logger.handlers:
                found += 1
                if record.levelno >= h.level:
                    h.handle(record)
            if not logger.propagate:
                break
            logger = logger.parent
        if found == 0 and record.levelno >= lastResort.level:
            lastResort.handle(record)

    def debug(self, msg, *args, **kwargs):
        if self.isEnabledFor(DEBUG):
            self._log(DEBUG, msg, args, **kwargs)

    def info(self, msg, *args, **kwargs):
        if self.isEnabledFor(INFO):
            self._log(INFO, msg, args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        if self.isEnabledFor(WARNING):
            self._log(WARNING, msg, args, **kwargs)

    def warn(self, msg, *args, **kwargs):
        self.warning(msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        if self.isEnabledFor(ERROR):
            self._log(ERROR, msg, args, **kwargs)

    def exception(self, msg, *args, exc_info=True, **kwargs):
        self.error(msg, *args, exc_info=exc_info, **kwargs)

    def critical(self, msg, *args, **kwargs):
        if self.isEnabledFor(CRITICAL):
            self._log(CRITICAL, msg, args, **kwargs)

    fatal = critical

    def log(self, level, msg, *args, **kwargs):
        if not isinstance(level, int):
            raise TypeError("level must be an integer")
        if self.isEnabledFor(level):
            self._log(level, msg, args, **kwargs)

    def __repr__(self):
        return "<" + type(self).__name__ + " " + self.name + " (" + getLevelName(self.getEffectiveLevel()) + ")>"


class RootLogger(Logger):
    def __init__(self, level):
        Logger.__init__(self, "root", level)


# The traceback a record with `exc_info` ends with: of the exception given,
# or with `exc_info=True` of the one being handled ("NoneType: None" for
# none), without its last line break (CPython's `formatException`).
def _exc_text(exc_info):
    import sys
    import traceback

    if isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple):
        exc = exc_info[1]
    else:
        exc = sys.exception()
    return "".join(traceback.format_exception(exc)).removesuffix("\n")


root = RootLogger(WARNING)
_loggers = {}


def getLogger(name=None):
    if not name or name == "root":
        return root
    if name in _loggers:
        return _loggers[name]
    logger = Logger(name)
    _loggers[name] = logger
    # Its parent: the nearest existing ancestor; its existing descendants
    # whose parent was above it now hang from it.
    parent = root
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        up = ".".join(parts[:i])
        if up in _loggers:
            parent = _loggers[up]
            break
    logger.parent = parent
    for other in _loggers.values():
        if other is not logger and other.name.startswith(name + "."):
            p = other.parent
            if p is root or not p.name.startswith(name + ".") and len(p.name) < len(name):
                other.parent = logger
    return logger


def basicConfig(**kwargs):
    force = kwargs.pop("force", False)
    if force:
        for h in root.handlers[:]:
            root.removeHandler(h)
    if root.handlers:
        return
    handlers = kwargs.pop("handlers", None)
    stream = kwargs.pop("stream", None)
    filename = kwargs.pop("filename", None)
    if filename is not None:
        raise ValueError("logging to a file is not supported here: log to sys.stderr or sys.stdout")
    if handlers is None:
        handlers = [StreamHandler(stream)]
    style = kwargs.pop("style", "%")
    fmt = kwargs.pop("format", BASIC_FORMAT if style == "%" else None)
    formatter = Formatter(fmt, kwargs.pop("datefmt", None), style)
    for h in handlers:
        if h.formatter is None:
            h.setFormatter(formatter)
        root.addHandler(h)
    level = kwargs.pop("level", None)
    if level is not None:
        root.setLevel(level)
    kwargs.pop("filemode", None)
    kwargs.pop("encoding", None)
    kwargs.pop("errors", None)
    if kwargs:
        raise ValueError("Unrecognised argument(s): " + ", ".join(kwargs))


def _root_call(level, msg, args, kwargs):
    if not root.handlers:
        basicConfig()
    if root.isEnabledFor(level):
        root._log(level, msg, args, **kwargs)


def debug(msg, *args, **kwargs):
    _root_call(DEBUG, msg, args, kwargs)


def info(msg, *args, **kwargs):
    _root_call(INFO, msg, args, kwargs)


def warning(msg, *args, **kwargs):
    _root_call(WARNING, msg, args, kwargs)


def warn(msg, *args, **kwargs):
    _root_call(WARNING, msg, args, kwargs)


def error(msg, *args, **kwargs):
    _root_call(ERROR, msg, args, kwargs)


def exception(msg, *args, exc_info=True, **kwargs):
    kwargs["exc_info"] = exc_info
    _root_call(ERROR, msg, args, kwargs)


def critical(msg, *args, **kwargs):
    _root_call(CRITICAL, msg, args, kwargs)


fatal = critical


def log(level, msg, *args, **kwargs):
    _root_call(level, msg, args, kwargs)


def disable(level=CRITICAL):
    _disabled[0] = level


def shutdown():
    pass
