/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Translation events for `cgroup-lb trace` (struct lb_trace_event in
 * trace_abi.h). Off unless a tracer runs: the hooks call lb_trace4()/lb_trace6() once
 * where a decision is known, and with no tracer that call costs one inlined
 * array lookup and a compare. Kernels without BPF_MAP_TYPE_RINGBUF (before
 * 5.8) get cglb_config.have_ringbuf = 0, the verifier prunes the whole body,
 * and the loader creates lb_trace_events as a plain array so the object
 * still loads.
 */
#ifndef CGLB_TRACE_H
#define CGLB_TRACE_H

#include "common.h"
#include "config.h"
#include "trace_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LB_TRACE_RING_BYTES);
} LB_TRACE_EVENTS_MAP SEC(".maps");

/* The switch, read by every traced decision. An array rather than a .bss
 * global: it is pinned and found by name like every other map, and tracers
 * share one counter across agent restarts. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb_trace_control);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
} LB_TRACE_CONTROL_MAP SEC(".maps");

/* Reports one decision of connect4/6 or sendmsg4/6; the addresses are
 * `size` bytes (4 or 16) of network-order address. backend and backend_port
 * are 0 unless verdict is LB_TRACE_TRANSLATED. Never changes the decision: a
 * full ring only counts a lost event. */
static __always_inline void
lb_trace(struct bpf_sock_addr *ctx, __u8 hook, __u8 family, __u8 verdict, __u32 service_id,
	 const void *frontend, __be16 frontend_port, const void *backend, __be16 backend_port,
	 __u32 size, __u8 proto)
{
	struct lb_trace_control *control;
	struct lb_trace_event *event;
	__u32 index = 0;

	if (!cglb_config.have_ringbuf)
		return;
	control = bpf_map_lookup_elem(&LB_TRACE_CONTROL_MAP, &index);
	if (!control || !control->tracers)
		return;

	event = bpf_ringbuf_reserve(&LB_TRACE_EVENTS_MAP, sizeof(*event), 0);
	if (!event) {
		__sync_fetch_and_add(&control->lost, 1);
		return;
	}
	/* Ring buffer memory is not zeroed: clear pad and address tails. */
	__builtin_memset(event, 0, sizeof(*event));
	event->time_ns = bpf_ktime_get_ns();
	event->cgroup_id = bpf_get_current_cgroup_id();
	event->netns_cookie = bpf_get_netns_cookie(ctx);
	event->socket_cookie = bpf_get_socket_cookie(ctx);
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->service_id = service_id;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	if (size == 16) {
		__builtin_memcpy(event->frontend_address, frontend, 16);
		__builtin_memcpy(event->backend_address, backend, 16);
	} else {
		__builtin_memcpy(event->frontend_address, frontend, 4);
		__builtin_memcpy(event->backend_address, backend, 4);
	}
	event->frontend_port = frontend_port;
	event->backend_port = backend_port;
	event->family = family;
	event->proto = proto;
	event->hook = hook;
	event->verdict = verdict;
	bpf_ringbuf_submit(event, 0);
}

/* One IPv4 decision: connect4 (connected) or sendmsg4, or connect6 to a
 * v4-mapped address, which runs the IPv4 core and is reported as connect4. */
static __always_inline void
lb_trace4(struct bpf_sock_addr *ctx, bool connected, __u8 verdict, __u32 service_id,
	  __be32 frontend, __be16 frontend_port, __be32 backend, __be16 backend_port, __u8 proto)
{
	lb_trace(ctx, connected ? LB_TRACE_HOOK_CONNECT4 : LB_TRACE_HOOK_SENDMSG4, 4, verdict, service_id,
		 &frontend, frontend_port, &backend, backend_port, 4, proto);
}

/* One IPv6 decision of connect6 (connected) or sendmsg6; the addresses point
 * at 16 bytes each. */
static __always_inline void
lb_trace6(struct bpf_sock_addr *ctx, bool connected, __u8 verdict, __u32 service_id,
	  const void *frontend, __be16 frontend_port, const void *backend, __be16 backend_port, __u8 proto)
{
	lb_trace(ctx, connected ? LB_TRACE_HOOK_CONNECT6 : LB_TRACE_HOOK_SENDMSG6, 6, verdict, service_id,
		 frontend, frontend_port, backend, backend_port, 16, proto);
}

#endif /* CGLB_TRACE_H */
