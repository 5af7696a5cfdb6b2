"""Keep p99 under 30 ms at 200 requests a second

Clients send 200 requests a second, 2000 in all, to a line echo server.
Each request costs 1 ms of CPU and 10 ms of blocking I/O (a database call),
and the handler makes that call on the reactor thread: the reactor can
answer at most one request per 11 ms, about 90 a second, so requests queue
and latency climbs for as long as the run lasts. Change the program so that
99 in 100 requests are answered within 30 ms, still at 200 a second: the
scheduler is no lever here, the program is. Run it after each change.
"""
import time

from twisted.internet import protocol, reactor, threads
from twisted.protocols import basic

import twine

twine.machine(cores=4, gil=True)


def query_database():
    time.sleep(0.010)  # blocking I/O: 10 ms


class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        twine.cpu(1)
        query_database()
        self.sendLine(line)


reactor.listenTCP(1234, protocol.Factory.forProtocol(Echo))
twine.clients(rate_per_s=200, arrival="poisson", requests=2000, connections=20, port=1234)
reactor.run()
