#!/usr/bin/env python3
"""cut_aedat4.py -- how tests/data/events/davis346_cut.aedat4 was made.

AEDAT 4.0 allows a clean cut at a packet boundary: keep the preamble, the
IOHeader and the first packets whose end stays within MAX bytes, drop the
rest and the trailing data table, and set the IOHeader's dataTablePosition
to -1 (no table) in place.  Nothing else changes: the packets are the
recording's own bytes.

    python3 cut_aedat4.py IN.aedat4 OUT.aedat4 [MAX_BYTES=1000000]
Standard library only."""
import struct
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    d = bytearray(open(src, "rb").read())
    assert d.startswith(b"#!AER-DAT4.0\r\n")
    (hsize,) = struct.unpack_from("<I", d, 14)
    h0 = 18
    root = h0 + struct.unpack_from("<I", d, h0)[0]
    vt = root - struct.unpack_from("<i", d, root)[0]
    vsize = struct.unpack_from("<H", d, vt)[0]
    fo = struct.unpack_from("<H", d, vt + 6)[0] if vsize >= 8 else 0  # field 1: dataTablePosition
    end = len(d)
    if fo:
        (tp,) = struct.unpack_from("<q", d, root + fo)
        if tp >= 0:
            end = tp
        struct.pack_into("<q", d, root + fo, -1)
    pos, kept = h0 + hsize, 0
    while pos + 8 <= end:
        sid, size = struct.unpack_from("<iI", d, pos)
        if pos + 8 + size > limit:
            break
        pos += 8 + size
        kept += 1
    open(dst, "wb").write(bytes(d[:pos]))
    print("%s: %d packets kept, %d bytes (of %d)" % (dst, kept, pos, len(d)))


if __name__ == "__main__":
    main()
