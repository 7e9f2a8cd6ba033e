/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Trace ABI: what connect4/sendmsg4 (and later their IPv6 twins) report to
 * `cgroup-lb trace` through a ring buffer, and the switch that tells them
 * whether anybody listens. A concept of its own, apart from lb_abi.h: the
 * programs never read anything here to decide a translation. Both maps are
 * pinned beside the others; a layout change gets a new map name (_v2) like
 * every pinned map. The C# mirrors are in src/CgroupLb.Datapath/Abi/ and the
 * layout test compares them with this header's BTF.
 */
#ifndef CGLB_TRACE_ABI_H
#define CGLB_TRACE_ABI_H

#include <linux/types.h>

#define LB_TRACE_EVENTS_MAP  lb_trace_events /* BPF_MAP_TYPE_RINGBUF of struct lb_trace_event */
#define LB_TRACE_CONTROL_MAP lb_trace_ctl    /* one-element ARRAY of struct lb_trace_control */

/* Bytes of ring buffer (a power of two, a multiple of the page size):
 * about 2500 events of 104 bytes with their 8-byte headers, enough for a
 * burst of connects while the tracer sleeps in epoll. */
#define LB_TRACE_RING_BYTES (256 * 1024)

/* Where an event comes from. Values are part of the ABI. */
enum lb_trace_hook {
	LB_TRACE_HOOK_CONNECT4 = 1, /* cgroup/connect4: TCP and connected UDP */
	LB_TRACE_HOOK_SENDMSG4 = 2, /* cgroup/sendmsg4: unconnected UDP, per datagram */
	LB_TRACE_HOOK_CONNECT6 = 3, /* reserved: cgroup/connect6 */
	LB_TRACE_HOOK_SENDMSG6 = 4, /* reserved: cgroup/sendmsg6 */
};

/* What the hook decided for a frontend. Values are part of the ABI. */
enum lb_trace_verdict {
	LB_TRACE_TRANSLATED         = 1, /* rewritten to the backend in the event */
	LB_TRACE_REFUSED_NO_BACKEND = 2, /* the frontend has no backends: the syscall fails */
	LB_TRACE_REFUSED_NO_SLOT    = 3, /* a backend slot vanished twice while the agent rewrote the frontend */
};

/* lb_trace_ctl value at index 0. The map is BPF_F_MMAPABLE: every tracer
 * maps it and adds itself to tracers with an atomic add, so tracers started
 * and stopped in any order never switch each other off. 16 bytes. */
struct lb_trace_control {
	__u32 tracers; /* tracers attached; 0: the programs write no events */
	__u32 pad;
	__u64 lost;    /* events dropped because the ring buffer was full */
};

/* One ring buffer record: a translation decision. Addresses have 16 bytes
 * so IPv6 fits; an IPv4 address fills the first 4 (network order) and the
 * rest is zero. 96 bytes. */
#define LB_TRACE_COMM_LEN 16
struct lb_trace_event {
	__u64  time_ns;             /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64  cgroup_id;           /* cgroup v2 id of the calling task */
	__u64  netns_cookie;        /* bpf_get_netns_cookie() of the socket's network namespace */
	__u64  socket_cookie;       /* bpf_get_socket_cookie() of the socket */
	__u32  pid;                 /* thread group id (the process) of the caller */
	__u32  service_id;          /* the frontend's id: key of lb_svc_names */
	char   comm[LB_TRACE_COMM_LEN]; /* the calling thread's name, NUL-padded */
	__u8   frontend_address[16]; /* the address the application asked for */
	__u8   backend_address[16];  /* LB_TRACE_TRANSLATED: where it goes; else zero */
	__be16 frontend_port;
	__be16 backend_port;        /* LB_TRACE_TRANSLATED only */
	__u8   family;              /* 4 or 6: how to read the addresses */
	__u8   proto;               /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   hook;                /* enum lb_trace_hook */
	__u8   verdict;             /* enum lb_trace_verdict */
};

#endif /* CGLB_TRACE_ABI_H */
