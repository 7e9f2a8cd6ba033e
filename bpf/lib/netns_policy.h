/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which network namespaces the socket LB serves. Two operator choices, both
 * asked only once a socket's destination is known to be a frontend, so the
 * sockets that go to no Service (nearly all of them) never pay for either:
 *   - host-namespace-only mode (Cilium's socketLB.hostNamespaceOnly): pods are
 *     left to another data path (an Istio/Linkerd sidecar, Kata's guest
 *     kernel, a CNI that balances pods itself) and only sockets of the host
 *     namespace are translated. A .rodata knob, so the verifier prunes it off.
 *   - lb_skip_netns: namespaces excluded by cookie in every mode, looked up
 *     only when the loader switched exclusion on (--exclude-netns given).
 * recvmsg/getpeername need neither: a socket left alone has no reverse entry.
 */
#ifndef CGLB_NETNS_POLICY_H
#define CGLB_NETNS_POLICY_H

#include "common.h"
#include "config.h"
#include "lb_abi.h"
#include "netns.h"

/* Netns cookie -> struct lb_skip_netns_value. Not preallocated: nearly every
 * node leaves it empty. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct lb_skip_netns_value);
	__uint(max_entries, LB_SKIP_NETNS_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} LB_SKIP_NETNS_MAP SEC(".maps");

/* True when a socket of this namespace may be translated to a backend. A
 * false answer makes the caller treat the frontend as no frontend (-ENXIO):
 * the socket proceeds to the address it asked for, untouched and uncounted,
 * and the other data path sees it as if no socket LB existed. */
static __always_inline bool sock_netns_is_balanced(struct bpf_sock_addr *ctx)
{
	__u64 cookie;

	/* Both knobs off, the common case: the verifier prunes the rest, the
	 * cookie's helper call included. */
	if (!cglb_config.enable_socket_lb_host_only && !cglb_config.enable_netns_exclusion)
		return true;
	cookie = sock_netns_cookie(ctx);
	if (cglb_config.enable_socket_lb_host_only && cookie != host_netns_cookie())
		return false;
	if (!cglb_config.enable_netns_exclusion)
		return true;
	return !bpf_map_lookup_elem(&LB_SKIP_NETNS_MAP, &cookie);
}

#endif /* CGLB_NETNS_POLICY_H */
