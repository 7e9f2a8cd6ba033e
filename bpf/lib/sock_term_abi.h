/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket termination ABI: what the agent tells the iterator programs in
 * sock_terminate.bpf.c to close, and what they report back. A concept of its
 * own, apart from lb_abi.h: none of it is pinned, the iterator object is
 * loaded per agent process, so a layout change needs no _v2 name; the C#
 * mirrors are in src/CgroupLb.Datapath/Termination/ and the layout test
 * compares them with this header's BTF.
 */
#ifndef CGLB_SOCK_TERM_ABI_H
#define CGLB_SOCK_TERM_ABI_H

#include <linux/types.h>

#include "lb_abi.h" /* union lb6_addr */

#define SOCK_TERM_TARGETS_MAP sock_term_targets
#define SOCK_TERM6_TARGETS_MAP sock_term_tgts6
/* Targets per iteration; the agent splits a larger removal into passes. */
#define SOCK_TERM_TARGETS_MAX 16384

/* sock_term_targets key: one backend that left one frontend. A socket is
 * closed only if its peer is the backend and its reverse entry says it was
 * translated from this frontend, so a backend that stays in another Service
 * keeps that Service's sockets. Value: a __u8, unused. 16 bytes. */
struct sock_term_key {
	__be32 backend_address;  /* the removed backend's IPv4 address */
	__be32 frontend_address; /* the frontend it left */
	__be16 backend_port;
	__be16 frontend_port;
	__u8   proto;            /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   pad[3];
};

/* sock_term_tgts6 key: sock_term_key for an IPv6 backend and frontend.
 * Same capacity. 40 bytes. */
struct sock_term6_key {
	union lb6_addr backend_address;  /* the removed backend's IPv6 address */
	union lb6_addr frontend_address; /* the frontend it left */
	__be16 backend_port;
	__be16 frontend_port;
	__u8   proto;                    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   pad[3];
};

/* Written by the iterator to its seq file for every socket it closed (or
 * tried to), so the agent can count and log them. 32 bytes. */
struct sock_term_event {
	__u64  cookie;                  /* bpf_get_socket_cookie() of the closed socket */
	union lb6_addr backend_address; /* its peer; IPv4 in words[0], the rest 0; as the socket holds it for AF_INET6 (v4-mapped too) */
	__be16 backend_port;
	__u8   proto;
	__u8   family;                  /* AF_INET or AF_INET6 */
	__s32  result;                  /* bpf_sock_destroy(): 0 or -errno */
};

#endif /* CGLB_SOCK_TERM_ABI_H */
