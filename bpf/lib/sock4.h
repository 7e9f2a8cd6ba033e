/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 socket translation: frontend -> backend on connect4/sendmsg4 and
 * backend -> frontend on recvmsg4/getpeername4.
 *
 * The __sock4_* cores work on a struct sock4_addr, not on the context's
 * address fields, so an IPv6 hook seeing a v4-mapped address can fill one
 * from user_ip6[3], call the same core and write the result back mapped. The
 * context is still passed for the socket cookie, which any sock_addr context
 * provides.
 */
#ifndef CGLB_SOCK4_H
#define CGLB_SOCK4_H

#include "common.h"
#include "lb_abi.h"
#include "lb4.h"
#include "lb4_maps.h"
#include "lb_affinity.h"
#include "lb_nodeport.h"
#include "lb_stats.h"
#include "lb_svc_gen.h"
#include "netns_policy.h"
#include "sock.h"
#include "sock_claim.h"
#include "sock_storage_peek.h"
#include "trace.h"

/* An IPv4 endpoint as the translation sees it; address and port in network
 * order, as in the context and in lb_abi.h. */
struct sock4_addr {
	__be32 address;
	__be16 port;
	__u8   proto;
	__u8   pad;
};

/* ctx->user_port is a __u32 whose low 16 bits hold the port in network byte
 * order (the bytes of sin_port), not a host-order number: truncating keeps
 * it network order, and bpf_ntohs() would be wrong here. The read is forced
 * to the full word: older kernels accept only 4-byte reads of user_port, and
 * clang may emit a 2-byte load for a field that is truncated anyway. Writes
 * must be 4 bytes on every kernel, hence the widening cast in ctx_set_dst4(). */
static __always_inline __be16 ctx_dst_port(const struct bpf_sock_addr *ctx)
{
	__u32 port = *(const volatile __u32 *)&ctx->user_port;

	return (__be16)port;
}

static __always_inline __be32 ctx_dst_ip4(const struct bpf_sock_addr *ctx)
{
	return ctx->user_ip4;
}

static __always_inline void ctx_set_dst4(struct bpf_sock_addr *ctx, const struct sock4_addr *addr)
{
	ctx->user_ip4 = addr->address;
	ctx->user_port = (__u32)addr->port;
}

static __always_inline void ctx_get_dst4(const struct bpf_sock_addr *ctx, struct sock4_addr *addr)
{
	*addr = (struct sock4_addr){
		.address = ctx_dst_ip4(ctx),
		.port    = ctx_dst_port(ctx),
		/* Only TCP and UDP are balanced. Wider values are not ours and
		 * must not truncate into ours: IPPROTO_MPTCP (262) would read as
		 * IPPROTO_TCP (6). */
		.proto   = ctx->protocol <= 0xff ? (__u8)ctx->protocol : 0,
	};
}

/* The LRU fallback of sock4_remember_frontend(): keyed by cookie and backend,
 * so one unconnected UDP socket can talk to several frontends. Hot UDP senders
 * hit this on every datagram: look first and write only on change, which keeps
 * the LRU's lists and the cache lines quiet. A connect() is not hot that way:
 * it nearly always brings a socket the map has never seen, so the lookup
 * would only ever miss (one hash lookup of the LRU connect4's cost). */
static __always_inline void
sock4_remember_frontend_lru(__u64 cookie, const struct sock4_addr *backend,
			    const struct sock4_addr *frontend, __u32 service_id, bool connected)
{
	struct lb4_reverse_sk_key key = {
		.cookie  = cookie,
		.address = backend->address,
		.port    = backend->port,
	};
	struct lb4_reverse_sk_value value = {
		.address    = frontend->address,
		.port       = frontend->port,
		.service_id = service_id,
	};
	const struct lb4_reverse_sk_value *known;

	known = connected ? NULL : bpf_map_lookup_elem(&LB4_REVERSE_SK_MAP, &key);
	if (known && known->address == value.address && known->port == value.port &&
	    known->service_id == value.service_id)
		return;

	/* A failed update only costs the reverse translation of this socket;
	 * the forward translation already happened and must stand. */
	bpf_map_update_elem(&LB4_REVERSE_SK_MAP, &key, &value, BPF_ANY);
}

static __always_inline bool
sk_frontend_is_backend(const struct lb4_sk_frontend *known, const struct sock4_addr *backend)
{
	return known->backend_address == backend->address && known->backend_port == backend->port;
}

static __always_inline bool
sk_frontend_is_frontend(const struct lb4_sk_frontend *known, const struct sock4_addr *frontend)
{
	return known->frontend_address == frontend->address && known->frontend_port == frontend->port;
}

/* The 24-bit reuse generation kept in the entry (lb_svc_gen, lb_abi.h). */
static __always_inline __u32 sk_frontend_generation(const struct lb4_sk_frontend *known)
{
	return ((__u32)known->generation_hi << 16) | known->generation_lo;
}

/* Remembers which frontend a socket meant when it reached this backend, so
 * replies and getpeername() can show the frontend again. With socket storage
 * the entry lives and dies with the socket: no cookie, no hash, nothing left
 * behind when the socket closes (struct lb4_sk_frontend says who uses what).
 * connected: connect4, where the new destination replaces any earlier one.
 * known: the socket's entry if the caller already has it (UDP), else NULL.
 * generation: what a later sendmsg4 may reuse the pair under (0: never); it
 * is stored only with the pair it was read for, never with a pair that goes
 * to lb4_reverse_sk. */
static __always_inline void
sock4_remember_frontend(struct bpf_sock_addr *ctx, struct lb4_sk_frontend *known, const struct sock4_addr *backend,
			const struct sock4_addr *frontend, __u32 service_id, bool connected, __u32 generation)
{
	/* A connected socket's entry in lb4_sk_claim (TCP, or UDP as a
	 * resolver connects one per query), where claims are on and the entry
	 * is free: no allocation (sock_claim.h). */
	if (connected &&
	    sock4_claim_take(ctx, backend->address, backend->port, frontend->address, frontend->port, service_id))
		return;
	if (!cglb_config.have_sk_storage) {
		sock4_remember_frontend_lru(sock_cookie(ctx), backend, frontend, service_id, connected);
		return;
	}

	if (!known)
		known = bpf_sk_storage_get(&LB4_SK_FRONTEND_MAP, ctx->sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	/* No storage (allocation failed): as with a failed LRU update, only the
	 * reverse translation of this socket is lost. */
	if (!known)
		return;
	if (connected || known->backend_address == 0 || sk_frontend_is_backend(known, backend)) {
		/* Write only on change: a UDP sender passes here per datagram. */
		if (known->frontend_address != frontend->address || known->frontend_port != frontend->port ||
		    known->service_id != service_id || !sk_frontend_is_backend(known, backend) ||
		    sk_frontend_generation(known) != generation) {
			known->backend_address = backend->address;
			known->backend_port = backend->port;
			known->frontend_address = frontend->address;
			known->frontend_port = frontend->port;
			known->service_id = service_id;
			known->generation_hi = (__u8)(generation >> 16);
			known->generation_lo = (__u16)generation;
		}
		return;
	}
	/* The same frontend on another backend: its backend set changed. The new
	 * pair takes the entry, so that the socket's sends can be reused again,
	 * and the old pair moves to the reverse map for replies still on their
	 * way (the flag sends recvmsg4 there). */
	if (known->service_id == service_id && sk_frontend_is_frontend(known, frontend)) {
		struct sock4_addr previous = {
			.address = known->backend_address,
			.port    = known->backend_port,
		};

		sock4_remember_frontend_lru(sock_cookie(ctx), &previous, frontend, service_id, false);
		known->flags |= LB4_SK_F_MORE_IN_REVERSE_MAP;
		known->backend_address = backend->address;
		known->backend_port = backend->port;
		known->generation_hi = (__u8)(generation >> 16);
		known->generation_lo = (__u16)generation;
		return;
	}
	/* An unconnected UDP socket reaching a second backend. */
	if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
		known->flags |= LB4_SK_F_MORE_IN_REVERSE_MAP;
	sock4_remember_frontend_lru(sock_cookie(ctx), backend, frontend, service_id, false);
}

/* Picks a backend slot of the frontend behind *key, NULL if the slot entry
 * is missing. An affine frontend (LB_SVC_F_AFFINITY) first tries the slot
 * this client was given before (lb_affinity.h); that slot counts only while it
 * holds the same backend id, so a backend that left the frontend, or a slot
 * the writer has since given to another backend, means a fresh choice, which
 * is then recorded for the client. */
static __always_inline const struct lb_service_value_v2 *
sock4_select_backend(struct bpf_sock_addr *ctx, struct lb4_service_key *key,
		     const struct lb_service_value_v2 *svc)
{
	const struct lb_service_value_v2 *entry;
	struct lb_affinity_value *affine;
	struct lb_affinity_key client;
	__u64 now;
	__u16 slot;

	if (!lb_svc_flags_affine(svc->flags)) {
		slot = lb_svc_slot_of_hash(svc, sock_claim_select_hash(ctx, key->proto));
		return lb4_lookup_slot(key, slot);
	}

	now = bpf_ktime_get_ns();
	lb_affinity_key_init(&client, ctx, svc->service_id);
	affine = lb_affinity_lookup(&client, svc->affinity_timeout, now);
	if (affine) {
		slot = lb_affinity_slot(affine, svc->count);
		if (slot) {
			entry = lb4_lookup_slot(key, slot);
			if (entry && entry->backend_id == affine->backend_id) {
				lb_affinity_touch(affine, svc->affinity_timeout, now);
				return entry;
			}
		}
	}
	slot = lb_svc_slot_of_hash(svc, sock_claim_select_hash(ctx, key->proto));
	entry = lb4_lookup_slot(key, slot);
	if (entry)
		lb_affinity_record(&client, entry->backend_id, slot, now);
	return entry;
}

/* Whether an unconnected UDP send may reuse the socket's last translation:
 * its entry names this frontend and the frontend's generation (lb_svc_gen,
 * lb_abi.h) still equals the one read before the lookups that chose the
 * backend. *generation is set to the value read when the entry names this
 * frontend, for the lookups to store with their answer. */
static __always_inline bool
sock4_may_reuse(const struct lb4_sk_frontend *known, const struct sock4_addr *dst, __u32 *generation)
{
	if (!known || !sk_frontend_is_frontend(known, dst))
		return false;
	*generation = lb_svc_generation(known->service_id);
	return *generation && *generation == sk_frontend_generation(known);
}

/* Rewrites *dst from a frontend to one of its backends. connected: called
 * from connect4 (the socket gets this one destination) rather than sendmsg4.
 *   0             translated; *dst is the backend
 *   -ENXIO        not a balanced frontend (or protocol); leave the socket alone
 *   -ECONNREFUSED a frontend without a usable backend; fail the syscall
 */

static __always_inline int
__sock4_xlate_fwd(struct bpf_sock_addr *ctx, struct sock4_addr *dst, bool connected)
{
	const struct lb_service_value_v2 *svc;
	const struct lb_service_value_v2 *slot; /* carries the backend */
	struct lb4_service_key key;
	struct sock4_addr frontend = *dst;
	struct lb4_sk_frontend *known = NULL;
	__u32 generation = 0;
	bool reusable = !connected; /* may a later send reuse this answer */
	__u32 service_id;

	if (!lb_proto_is_supported(dst->proto) || !lb4_may_be_frontend_or_node(ctx, dst->address))
		return -ENXIO;

	/* UDP only (a TCP socket never reuses: every connect is a new socket),
	 * and without creating: a socket this turns out not to translate (no
	 * Service behind a shared filter bit, an excluded namespace) must not
	 * get an entry. A socket with no storage at all answers at once. */
	if (cglb_config.have_sk_storage && dst->proto == IPPROTO_UDP)
		known = bpf_sk_storage_get(&LB4_SK_FRONTEND_MAP, ctx->sk, NULL, 0);
	if (!connected && sock4_may_reuse(known, dst, &generation)) {
		/* Decided per call like the lookups' answer (free with both
		 * knobs off): no generation covers the namespace policy. */
		if (!sock_netns_is_balanced(ctx))
			return -ENXIO;
		dst->address = known->backend_address;
		dst->port = known->backend_port;
		lb_svc_stats_count_translated(known->service_id);
		lb_trace4(ctx, connected, LB_TRACE_TRANSLATED, known->service_id, frontend.address, frontend.port,
			  dst->address, dst->port, dst->proto);
		return 0;
	}

	lb4_master_key_init(&key, dst->address, dst->port, dst->proto);
	svc = lb4_lookup_service(&key);
	if (!svc) {
		/* A NodePort answer also depends on lb4_node_addrs, which no
		 * service generation covers. */
		reusable = false;
		svc = lb4_lookup_nodeport(ctx, &key);
	}
	if (!svc)
		return -ENXIO;
	/* After the hit, so sockets to no Service never pay for it. */
	if (!sock_netns_is_balanced(ctx))
		return -ENXIO;
	service_id = svc->service_id;
	if (!lb_svc_has_backends(svc))
		goto refuse;

	slot = sock4_select_backend(ctx, &key, svc);
	if (!slot) {
		/* The agent writes new slots, then the master count, and on
		 * removal shrinks the count before deleting slots. A miss
		 * therefore means we read the count just before it shrank: read
		 * the master again and choose once more, which settles on the new
		 * set. A second miss (the frontend emptied
		 * meanwhile) refuses: passing the frontend address on untranslated
		 * would leave the client waiting on an address nobody serves. */
		svc = lb4_lookup_service(&key);
		if (!svc)
			return -ENXIO;
		if (!lb_svc_has_backends(svc))
			goto refuse;
		slot = sock4_select_backend(ctx, &key, svc);
		if (!slot)
			goto refuse;
	}

	dst->address = slot->backend_address;
	dst->port = slot->backend_port;
	/* The generation counts only if it was read for this very frontend
	 * before the lookups (else 0: the next datagram reads it and looks up
	 * once more). An affine choice must pass lb_affinity every time (its
	 * timeout, last_used). connect4 stores 0, so a connected UDP socket's
	 * later sendto() never skips the path that keeps its reverse entries. */
	if (!reusable || lb_svc_flags_affine(svc->flags) || !known || known->service_id != service_id ||
	    !sk_frontend_is_frontend(known, &frontend))
		generation = 0;
	sock4_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);
	lb_svc_stats_count_translated(service_id);
	lb_trace4(ctx, connected, LB_TRACE_TRANSLATED, service_id, frontend.address, frontend.port, dst->address, dst->port, dst->proto);
	return 0;

refuse:
	lb_svc_stats_count_refused(service_id);
	lb_trace4(ctx, connected, lb_svc_has_backends(svc) ? LB_TRACE_REFUSED_NO_SLOT : LB_TRACE_REFUSED_NO_BACKEND, service_id, frontend.address, frontend.port, 0, 0, frontend.proto);
	return -ECONNREFUSED;
}

/* Rewrites *peer from a backend back to the frontend this socket asked for.
 *   0       restored; *peer is the frontend
 *   -ENOENT this socket never reached *peer through a frontend
 */
static __always_inline int __sock4_xlate_rev(struct bpf_sock_addr *ctx, struct sock4_addr *peer)
{
	struct lb4_reverse_sk_key key = {
		.address = peer->address,
		.port    = peer->port,
	};
	const struct lb4_reverse_sk_value *frontend;

	if (cglb_config.have_sk_storage) {
		const struct lb4_sk_frontend *known;

		/* A socket's own claimed entry is its latest connect's: a connect
		 * retakes the socket's own entry whatever it holds, and falls back
		 * to socket storage only when the entry is another's. */
		if (!sock4_claim_reverse(ctx, &peer->address, &peer->port))
			return 0;
		known = sock_may_have_storage(ctx->sk) ? bpf_sk_storage_get(&LB4_SK_FRONTEND_MAP, ctx->sk, NULL, 0) : NULL;
		/* A socket without an entry was never translated: the common case
		 * of every other socket on the node ends here, without a cookie. */
		if (!known)
			return -ENOENT;
		if (sk_frontend_is_backend(known, peer)) {
			peer->address = known->frontend_address;
			peer->port = known->frontend_port;
			lb_svc_stats_count_reverse(known->service_id);
			return 0;
		}
		if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
			return -ENOENT;
	}

	key.cookie = sock_cookie(ctx);
	frontend = bpf_map_lookup_elem(&LB4_REVERSE_SK_MAP, &key);
	if (!frontend)
		return -ENOENT;

	peer->address = frontend->address;
	peer->port = frontend->port;
	lb_svc_stats_count_reverse(frontend->service_id);
	return 0;
}

static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx, bool connected)
{
	struct sock4_addr dst;
	int err;

	ctx_get_dst4(ctx, &dst);
	err = __sock4_xlate_fwd(ctx, &dst, connected);
	if (!err)
		ctx_set_dst4(ctx, &dst);
	return err;
}

static __always_inline int sock4_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct sock4_addr peer;
	int err;

	ctx_get_dst4(ctx, &peer);
	err = __sock4_xlate_rev(ctx, &peer);
	if (!err)
		ctx_set_dst4(ctx, &peer);
	return err;
}

#endif /* CGLB_SOCK4_H */
