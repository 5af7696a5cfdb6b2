# os.path for the simulator: CPython 3.11's posixpath, the functions that
# work on the path's text, and those that ask the simulated machine's disk
# (`_disk`, which `open` writes and `os` reads: a file's absolute path to
# its bytes, a directory's to None).

sep = "/"
curdir = "."
pardir = ".."
extsep = "."


def isabs(s):
    return s.startswith("/")


def join(a, *p):
    path = a
    for b in p:
        if b.startswith("/"):
            path = b
        elif not path or path.endswith("/"):
            path += b
        else:
            path += "/" + b
    return path


def split(p):
    i = p.rfind("/") + 1
    head, tail = p[:i], p[i:]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head, tail


def dirname(p):
    return split(p)[0]


def basename(p):
    return p[p.rfind("/") + 1:]


def splitext(p):
    dot = p.rfind(".")
    if dot <= p.rfind("/"):
        return p, ""
    # A name's leading dots are not an extension (".bashrc").
    start = p.rfind("/") + 1
    while start < dot and p[start] == ".":
        start += 1
    if start == dot:
        return p, ""
    return p[:dot], p[dot:]


def normpath(path):
    if not path:
        return "."
    initial = 0
    if path.startswith("/"):
        # POSIX keeps exactly two leading slashes, folds three or more to one.
        initial = 2 if path.startswith("//") and not path.startswith("///") else 1
    comps = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp != ".." or (not initial and not comps) or (comps and comps[-1] == ".."):
            comps.append(comp)
        elif comps:
            comps.pop()
    path = "/" * initial + "/".join(comps)
    return path or "."


def abspath(path):
    if not isabs(path):
        import os

        path = join(os.getcwd(), path)
    return normpath(path)


def relpath(path, start=curdir):
    if not path:
        raise ValueError("no path specified")
    start_list = [x for x in abspath(start).split("/") if x]
    path_list = [x for x in abspath(path).split("/") if x]
    i = 0
    while i < min(len(start_list), len(path_list)) and start_list[i] == path_list[i]:
        i += 1
    rel_list = [pardir] * (len(start_list) - i) + path_list[i:]
    if not rel_list:
        return curdir
    return join(*rel_list)



def isfile(path):
    return _disk.get(abspath(path)) is not None


def isdir(path):
    p = abspath(path)
    return p in _disk and _disk[p] is None


def exists(path):
    return abspath(path) in _disk


def getsize(filename):
    if not exists(filename):
        raise FileNotFoundError(2, "No such file or directory", filename)
    return len(_disk[abspath(filename)] or b"")
