/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frontends the agent refused, or programmed only in part, with the reason. No
 * program reads this map: it is here so that it is created, sized and pinned
 * with the others, and so that `cgroup-lb status` can show what the agent could
 * not write without asking the agent.
 */
#ifndef CGLB_LB_REFUSED_H
#define CGLB_LB_REFUSED_H

#include "common.h"
#include "lb_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb4_service_key); /* the master key: backend_slot 0 */
	__type(value, struct lb4_refused);
	__uint(max_entries, LB4_REFUSED_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB4_REFUSED_MAP SEC(".maps");

/* The IPv6 frontends' records; the value holds no address, so it is shared. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb6_service_key); /* the master key: backend_slot 0 */
	__type(value, struct lb4_refused);
	__uint(max_entries, LB4_REFUSED_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB6_REFUSED_MAP SEC(".maps");

#endif /* CGLB_LB_REFUSED_H */
