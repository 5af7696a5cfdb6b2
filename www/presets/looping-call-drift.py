"""LoopingCall under a busy reactor: late ticks and skipped intervals

A LoopingCall ticks every 100 ms. At 350 ms a timer computes for 280 ms on
the reactor thread, and at 1220 ms another for 150 ms: while they run, no
tick can. LoopingCall does not queue the missed ticks: the next one runs as
soon as it can, and withCount tells it how many intervals passed (more than
one: intervals were skipped). The reactor stops at 2050 ms.
"""
import time

from twisted.internet import reactor, task

import twine

VARIANT = twine.variant(busy="A busy reactor", idle="An idle reactor")
START = time.monotonic()
ticks = 0


def tick(intervals):
    global ticks
    ticks += 1
    print(f"tick at {time.monotonic() - START:.2f} s ({intervals} interval(s) since the last)")
    if ticks == 16:
        loop.stop()


def busy(ms):
    print(f"busy: computing for {ms} ms on the reactor thread")
    twine.cpu(ms)


loop = task.LoopingCall.withCount(tick)
loop.start(0.100, now=True)
if VARIANT == "busy":
    reactor.callLater(0.350, busy, 280)
    reactor.callLater(1.220, busy, 150)
reactor.callLater(2.050, reactor.stop)
reactor.run()
