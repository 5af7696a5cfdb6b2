"""A Deferred chain fails and recovers in an errback

A price is fetched in a thread; the first callback cannot parse the answer
and raises, so the chain switches to its errback path: callback 2 is
skipped, errback 1 recovers with yesterday's price, and the chain is back on
the callback path. Saving the price fails in a second thread, and errback 2
handles that. Each callback gets what the one before returned.
"""
import time

from twisted.internet import reactor, threads


def fetch_price():
    time.sleep(0.050)
    print("worker: the server answered 'N/A'")
    return "N/A"


def parse(answer):
    print("callback 1: parsing the answer")
    return float(answer)


def never(price):
    print("callback 2: never printed, the chain is failing")
    return price


def recover(failure):
    print(f"errback 1: recovered from {failure.getErrorMessage()}; using yesterday's price")
    return 41.5


def save(price):
    print(f"callback 3: back on the callback path; saving the price {price}")
    return threads.deferToThread(write_to_database, price)


def write_to_database(price):
    print("worker: writing to the database")
    time.sleep(0.030)
    raise TimeoutError("the database did not answer")


def retry_later(failure):
    print(f"errback 2: {failure.type.__name__}: {failure.getErrorMessage()}; will retry later")


def done(_):
    print("callback 4: done, stopping")
    reactor.stop()


def start():
    print("fetching the price in a thread")
    d = threads.deferToThread(fetch_price)
    d.addCallback(parse)
    d.addCallback(never)
    d.addErrback(recover)
    d.addCallback(save)
    d.addErrback(retry_later)
    d.addCallback(done)


reactor.callWhenRunning(start)
reactor.run()
