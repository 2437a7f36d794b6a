"""check_safetensors.py FILE -- an independent reader for the file that
tests/test_safetensors.c writes, using only json and struct (no ltsnn code,
no safetensors package).  Exit status 0 means Python reads what we meant.

Expected content (kept in step with py_fixture() in test_safetensors.c):
  w      F32 [2, 3]  0.5*i - 1 for i in 0..5
  scalar F32 []      7.5
  empty  F32 [0, 4]  (no bytes)
  h      F16 [3]     1.0, -2.0, 0.5
  big    I64 [3]     -1, 2**40, 3
  __metadata__ {"epoch": "3", "note": "a \"quoted\" \u00e9 value"}
"""
import json
import struct
import sys

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}
FMT = {"F32": "f", "F16": "e", "I64": "q"}


def fail(msg):
    print("check_safetensors.py: " + msg, file=sys.stderr)
    sys.exit(1)


def main(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8:
        fail("header length %d is not a multiple of 8" % n)
    text = raw[8:8 + n].decode("utf-8")
    if not text.rstrip(" ").endswith("}"):
        fail("the header is not a JSON object padded with spaces")
    hdr = json.loads(text)
    data = raw[8 + n:]
    meta = hdr.pop("__metadata__", {})
    want_meta = {"epoch": "3", "note": "a \"quoted\" \u00e9 value"}
    if meta != want_meta:
        fail("metadata %r != %r" % (meta, want_meta))
    names = list(hdr)
    if names != ["w", "scalar", "empty", "h", "big"]:
        fail("tensor order %r" % names)
    pos = 0
    vals = {}
    for name in names:
        t = hdr[name]
        b, e = t["data_offsets"]
        if not all(isinstance(v, int) for v in t["shape"] + [b, e]):
            fail("%s: non-integer shape or offsets" % name)
        numel = 1
        for d in t["shape"]:
            numel *= d
        if b != pos or e - b != numel * SIZES[t["dtype"]]:
            fail("%s: offsets [%d, %d] not contiguous or wrong size" % (name, b, e))
        pos = e
        vals[name] = (t["dtype"], t["shape"],
                      list(struct.unpack("<%d%s" % (numel, FMT[t["dtype"]]), data[b:e])))
    if pos != len(data):
        fail("data section is %d bytes, tensors cover %d" % (len(data), pos))
    want = {
        "w": ("F32", [2, 3], [0.5 * i - 1 for i in range(6)]),
        "scalar": ("F32", [], [7.5]),
        "empty": ("F32", [0, 4], []),
        "h": ("F16", [3], [1.0, -2.0, 0.5]),
        "big": ("I64", [3], [-1, 2 ** 40, 3]),
    }
    for name, w in want.items():
        if vals[name] != w:
            fail("%s: %r != %r" % (name, vals[name], w))
    print("check_safetensors.py: %s ok (%d tensors)" % (path, len(names)))


if __name__ == "__main__":
    main(sys.argv[1])
