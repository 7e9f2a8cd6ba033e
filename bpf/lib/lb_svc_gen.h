/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-service reuse generations (lb_svc_gen, lb_abi.h): the writer moves a
 * service's value on after each change to its frontend, so a socket that kept
 * its last translation can tell in one inlined array read whether the answer
 * still stands.
 */
#ifndef CGLB_LB_SVC_GEN_H
#define CGLB_LB_SVC_GEN_H

#include "common.h"
#include "lb_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, LB_MAX_SERVICE_ID);
	__uint(map_flags, BPF_F_MMAPABLE);
} LB_SVC_GEN_MAP SEC(".maps");

/* 0 for a service id outside the array or never written: never reuse. */
static __always_inline __u32 lb_svc_generation(__u32 service_id)
{
	const __u32 *generation = bpf_map_lookup_elem(&LB_SVC_GEN_MAP, &service_id);

	return generation ? *(const volatile __u32 *)generation : 0;
}

#endif /* CGLB_LB_SVC_GEN_H */
