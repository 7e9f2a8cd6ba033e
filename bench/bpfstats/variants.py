#!/usr/bin/env python3
"""Experiment trees for bench/bpfstats: copies of this tree's bpf/ with one cost removed or replaced each.

    variants.py OUT_DIR [NAME...]     writes OUT_DIR/NAME/bpf for each NAME (all by default) and prints
                                      the --extra arguments for run.py

Each variant prices one thing on the hot path by taking it away (or swapping it for a cheaper design) and is
measured in the same interleaved run as the product. Some drop a guarantee, so run.py must not check what the
application sees for them; it does not for --extra variants. They are experiments, never shipped:

    nortcp     connect4 keeps no per-socket reverse entry (what the minimal LB does for TCP; getpeername
               then shows the backend and the socket terminator cannot find the socket)
    noclaim    translated TCP sockets keep their reverse entry in socket storage, as before lb4_sk_claim
               (sock_claim.h): the price of the allocation the claim saves
    claim64    the product with 64 claim entries in use, so nearly every claim reclaims the entry of a socket closed
               64 cookies earlier (the gone-owner read that 2^18 fresh entries never take), and run.py's tcp-hold
               phase, its sockets all open, sends nearly every claim to socket storage (a live owner)
    nostats    no per-CPU counter update on the translated path
    missfloor  no frontend filter: only the context reads and one compare with an immediate (the VIP of
               run.py) decide the miss path; the floor any filter design is measured against
    v6missfloor  missfloor for IPv6 (connect6/sendmsg6): the four address words read, no hash, no filter
    nofilterarm  the filter without its armed word (one map word read instead of two)
    filter17   a 2^17-bit filter (16 KB, kmalloc'd) instead of 2^20 bits (128 KB, vmalloc'd)
    missfn     connect4/sendmsg4 test the protocol and the frontend filter in the program itself and call the
               rest of the translation as a BPF-to-BPF function (__noinline): the miss path then runs a short JIT
               image (its own prologue, few callee-saved registers, the exit close by) instead of jumping through
               the whole translation's image; a hit pays one call

The reverse-entry designs priced in earlier rounds (ring, and the claim family: claim, claimpeek, claimfilter,
claimfentry, claimtp, claimtpnop, claimcast, claimlock, claimptr, claimptrcas, claimptr64) were retired when
lb4_sk_claim shipped (bench/README.md, sixth round); their results stay in bench/README.md and their patches in
this file's history (git log -p bench/bpfstats/variants.py).
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BPF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bpf")


FILTER_ARMED_CHECK = """	if (!word || !*word)
		return true; /* not filled yet: every address may be a frontend */"""

VARIANTS = {
    "nortcp": [("lib/sock4.h",
                "	sock4_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);",
                "	if (!connected)\n		sock4_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);")],
    "noclaim": [("lib/sock_claim.h", "	if (!cglb_config.sk_claim_slots)\n		return false;", "	return false;")],
    "claim64": [("lib/sock_claim.h", "(__u32)cookie & (cglb_config.sk_claim_slots - 1);", "(__u32)cookie & 63;")],
    "nostats": [("lib/lb_stats.h",
                 "	struct lb_service_stats *stats = lb_svc_stats_of(service_id);\n\n	if (stats)\n		stats->translated++;",
                 "	(void)service_id;")],
    "missfloor": [("lib/sock4.h",
                   "!lb4_may_be_frontend_or_node(ctx, dst->address)",
                   "dst->address != bpf_htonl(0xC633640A) /* 198.51.100.10, run.py's VIP */")],
    "v6missfloor": [("lib/sock6.h",
                     "!lb6_may_be_frontend_or_node(ctx, &dst->address)",
                     "dst->address.words[3] != bpf_htonl(0x10) /* 2001:db8:100::10, run.py's VIP6 */")],
    "nofilterarm": [("lib/lb_fe_filter.h", FILTER_ARMED_CHECK, "")],
    "filter17": [("lib/lb_abi.h", "#define LB4_FE_FILTER_BITS_LOG2 20", "#define LB4_FE_FILTER_BITS_LOG2 17")],
}

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
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)  # --help, or an option mistaken for OUT_DIR (which would be created)
    names = sys.argv[2:] or list(VARIANTS)
    print(" ".join(f"--extra {name}={make(sys.argv[1], name)}" for name in names))
