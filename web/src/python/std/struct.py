# struct's `Struct` for the simulator: a format compiled once, over the
# native functions (`pack`, `unpack`, ... in python/structs.rs, which the
# loader puts in this module's globals).


class Struct:
    def __init__(self, format):
        if isinstance(format, bytes):
            format = format.decode()
        self.size = calcsize(format)
        self.format = format

    def pack(self, *values):
        return pack(self.format, *values)

    def unpack(self, buffer):
        return unpack(self.format, buffer)

    def unpack_from(self, buffer, offset=0):
        return unpack_from(self.format, buffer, offset)

    def iter_unpack(self, buffer):
        return iter_unpack(self.format, buffer)
