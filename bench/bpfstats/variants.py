#!/usr/bin/env python3
"""Experiment trees for bench/bpfstats: copies of this tree's bpf/ with one cost removed or replaced each.

    variants.py OUT_DIR [NAME...]     writes OUT_DIR/NAME/bpf for each NAME (all by default) and prints
                                      the --extra arguments for run.py

Each variant prices one thing on the hot path by taking it away (or swapping it for a cheaper design) and is
measured in the same interleaved run as the product. Some drop a guarantee, so run.py must not check what the
application sees for them; it does not for --extra variants. They are experiments, never shipped:

    nortcp     connect4 keeps no per-socket reverse entry (what the minimal LB does for TCP; getpeername
               then shows the backend and the socket terminator cannot find the socket)
    ring       connect4 keeps the reverse entry in a 2^18-entry array indexed by the low bits of the socket
               cookie instead of socket storage: no allocation, but an entry is overwritten by the socket
               2^18 cookies later, alive or not; getpeername of a socket without storage reads the array
    nostats    no per-CPU counter update on the translated path
    missfloor  no frontend filter: only the context reads and one compare with an immediate (the VIP of
               run.py) decide the miss path; the floor any filter design is measured against
    nofilterarm  the filter without its armed word (one map word read instead of two)
    filter17   a 2^17-bit filter (16 KB, kmalloc'd) instead of 2^20 bits (128 KB, vmalloc'd)
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BPF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bpf")

FILTER_ARMED_CHECK = """	if (!word || !*word)
		return true; /* not filled yet: every address may be a frontend */"""

RING_MAP = """struct sock4_ring_entry {
	__u64  cookie;
	__be32 backend_address;
	__be32 frontend_address;
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct sock4_ring_entry);
	__uint(max_entries, 1 << 18);
} lb4_sk_ring SEC(".maps");

static __always_inline struct sock4_ring_entry *sock4_ring_of(__u64 cookie)
{
	__u32 index = (__u32)cookie & ((1 << 18) - 1);

	return bpf_map_lookup_elem(&lb4_sk_ring, &index);
}

"""

VARIANTS = {
    "nortcp": [("lib/sock4.h",
                "	sock4_remember_frontend(ctx, dst, &frontend, service_id, connected);",
                "	if (!connected)\n		sock4_remember_frontend(ctx, dst, &frontend, service_id, connected);")],
    "ring": [("lib/sock4.h",
              "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,",
              RING_MAP + "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,"),
             ("lib/sock4.h",
              "	struct lb4_sk_frontend *known;\n\n	if (!cglb_config.have_sk_storage) {",
              """	struct lb4_sk_frontend *known;

	if (connected) {
		__u64 cookie = sock_cookie(ctx);
		struct sock4_ring_entry *entry = sock4_ring_of(cookie);

		if (entry) {
			entry->cookie = cookie;
			entry->backend_address = backend->address;
			entry->backend_port = backend->port;
			entry->frontend_address = frontend->address;
			entry->frontend_port = frontend->port;
			entry->service_id = service_id;
		}
		return;
	}
	if (!cglb_config.have_sk_storage) {"""),
             ("lib/sock4.h",
              "		if (!known)\n			return -ENOENT;",
              """		if (!known) {
			__u64 cookie = sock_cookie(ctx);
			struct sock4_ring_entry *entry = sock4_ring_of(cookie);

			if (!entry || entry->cookie != cookie || entry->backend_address != peer->address ||
			    entry->backend_port != peer->port)
				return -ENOENT;
			peer->address = entry->frontend_address;
			peer->port = entry->frontend_port;
			return 0;
		}""")],
    "nostats": [("lib/lb_stats.h",
                 "	struct lb_service_stats *stats = lb_svc_stats_of(service_id);\n\n	if (stats)\n		stats->translated++;",
                 "")],
    "missfloor": [("lib/sock4.h",
                   "!lb4_may_be_frontend(dst->address)",
                   "dst->address != bpf_htonl(0xC633640A) /* 198.51.100.10, run.py's VIP */")],
    "nofilterarm": [("lib/lb4.h", FILTER_ARMED_CHECK, "")],
    "filter17": [("lib/lb_abi.h", "#define LB4_FE_FILTER_BITS_LOG2 20", "#define LB4_FE_FILTER_BITS_LOG2 17")],
}


def make(out, name):
    tree = os.path.join(out, name)
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(BPF, os.path.join(tree, "bpf"))
    for path, old, new in VARIANTS[name]:
        file = os.path.join(tree, "bpf", path)
        with open(file) as f:
            text = f.read()
        if old not in text:
            sys.exit(f"{name}: {path} no longer contains the text this variant replaces; update variants.py")
        with open(file, "w") as f:
            f.write(text.replace(old, new, 1))
    return tree


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    names = sys.argv[2:] or list(VARIANTS)
    print(" ".join(f"--extra {name}={make(sys.argv[1], name)}" for name in names))
