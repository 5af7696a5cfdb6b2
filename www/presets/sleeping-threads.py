"""Five threads sleep half a second each

Five threads each print, sleep for 0.5 s and print again. time.sleep
releases the GIL, so with or without it they all sleep at once and wake
together at about 0.5 s: the GIL only matters while Python code runs.
"""
import threading
import time

import twine

VARIANT = twine.variant(gil="With the GIL (CPython)", **{"no-gil": "Without the GIL"})
twine.machine(cores=4, gil=VARIANT == "gil")
START = time.monotonic()


def sleeper():
    name = threading.current_thread().name
    print(f"{name} going to sleep at {time.monotonic() - START:.1f} s")
    time.sleep(0.5)
    print(f"{name} woke up at {time.monotonic() - START:.1f} s")


threads = [threading.Thread(target=sleeper, name=f"sleeper-{i + 1}") for i in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
