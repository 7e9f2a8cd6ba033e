/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which network namespace a socket lives in. Every pod has its own network
 * namespace and host-network sockets share the host's, so the namespace
 * cookie tells pods from the host (loopback NodePorts, host-namespace-only
 * mode) and one pod from another (ClientIP session affinity).
 */
#ifndef CGLB_NETNS_H
#define CGLB_NETNS_H

#include "common.h"
#include "config.h"

/* bpf_get_netns_cookie() exists for sock_addr programs since 5.7, below the
 * oldest supported kernel, so it needs no probe. */
static __always_inline __u64 sock_netns_cookie(struct bpf_sock_addr *ctx)
{
	return bpf_get_netns_cookie(ctx);
}

/* The host's cookie: the agent's namespace as the loader read it, or, where
 * the kernel could not tell user space, init_net (the helper's answer for a
 * NULL context), which is where a hostNetwork agent runs anyway. Tests set it
 * to a namespace of their own so that nothing runs in the real host's. */
static __always_inline __u64 host_netns_cookie(void)
{
	if (cglb_config.host_netns_cookie)
		return cglb_config.host_netns_cookie;
	return bpf_get_netns_cookie(NULL);
}

static __always_inline bool sock_in_host_netns(struct bpf_sock_addr *ctx)
{
	return sock_netns_cookie(ctx) == host_netns_cookie();
}

#endif /* CGLB_NETNS_H */
