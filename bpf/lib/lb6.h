/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 service and backend lookups, the twin of lb4.h: the map layout, not
 * the socket hooks.
 */
#ifndef CGLB_LB6_H
#define CGLB_LB6_H

#include "common.h"
#include "lb_abi.h"
#include "lb4.h"
#include "lb6_maps.h"
#include "lb_fe_filter.h"

static __always_inline bool lb6_addr_equal(const union lb6_addr *a, const union lb6_addr *b)
{
	return a->words[0] == b->words[0] && a->words[1] == b->words[1] &&
	       a->words[2] == b->words[2] && a->words[3] == b->words[3];
}

static __always_inline bool lb6_addr_is_zero(const union lb6_addr *a)
{
	return !(a->words[0] | a->words[1] | a->words[2] | a->words[3]);
}

/* ::ffff:a.b.c.d, the form an AF_INET6 socket gives an IPv4 peer. */
static __always_inline bool lb6_addr_is_v4_mapped(const union lb6_addr *a)
{
	return a->words[0] == 0 && a->words[1] == 0 && a->words[2] == bpf_htonl(0x0000ffff);
}

/* lb6_fe_filter's hash (the recipe is in lb_abi.h); 32-bit arithmetic
 * only, a dozen instructions and no memory. */
static __always_inline __u32 lb6_fe_filter_bit(const union lb6_addr *a)
{
	__u32 h = 0;

	h = (h ^ a->words[0]) * LB6_FE_FILTER_HASH_MUL;
	h ^= h >> 16;
	h = (h ^ a->words[1]) * LB6_FE_FILTER_HASH_MUL;
	h ^= h >> 16;
	h = (h ^ a->words[2]) * LB6_FE_FILTER_HASH_MUL;
	h ^= h >> 16;
	h = (h ^ a->words[3]) * LB6_FE_FILTER_HASH_MUL;
	h ^= h >> 16;
	return (h * LB6_FE_FILTER_HASH_MUL) >> (32 - LB6_FE_FILTER_BITS_LOG2);
}

/* False only when no IPv6 frontend or node address has this address's bit:
 * the miss path of every IPv6 socket that goes to no Service, as
 * lb4_may_be_frontend() is for IPv4. */
static __always_inline bool lb6_may_be_frontend(const union lb6_addr *address)
{
	return lb_fe_filter_has_bit(&LB6_FRONTEND_FILTER_MAP, LB6_FE_FILTER_ARMED, lb6_fe_filter_bit(address));
}

static __always_inline void
lb6_master_key_init(struct lb6_service_key *key, const union lb6_addr *address, __be16 port, __u8 proto)
{
	*key = (struct lb6_service_key){
		.address      = *address,
		.port         = port,
		.backend_slot = 0,
		.proto        = proto,
		.scope        = LB_SCOPE_EXTERNAL,
	};
}

static __always_inline const struct lb6_service_value *
lb6_lookup_service(struct lb6_service_key *key)
{
	key->backend_slot = 0;
	return bpf_map_lookup_elem(&LB6_SERVICES_MAP, key);
}

/* Maps a 32-bit hash onto slot 1..count. The caller has checked count > 0. */
static __always_inline __u16 lb6_svc_slot_of_hash(const struct lb6_service_value *svc, __u32 hash)
{
	return (__u16)(hash % svc->count) + 1;
}

/* As lb4_lookup_slot(): NULL for a missing slot (the agent is rewriting this
 * frontend) or one without an address (never send a socket to ::). */
static __always_inline const struct lb6_service_value *
lb6_lookup_slot(struct lb6_service_key *key, __u16 slot)
{
	const struct lb6_service_value *entry;

	key->backend_slot = slot;
	entry = bpf_map_lookup_elem(&LB6_SERVICES_MAP, key);
	if (!entry || lb6_addr_is_zero(&entry->backend_address))
		return NULL;
	return entry;
}

#endif /* CGLB_LB6_H */
