# sys's values written in Python over the native module (exit, stdout,
# stderr, maxsize, platform, byteorder): the CPython the simulator stands
# for, 3.11, and the script's command line (its path only).

from collections import namedtuple

version_info = namedtuple("sys.version_info", ["major", "minor", "micro", "releaselevel", "serial"])(
    3, 11, 7, "final", 0
)
argv = [_FILE]
