#!/usr/bin/env python3
"""Encodes lb_abi.h map keys and values from the BTF that clang emitted.

The shell tests (tests/bpf/smoke.sh) and the BPF benchmark (bench/bpfstats)
write maps with bpftool, which takes raw bytes. Encoding those bytes by hand
would be a second, silent copy of the ABI; instead this reads the struct
layouts and enum values from an object's BTF (`bpftool -j btf dump file`) and
fills fields by name, so a field that moves moves here too, and a field that
does not exist is an error naming the struct.

Fields typed __be16/__be32 are written in network order, every other integer
in the host's order (little-endian on every host we build for). A dotted quad
is accepted for any 4-byte field, an IPv6 address for a union lb6_addr field,
a protocol name ("tcp", "udp") for proto.

    lbabi.py OBJ hex STRUCT field=value...   one "xx xx ..." line for bpftool
    lbabi.py OBJ enum ENUM NAME              the value of an enumerator
    lbabi.py OBJ size STRUCT                 the struct's size in bytes
    lbabi.py OBJ fe-filter ADDRESS...        "KEY-HEX|VALUE-HEX" lines arming lb4_fe_filter for these
                                             frontend addresses (constants read from lb_abi.h)
"""
import json
import os
import re
import socket
import subprocess
import sys

PROTOCOLS = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}


class Abi:
    def __init__(self, obj_path):
        out = subprocess.run(["bpftool", "-j", "btf", "dump", "file", obj_path],
                             check=True, capture_output=True, text=True).stdout
        self.types = {t["id"]: t for t in json.loads(out)["types"]}
        self.path = obj_path

    def _named(self, kind, name):
        for t in self.types.values():
            if t["kind"] == kind and t.get("name") == name:
                return t
        raise KeyError(f"{self.path}: BTF has no {kind.lower()} {name}")

    def has_struct(self, name):
        try:
            self._named("STRUCT", name)
            return True
        except KeyError:
            return False

    def struct_size(self, name):
        return self._named("STRUCT", name)["size"]

    def enum_value(self, enum, name):
        for v in self._named("ENUM", enum)["values"]:
            if v["name"] == name:
                return v["val"]
        raise KeyError(f"{self.path}: enum {enum} has no {name}")

    def _scalar(self, type_id):
        """(size, big_endian) of an integer type, following typedefs."""
        big_endian = False
        t = self.types[type_id]
        while t["kind"] in ("TYPEDEF", "CONST", "VOLATILE"):
            big_endian = big_endian or t["name"] in ("__be16", "__be32", "__be64")
            t = self.types[t["type_id"]]
        if t["kind"] == "ENUM":
            return t["size"], big_endian
        if t["kind"] != "INT":
            raise TypeError(f"{t['kind']} fields cannot be set by value")
        return t["size"], big_endian

    def encode(self, struct, fields):
        s = self._named("STRUCT", struct)
        out = bytearray(s["size"])
        members = {m["name"]: m for m in s["members"]}
        for name, value in fields.items():
            if name not in members:
                raise KeyError(f"{self.path}: struct {struct} has no field {name}")
            m = members[name]
            offset = m["bits_offset"] // 8
            if self._is_lb6_addr(m["type_id"]):
                out[offset:offset + 16] = socket.inet_pton(socket.AF_INET6, value)  # already network order
                continue
            size, big_endian = self._scalar(m["type_id"])
            out[offset:offset + size] = _bytes(value, size, big_endian)
        return bytes(out)

    def _is_lb6_addr(self, type_id):
        t = self.types[type_id]
        return t["kind"] == "UNION" and t.get("name") == "lb6_addr"

    def hex(self, struct, fields):
        return " ".join(f"{b:02x}" for b in self.encode(struct, fields))


def _bytes(value, size, big_endian):
    if isinstance(value, str):
        if value in PROTOCOLS:
            value = PROTOCOLS[value]
        elif value.count(".") == 3 and size == 4:
            return socket.inet_aton(value)  # already network order
        else:
            value = int(value, 0)
    return int(value).to_bytes(size, "big" if big_endian else "little")


HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bpf", "lib", "lb_abi.h")


def header_define(name, header=HEADER):
    """A numeric #define of lb_abi.h (a macro has no BTF); header: another tree's copy."""
    with open(header) as f:
        m = re.search(rf"^#define\s+{name}\s+(0x[0-9A-Fa-f]+|\d+)U?\b", f.read(), re.MULTILINE)
    if not m:
        raise KeyError(f"{header}: no numeric #define {name}")
    return int(m.group(1), 0)


def fe_filter_words(addresses, header=HEADER):
    """lb4_fe_filter words with the bits of these addresses set, plus the armed word, as {index: value}."""
    log2 = header_define("LB4_FE_FILTER_BITS_LOG2", header)
    mul = header_define("LB4_FE_FILTER_HASH_MUL", header)
    words = {1 << (log2 - 6): 1}  # LB4_FE_FILTER_ARMED: the word after the bitmap
    for address in addresses:
        stored = int.from_bytes(socket.inet_aton(address), "little")  # network-order bytes read natively
        bit = ((stored * mul) & 0xFFFFFFFF) >> (32 - log2)
        words[bit >> 6] = words.get(bit >> 6, 0) | (1 << (bit & 63))
    return words


def fe_filter_words6(addresses, header=HEADER):
    """lb6_fe_filter words with the bits of these IPv6 addresses set, plus the armed word (lb6_fe_filter_bit())."""
    log2 = header_define("LB4_FE_FILTER_BITS_LOG2", header)  # LB6_FE_FILTER_* alias these
    mul = header_define("LB4_FE_FILTER_HASH_MUL", header)
    words = {1 << (log2 - 6): 1}
    for address in addresses:
        raw = socket.inet_pton(socket.AF_INET6, address)
        h = 0
        for i in range(4):
            h = ((h ^ int.from_bytes(raw[4 * i:4 * i + 4], "little")) * mul) & 0xFFFFFFFF
            h ^= h >> 16
        bit = ((h * mul) & 0xFFFFFFFF) >> (32 - log2)
        words[bit >> 6] = words.get(bit >> 6, 0) | (1 << (bit & 63))
    return words


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    abi = Abi(argv[1])
    command = argv[2]
    if command == "hex":
        fields = dict(arg.split("=", 1) for arg in argv[4:])
        print(abi.hex(argv[3], fields))
    elif command == "enum":
        print(abi.enum_value(argv[3], argv[4]))
    elif command == "size":
        print(abi.struct_size(argv[3]))
    elif command == "fe-filter":
        for index, value in sorted(fe_filter_words(argv[3:]).items()):
            key = " ".join(f"{b:02x}" for b in index.to_bytes(4, "little"))
            print(f"{key}|{' '.join(f'{b:02x}' for b in value.to_bytes(8, 'little'))}")
    else:
        sys.exit(f"unknown command {command}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
