#!/usr/bin/env python3
"""rosbag_to_raw.py -- how tests/data/events/evt3_trigger.raw was made.

Reads a ROS 2 bag (sqlite3 .db3) of event_camera_msgs/msg/EventPacket
messages, checks each message's encoding, size and byte order, and writes
the concatenated `events` payloads (the camera's own EVT 3.0 words, in
message order) after a Metavision-style '% ' header:

    python3 rosbag_to_raw.py BAG.db3 OUT.raw

CDR (little-endian) layout of EventPacket: std_msgs/Header (stamp sec u32,
nanosec u32, frame_id string), height u32, width u32, seq u64, time_base
u64, encoding string, is_bigendian bool, events sequence<uint8>.  Standard
library only."""
import sqlite3
import struct
import sys


class Cdr:
    def __init__(self, buf):
        if buf[:2] != b"\x00\x01":
            raise ValueError("not little-endian CDR (encapsulation %r)" % buf[:4])
        self.b, self.o = buf[4:], 0

    def align(self, n):
        self.o = (self.o + n - 1) // n * n

    def u32(self):
        self.align(4)
        v = struct.unpack_from("<I", self.b, self.o)[0]
        self.o += 4
        return v

    def u64(self):
        self.align(8)
        v = struct.unpack_from("<Q", self.b, self.o)[0]
        self.o += 8
        return v

    def string(self):
        n = self.u32()
        s = self.b[self.o:self.o + n]
        self.o += n
        return s.rstrip(b"\x00").decode()

    def u8(self):
        v = self.b[self.o]
        self.o += 1
        return v

    def bytes_(self):
        n = self.u32()
        s = self.b[self.o:self.o + n]
        if len(s) != n:
            raise ValueError("truncated payload")
        self.o += n
        return s


def main():
    bag, out = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(bag)
    (tid,) = db.execute("select id from topics where type = 'event_camera_msgs/msg/EventPacket'").fetchone()
    payload, size = [], None
    for (data,) in db.execute("select data from messages where topic_id = ? order by timestamp, id", (tid,)):
        c = Cdr(bytes(data))
        c.u32(), c.u32(), c.string()  # header
        h, w = c.u32(), c.u32()
        c.u64(), c.u64()  # seq, time_base
        enc = c.string()
        big = c.u8()
        ev = c.bytes_()
        if enc != "evt3" or big:
            raise ValueError("message encoding %s big-endian %d: expected little-endian evt3" % (enc, big))
        if size and size != (w, h):
            raise ValueError("sensor size changes between messages")
        size = (w, h)
        payload.append(ev)
    w, h = size
    head = "%% evt 3.0\n%% format EVT3;height=%d;width=%d\n%% geometry %dx%d\n%% end\n" % (h, w, w, h)
    with open(out, "wb") as f:
        f.write(head.encode())
        for p in payload:
            f.write(p)
    print("%s: %d messages, %d bytes of EVT 3.0 words, sensor %dx%d" % (out, len(payload), sum(map(len, payload)), w, h))


if __name__ == "__main__":
    main()
