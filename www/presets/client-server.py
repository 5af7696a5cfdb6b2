"""A client and a server in one program

The server is a LineReceiver that answers each line with its length; the
client connects with `reactor.connectTCP`, sends three lines at once and
hangs up after the third answer. A second client tries a port nobody
listens on and hears `clientConnectionFailed` with ConnectionRefusedError.

Watch the order Twisted gives: `startedConnecting` at once, both sides'
`connectionMade` once the reactor runs (the server's first), the three
lines arriving together in one `dataReceived`, and the close reaching the
client's factory before the server hears of it.
"""
import twine
from twisted.internet import defer, error, protocol, reactor
from twisted.protocols import basic

twine.machine(cores=2)


class Measure(basic.LineReceiver):
    def connectionMade(self):
        print("server: client connected")

    def lineReceived(self, line):
        print("server: got", line)
        self.sendLine(b"%d" % len(line))

    def connectionLost(self, reason):
        print("server: client left,", reason.getErrorMessage())


class Ask(basic.LineReceiver):
    def connectionMade(self):
        print("client: connected")
        self.answers = []
        for word in [b"twisted", b"reactor", b"deferred"]:
            self.sendLine(word)

    def lineReceived(self, line):
        self.answers.append(int(line))
        if len(self.answers) == 3:
            print("client: answers", self.answers)
            self.transport.loseConnection()


class AskFactory(protocol.ClientFactory):
    protocol = Ask

    def __init__(self):
        self.done = defer.Deferred()

    def startedConnecting(self, connector):
        print("client: connecting to port", connector.getDestination().port)

    def clientConnectionLost(self, connector, reason):
        print("client: connection closed,", reason.check(error.ConnectionDone) is not None)
        self.done.callback(None)

    def clientConnectionFailed(self, connector, reason):
        print("client: failed,", reason.type.__name__)
        self.done.callback(None)


def finish(_):
    print("both clients done")
    reactor.callLater(0.1, reactor.stop)


reactor.listenTCP(8007, protocol.Factory.forProtocol(Measure))
good, bad = AskFactory(), AskFactory()
reactor.connectTCP("127.0.0.1", 8007, good)
reactor.connectTCP("127.0.0.1", 8008, bad)
defer.gatherResults([good.done, bad.done]).addCallback(finish)
reactor.run()
