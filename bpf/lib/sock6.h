/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 socket translation, the twin of sock4.h: frontend -> backend on
 * connect6/sendmsg6 and backend -> frontend on recvmsg6/getpeername6.
 *
 * A v4-mapped destination (::ffff:a.b.c.d, what an AF_INET6 socket uses for an
 * IPv4 peer) is not looked up here: sock6_xlate_fwd/rev fill a struct
 * sock4_addr from its last word, run the IPv4 core of sock4.h against the IPv4
 * maps and write the result back mapped. So a dual-stack socket reaches the
 * same IPv4 backends, with the same reverse entries, as an AF_INET socket.
 */
#ifndef CGLB_SOCK6_H
#define CGLB_SOCK6_H

#include "common.h"
#include "lb_abi.h"
#include "lb6.h"
#include "lb6_maps.h"
#include "lb_affinity.h"
#include "lb_nodeport.h"
#include "lb_stats.h"
#include "lb_svc_gen.h"
#include "netns_policy.h"
#include "sock.h"
#include "sock_claim.h"
#include "sock_storage_peek.h"
#include "sock4.h"
#include "trace.h"

/* An IPv6 endpoint as the translation sees it; address and port in network
 * order, as in the context and in lb_abi.h. */
struct sock6_addr {
	union lb6_addr address;
	__be16 port;
	__u8   proto;
	__u8   pad;
};

/* user_ip6 is read and written a word at a time: the only access size every
 * kernel since 4.17 accepts for it. */
static __always_inline void ctx_get_dst6(const struct bpf_sock_addr *ctx, struct sock6_addr *addr)
{
	addr->address.words[0] = ctx->user_ip6[0];
	addr->address.words[1] = ctx->user_ip6[1];
	addr->address.words[2] = ctx->user_ip6[2];
	addr->address.words[3] = ctx->user_ip6[3];
	addr->port = ctx_dst_port(ctx);
	addr->proto = ctx_l4_proto(ctx);
	addr->pad = 0;
}

static __always_inline void ctx_set_dst6(struct bpf_sock_addr *ctx, const struct sock6_addr *addr)
{
	ctx->user_ip6[0] = addr->address.words[0];
	ctx->user_ip6[1] = addr->address.words[1];
	ctx->user_ip6[2] = addr->address.words[2];
	ctx->user_ip6[3] = addr->address.words[3];
	ctx->user_port = (__u32)addr->port;
}

static __always_inline void sock6_to_v4(const struct sock6_addr *addr6, struct sock4_addr *addr4)
{
	*addr4 = (struct sock4_addr){
		.address = addr6->address.words[3],
		.port    = addr6->port,
		.proto   = addr6->proto,
	};
}

static __always_inline void sock6_set_v4_mapped(struct sock6_addr *addr6, const struct sock4_addr *addr4)
{
	addr6->address.words[0] = 0;
	addr6->address.words[1] = 0;
	addr6->address.words[2] = bpf_htonl(0x0000ffff);
	addr6->address.words[3] = addr4->address;
	addr6->port = addr4->port;
}

/* The LRU fallback of sock6_remember_frontend(), as
 * sock4_remember_frontend_lru(): look first and write only on change for hot
 * UDP senders; a connect() brings a socket the map has never seen. */
static __always_inline void
sock6_remember_frontend_lru(__u64 cookie, const struct sock6_addr *backend,
			    const struct sock6_addr *frontend, __u32 service_id, bool connected)
{
	struct lb6_reverse_sk_key key = {
		.cookie  = cookie,
		.address = backend->address,
		.port    = backend->port,
	};
	struct lb6_reverse_sk_value value = {
		.address    = frontend->address,
		.port       = frontend->port,
		.service_id = service_id,
	};
	const struct lb6_reverse_sk_value *known;

	known = connected ? NULL : bpf_map_lookup_elem(&LB6_REVERSE_SK_MAP, &key);
	if (known && lb6_addr_equal(&known->address, &value.address) && known->port == value.port &&
	    known->service_id == value.service_id)
		return;
	/* A failed update only costs the reverse translation of this socket. */
	bpf_map_update_elem(&LB6_REVERSE_SK_MAP, &key, &value, BPF_ANY);
}

static __always_inline bool
sk_frontend6_is_backend(const struct lb6_sk_frontend *known, const struct sock6_addr *backend)
{
	return lb6_addr_equal(&known->backend_address, &backend->address) && known->backend_port == backend->port;
}

static __always_inline bool
sk_frontend6_is_frontend(const struct lb6_sk_frontend *known, const struct sock6_addr *frontend)
{
	return lb6_addr_equal(&known->frontend_address, &frontend->address) && known->frontend_port == frontend->port;
}

/* The IPv6 twin of sock4_remember_frontend(), with the same rule (struct
 * lb6_sk_frontend) and the same arguments: socket storage where the kernel
 * allows it, the LRU map for an unconnected UDP socket's further backends and
 * where it does not. known: the socket's entry if the caller already has it
 * (UDP), else NULL. generation: what a later sendmsg6 may reuse the pair under
 * (0: never), stored only with the pair it was read for. */
static __always_inline void
sock6_remember_frontend(struct bpf_sock_addr *ctx, struct lb6_sk_frontend *known, const struct sock6_addr *backend,
			const struct sock6_addr *frontend, __u32 service_id, bool connected, __u32 generation)
{
	/* As in sock4_remember_frontend(): a connected socket's entry in
	 * lb6_sk_claim where claims are on and the entry is free. */
	if (connected && sock6_claim_take(ctx, &backend->address, backend->port, &frontend->address, frontend->port,
					  service_id))
		return;
	if (!cglb_config.have_sk_storage) {
		sock6_remember_frontend_lru(sock_cookie(ctx), backend, frontend, service_id, connected);
		return;
	}

	if (!known)
		known = bpf_sk_storage_get(&LB6_SK_FRONTEND_MAP, ctx->sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!known)
		return; /* allocation failed: only this socket's reverse translation is lost */
	if (connected || lb6_addr_is_zero(&known->backend_address) || sk_frontend6_is_backend(known, backend)) {
		/* Write only on change: a UDP sender passes here per datagram. */
		if (!sk_frontend6_is_frontend(known, frontend) || known->service_id != service_id ||
		    !sk_frontend6_is_backend(known, backend) || known->generation != generation) {
			known->backend_address = backend->address;
			known->backend_port = backend->port;
			known->frontend_address = frontend->address;
			known->frontend_port = frontend->port;
			known->service_id = service_id;
			known->generation = generation;
		}
		return;
	}
	/* The same frontend on another backend: its backend set changed. As in
	 * sock4_remember_frontend(), the new pair takes the entry (so reuse
	 * resumes) and the old pair moves to the reverse map. */
	if (known->service_id == service_id && sk_frontend6_is_frontend(known, frontend)) {
		struct sock6_addr previous = {
			.address = known->backend_address,
			.port    = known->backend_port,
		};

		sock6_remember_frontend_lru(sock_cookie(ctx), &previous, frontend, service_id, false);
		known->flags |= LB4_SK_F_MORE_IN_REVERSE_MAP;
		known->backend_address = backend->address;
		known->backend_port = backend->port;
		known->generation = generation;
		return;
	}
	/* An unconnected UDP socket reaching a second backend. */
	if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
		known->flags |= LB4_SK_F_MORE_IN_REVERSE_MAP;
	sock6_remember_frontend_lru(sock_cookie(ctx), backend, frontend, service_id, false);
}

/* As sock4_select_backend(), affinity included: the same lb_affinity map,
 * keyed by the service id both families share. */
static __always_inline const struct lb6_service_value *
sock6_select_backend(struct bpf_sock_addr *ctx, struct lb6_service_key *key,
		     const struct lb6_service_value *svc)
{
	const struct lb6_service_value *entry;
	struct lb_affinity_value *affine;
	struct lb_affinity_key client;
	__u64 now;
	__u16 slot;

	if (!lb_svc_flags_affine(svc->flags)) {
		slot = lb6_svc_slot_of_hash(svc, sock_claim_select_hash(ctx, key->proto));
		return lb6_lookup_slot(key, slot);
	}

	now = bpf_ktime_get_ns();
	lb_affinity_key_init(&client, ctx, svc->service_id);
	affine = lb_affinity_lookup(&client, svc->affinity_timeout, now);
	if (affine) {
		slot = lb_affinity_slot(affine, svc->count);
		if (slot) {
			entry = lb6_lookup_slot(key, slot);
			if (entry && entry->backend_id == affine->backend_id) {
				lb_affinity_touch(affine, svc->affinity_timeout, now);
				return entry;
			}
		}
	}
	slot = lb6_svc_slot_of_hash(svc, sock_claim_select_hash(ctx, key->proto));
	entry = lb6_lookup_slot(key, slot);
	if (entry)
		lb_affinity_record(&client, entry->backend_id, slot, now);
	return entry;
}

/* As sock4_may_reuse(), for an IPv6 socket's entry. */
static __always_inline bool
sock6_may_reuse(const struct lb6_sk_frontend *known, const struct sock6_addr *dst, __u32 *generation)
{
	if (!known || !sk_frontend6_is_frontend(known, dst))
		return false;
	*generation = lb_svc_generation(known->service_id);
	return *generation && *generation == known->generation;
}

/* Rewrites *dst from a frontend to one of its backends; the same contract,
 * the same retry on a missing slot and the same reuse of an unconnected UDP
 * socket's last translation as __sock4_xlate_fwd():
 *   0             translated; *dst is the backend
 *   -ENXIO        not a balanced frontend (or protocol); leave the socket alone
 *   -ECONNREFUSED a frontend without a usable backend; fail the syscall
 */
static __always_inline int
__sock6_xlate_fwd(struct bpf_sock_addr *ctx, struct sock6_addr *dst, bool connected)
{
	const struct lb6_service_value *svc;
	const struct lb6_service_value *slot;
	struct lb6_service_key key;
	struct sock6_addr frontend = *dst;
	const union lb6_addr no_backend = {};
	struct lb6_sk_frontend *known = NULL;
	__u32 generation = 0;
	bool reusable = !connected;
	__u32 service_id;

	if (!lb_proto_is_supported(dst->proto) || !lb6_may_be_frontend_or_node(ctx, &dst->address))
		return -ENXIO;

	/* UDP only and without creating, as in __sock4_xlate_fwd(). */
	if (cglb_config.have_sk_storage && dst->proto == IPPROTO_UDP)
		known = bpf_sk_storage_get(&LB6_SK_FRONTEND_MAP, ctx->sk, NULL, 0);
	if (!connected && sock6_may_reuse(known, dst, &generation)) {
		if (!sock_netns_is_balanced(ctx))
			return -ENXIO;
		dst->address = known->backend_address;
		dst->port = known->backend_port;
		lb_svc_stats_count_translated(known->service_id);
		lb_trace6(ctx, connected, LB_TRACE_TRANSLATED, known->service_id, &frontend.address, frontend.port,
			  &dst->address, dst->port, dst->proto);
		return 0;
	}

	lb6_master_key_init(&key, &dst->address, dst->port, dst->proto);
	svc = lb6_lookup_service(&key);
	if (!svc) {
		/* lb6_node_addrs is covered by no service generation. */
		reusable = false;
		svc = lb6_lookup_nodeport(ctx, &key);
	}
	if (!svc)
		return -ENXIO;
	/* After the hit, so sockets to no Service never pay for it. */
	if (!sock_netns_is_balanced(ctx))
		return -ENXIO;
	service_id = svc->service_id;
	if (svc->count == 0)
		goto refuse;

	slot = sock6_select_backend(ctx, &key, svc);
	if (!slot) {
		/* The master's count shrank under us: read it once more (see
		 * __sock4_xlate_fwd for the write order this relies on). */
		svc = lb6_lookup_service(&key);
		if (!svc)
			return -ENXIO;
		if (svc->count == 0)
			goto refuse;
		slot = sock6_select_backend(ctx, &key, svc);
		if (!slot)
			goto refuse;
	}

	dst->address = slot->backend_address;
	dst->port = slot->backend_port;
	/* As in __sock4_xlate_fwd(): only a generation read for this very
	 * frontend before the lookups counts, and never for an affine choice. */
	if (!reusable || lb_svc_flags_affine(svc->flags) || !known || known->service_id != service_id ||
	    !sk_frontend6_is_frontend(known, &frontend))
		generation = 0;
	sock6_remember_frontend(ctx, known, dst, &frontend, service_id, connected, generation);
	lb_svc_stats_count_translated(service_id);
	lb_trace6(ctx, connected, LB_TRACE_TRANSLATED, service_id, &frontend.address, frontend.port, &dst->address, dst->port, dst->proto);
	return 0;

refuse:
	lb_svc_stats_count_refused(service_id);
	lb_trace6(ctx, connected, svc->count > 0 ? LB_TRACE_REFUSED_NO_SLOT : LB_TRACE_REFUSED_NO_BACKEND, service_id,
		  &frontend.address, frontend.port, &no_backend, 0, frontend.proto);
	return -ECONNREFUSED;
}

/* Rewrites *peer from a backend back to the frontend this socket asked for.
 *   0       restored; *peer is the frontend
 *   -ENOENT this socket never reached *peer through a frontend
 */
static __always_inline int __sock6_xlate_rev(struct bpf_sock_addr *ctx, struct sock6_addr *peer)
{
	struct lb6_reverse_sk_key key = {
		.address = peer->address,
		.port    = peer->port,
	};
	const struct lb6_reverse_sk_value *frontend;

	if (cglb_config.have_sk_storage) {
		const struct lb6_sk_frontend *known;

		/* The socket's own claimed entry first, as in __sock4_xlate_rev(). */
		if (!sock6_claim_reverse(ctx, &peer->address, &peer->port))
			return 0;
		known = sock_may_have_storage(ctx->sk) ? bpf_sk_storage_get(&LB6_SK_FRONTEND_MAP, ctx->sk, NULL, 0) : NULL;
		/* Never translated: every other IPv6 socket ends here, without a
		 * cookie. */
		if (!known)
			return -ENOENT;
		if (sk_frontend6_is_backend(known, peer)) {
			peer->address = known->frontend_address;
			peer->port = known->frontend_port;
			lb_svc_stats_count_reverse(known->service_id);
			return 0;
		}
		if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
			return -ENOENT;
	}

	key.cookie = sock_cookie(ctx);
	frontend = bpf_map_lookup_elem(&LB6_REVERSE_SK_MAP, &key);
	if (!frontend)
		return -ENOENT;
	peer->address = frontend->address;
	peer->port = frontend->port;
	lb_svc_stats_count_reverse(frontend->service_id);
	return 0;
}

/* connected: connect6 rather than sendmsg6. The kernel hands an unconnected
 * send to a v4-mapped address to the IPv4 UDP path, which runs sendmsg4, and
 * it refuses a sendmsg6 program that writes a v4-mapped address; so only
 * connect6 ever translates one here. */
static __always_inline int sock6_xlate_fwd(struct bpf_sock_addr *ctx, bool connected)
{
	struct sock6_addr dst;
	int err;

	ctx_get_dst6(ctx, &dst);
	if (lb6_addr_is_v4_mapped(&dst.address)) {
		struct sock4_addr dst4;

		if (!connected)
			return -ENXIO;
		sock6_to_v4(&dst, &dst4);
		err = __sock4_xlate_fwd(ctx, &dst4, connected);
		if (!err)
			sock6_set_v4_mapped(&dst, &dst4);
	} else {
		err = __sock6_xlate_fwd(ctx, &dst, connected);
	}
	if (!err)
		ctx_set_dst6(ctx, &dst);
	return err;
}

/* A mapped peer was translated by the IPv4 core (connect6 above, or sendmsg4
 * for an unconnected send), so its reverse entry is an IPv4 one. */
static __always_inline int sock6_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct sock6_addr peer;
	int err;

	ctx_get_dst6(ctx, &peer);
	if (lb6_addr_is_v4_mapped(&peer.address)) {
		struct sock4_addr peer4;

		sock6_to_v4(&peer, &peer4);
		err = __sock4_xlate_rev(ctx, &peer4);
		if (!err)
			sock6_set_v4_mapped(&peer, &peer4);
	} else {
		err = __sock6_xlate_rev(ctx, &peer);
	}
	if (!err)
		ctx_set_dst6(ctx, &peer);
	return err;
}

#endif /* CGLB_SOCK6_H */
