/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Load-time configuration. Each knob is a read-only global that lands in
 * .rodata; the loader writes it between open and load, the kernel freezes the
 * map, and the verifier then treats every read as a known constant and prunes
 * the branches that are switched off. One object file serves every kernel.
 *
 * cfg_have_* knobs describe what the kernel can do (the loader probes them);
 * they are not user choices.
 */
#ifndef CGLB_CONFIG_H
#define CGLB_CONFIG_H

#include "common.h"
#include "lb_abi.h"

/* The build may preset a knob (tests/bpf/smoke.sh builds a variant with 1 to
 * exercise the probed path without a libbpf loader); the product build leaves
 * every knob at its safe default and lets the loader decide. */
#ifndef CGLB_DEFAULT_HAVE_SET_RETVAL
#define CGLB_DEFAULT_HAVE_SET_RETVAL 0
#endif
#ifndef CGLB_DEFAULT_HAVE_SK_STORAGE
#define CGLB_DEFAULT_HAVE_SK_STORAGE 0
#endif
#ifndef CGLB_DEFAULT_HAVE_RINGBUF
#define CGLB_DEFAULT_HAVE_RINGBUF 0
#endif
#ifndef CGLB_DEFAULT_HAVE_RDONLY_CAST
#define CGLB_DEFAULT_HAVE_RDONLY_CAST 0
#endif
#ifndef CGLB_DEFAULT_SK_CLAIM_SLOTS
#define CGLB_DEFAULT_SK_CLAIM_SLOTS 0
#endif
#ifndef CGLB_DEFAULT_ENABLE_NETNS_EXCLUSION
#define CGLB_DEFAULT_ENABLE_NETNS_EXCLUSION 0
#endif

/* The only .rodata variable, so it sits at offset 0 where the loader writes
 * struct lb_datapath_config (lb_abi.h). have_set_retval: 1 if the kernel has
 * bpf_set_retval() for cgroup sock_addr programs (5.18+); then a refused
 * connect()/sendmsg() fails with ECONNREFUSED, with 0 the application sees
 * the kernel's default for a rejecting cgroup program, EPERM.
 * have_sk_storage: 1 if bpf_sk_storage_get() is allowed in sock_addr programs;
 * then reverse entries live with the socket (lb4_sk_frontend, lb6_sk_frontend),
 * with 0 in the LRU maps lb4_reverse_sk and lb6_reverse_sk only, as before.
 * have_ringbuf: 1 if the kernel has BPF_MAP_TYPE_RINGBUF (5.8+); with 0
 * trace.h compiles to nothing and lb_trace_events is a stand-in array.
 * host_netns_cookie: the cookie of the network namespace the agent runs in,
 * which is the host's (hostNetwork); 0 where the kernel could not tell the
 * loader (SO_NETNS_COOKIE needs 5.14), and netns.h then takes init_net.
 * enable_netns_exclusion: 1 when the operator gave --exclude-netns; with 0 the
 * programs never read lb_skip_netns, whose lookup (a helper call for the
 * namespace cookie and a hash lookup, 25-45 ns) every translated call paid
 * though nearly every node leaves the map empty.
 * have_rdonly_cast: 1 if the kernel has the bpf_rdonly_cast kfunc (6.2+);
 * then the reverse hooks tell a socket without socket storage by one load
 * instead of a helper call (sock_storage_peek.h).
 * sk_claim_slots: lb4_sk_claim's entries (the loader sizes the map to match),
 * set only with have_rdonly_cast; then translated TCP sockets claim an entry
 * there instead of socket storage (sock_claim.h). A build that presets it
 * must size the map too (CGLB_SK_CLAIM_MAP_ENTRIES, lb4_maps.h). */
const volatile struct lb_datapath_config cglb_config = {
	.have_set_retval = CGLB_DEFAULT_HAVE_SET_RETVAL,
	.have_sk_storage = CGLB_DEFAULT_HAVE_SK_STORAGE,
	.have_ringbuf    = CGLB_DEFAULT_HAVE_RINGBUF,
	.have_rdonly_cast = CGLB_DEFAULT_HAVE_RDONLY_CAST,
	.sk_claim_slots  = CGLB_DEFAULT_SK_CLAIM_SLOTS,
	.enable_netns_exclusion = CGLB_DEFAULT_ENABLE_NETNS_EXCLUSION,
};

#endif /* CGLB_CONFIG_H */
