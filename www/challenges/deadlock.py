"""Deadlock two threads

Alice pays Bob and Bob pays Alice at the same moment. Each payment locks
the payer's account, does a little work, then locks the payee's: the two
threads take the same two locks in opposite orders. Pick the threads so
that each holds its first lock while it waits for the other's: neither can
ever go on, and the run ends in a deadlock.
"""
import threading

import twine

alice = threading.Lock()
bob = threading.Lock()
moved = 0


def pay(first, second):
    global moved
    with first:
        twine.cpu(0.001)
        with second:
            moved += 1


payments = [
    threading.Thread(target=pay, args=(alice, bob), name="alice-pays-bob"),
    threading.Thread(target=pay, args=(bob, alice), name="bob-pays-alice"),
]
for p in payments:
    p.start()
for p in payments:
    p.join()
print(f"payments made: {moved}")
