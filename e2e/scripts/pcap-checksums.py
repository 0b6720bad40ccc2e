#!/usr/bin/env python3
"""Verify every IPv4 header, TCP, UDP and ICMP checksum in classic pcap files (Ethernet).

usage: pcap-checksums.py FILE.pcap...     exit status 1 if any checksum is wrong

tcpdump -v only says "(correct)"/"(incorrect)" for TCP; for UDP and ICMP it stays silent unless
asked with -vv, and then in a different wording. This checks all of them the same way.
"""
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s  # 0xffff when the stored checksum is right


def frames(path):
    b = open(path, "rb").read()
    magic = b[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}[magic]
    link = struct.unpack(order + "I", b[20:24])[0] & 0xFFFF
    assert link == 1, f"{path}: link type {link}, expected Ethernet"
    pos, n = 24, 0
    while pos < len(b):
        _, _, incl, orig = struct.unpack(order + "IIII", b[pos:pos + 16])
        n += 1
        yield n, b[pos + 16:pos + 16 + incl], incl == orig
        pos += 16 + incl


def check(path):
    bad, counts = [], {"ip": 0, "tcp": 0, "udp": 0, "icmp": 0}
    for n, f, whole in frames(path):
        if not whole or len(f) < 34 or f[12:14] != b"\x08\x00":
            continue
        ihl = (f[14] & 0x0F) * 4
        ip = f[14:14 + ihl]
        total = struct.unpack("!H", f[16:18])[0]
        payload = f[14 + ihl:14 + total]
        proto = ip[9]
        counts["ip"] += 1
        if csum(ip) != 0xFFFF:
            bad.append(f"packet {n}: IPv4 header checksum")
        if struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
            continue  # a non-first fragment has no L4 header
        pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(payload))
        if proto == 6:
            counts["tcp"] += 1
            if csum(pseudo + payload) != 0xFFFF:
                bad.append(f"packet {n}: TCP checksum")
        elif proto == 17:
            counts["udp"] += 1
            if payload[6:8] != b"\0\0" and csum(pseudo + payload) != 0xFFFF:
                bad.append(f"packet {n}: UDP checksum")
        elif proto == 1:
            counts["icmp"] += 1
            if csum(payload) != 0xFFFF:
                bad.append(f"packet {n}: ICMP checksum")
    return bad, counts


def main():
    failed = False
    for path in sys.argv[1:]:
        bad, counts = check(path)
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{path}: {'BAD ' + '; '.join(bad) if bad else 'all checksums correct'} ({summary})")
        failed |= bool(bad)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
