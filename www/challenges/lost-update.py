"""Lose an update with two threads

Two threads each add one to `hits`, so it should end at 2. Each spells the
update as a read, a call, then a write. With the GIL a thread can only be
switched away at a call or a backward jump, and here there is one between
the read and the write: pick the threads so that both read `hits` before
either writes it, and one increment overwrites the other.
"""
import threading

import twine

hits = 0


def count():
    global hits
    seen = hits
    twine.cpu(0.001)
    hits = seen + 1


workers = [threading.Thread(target=count, name=f"counter-{i + 1}") for i in range(2)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(f"hits = {hits}")
