#!/usr/bin/env python3
"""cut_raw.py -- how tests/data/events/evt2_gen3_cut.raw was made.

An EVT 2.0 .raw file allows a clean cut at any word boundary after its
'% ' header: every word stands alone (a CD word's time is the last
TIME_HIGH plus its own 6 bits).  Keep the header and the first whole
32-bit words that fit in MAX bytes.

    python3 cut_raw.py IN.raw OUT.raw [MAX_BYTES=1000000]
Standard library only."""
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    d = open(src, "rb").read()
    off = 0
    while d[off:off + 1] == b"%":
        off = d.index(b"\n", off) + 1
        if d[off - 6:off] == b"% end\n":
            break
    if b"% evt 2.0" not in d[:off] and b"% format EVT2" not in d[:off]:
        raise SystemExit("not an EVT 2.0 file")
    n = (limit - off) // 4
    out = d[:off + 4 * n]
    open(dst, "wb").write(out)
    print("%s: header %d bytes, %d words kept (of %d), %d bytes" % (dst, off, n, (len(d) - off) // 4, len(out)))


if __name__ == "__main__":
    main()
