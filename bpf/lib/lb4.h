/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 service and backend lookups. Knows the map layout, not the socket
 * hooks: callers pass addresses and a selection hash, so the same code serves
 * connect4/sendmsg4 today and v4-mapped IPv6 sockets later.
 */
#ifndef CGLB_LB4_H
#define CGLB_LB4_H

#include "common.h"
#include "lb_abi.h"
#include "lb4_maps.h"
#include "lb_fe_filter.h"

static __always_inline bool lb_proto_is_supported(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static __always_inline __u32 lb4_fe_filter_bit(__be32 address)
{
	return ((__u32)address * LB4_FE_FILTER_HASH_MUL) >> (32 - LB4_FE_FILTER_BITS_LOG2);
}

/* False only when no frontend has this address: the miss path of every
 * socket that goes to no Service. Two array lookups the verifier inlines and
 * one bit test, where a service lookup hashes a 12-byte key. */
static __always_inline bool lb4_may_be_frontend(__be32 address)
{
	return lb_fe_filter_has_bit(&LB4_FRONTEND_FILTER_MAP, LB4_FE_FILTER_ARMED, lb4_fe_filter_bit(address));
}

/* Master entries live in slot 0 of the external scope; the slot is the only
 * field that changes when the same key is reused to look up a backend. */
static __always_inline void
lb4_master_key_init(struct lb4_service_key *key, __be32 address, __be16 port, __u8 proto)
{
	*key = (struct lb4_service_key){
		.address      = address,
		.port         = port,
		.backend_slot = 0,
		.proto        = proto,
		.scope        = LB_SCOPE_EXTERNAL,
	};
}

static __always_inline const struct lb_service_value_v2 *
lb4_lookup_service(struct lb4_service_key *key)
{
	key->backend_slot = 0;
	return bpf_map_lookup_elem(&LB4_SERVICES_MAP, key);
}

static __always_inline bool lb_svc_has_backends(const struct lb_service_value_v2 *svc)
{
	return svc->count > 0;
}

/* Maps a 32-bit hash onto slot 1..count. The caller has checked count > 0. */
static __always_inline __u16 lb_svc_slot_of_hash(const struct lb_service_value_v2 *svc, __u32 hash)
{
	return (__u16)(hash % svc->count) + 1;
}

/* The slot's entry, which carries the backend itself (lb_service_value_v2).
 * NULL when the slot is missing, which only happens while the agent is
 * rewriting this frontend (see the retry in __sock4_xlate_fwd), or holds no
 * address (foreign or corrupt contents: never send a socket to 0.0.0.0). */
static __always_inline const struct lb_service_value_v2 *
lb4_lookup_slot(struct lb4_service_key *key, __u16 slot)
{
	const struct lb_service_value_v2 *entry;

	key->backend_slot = slot;
	entry = bpf_map_lookup_elem(&LB4_SERVICES_MAP, key);
	if (!entry || !entry->backend_address)
		return NULL;
	return entry;
}

#endif /* CGLB_LB4_H */
