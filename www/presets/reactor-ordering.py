"""callLater, callWhenRunning and stop: who runs when

Calls scheduled before reactor.run() wait for it. callWhenRunning runs as the
reactor starts; callLater(0) calls run in the order they were made, and one
made during a turn runs in the next. stop() lets the current turn finish
(the second 100 ms call still runs), then the shutdown triggers run, and a
trigger that returns a Deferred holds the shutdown until it fires.
"""
from twisted.internet import reactor, task

print("main: scheduling, before reactor.run()")
reactor.callLater(0, print, "callLater(0) #1")


def running():
    print("callWhenRunning: the reactor is running")
    reactor.callLater(0, print, "callLater(0) made during the first turn: runs in the next")


def first_stop():
    print("callLater(0.1) #1 calls stop()")
    reactor.stop()


def closing():
    print("shutdown trigger: closing connections")
    return task.deferLater(reactor, 0.050, print, "shutdown trigger: done 50 ms later; now the reactor stops")


reactor.callWhenRunning(running)
reactor.callLater(0, print, "callLater(0) #2")
reactor.callLater(0.1, first_stop)
reactor.callLater(0.1, print, "callLater(0.1) #2: same turn, still runs")
reactor.callLater(0.2, print, "never printed: the reactor stopped before 200 ms")
reactor.addSystemEventTrigger("before", "shutdown", closing)
print("main: calling reactor.run()")
reactor.run()
