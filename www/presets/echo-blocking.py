"""An echo server: blocking the reactor against deferToThread

Twenty clients send 40 requests a second, 1000 in all, to Twisted's classic
line echo server. Each request costs 0.2 ms of CPU and 20 ms of blocking I/O
(a database call, say). Blocking: the I/O runs on the reactor thread, so the
reactor can serve one request per 20 ms at most (50 a second): close to the
load, queues form and latency climbs. deferToThread: the I/O runs on a pool
thread and the reactor stays free; every request takes about 20 ms.
"""
import time

from twisted.internet import protocol, reactor, threads
from twisted.protocols import basic

import twine

VARIANT = twine.variant(
    blocking="Blocking: the I/O runs on the reactor thread",
    deferred="deferToThread: the I/O runs on a pool thread",
)
twine.machine(cores=4, gil=True)
reactor.suggestThreadPoolSize(10)


def query_database():
    time.sleep(0.020)  # blocking I/O: 20 ms


class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        twine.cpu(0.2)
        if VARIANT == "blocking":
            query_database()
            self.sendLine(line)
        else:
            d = threads.deferToThread(query_database)
            d.addCallback(lambda _: self.sendLine(line))


reactor.listenTCP(1234, protocol.Factory.forProtocol(Echo))
twine.clients(rate_per_s=40, arrival="poisson", requests=1000, connections=20, port=1234)
reactor.run()
