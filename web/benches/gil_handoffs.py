"""How often the GIL changes hands between CPU-bound Python threads (a
benchmark, not a test): ten threads each run a 600-step local loop 1500
times, noting which thread ran each round.

    PYTHONPATH=www/presets python3 web/benches/gil_handoffs.py   # CPython
    twine-sim web/benches/gil_handoffs.py --seed S               # the simulation
"""
import threading

import twine

twine.machine(cores=4, gil=True)
log = []


def work():
    me = threading.current_thread().name
    for _ in range(1500):
        log.append(me)
        i = 0
        while i < 600:
            i += 1


threads = [threading.Thread(target=work, name=f"w{i}") for i in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
switches = sum(1 for a, b in zip(log, log[1:]) if a != b)
print(f"switches {switches}, rounds a hold {len(log) / (switches + 1):.0f}")
