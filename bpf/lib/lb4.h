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

static __always_inline bool lb_proto_is_supported(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
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

static __always_inline const struct lb_service_value *
lb4_lookup_service(struct lb4_service_key *key)
{
	key->backend_slot = 0;
	return bpf_map_lookup_elem(&LB4_SERVICES_MAP, key);
}

static __always_inline bool lb_svc_has_backends(const struct lb_service_value *svc)
{
	return svc->count > 0;
}

/* Maps a 32-bit hash onto slot 1..count. The caller has checked count > 0. */
static __always_inline __u16 lb_svc_slot_of_hash(const struct lb_service_value *svc, __u32 hash)
{
	return (__u16)(hash % svc->count) + 1;
}

/* Follows slot -> backend id -> backend. NULL when either entry is missing,
 * which only happens while the agent is rewriting this frontend (see the
 * retry in __sock4_xlate_fwd). */
static __always_inline const struct lb4_backend *
lb4_lookup_backend(struct lb4_service_key *key, __u16 slot)
{
	const struct lb_service_value *slot_entry;
	__u32 backend_id;

	key->backend_slot = slot;
	slot_entry = bpf_map_lookup_elem(&LB4_SERVICES_MAP, key);
	if (!slot_entry)
		return NULL;

	backend_id = slot_entry->backend_id;
	return bpf_map_lookup_elem(&LB4_BACKENDS_MAP, &backend_id);
}

#endif /* CGLB_LB4_H */
