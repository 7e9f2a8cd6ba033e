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
    claim      the claim-if-free array: connect4 of a TCP socket claims slot (cookie mod 2^18) of an array
               with a compare-and-swap when the slot is free (or already its own) and falls back to socket
               storage when it is taken; a cgroup/sock_release program frees the slot of a closing TCP
               socket; getpeername4 of a TCP socket without storage reads the array. Every guarantee holds
               (an entry lives exactly as long as its socket), at the price of a cookie on every TCP connect
               and getpeername without storage, and one more program run per closing TCP socket (run.py
               measures it as sock_release). Needs cmpxchg (-mcpu=v3, 5.12+) and sock_release (5.9+).
    claimpeek  claim, but getpeername4 first peeks at the socket's cookie through bpf_skc_to_tcp_sock (BTF,
               CO-RE) and ends when the socket has none: a socket connect4 never claimed for gets no cookie
               generated and no array read
    claimfilter  claimpeek, with sock_release first testing the closing socket's peer against a bitmap of
               backend addresses (lb4_be_filter, lb4_fe_filter's geometry, seeded by run.py): a socket that
               talks to no backend (run.py's tcp-other) ends after one bit test, without a cookie
    claimfentry  claimpeek, with the slot freed by an fentry program on tcp_close instead of
               cgroup/sock_release: it reads sk->__sk_common.skc_cookie through the function's BTF
               argument (CO-RE), never generating a cookie (a socket without one never claimed a slot),
               and clears the slot only when that cookie owns it. It runs for every TCP close on the node,
               not only the cgroup's (run.py attaches it as a link while the variant's phase runs and
               reports it as tcp_close). Needs fentry with BTF (5.5+) besides cmpxchg (5.12+). Machines
               that forbid fentry/fexit programs (the 6.18 VM of the fourth round: EPERM at load, before
               the verifier, for any fentry target) cannot measure it; claimtp is the closest loadable twin
    claimtp    claimfentry's program body on the tcp_destroy_sock tracepoint (tp_btf, BTF argument, CO-RE)
               instead of fentry/tcp_close: run when the kernel destroys a TCP socket (after close, or when a
               never-accepted child is dropped), node-wide; no trampoline, a tracepoint call instead
    claimcast  claim, with the cookie read without generating it in both places that need it, through the
               bpf_rdonly_cast kfunc (6.2+; the verifier turns it into a register move) over the socket that a
               sock_addr context points to and that a cgroup/sock_release context is: getpeername4 of a TCP
               socket without storage ends after one load when the cookie is 0, and so does sock_release for a
               socket that never had a cookie. A cgroup hook, so only the cgroup's sockets pay for the release
               (not the node's, as with the tracing variants), and no cookie is generated on close (as
               claim's release does). Needs cmpxchg (5.12+), sock_release (5.9+) and bpf_rdonly_cast (6.2+)
    claimlock  claimcast without the compare-and-swap: the slot is taken and freed under a bpf_spin_lock in
               the entry. cmpxchg (BPF_ATOMIC, 5.12+) in any instruction makes 5.10's verifier refuse the whole
               object ("BPF_STX uses reserved fields"), even in code a knob prunes; a helper call is checked
               only where reached, so this is the form one object could ship for every kernel
    missfn     connect4/sendmsg4 test the protocol and the frontend filter in the program itself and call the
               rest of the translation as a BPF-to-BPF function (__noinline): the miss path then runs a short JIT
               image (its own prologue, few callee-saved registers, the exit close by) instead of jumping through
               the whole translation's image; a hit pays one call
    claimtpnop claimtp with a release program that returns at once (slots are never freed: valid only while
               a run hands out fewer than 2^18 cookies): the floor of one tracing program run, stats clock
               included, against which claimtp's own release work is read
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BPF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bpf")


def entry_writes(tabs):
    """C statements filling a reverse entry (ring, claim) from the translation's backend and frontend."""
    indent = "\t" * tabs
    return "".join(f"{indent}entry->{field} = {value};\n" for field, value in (
        ("backend_address", "backend->address"), ("backend_port", "backend->port"),
        ("frontend_address", "frontend->address"), ("frontend_port", "frontend->port"), ("service_id", "service_id")))

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

CLAIM_MAP = """struct sock4_claim_entry {
	__u64  cookie; /* the owner; 0: free */
	__be32 backend_address;
	__be32 frontend_address;
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct sock4_claim_entry);
	__uint(max_entries, 1 << 18);
} lb4_sk_claim SEC(".maps");

static __always_inline struct sock4_claim_entry *sock4_claim_of(__u64 cookie)
{
	__u32 index = (__u32)cookie & ((1 << 18) - 1);

	return bpf_map_lookup_elem(&lb4_sk_claim, &index);
}

"""

CLAIM_RELEASE = """
/* Frees the claim of a closing TCP socket; only the owner ever clears its slot. */
SEC("cgroup/sock_release")
int cglb_sock_release(struct bpf_sock *sk)
{
	struct sock4_claim_entry *entry;
	__u64 cookie;

	if (sk->protocol != IPPROTO_TCP || sk->family != 2 /* AF_INET */)
		return SYS_PROCEED;
	cookie = bpf_get_socket_cookie(sk);
	entry = sock4_claim_of(cookie);
	if (entry && entry->cookie == cookie)
		entry->cookie = 0;
	return SYS_PROCEED;
}

char _license[]"""

# The kernel's socket as far as the cookie, for CO-RE reads of skc_cookie (FLAVOUR names the local copy).
COOKIE_TYPES = """struct sock_common___FLAVOUR {
	struct { __s64 counter; } skc_cookie;
} __attribute__((preserve_access_index));

struct sock___FLAVOUR {
	struct sock_common___FLAVOUR __sk_common;
} __attribute__((preserve_access_index));

"""

PEEK_TYPES = COOKIE_TYPES.replace("FLAVOUR", "peek") + """/* The socket's cookie without generating one: 0 if nobody asked for it yet. */
static __always_inline __u64 sock4_peek_cookie(struct bpf_sock_addr *ctx)
{
	struct sock___peek *sk = (struct sock___peek *)bpf_skc_to_tcp_sock(ctx->sk);

	return sk ? (__u64)sk->__sk_common.skc_cookie.counter : 0;
}

"""

# Where sock4_remember_frontend() begins its work; the claim variants put the array before it.
CLAIM_ANCHOR = """	if (!cglb_config.have_sk_storage) {
		sock4_remember_frontend_lru(sock_cookie(ctx), backend, frontend, service_id, connected);
		return;
	}
"""

VARIANTS = {
    "nortcp": [("lib/sock4.h",
                "	sock4_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);",
                "	if (!connected)\n		sock4_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);")],
    "ring": [("lib/sock4.h",
              "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,",
              RING_MAP + "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,"),
             ("lib/sock4.h",
              CLAIM_ANCHOR,
              """	if (connected) {
		__u64 cookie = sock_cookie(ctx);
		struct sock4_ring_entry *entry = sock4_ring_of(cookie);

		if (entry) {
			entry->cookie = cookie;
""" + entry_writes(3) + """		}
		return;
	}
""" + CLAIM_ANCHOR),
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
    "claim": [("Makefile", "BPF_CFLAGS := -O2 -g -target bpf", "BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3"),
              ("lib/sock4.h",
               "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,",
               CLAIM_MAP + "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,"),
              ("lib/sock4.h",
               CLAIM_ANCHOR,
               """	if (connected && backend->proto == IPPROTO_TCP) {
		__u64 cookie = sock_cookie(ctx);
		struct sock4_claim_entry *entry = sock4_claim_of(cookie);

		if (entry && (entry->cookie == cookie ||
			      (entry->cookie == 0 && __sync_val_compare_and_swap(&entry->cookie, 0, cookie) == 0))) {
""" + entry_writes(3) + """			return;
		}
		/* Taken by a live socket: socket storage below. */
	}
""" + CLAIM_ANCHOR),
              ("lib/sock4.h",
               "		if (!known)\n			return -ENOENT;",
               """		if (!known) {
			__u64 cookie;
			struct sock4_claim_entry *entry;

			if (ctx->protocol != IPPROTO_TCP)
				return -ENOENT;
			cookie = sock_cookie(ctx);
			entry = sock4_claim_of(cookie);
			if (!entry || entry->cookie != cookie || entry->backend_address != peer->address ||
			    entry->backend_port != peer->port)
				return -ENOENT;
			peer->address = entry->frontend_address;
			peer->port = entry->frontend_port;
			lb_svc_stats_count_reverse(entry->service_id);
			return 0;
		}"""),
              ("cgroup_lb.bpf.c", "\nchar _license[]", CLAIM_RELEASE)],
    "claimpeek": None,  # claim + the peek below, filled in after the dict
    "claimfilter": None,  # claimpeek + a backend filter in sock_release, after the dict
    "nostats": [("lib/lb_stats.h",
                 "	struct lb_service_stats *stats = lb_svc_stats_of(service_id);\n\n	if (stats)\n		stats->translated++;",
                 "	(void)service_id;")],
    "missfloor": [("lib/sock4.h",
                   "!lb4_may_be_frontend_or_node(ctx, dst->address)",
                   "dst->address != bpf_htonl(0xC633640A) /* 198.51.100.10, run.py's VIP */")],
    "nofilterarm": [("lib/lb_fe_filter.h", FILTER_ARMED_CHECK, "")],
    "filter17": [("lib/lb_abi.h", "#define LB4_FE_FILTER_BITS_LOG2 20", "#define LB4_FE_FILTER_BITS_LOG2 17")],
}

REMEMBER_HEAD = "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,"


def claim_peeking(definitions, peek):
    """claim with getpeername4 reading the cookie by `peek` (defined in `definitions`), ending when it is 0."""
    return VARIANTS["claim"][:2] + [
        ("lib/sock4.h", REMEMBER_HEAD, definitions + REMEMBER_HEAD),
        VARIANTS["claim"][2], VARIANTS["claim"][3],
        ("lib/sock4.h", "			cookie = sock_cookie(ctx);\n			entry = sock4_claim_of(cookie);",
         f"			cookie = {peek};\n			if (!cookie)\n				return -ENOENT;\n"
         "			entry = sock4_claim_of(cookie);"),
    ]


VARIANTS["claimpeek"] = claim_peeking(PEEK_TYPES, "sock4_peek_cookie(ctx)") + VARIANTS["claim"][4:]

BE_FILTER = """struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, LB4_FE_FILTER_WORDS + 1);
} lb4_be_filter SEC(".maps");

/* lb4_may_be_frontend() over backend addresses. */
static __always_inline bool lb4_may_be_backend(__be32 address)
{
	__u32 index = LB4_FE_FILTER_ARMED;
	const __u64 *word;
	__u32 bit;

	word = bpf_map_lookup_elem(&lb4_be_filter, &index);
	if (!word || !*word)
		return true;
	bit = lb4_fe_filter_bit(address);
	index = bit >> 6;
	word = bpf_map_lookup_elem(&lb4_be_filter, &index);
	return !word || (*word & (1ULL << (bit & 63)));
}

"""

VARIANTS["claimfilter"] = VARIANTS["claimpeek"][:2] + [
    ("lib/sock4.h", "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,",
     BE_FILTER + "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,")
] + VARIANTS["claimpeek"][2:] + [
    ("cgroup_lb.bpf.c", "		return SYS_PROCEED;\n	cookie = bpf_get_socket_cookie(sk);",
     "		return SYS_PROCEED;\n	if (!lb4_may_be_backend(sk->dst_ip4))\n		return SYS_PROCEED;\n"
     "	cookie = bpf_get_socket_cookie(sk);"),
]


FENTRY_RELEASE = """
/* Frees the claim of a closing TCP socket, node-wide. The cookie is read, never generated: a socket nobody asked
 * for its cookie has 0 there and cannot own a slot, so the close of an unrelated socket ends after one load. */
SEC("fentry/tcp_close")
int cglb_tcp_close(__u64 *ctx)
{
	struct sock___peek *sk = (struct sock___peek *)ctx[0];
	struct sock4_claim_entry *entry;
	__u64 cookie = (__u64)sk->__sk_common.skc_cookie.counter;

	if (!cookie)
		return 0;
	entry = sock4_claim_of(cookie);
	if (entry && entry->cookie == cookie)
		entry->cookie = 0;
	return 0;
}

char _license[]"""

VARIANTS["claimfentry"] = VARIANTS["claimpeek"][:-1] + [("cgroup_lb.bpf.c", "\nchar _license[]", FENTRY_RELEASE)]
VARIANTS["claimtp"] = VARIANTS["claimpeek"][:-1] + [
    ("cgroup_lb.bpf.c", "\nchar _license[]", FENTRY_RELEASE.replace('SEC("fentry/tcp_close")\nint cglb_tcp_close',
                                                                   'SEC("tp_btf/tcp_destroy_sock")\nint cglb_tcp_destroy_sock'))]
VARIANTS["claimtpnop"] = VARIANTS["claimpeek"][:-1] + [
    ("cgroup_lb.bpf.c", "\nchar _license[]",
     '\nSEC("tp_btf/tcp_destroy_sock")\nint cglb_tcp_destroy_sock(__u64 *ctx)\n{\n\t(void)ctx;\n\treturn 0;\n}\n\nchar _license[]')]

CAST_PEEK = """extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

""" + COOKIE_TYPES.replace("FLAVOUR", "cast") + """/* The cookie of the socket behind sk (a sock_addr context's sk, or a cgroup/sock context itself) without
 * generating one: 0 if nobody asked for it yet. */
static __always_inline __u64 sock_cast_cookie(const void *sk)
{
	const struct sock___cast *s = bpf_rdonly_cast(sk, __builtin_btf_type_id(*(struct sock___cast *)0, 1));

	return (__u64)s->__sk_common.skc_cookie.counter;
}

"""

CAST_RELEASE = """
/* Frees the claim of a closing TCP socket of the cgroup. The cookie is read, never generated: a socket nobody
 * asked for its cookie cannot own a slot, so it ends after one load. */
SEC("cgroup/sock_release")
int cglb_sock_release(struct bpf_sock *sk)
{
	struct sock4_claim_entry *entry;
	__u64 cookie;

	if (sk->protocol != IPPROTO_TCP)
		return SYS_PROCEED;
	cookie = sock_cast_cookie(sk);
	if (!cookie)
		return SYS_PROCEED;
	entry = sock4_claim_of(cookie);
	if (entry && entry->cookie == cookie)
		entry->cookie = 0;
	return SYS_PROCEED;
}

char _license[]"""

VARIANTS["claimcast"] = claim_peeking(CAST_PEEK, "sock_cast_cookie(ctx->sk)") + [
    ("cgroup_lb.bpf.c", "\nchar _license[]", CAST_RELEASE),
]

VARIANTS["missfn"] = [
    # Only the head of sock4_xlate_fwd() is replaced: its body becomes the called function's.
    ("lib/sock4.h", """static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx, bool connected)
{
	struct sock4_addr dst;
	int err;
""", """static __noinline int sock4_xlate_fwd_candidate(struct bpf_sock_addr *ctx, bool connected);

static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx, bool connected)
{
	struct sock4_addr dst;

	ctx_get_dst4(ctx, &dst);
	if (!lb_proto_is_supported(dst.proto) || !lb4_may_be_frontend_or_node(ctx, dst.address))
		return -ENXIO;
	return sock4_xlate_fwd_candidate(ctx, connected);
}

static __noinline int sock4_xlate_fwd_candidate(struct bpf_sock_addr *ctx, bool connected)
{
	struct sock4_addr dst;
	int err;
""")]

LOCK_MAP = CLAIM_MAP.replace("	__u32  service_id;\n};", "	__u32  service_id;\n	struct bpf_spin_lock lock;\n	__u32  pad;\n};")
LOCK_CLAIM = """	if (connected && backend->proto == IPPROTO_TCP) {
		__u64 cookie = sock_cookie(ctx);
		struct sock4_claim_entry *entry = sock4_claim_of(cookie);
		bool mine = false;

		if (entry) {
			bpf_spin_lock(&entry->lock);
			if (entry->cookie == 0 || entry->cookie == cookie) {
				entry->cookie = cookie;
""" + entry_writes(4) + """				mine = true;
			}
			bpf_spin_unlock(&entry->lock);
		}
		if (mine)
			return;
		/* Taken by a live socket: socket storage below. */
	}
""" + CLAIM_ANCHOR
LOCK_RELEASE = CAST_RELEASE.replace("""	if (entry && entry->cookie == cookie)
		entry->cookie = 0;""", """	if (entry) {
		bpf_spin_lock(&entry->lock);
		if (entry->cookie == cookie)
			entry->cookie = 0;
		bpf_spin_unlock(&entry->lock);
	}""")
VARIANTS["claimlock"] = [
    ("lib/sock4.h", "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,",
     LOCK_MAP + CAST_PEEK + "static __always_inline void\nsock4_remember_frontend(struct bpf_sock_addr *ctx,"),
    ("lib/sock4.h", CLAIM_ANCHOR, LOCK_CLAIM),
    VARIANTS["claim"][3],
    VARIANTS["claimcast"][5],
    ("cgroup_lb.bpf.c", "\nchar _license[]", LOCK_RELEASE),
]


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
