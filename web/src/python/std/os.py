# os for the simulator: the simulated machine's process. It has no
# environment variables and no child processes; what it has is its cores
# (cpu_count), a process id, a working directory (the script's, or "/" for a
# script with no directory), os.path, and its disk (`_disk`: a file's
# absolute path to its bytes, a directory's to None), which holds only the
# working directory and those above it when the run starts.

import os.path as path

# (For the functions below, whose parameter is named `path`.)
_ospath = path

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


# The script's directory, or "/" for a script named without one (`_CWD`).
def getcwd():
    return _CWD



def remove(path):
    if not _ospath.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    if _ospath.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    del _disk[_ospath.abspath(path)]


unlink = remove


def listdir(path="."):
    if not _ospath.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    inside = _ospath.abspath(path).rstrip("/") + "/"
    return sorted(f[len(inside):] for f in _disk if f.startswith(inside) and "/" not in f[len(inside):] and f != inside)


def mkdir(path):
    full = _ospath.abspath(path)
    if full in _disk:
        raise FileExistsError(17, "File exists", path)
    if not _ospath.isdir(_ospath.dirname(full)):
        raise FileNotFoundError(2, "No such file or directory", path)
    _disk[full] = None


def makedirs(name, exist_ok=False):
    full = _ospath.abspath(name)
    if _ospath.isdir(full):
        if not exist_ok:
            raise FileExistsError(17, "File exists", name)
        return
    parent = _ospath.dirname(full)
    if not _ospath.exists(parent):
        makedirs(parent, exist_ok=True)
    mkdir(full)
