/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service names for people. No program reads this map: it is here so that it
 * is created, sized and pinned with the others, and so that `cgroup-lb status`
 * and a restarted agent can name what the kernel holds from the kernel alone.
 */
#ifndef CGLB_LB_NAMES_H
#define CGLB_LB_NAMES_H

#include "common.h"
#include "lb_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* service id */
	__type(value, struct lb_service_name);
	__uint(max_entries, LB_MAX_SERVICE_ID);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB_SVC_NAMES_MAP SEC(".maps");

#endif /* CGLB_LB_NAMES_H */
