"""Pure-Python work: a benchmark program (simulated operations per second)

Integer arithmetic in a while loop, a for loop over a range with a list,
and recursive calls: what the interpreter's hot loop spends its time on.
"""


def loop(n):
    total = 0
    i = 0
    while i < n:
        total += (i * 7) % 13
        if total > 1000000:
            total -= 1000000
        i += 1
    return total


def squares(n):
    out = []
    for k in range(n):
        out.append(k * k)
    return sum(out)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(loop(300000), squares(100000), fib(20))
