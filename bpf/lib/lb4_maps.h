/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv4 load-balancing maps. Keys, values, names and default sizes all come
 * from lb_abi.h; this header only turns them into BTF-style map definitions.
 * No pinning attribute on purpose: the loader chooses the pin path and decides
 * whether an already pinned map is compatible enough to reuse.
 */
#ifndef CGLB_LB4_MAPS_H
#define CGLB_LB4_MAPS_H

#include "common.h"
#include "lb_abi.h"

/* Frontend -> master entry (slot 0) and frontend+slot -> backend.
 * Not preallocated: most clusters use a small fraction of the capacity, and
 * the agent writes from user space, where an allocation failure is an error it
 * can report rather than a lost packet. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb4_service_key);
	__type(value, struct lb_service_value_v2);
	__uint(max_entries, LB_SERVICE_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB4_SERVICES_MAP SEC(".maps");

/* Backend id -> backend address. Ids are shared by every slot, of every
 * frontend, that points at the same endpoint. An array the host maps into its
 * memory: its table of ids, which no program reads (see struct lb4_backend). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb4_backend);
	__uint(max_entries, LB_BACKEND_MAP_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
} LB4_BACKENDS_MAP SEC(".maps");

/* Socket + backend -> frontend, written on the forward path and read by
 * recvmsg4/getpeername4: every translated socket where socket storage is
 * missing, else only unconnected UDP sockets that talk to more than one
 * backend. LRU because nothing tells us when a socket closes:
 * socket cookies are never reused within a boot, so an entry of a closed
 * socket is dead weight the LRU will reclaim, never a wrong answer. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb4_reverse_sk_key);
	__type(value, struct lb4_reverse_sk_value);
	__uint(max_entries, LB_REVERSE_SK_MAP_MAX);
} LB4_REVERSE_SK_MAP SEC(".maps");

/* Frontend address filter (see LB4_FE_FILTER_* in lb_abi.h). An array, so
 * the verifier inlines the lookup into an address computation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, LB4_FE_FILTER_WORDS + 1);
} LB4_FRONTEND_FILTER_MAP SEC(".maps");

/* Socket -> the frontend it was translated from, freed with the socket (see
 * struct lb4_sk_frontend). Created on every kernel (the map type is 5.2+);
 * only read and written when cglb_config.have_sk_storage is set. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb4_sk_frontend);
} LB4_SK_FRONTEND_MAP SEC(".maps");

/* The socket cookie's low bits -> the connected socket that claimed the
 * entry, and its frontend (struct lb4_sk_claim). max_entries is the loader's
 * (sk_claim_slots, or 1 where nothing claims); a build loaded without it
 * (bench/bpfstats, tests/bpf/smoke.sh) presets both. */
#ifndef CGLB_SK_CLAIM_MAP_ENTRIES
#define CGLB_SK_CLAIM_MAP_ENTRIES 1
#endif
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb4_sk_claim);
	__uint(max_entries, CGLB_SK_CLAIM_MAP_ENTRIES);
} LB4_SK_CLAIM_MAP SEC(".maps");

/* The IPv4 node-address set of NodePort (struct lb_node_addr in lb_abi.h).
 * Read only after an exact frontend lookup missed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be32);
	__type(value, struct lb_node_addr);
	__uint(max_entries, LB_NODE_ADDRS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB4_NODE_ADDRS_MAP SEC(".maps");

#endif /* CGLB_LB4_MAPS_H */
