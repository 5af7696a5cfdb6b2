"""Ten threads count to 10 000: locks, the GIL and lost updates

Ten threads each add one to a shared counter 1000 times, so it should end at
10 000. Without a GIL (free-threaded Python, Rust threads) the threads run on
four cores at once, and an unlocked `hits += 1` is a read, an add and a
write: two threads that read the same value both write value + 1, and an
update is lost. With a lock the count is exactly 10 000, paid for in lock
waits. With the GIL, `hits += 1` on a global is atomic in CPython 3.11 (a
thread switch happens only at a call or a backward jump), so nothing is lost
even unlocked; but the same update spelled as a read, a call, then a write
lets a switch land in between, and updates are lost again.

Read then write under the GIL, how many are lost depends on where the
switches land, so it changes from run to run on a real machine and from seed
to seed here: none in about a fifth of runs, in CPython as in the
simulation, and hundreds to thousands in the others. Press Seeds to see the
spread rather than one run.
"""
import threading

import twine

VARIANT = twine.variant(**{
    "nogil-unlocked": "No GIL, no lock: updates are lost",
    "nogil-locked": "No GIL, with a lock: exactly 10 000",
    "gil-unlocked": "GIL, no lock: a plain increment loses nothing",
    "gil-locked": "GIL and a lock: exactly 10 000",
    "gil-read-then-write": "GIL, read then write: a switch in between loses updates",
})
twine.machine(cores=4, gil=VARIANT.startswith("gil"))

hits = 0
hits_lock = threading.Lock()
# A starting gate: every thread counts from the same moment, as in a race
# (started one by one, each would be nearly done before the next began).
go = threading.Event()


def count():
    global hits
    go.wait()
    for _ in range(1000):
        if VARIANT.endswith("-locked"):
            with hits_lock:
                hits += 1
        elif VARIANT == "gil-read-then-write":
            seen = hits
            twine.cpu(0.001)
            hits = seen + 1
            twine.cpu(0.01)
        else:
            hits += 1
    print(f"{threading.current_thread().name} done; hits = {hits}")


workers = [threading.Thread(target=count, name=f"counter-{i + 1}") for i in range(10)]
for w in workers:
    w.start()
go.set()
for w in workers:
    w.join()
print(f"hits = {hits} of 10000 ({10000 - hits} lost)")
