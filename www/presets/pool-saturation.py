"""Pool saturation: twelve blocking jobs, four threads

Twelve jobs of 100 ms of blocking I/O go to a thread pool. With four pool
threads they run in three waves (done at 100, 200 and 300 ms); with twelve
they all run at once and finish together at 100 ms. A job waits in the
pool's queue until a thread is free.
"""
import threading
import time

from twisted.internet import reactor, threads

import twine

VARIANT = twine.variant(**{
    "four-threads": "Four pool threads: three waves",
    "twelve-threads": "Twelve pool threads: one wave",
})
reactor.suggestThreadPoolSize(4 if VARIANT == "four-threads" else 12)
START = time.monotonic()


def job():
    print(f"{threading.current_thread().name} starts a job at {time.monotonic() - START:.1f} s")
    time.sleep(0.100)


def finished(_):
    print(f"job finished at {time.monotonic() - START:.1f} s")


def start():
    jobs = []
    for _ in range(12):
        d = threads.deferToThread(job)
        d.addCallback(finished)
        jobs.append(d)


reactor.callWhenRunning(start)
reactor.callLater(0.5, reactor.stop)
reactor.run()
