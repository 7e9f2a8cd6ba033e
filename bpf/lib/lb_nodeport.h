/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NodePort: which destinations are "a node's address", for both families.
 *
 * A NodePort frontend is one wildcard master per Service port (address
 * 0.0.0.0 or ::), not one entry per node address and port. A destination that
 * is no exact frontend is looked up again as the wildcard when it is a node
 * address: an entry of lb4_node_addrs/lb6_node_addrs (this host's interfaces
 * and every Node's InternalIP/ExternalIP, kept by the agent), or loopback, but
 * loopback only for sockets of the host network namespace: a pod's 127.0.0.1
 * is the pod's own. Connecting to the unspecified address (0.0.0.0, ::) means
 * the local host to the kernel, and would match the wildcard master exactly,
 * so it is treated as loopback too.
 */
#ifndef CGLB_LB_NODEPORT_H
#define CGLB_LB_NODEPORT_H

#include "common.h"
#include "lb_abi.h"
#include "lb4.h"
#include "lb4_maps.h"
#include "lb6.h"
#include "lb6_maps.h"
#include "netns.h"

/* 127.0.0.0/8 or 0.0.0.0; both constants fold, so this is one mask and two compares. */
static __always_inline bool lb4_addr_is_local_only(__be32 address)
{
	return (address & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000) || address == 0;
}

/* ::1 or ::. */
static __always_inline bool lb6_addr_is_local_only(const union lb6_addr *a)
{
	return !(a->words[0] | a->words[1] | a->words[2]) && (a->words[3] == 0 || a->words[3] == bpf_htonl(1));
}

/* The gate of connect4/sendmsg4, in place of lb4_may_be_frontend(): node
 * addresses have filter bits (the agent sets them), loopback has none and is
 * decided by the socket's namespace instead, which also ends a pod's loopback
 * traffic here as cheaply as the filter did. */
static __always_inline bool lb4_may_be_frontend_or_node(struct bpf_sock_addr *ctx, __be32 address)
{
	if (lb4_addr_is_local_only(address))
		return sock_in_host_netns(ctx);
	return lb4_may_be_frontend(address);
}

/* The gate of connect6/sendmsg6 for addresses that are not v4-mapped (those
 * take the IPv4 gate above): as lb4_may_be_frontend_or_node(), with
 * lb6_fe_filter, whose bits the agent sets for IPv6 node addresses too. */
static __always_inline bool lb6_may_be_frontend_or_node(struct bpf_sock_addr *ctx, const union lb6_addr *address)
{
	if (lb6_addr_is_local_only(address))
		return sock_in_host_netns(ctx);
	return lb6_may_be_frontend(address);
}

static __always_inline bool lb4_is_node_address(struct bpf_sock_addr *ctx, __be32 address)
{
	if (lb4_addr_is_local_only(address))
		return sock_in_host_netns(ctx);
	return bpf_map_lookup_elem(&LB4_NODE_ADDRS_MAP, &address) != NULL;
}

static __always_inline bool lb6_is_node_address(struct bpf_sock_addr *ctx, const union lb6_addr *address)
{
	if (lb6_addr_is_local_only(address))
		return sock_in_host_netns(ctx);
	return bpf_map_lookup_elem(&LB6_NODE_ADDRS_MAP, address) != NULL;
}

/* After the exact lookup of *key missed: the NodePort master of the key's
 * port and protocol if the key's address is a node address, else NULL. On a
 * hit *key names the wildcard, so the slots are read from it; the caller
 * still holds the address the client used, for the reverse translation. */
static __always_inline const struct lb_service_value_v2 *
lb4_lookup_nodeport(struct bpf_sock_addr *ctx, struct lb4_service_key *key)
{
	if (!lb4_is_node_address(ctx, key->address))
		return NULL;
	key->address = 0;
	return lb4_lookup_service(key);
}

static __always_inline const struct lb6_service_value *
lb6_lookup_nodeport(struct bpf_sock_addr *ctx, struct lb6_service_key *key)
{
	if (!lb6_is_node_address(ctx, &key->address))
		return NULL;
	key->address = (union lb6_addr){};
	return lb6_lookup_service(key);
}

#endif /* CGLB_LB_NODEPORT_H */
