# Exact float sums for math and statistics (a private module, as `_time`).


def partials(values):
    # The exact sum of floats as non-overlapping partials, smallest first
    # (Shewchuk's, what CPython's `math.fsum` keeps).
    out = []
    for x in values:
        x = float(x)
        i = 0
        for y in out:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                out[i] = lo
                i += 1
            x = hi
        out[i:] = [x]
    return out
