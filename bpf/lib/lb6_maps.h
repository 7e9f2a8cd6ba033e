/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv6 load-balancing maps, twins of lb4_maps.h (see there for why they
 * are not preallocated and not pinned by attribute).
 */
#ifndef CGLB_LB6_MAPS_H
#define CGLB_LB6_MAPS_H

#include "common.h"
#include "lb_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb6_service_key);
	__type(value, struct lb6_service_value);
	__uint(max_entries, LB_SERVICE_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB6_SERVICES_MAP SEC(".maps");

/* Backend id -> IPv6 backend, an array as lb4_backends_v2, whose id space it
 * shares. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb6_backend);
	__uint(max_entries, LB_BACKEND_MAP_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
} LB6_BACKENDS_MAP SEC(".maps");

/* Socket + backend -> frontend for recvmsg6/getpeername6 where socket storage
 * is missing, else for an unconnected UDP socket's further backends; LRU for
 * the reason given at lb4_reverse_sk. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb6_reverse_sk_key);
	__type(value, struct lb6_reverse_sk_value);
	__uint(max_entries, LB_REVERSE_SK_MAP_MAX);
} LB6_REVERSE_SK_MAP SEC(".maps");

/* Socket -> the IPv6 frontend it was translated from, freed with the socket
 * (struct lb6_sk_frontend); as lb4_sk_frontend, created on every kernel and
 * used only when cglb_config.have_sk_storage is set. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb6_sk_frontend);
} LB6_SK_FRONTEND_MAP SEC(".maps");

/* lb4_sk_claim's twin for sockets with a real IPv6 peer (struct
 * lb6_sk_claim), sized by the loader to the same number of entries;
 * CGLB_SK_CLAIM_MAP_ENTRIES as in lb4_maps.h. */
#ifndef CGLB_SK_CLAIM_MAP_ENTRIES
#define CGLB_SK_CLAIM_MAP_ENTRIES 1
#endif
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb6_sk_claim);
	__uint(max_entries, CGLB_SK_CLAIM_MAP_ENTRIES);
} LB6_SK_CLAIM_MAP SEC(".maps");

/* The IPv6 node-address set of NodePort, as lb4_node_addrs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, union lb6_addr);
	__type(value, struct lb_node_addr);
	__uint(max_entries, LB_NODE_ADDRS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB6_NODE_ADDRS_MAP SEC(".maps");

/* IPv6 frontend address filter (LB6_FE_FILTER_* in lb_abi.h), an array as
 * lb4_fe_filter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, LB6_FE_FILTER_WORDS + 1);
} LB6_FRONTEND_FILTER_MAP SEC(".maps");

#endif /* CGLB_LB6_MAPS_H */
