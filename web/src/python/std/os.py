# os for the simulator: the simulated machine's process. It has no files,
# no environment variables and no child processes; what it has is its
# cores (cpu_count), a process id, a working directory (the script's, or
# "/" for a script with no directory) and os.path.

import os.path as path

name = "posix"
sep = path.sep
curdir = path.curdir
pardir = path.pardir
extsep = path.extsep
pathsep = ":"
linesep = "\n"
devnull = "/dev/null"
environ = {}


def getenv(key, default=None):
    return environ.get(key, default)


def cpu_count():
    return _CPUS


def getpid():
    return 4242


def getppid():
    return 4241


# The script's directory, where `python script.py` is usually run (CPython's
# `__file__` for it is absolute), or "/" for a script without one.
def getcwd():
    head = path.dirname(_FILE)
    return head if path.isabs(head) else "/"
