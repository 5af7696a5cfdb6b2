"""CPU-bound threads: the GIL against free threading, on 1, 2 and 4 cores

Four threads each compute for one second. With the GIL only one of them runs
Python at a time, whatever the cores: all four finish after about four
seconds. Without it they spread over the cores: one second on four cores,
two on two, four on one.
"""
import threading
import time

import twine

VARIANT = twine.variant(**{
    "gil-4-cores": "GIL, 4 cores",
    "gil-2-cores": "GIL, 2 cores",
    "gil-1-core": "GIL, 1 core",
    "nogil-4-cores": "No GIL, 4 cores",
    "nogil-2-cores": "No GIL, 2 cores",
    "nogil-1-core": "No GIL, 1 core",
    "one-thread": "One thread alone: the baseline",
})
cores = 4 if VARIANT == "one-thread" else int(VARIANT.split("-")[1])
twine.machine(cores=cores, gil=not VARIANT.startswith("nogil"))
START = time.monotonic()


def crunch():
    twine.cpu(1000)
    print(f"{threading.current_thread().name} finished at {time.monotonic() - START:.1f} s")


n = 1 if VARIANT == "one-thread" else 4
workers = [threading.Thread(target=crunch, name=f"cruncher-{i + 1}") for i in range(n)]
for w in workers:
    w.start()
for w in workers:
    w.join()
