"""Threads that share state without racing: a benchmark program (simulated operations per second)

Four threads each count in a while loop bounded by a shared global and
keep their count in their own object's attribute. Every loop test reads
a shared int (a global every thread sees), and every count reads and
writes an int attribute: the reads the interpreter watches for lost
updates, though no two threads ever write the same variable.
"""
import threading

import twine

twine.machine(cores=4, gil=False, noise=False)

limit = 100000


class Worker:
    def __init__(self):
        self.done = 0


def work(w):
    i = 0
    while i < limit:
        w.done += 1
        i += 1


workers = [Worker() for _ in range(4)]
threads = [threading.Thread(target=work, args=(w,)) for w in workers]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(w.done for w in workers))
