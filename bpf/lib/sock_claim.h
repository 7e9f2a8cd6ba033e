/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A connected socket's reverse entry (TCP, and UDP: a resolver connects a
 * socket per query) in lb4_sk_claim, an array indexed by the socket cookie's
 * low bits, instead of in socket storage; lb6_sk_claim, its twin, holds those
 * of sockets with a real IPv6 peer, by the same protocol. Unconnected UDP
 * sends keep theirs in socket storage, which is also their translation cache.
 *
 * Socket storage costs a translated connect() two kernel allocations with
 * memory-cgroup charging, about 700 of its 1000 ns (bench/README.md), and
 * 304 bytes per open socket. An array entry costs neither. What it lacks is a
 * release: nothing tells a cgroup program that a socket went away without
 * charging every other socket's close. So the entry remembers its owner's
 * struct sock too, and a later claimant of the same entry looks at that
 * socket through bpf_rdonly_cast (a read-only, fault-tolerant load): if the
 * memory now holds another cookie (freed and reused) or a closed socket
 * (TCP_CLOSE, where getpeername() answers ENOTCONN before any hook runs; a
 * UDP socket is in it when unconnected, and then has no peer to show),
 * the owner is gone and the claimant takes the entry over. A live owner
 * sends the claimant to socket storage, so no entry is ever taken from a
 * socket that can still ask for it.
 *
 * Two claimants of one entry at once (cookies sk_claim_slots apart, on two
 * CPUs) are settled by a compare-and-swap on the cookie, which also marks the
 * entry as being written (LB4_SK_CLAIM_WRITING) until owner and pair are in
 * place: a third claimant takes the mark for a live owner, and the owner's
 * own getpeername() only matches the unmarked cookie. The unmarked cookie is
 * published by an exchange and the owner read back by an atomic add of 0,
 * both fully ordered, so the owner a claimant judges is the one published
 * with the cookie it read, on weakly ordered CPUs too.
 *
 * Only the build for kernels with BTF has this (bpf_rdonly_cast, 6.2+, and
 * the compare-and-swap, 5.12+, both in it); the loader takes that build only
 * where the kernel has the kfunc. Elsewhere sk_claim_slots is 0 and every
 * connected socket keeps its entry in socket storage, as before.
 * Storing a socket's address in a map is a pointer leak the verifier allows
 * only to a loader with CAP_PERFMON or CAP_SYS_ADMIN, which the programs need
 * anyway (bpf_get_current_comm in trace.h). The map holds kernel addresses
 * for it: like every pin of the agent's, root's alone to read.
 */
#ifndef CGLB_SOCK_CLAIM_H
#define CGLB_SOCK_CLAIM_H

#include "common.h"
#include "config.h"
#include "lb_abi.h"
#include "lb4_maps.h"
#include "lb6.h"
#include "lb6_maps.h"
#include "lb_stats.h"
#include "sock.h"
#include "sock_storage_peek.h"

#if CGLB_KERNEL_BTF
/* The two fields of the kernel's struct sock_common read here (CO-RE). */
struct sock_common___cglb_claim {
	volatile unsigned char skc_state;
	struct {
		__s64 counter;
	} skc_cookie;
} __attribute__((preserve_access_index));

struct sock___cglb_claim {
	struct sock_common___cglb_claim __sk_common;
} __attribute__((preserve_access_index));

#define SOCK_CLAIM_TCP_CLOSE 7 /* include/net/tcp_states.h */

static __always_inline const struct sock___cglb_claim *sock_claim_cast(const void *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock___cglb_claim));
}

/* The socket's cookie if anyone asked for it, else 0; never generates one. */
static __always_inline __u64 sock_claim_peek_cookie(const void *sk)
{
	return (__u64)sock_claim_cast(sk)->__sk_common.skc_cookie.counter;
}

/* The hash that picks a connecting socket's backend slot where connected
 * sockets claim; sock_select_hash() elsewhere. The claim asks the socket's
 * cookie anyway, so a TCP socket's first connect hashes its cookie (sequential
 * cookies spread evenly under sock_cookie_hash()) instead of calling
 * bpf_get_prandom_u32(), about 30 ns (bench/README.md). A socket that already
 * has a cookie may be connecting again, e.g. after ECONNREFUSED on the same
 * socket, which Linux allows: its cookie would send every retry to the same
 * backend, so it picks at random as before (so does a socket whose cookie
 * someone else asked for first). */
static __always_inline __u32 sock_claim_select_hash(struct bpf_sock_addr *ctx, __u8 proto)
{
	if (proto == IPPROTO_TCP && cglb_config.sk_claim_slots && !sock_claim_peek_cookie(ctx->sk))
		return sock_cookie_hash(sock_cookie(ctx));
	return sock_select_hash(ctx, proto);
}

/* The claim protocol, the same for both families' entries, whose first two
 * words are the cookie and the owner. */

/* Whether the socket that wrote occupant into the entry is gone: its memory
 * holds another cookie now, or a closed socket. A load that faults reads 0,
 * which is another cookie. */
static __always_inline bool sock_claim_owner_gone(__u64 *owner_word, __u64 occupant)
{
	const struct sock___cglb_claim *owner;

	/* A fully ordered read (an atomic add of 0): the owner published with
	 * occupant, never an earlier one, which a weakly ordered CPU could give
	 * a plain load that it moved before the load of the cookie. */
	owner = sock_claim_cast((const void *)__sync_fetch_and_add(owner_word, 0));
	return (__u64)owner->__sk_common.skc_cookie.counter != occupant ||
	       owner->__sk_common.skc_state == SOCK_CLAIM_TCP_CLOSE;
}

/* True when the entry is now the socket's to write: marked as being written
 * (taken from nobody or from a gone owner), or already its own from an
 * earlier connect, which only the socket's own calls can write. False when
 * another live socket holds it or is writing it. The caller then writes the
 * owner and the pair, and publishes with sock_claim_publish(). */
static __always_inline bool sock_claim_acquire(__u64 *cookie_word, __u64 *owner_word, __u64 cookie)
{
	__u64 occupant = *cookie_word;

	if (occupant == cookie)
		return true;
	if (occupant & LB4_SK_CLAIM_WRITING)
		return false;
	if (occupant && !sock_claim_owner_gone(owner_word, occupant))
		return false;
	return __sync_val_compare_and_swap(cookie_word, occupant, cookie | LB4_SK_CLAIM_WRITING) == occupant;
}

/* Fully ordered (an exchange), so whoever reads the unmarked cookie also
 * reads the owner and pair written before. */
static __always_inline void sock_claim_publish(__u64 *cookie_word, __u64 cookie)
{
	__sync_lock_test_and_set(cookie_word, cookie);
}

static __always_inline __u32 sock_claim_index(__u64 cookie)
{
	return (__u32)cookie & (cglb_config.sk_claim_slots - 1);
}

static __always_inline struct lb4_sk_claim *sock4_claim_entry(__u64 cookie)
{
	__u32 index = sock_claim_index(cookie);

	return bpf_map_lookup_elem(&LB4_SK_CLAIM_MAP, &index);
}

/* connect4 of a TCP or UDP socket: keeps backend -> frontend in the socket's
 * entry of lb4_sk_claim. False when claims are off or a live socket holds the
 * entry; the caller then uses socket storage. */
static __always_inline bool
sock4_claim_take(struct bpf_sock_addr *ctx, __be32 backend_address, __be16 backend_port,
		 __be32 frontend_address, __be16 frontend_port, __u32 service_id)
{
	struct lb4_sk_claim *entry;
	__u64 cookie;

	if (!cglb_config.sk_claim_slots)
		return false;
	cookie = sock_cookie(ctx);
	entry = sock4_claim_entry(cookie);
	if (!entry || !sock_claim_acquire(&entry->cookie, &entry->owner, cookie))
		return false;
	entry->owner = (__u64)ctx->sk;
	entry->backend_address = backend_address;
	entry->backend_port = backend_port;
	entry->frontend_address = frontend_address;
	entry->frontend_port = frontend_port;
	entry->service_id = service_id;
	sock_claim_publish(&entry->cookie, cookie);
	return true;
}

/* recvmsg4/getpeername4: the frontend from the socket's claimed entry, if
 * that entry is its own and names this peer. */
static __always_inline int sock4_claim_reverse(struct bpf_sock_addr *ctx, __be32 *address, __be16 *port)
{
	const struct lb4_sk_claim *entry;
	__u64 cookie;

	if (!cglb_config.sk_claim_slots)
		return -ENOENT;
	/* An accepted or never-translated socket usually has no cookie at all. */
	cookie = sock_claim_peek_cookie(ctx->sk);
	if (!cookie)
		return -ENOENT;
	entry = sock4_claim_entry(cookie);
	if (!entry || entry->cookie != cookie || entry->backend_address != *address || entry->backend_port != *port)
		return -ENOENT;
	*address = entry->frontend_address;
	*port = entry->frontend_port;
	lb_svc_stats_count_reverse(entry->service_id);
	return 0;
}

static __always_inline struct lb6_sk_claim *sock6_claim_entry(__u64 cookie)
{
	__u32 index = sock_claim_index(cookie);

	return bpf_map_lookup_elem(&LB6_SK_CLAIM_MAP, &index);
}

/* connect6 of a TCP or UDP socket to a real IPv6 peer: sock4_claim_take() in
 * lb6_sk_claim. */
static __always_inline bool
sock6_claim_take(struct bpf_sock_addr *ctx, const union lb6_addr *backend_address, __be16 backend_port,
		 const union lb6_addr *frontend_address, __be16 frontend_port, __u32 service_id)
{
	struct lb6_sk_claim *entry;
	__u64 cookie;

	if (!cglb_config.sk_claim_slots)
		return false;
	cookie = sock_cookie(ctx);
	entry = sock6_claim_entry(cookie);
	if (!entry || !sock_claim_acquire(&entry->cookie, &entry->owner, cookie))
		return false;
	entry->owner = (__u64)ctx->sk;
	entry->backend_address = *backend_address;
	entry->backend_port = backend_port;
	entry->frontend_address = *frontend_address;
	entry->frontend_port = frontend_port;
	entry->service_id = service_id;
	sock_claim_publish(&entry->cookie, cookie);
	return true;
}

/* recvmsg6/getpeername6: sock4_claim_reverse() in lb6_sk_claim. */
static __always_inline int sock6_claim_reverse(struct bpf_sock_addr *ctx, union lb6_addr *address, __be16 *port)
{
	const struct lb6_sk_claim *entry;
	__u64 cookie;

	if (!cglb_config.sk_claim_slots)
		return -ENOENT;
	cookie = sock_claim_peek_cookie(ctx->sk);
	if (!cookie)
		return -ENOENT;
	entry = sock6_claim_entry(cookie);
	if (!entry || entry->cookie != cookie || !lb6_addr_equal(&entry->backend_address, address) ||
	    entry->backend_port != *port)
		return -ENOENT;
	*address = entry->frontend_address;
	*port = entry->frontend_port;
	lb_svc_stats_count_reverse(entry->service_id);
	return 0;
}
#else
static __always_inline __u32 sock_claim_select_hash(struct bpf_sock_addr *ctx, __u8 proto)
{
	return sock_select_hash(ctx, proto);
}

static __always_inline bool
sock4_claim_take(struct bpf_sock_addr *ctx, __be32 backend_address, __be16 backend_port,
		 __be32 frontend_address, __be16 frontend_port, __u32 service_id)
{
	(void)ctx, (void)backend_address, (void)backend_port, (void)frontend_address, (void)frontend_port, (void)service_id;
	return false;
}

static __always_inline int sock4_claim_reverse(struct bpf_sock_addr *ctx, __be32 *address, __be16 *port)
{
	(void)ctx, (void)address, (void)port;
	return -ENOENT;
}

static __always_inline bool
sock6_claim_take(struct bpf_sock_addr *ctx, const union lb6_addr *backend_address, __be16 backend_port,
		 const union lb6_addr *frontend_address, __be16 frontend_port, __u32 service_id)
{
	(void)ctx, (void)backend_address, (void)backend_port, (void)frontend_address, (void)frontend_port, (void)service_id;
	return false;
}

static __always_inline int sock6_claim_reverse(struct bpf_sock_addr *ctx, union lb6_addr *address, __be16 *port)
{
	(void)ctx, (void)address, (void)port;
	return -ENOENT;
}
#endif

#endif /* CGLB_SOCK_CLAIM_H */
