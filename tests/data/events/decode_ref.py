#!/usr/bin/env python3
"""decode_ref.py -- a second, independent decoder for the real recordings in
tests/data/events/ (EVT 2.0, EVT 3.0, AEDAT 4.0), written from the formats'
public descriptions with numpy and the standard library only (LZ4 frames
are decoded here too, in plain Python).  It shares no code with ltsnn's C
readers; tests/test_real_events.sh compares the two.

    python3 decode_ref.py FILE [FILE ...]

prints one line per file: format, events, skipped words or packets, and the
min / max / sum of t, x, y, p, in the same words as `ltsnn events`:

    FILE format=evt3 events=N skipped=N t=MIN/MAX/SUM x=... y=... p=...
"""
import struct
import sys

import numpy as np


# ---------------------------------------------------------------- headers
def prophesee_header(data):
    """'% ' lines up to '% end' or the first other line: (offset, dict of lines)."""
    off, keys = 0, {}
    while off + 1 < len(data) and data[off:off + 1] == b"%" and data[off + 1:off + 2] in (b" ", b"\n", b"\r"):
        nl = data.index(b"\n", off)
        line = data[off + 1:nl].decode("ascii", "replace").strip()
        off = nl + 1
        if line == "end":
            break
        k, _, v = line.partition(" ")
        keys.setdefault(k, v)
    return off, keys


def sensor_of(keys):
    fmt = keys.get("format", "")
    params = dict(p.split("=", 1) for p in fmt.split(";")[1:] if "=" in p)
    if "width" in params and "height" in params:
        return int(params["width"]), int(params["height"])
    if "geometry" in keys:
        w, h = keys["geometry"].split("x")
        return int(w), int(h)
    return 2048, 2048


# ---------------------------------------------------------------- EVT 2.0
def evt2(data):
    off, keys = prophesee_header(data)
    words = np.frombuffer(data[off:len(data) - (len(data) - off) % 4], dtype="<u4")
    typ = words >> 28
    # TIME_HIGH carries t >> 6; a drop by more than 2^27 is the 2^34 wrap
    is_high = typ == 8
    high_vals = (words & 0x0FFFFFFF).astype(np.int64)
    idx = np.where(is_high)[0]
    hv = high_vals[idx]
    wraps = np.concatenate([[0], np.cumsum((hv[:-1] - hv[1:]) > (1 << 27))]) if len(hv) else np.zeros(0, np.int64)
    full_high = hv + (wraps << 28)
    # for each word, the last TIME_HIGH at or before it
    last = np.searchsorted(idx, np.arange(len(words)), side="right") - 1
    cd = (typ <= 1) & (last >= 0)
    before = int(np.count_nonzero((typ <= 1) & (last < 0)))
    w = words[cd]
    t = (full_high[last[cd]] << 6) + ((w >> 22) & 63).astype(np.int64)
    x = ((w >> 11) & 0x7FF).astype(np.int64)
    y = (w & 0x7FF).astype(np.int64)
    p = (w >> 28).astype(np.int64)
    skipped = int(np.count_nonzero(np.isin(typ, [0xA, 0xE, 0xF]))) + before
    bad = ~np.isin(typ, [0, 1, 8, 0xA, 0xE, 0xF])
    if bad.any():
        raise ValueError("reserved EVT 2.0 word type at word %d" % int(np.argmax(bad)))
    return t, x, y, p, skipped


# ---------------------------------------------------------------- EVT 3.0
def evt3(data):
    off, keys = prophesee_header(data)
    words = np.frombuffer(data[off:len(data) - (len(data) - off) % 2], dtype="<u2").tolist()
    T, X, Y, P = [], [], [], []
    skipped = 0
    high = low = None
    wrap = 0
    y = base = None
    pol = 0
    for wd in words:
        typ, v = wd >> 12, wd & 0xFFF
        if typ == 0x8:  # TIME_HIGH: bits 23..12 of the time base
            if high is not None and v < high and high - v > 2048:
                wrap += 1 << 24
            high = v
        elif typ == 0x6:  # TIME_LOW: bits 11..0
            low = v
        elif typ == 0x0:
            y = v & 0x7FF
        elif typ == 0x2:
            if high is None or y is None:
                skipped += 1
                continue
            T.append(wrap + (high << 12) + (low or 0))
            X.append(v & 0x7FF)
            Y.append(y)
            P.append(v >> 11)
        elif typ == 0x3:
            base, pol = v & 0x7FF, v >> 11
        elif typ in (0x4, 0x5):
            n = 12 if typ == 0x4 else 8
            m = v & ((1 << n) - 1)
            if high is None or y is None or base is None:
                skipped += bin(m).count("1")
            else:
                t = wrap + (high << 12) + (low or 0)
                for i in range(n):
                    if m >> i & 1:
                        T.append(t)
                        X.append(base + i)
                        Y.append(y)
                        P.append(pol)
            if base is not None:
                base += n
        elif typ in (0xA, 0xE, 0x7, 0xF):
            skipped += 1
        else:
            raise ValueError("reserved EVT 3.0 word type 0x%x" % typ)
    return (np.array(T, np.int64), np.array(X, np.int64), np.array(Y, np.int64), np.array(P, np.int64), skipped)


# ---------------------------------------------------------------- LZ4 frames (plain Python)
def lz4_block(src, out):
    i = 0
    n = len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        out += src[i:i + lit]
        i += lit
        if i >= n:
            break
        offset = src[i] | src[i + 1] << 8
        i += 2
        ml = token & 15
        if ml == 15:
            while True:
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        start = len(out) - offset
        if offset >= ml:
            out += out[start:start + ml]
        else:
            for k in range(ml):
                out.append(out[start + k])


def lz4_frame(src):
    if struct.unpack_from("<I", src, 0)[0] != 0x184D2204:
        raise ValueError("not an LZ4 frame")
    flg = src[4]
    i = 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1  # FLG BD [size] [dictID] HC
    block_checksum = flg & 0x10
    out = bytearray()
    while True:
        (bs,) = struct.unpack_from("<I", src, i)
        i += 4
        if bs == 0:
            break
        size = bs & 0x7FFFFFFF
        if bs & 0x80000000:
            out += src[i:i + size]
        else:
            lz4_block(src[i:i + size], out)
        i += size + (4 if block_checksum else 0)
    return bytes(out)


# ---------------------------------------------------------------- AEDAT 4.0
def fb_table_field(buf, table, field):
    vt = table - struct.unpack_from("<i", buf, table)[0]
    vsize = struct.unpack_from("<H", buf, vt)[0]
    if 4 + 2 * field + 2 > vsize:
        return None
    fo = struct.unpack_from("<H", buf, vt + 4 + 2 * field)[0]
    return table + fo if fo else None


def aedat4(data):
    if not data.startswith(b"#!AER-DAT4.0\r\n"):
        raise ValueError("no AEDAT 4.0 magic")
    (hsize,) = struct.unpack_from("<I", data, 14)
    hdr = data[18:18 + hsize]
    root = struct.unpack_from("<I", hdr, 0)[0]
    comp = 0
    f = fb_table_field(hdr, root, 0)
    if f is not None:
        comp = struct.unpack_from("<i", hdr, f)[0]
    table_pos = -1
    f = fb_table_field(hdr, root, 1)
    if f is not None:
        table_pos = struct.unpack_from("<q", hdr, f)[0]
    f = fb_table_field(hdr, root, 2)
    s = f + struct.unpack_from("<I", hdr, f)[0]
    xml = hdr[s + 4:s + 4 + struct.unpack_from("<I", hdr, s)[0]].decode()
    # the event stream: the first node under outInfo whose typeIdentifier is EVTS
    import xml.etree.ElementTree as ET
    root_node = ET.fromstring(xml)
    ev_id = None
    for out in root_node.iter("node"):
        if out.get("name") == "outInfo":
            for st in out.findall("node"):
                ids = {a.get("key"): a.text for a in st.findall("attr")}
                if ids.get("typeIdentifier") == "EVTS" and ev_id is None:
                    ev_id = int(st.get("name"))
    if comp not in (0, 1, 2):
        raise ValueError("compression %d: only none and LZ4 are decoded here" % comp)
    pos, end = 18 + hsize, (table_pos if table_pos >= 0 else len(data))
    parts, skipped = [], 0
    while pos < end:
        sid, size = struct.unpack_from("<iI", data, pos)
        body = data[pos + 8:pos + 8 + size]
        pos += 8 + size
        if sid != ev_id:
            skipped += 1
            continue
        buf = lz4_frame(body) if comp else body
        b = buf[4:]  # size-prefixed
        troot = struct.unpack_from("<I", b, 0)[0]
        if b[4:8] != b"EVTS":
            raise ValueError("packet is not EVTS")
        f = fb_table_field(b, troot, 0)
        v = f + struct.unpack_from("<I", b, f)[0]
        n = struct.unpack_from("<I", b, v)[0]
        parts.append(np.frombuffer(b, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "u1"), ("pad", "V3")],
                                   count=n, offset=v + 4))
    ev = np.concatenate(parts) if parts else np.zeros(0, [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "u1")])
    return (ev["t"].astype(np.int64), ev["x"].astype(np.int64), ev["y"].astype(np.int64),
            ev["on"].astype(np.int64), skipped)


def main():
    for path in sys.argv[1:]:
        data = open(path, "rb").read()
        if data.startswith(b"#!AER-DAT4"):
            fmt, r = "aedat4", aedat4(data)
        else:
            _, keys = prophesee_header(data)
            ver = keys.get("evt", "") or keys.get("format", "")[:4]
            fmt = "evt3" if ver in ("3.0", "EVT3") else "evt2"
            r = evt3(data) if fmt == "evt3" else evt2(data)
        t, x, y, p, skipped = r
        cols = []
        for name, a in (("t", t), ("x", x), ("y", y), ("p", p)):
            # exact sums: Python integers over int64 values
            s = int(a.astype(object).sum()) if len(a) else 0
            cols.append("%s=%d/%d/%d" % (name, int(a.min()) if len(a) else 0, int(a.max()) if len(a) else 0, s))
        print("%s format=%s events=%d skipped=%d %s" % (path, fmt, len(t), skipped, " ".join(cols)))


if __name__ == "__main__":
    main()
