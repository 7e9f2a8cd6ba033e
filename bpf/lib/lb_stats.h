/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-service counters, shared by the IPv4 and (future) IPv6 paths because a
 * service id names a frontend regardless of its address family.
 */
#ifndef CGLB_LB_STATS_H
#define CGLB_LB_STATS_H

#include "common.h"
#include "lb_abi.h"

/* Indexed by service id. Per-CPU so that the hot path increments without
 * atomics; the agent sums the CPUs when it reads. Index 0 ("no service")
 * exists but is never written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct lb_service_stats);
	__uint(max_entries, LB_MAX_SERVICE_ID);
} LB_SVC_STATS_MAP SEC(".maps");

/* A service id outside the array only loses its counters; it must never
 * change a translation verdict, hence the silent NULL check. */
static __always_inline struct lb_service_stats *lb_svc_stats_of(__u32 service_id)
{
	return bpf_map_lookup_elem(&LB_SVC_STATS_MAP, &service_id);
}

static __always_inline void lb_svc_stats_count_translated(__u32 service_id)
{
	struct lb_service_stats *stats = lb_svc_stats_of(service_id);

	if (stats)
		stats->translated++;
}

static __always_inline void lb_svc_stats_count_refused(__u32 service_id)
{
	struct lb_service_stats *stats = lb_svc_stats_of(service_id);

	if (stats)
		stats->refused_no_backend++;
}

static __always_inline void lb_svc_stats_count_reverse(__u32 service_id)
{
	struct lb_service_stats *stats = lb_svc_stats_of(service_id);

	if (stats)
		stats->reverse_translated++;
}

#endif /* CGLB_LB_STATS_H */
