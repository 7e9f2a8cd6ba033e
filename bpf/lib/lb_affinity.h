/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sessionAffinity: ClientIP. A client keeps the backend it was given until
 * affinity_timeout seconds after its last connect (or datagram). The client is
 * the socket's network namespace, so the entry serves every socket of one pod
 * (and every host-network socket) for one frontend, in both families: the key
 * holds the frontend's service id, which the families share.
 *
 * The entry names its backend by id and by the slot it sat in. The slot is
 * what makes it cheap: one lookup of that slot tells whether the backend is
 * still in the frontend (the writer deletes or overwrites the slot of a backend
 * that leaves), with no per-backend membership map for the agent to keep.
 * A removal that moves the backends after it into other slots costs those
 * clients their affinity (they choose again); it never sends one to a backend
 * that left.
 */
#ifndef CGLB_LB_AFFINITY_H
#define CGLB_LB_AFFINITY_H

#include "common.h"
#include "lb_abi.h"
#include "netns.h"

/* LRU: nothing tells a program that a pod went away, and an entry of a gone
 * client is never a wrong answer (namespace cookies are not reused within a
 * boot), only dead weight the LRU reclaims. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb_affinity_key);
	__type(value, struct lb_affinity_value);
	__uint(max_entries, LB_AFFINITY_MAP_MAX);
} LB_AFFINITY_MAP SEC(".maps");

#define LB_AFFINITY_NSEC_PER_SEC 1000000000ULL

static __always_inline bool lb_svc_flags_affine(__u16 flags)
{
	return flags & LB_SVC_F_AFFINITY;
}

static __always_inline void
lb_affinity_key_init(struct lb_affinity_key *key, struct bpf_sock_addr *ctx, __u32 service_id)
{
	*key = (struct lb_affinity_key){
		.netns_cookie = sock_netns_cookie(ctx),
		.service_id   = service_id,
	};
}

/* How stale last_used may get before a use writes it again: a second, or an
 * eighth of a shorter timeout. A busy client then writes its entry at most
 * once a second instead of on every connect or datagram, which keeps the
 * entry's cache line (and the LRU's lists) quiet. */
static __always_inline __u64 lb_affinity_refresh_ns(__u64 timeout_ns)
{
	__u64 refresh = timeout_ns >> 3;

	return refresh < LB_AFFINITY_NSEC_PER_SEC ? refresh : LB_AFFINITY_NSEC_PER_SEC;
}

/* The client's entry if it is still live, else NULL. Live means within the
 * timeout of the last use as recorded plus the refresh step, since a use less
 * than a step after the recorded one was not written: so affinity never ends
 * before timeout seconds after the client's real last use, and at most one
 * step later. */
static __always_inline struct lb_affinity_value *
lb_affinity_lookup(const struct lb_affinity_key *key, __u32 timeout_s, __u64 now)
{
	struct lb_affinity_value *entry;
	__u64 timeout_ns = (__u64)timeout_s * LB_AFFINITY_NSEC_PER_SEC;

	entry = bpf_map_lookup_elem(&LB_AFFINITY_MAP, key);
	if (!entry)
		return NULL;
	/* last_used after now: written a moment ago on another CPU. */
	if (entry->last_used > now)
		return entry;
	if (now - entry->last_used > timeout_ns + lb_affinity_refresh_ns(timeout_ns))
		return NULL;
	return entry;
}

/* The entry's slot if its backend may be used: within the master's current
 * count (a slot beyond it is about to be deleted). The caller still checks
 * that the slot holds entry->backend_id. 0: choose again. */
static __always_inline __u16 lb_affinity_slot(const struct lb_affinity_value *entry, __u16 count)
{
	if (!entry || entry->slot == 0 || entry->slot > count)
		return 0;
	return entry->slot;
}

static __always_inline void
lb_affinity_touch(struct lb_affinity_value *entry, __u32 timeout_s, __u64 now)
{
	__u64 timeout_ns = (__u64)timeout_s * LB_AFFINITY_NSEC_PER_SEC;

	if (now > entry->last_used && now - entry->last_used >= lb_affinity_refresh_ns(timeout_ns))
		entry->last_used = now;
}

/* Records a fresh choice. A failed update only costs the next connect its
 * affinity: the choice itself stands. */
static __always_inline void
lb_affinity_record(const struct lb_affinity_key *key, __u32 backend_id, __u16 slot, __u64 now)
{
	struct lb_affinity_value value = {
		.last_used  = now,
		.backend_id = backend_id,
		.slot       = slot,
	};

	bpf_map_update_elem(&LB_AFFINITY_MAP, key, &value, BPF_ANY);
}

#endif /* CGLB_LB_AFFINITY_H */
