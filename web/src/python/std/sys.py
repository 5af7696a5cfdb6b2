# sys's values written in Python over the native module (exit, stdout,
# stderr, maxsize, platform, byteorder, get/setswitchinterval): the CPython
# the simulator stands for, 3.11, the script's command line (its path only)
# and where imports are looked for.

from collections import namedtuple as _namedtuple

version_info = _namedtuple("sys.version_info", ["major", "minor", "micro", "releaselevel", "serial"])(
    3, 11, 7, "final", 0
)
argv = [_FILE]

import os.path as _path

# Where imports are looked for: the script's directory first, as in CPython
# (the simulator's modules are its own, so a program may change the list
# and nothing else changes).
path = [_path.dirname(_path.abspath(_FILE))]
executable = "/usr/bin/python3"
