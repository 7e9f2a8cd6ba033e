/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Closing sockets whose backend left a Service (sock_terminate.bpf.c).
 *
 * No vmlinux.h: the few kernel types the iterators read are declared here
 * with preserve_access_index, so libbpf relocates each field against the
 * running kernel's BTF (Cilium does the same). Only the fields used are
 * declared; libbpf finds them inside the kernel's anonymous unions.
 */
#ifndef CGLB_SOCK_TERM_H
#define CGLB_SOCK_TERM_H

#include "common.h"
#include "lb_abi.h"
#include "sock_term_abi.h"

#define SOCK_TERM_AF_INET  2
#define SOCK_TERM_AF_INET6 10

/* Kernel socket states (include/net/tcp_states.h); a connected UDP socket
 * is TCP_ESTABLISHED. */
enum {
	SOCK_TERM_TCP_ESTABLISHED = 1,
	SOCK_TERM_TCP_TIME_WAIT   = 6,
	SOCK_TERM_TCP_CLOSE       = 7,
	SOCK_TERM_TCP_LISTEN      = 10,
	SOCK_TERM_TCP_NEW_SYN_RECV = 12,
};

/* The kernel's struct in6_addr; the ___cglb flavour keeps it apart from any
 * uapi declaration while libbpf still matches it to in6_addr. */
struct in6_addr___cglb {
	union {
		__be32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	struct in6_addr___cglb skc_v6_daddr;
	__be16 skc_dport;
	unsigned short skc_family;
	volatile unsigned char skc_state;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct udp_sock;
struct tcp_sock;
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

/* Linux 6.5+. Not weak: where the kernel lacks it the whole object fails to
 * load, which is the agent's probe for falling back to netlink SOCK_DESTROY. */
extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* The agent's pinned reverse map, reused by fd (bpf_map__reuse_fd) before
 * load; this definition only has to agree on key and value. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb4_reverse_sk_key);
	__type(value, struct lb4_reverse_sk_value);
	__uint(max_entries, LB_REVERSE_SK_MAP_MAX);
} LB4_REVERSE_SK_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sock_term_key);
	__type(value, __u8);
	__uint(max_entries, SOCK_TERM_TARGETS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} SOCK_TERM_TARGETS_MAP SEC(".maps");

/* The agent's pinned socket storage (struct lb4_sk_frontend), reused by fd
 * like the reverse map. Where the data path runs without socket storage it
 * holds no entries and every answer comes from lb4_reverse_sk. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb4_sk_frontend);
} LB4_SK_FRONTEND_MAP SEC(".maps");

/* The agent's pinned lb4_sk_claim (struct lb4_sk_claim), reused by fd like
 * the others; the loader sets sock_term_claim_slots to its max_entries, or
 * leaves 0 where the data path makes no claims. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb4_sk_claim);
	__uint(max_entries, 1);
} LB4_SK_CLAIM_MAP SEC(".maps");

const volatile __u32 sock_term_claim_slots = 0;

/* The agent's pinned lb6_sk_claim, with as many entries as lb4_sk_claim.
 * Under pins of an agent that had none, the object's own one-entry array
 * stands in: every index past it misses, and its one entry holds no cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct lb6_sk_claim);
	__uint(max_entries, 1);
} LB6_SK_CLAIM_MAP SEC(".maps");

/* The IPv6 twins, reused by fd in the same way. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb6_reverse_sk_key);
	__type(value, struct lb6_reverse_sk_value);
	__uint(max_entries, LB_REVERSE_SK_MAP_MAX);
} LB6_REVERSE_SK_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sock_term6_key);
	__type(value, __u8);
	__uint(max_entries, SOCK_TERM_TARGETS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} SOCK_TERM6_TARGETS_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lb6_sk_frontend);
} LB6_SK_FRONTEND_MAP SEC(".maps");

/* A connected socket's claimed entry (struct lb4_sk_claim): its own if it
 * holds the socket's cookie, and it names this backend. */
static __always_inline bool
sock_term_claimed(__u64 cookie, __be32 backend_address, __be16 backend_port, struct lb4_reverse_sk_value *frontend)
{
	const struct lb4_sk_claim *entry;
	__u32 index;

	if (!sock_term_claim_slots)
		return false;
	index = (__u32)cookie & (sock_term_claim_slots - 1);
	entry = bpf_map_lookup_elem(&LB4_SK_CLAIM_MAP, &index);
	if (!entry || entry->cookie != cookie || entry->backend_address != backend_address ||
	    entry->backend_port != backend_port)
		return false;
	frontend->address = entry->frontend_address;
	frontend->port = entry->frontend_port;
	frontend->pad = 0;
	frontend->service_id = entry->service_id;
	return true;
}

/* The one place that decides "the LB translated this socket to this
 * backend", and from which frontend: the socket's claimed entry (struct
 * lb4_sk_claim), then the rule of struct lb4_sk_frontend.
 * The socket's storage entry answers when it names this backend; the
 * reverse map is asked only when there is no entry (socket storage off)
 * or the entry says more backends live there (unconnected UDP). sk is a
 * full socket as the verifier sees it (udp_sock, tcp_sock): socket storage
 * refuses a sock_common. Fills *frontend on success. */
static __always_inline bool
sock_term_lb_translated(void *sk, __u64 cookie,
			__be32 backend_address, __be16 backend_port,
			struct lb4_reverse_sk_value *frontend)
{
	struct lb4_reverse_sk_key key = {
		.cookie  = cookie,
		.address = backend_address,
		.port    = backend_port,
	};
	const struct lb4_reverse_sk_value *value;
	const struct lb4_sk_frontend *known;

	/* First, as in the socket hooks: a connected socket's own claimed entry
	 * is its latest translation (sock4.h, __sock4_xlate_rev). */
	if (sock_term_claimed(cookie, backend_address, backend_port, frontend))
		return true;
	known = bpf_sk_storage_get(&LB4_SK_FRONTEND_MAP, sk, NULL, 0);
	if (known) {
		if (known->backend_address == backend_address &&
		    known->backend_port == backend_port) {
			frontend->address = known->frontend_address;
			frontend->port = known->frontend_port;
			frontend->pad = 0;
			frontend->service_id = known->service_id;
			return true;
		}
		if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
			return false;
	}

	value = bpf_map_lookup_elem(&LB4_REVERSE_SK_MAP, &key);
	if (!value)
		return false;
	*frontend = *value;
	return true;
}

/* lb6.h has these too, but it brings the data path's maps with it. */
static __always_inline bool sock_term_addr6_equal(const union lb6_addr *a, const union lb6_addr *b)
{
	return a->words[0] == b->words[0] && a->words[1] == b->words[1] &&
	       a->words[2] == b->words[2] && a->words[3] == b->words[3];
}

/* ::ffff:a.b.c.d: the peer of an AF_INET6 socket that reached an IPv4
 * Service; connect6 ran the IPv4 core for it, so its entries are IPv4 ones. */
static __always_inline bool sock_term_addr6_is_v4_mapped(const union lb6_addr *a)
{
	return !a->words[0] && !a->words[1] && a->words[2] == bpf_htonl(0x0000ffff);
}

/* False for :: (unconnected), ::a.b.c.d and v4-mapped ::ffff:a.b.c.d: only a
 * real IPv6 peer has lb6 entries. */
static __always_inline bool sock_term_addr6_is_ours(const union lb6_addr *a)
{
	if (a->words[0] || a->words[1])
		return true;
	return a->words[2] != 0 && a->words[2] != bpf_htonl(0x0000ffff);
}

/* sock_term_claimed() for a socket with a real IPv6 peer (lb6_sk_claim). */
static __always_inline bool
sock_term_claimed6(__u64 cookie, const union lb6_addr *backend_address, __be16 backend_port,
		   struct lb6_reverse_sk_value *frontend)
{
	const struct lb6_sk_claim *entry;
	__u32 index;

	if (!sock_term_claim_slots)
		return false;
	index = (__u32)cookie & (sock_term_claim_slots - 1);
	entry = bpf_map_lookup_elem(&LB6_SK_CLAIM_MAP, &index);
	if (!entry || entry->cookie != cookie || !sock_term_addr6_equal(&entry->backend_address, backend_address) ||
	    entry->backend_port != backend_port)
		return false;
	frontend->address = entry->frontend_address;
	frontend->port = entry->frontend_port;
	frontend->pad = 0;
	frontend->service_id = entry->service_id;
	return true;
}

/* sock_term_lb_translated() for an IPv6 socket: its claimed entry in
 * lb6_sk_claim, then the rule of struct lb6_sk_frontend, the same as IPv4's. */
static __always_inline bool
sock_term_lb_translated6(void *sk, __u64 cookie, const union lb6_addr *backend_address,
			 __be16 backend_port, struct lb6_reverse_sk_value *frontend)
{
	struct lb6_reverse_sk_key key = {
		.cookie  = cookie,
		.address = *backend_address,
		.port    = backend_port,
	};
	const struct lb6_reverse_sk_value *value;
	const struct lb6_sk_frontend *known;

	if (sock_term_claimed6(cookie, backend_address, backend_port, frontend))
		return true;
	known = bpf_sk_storage_get(&LB6_SK_FRONTEND_MAP, sk, NULL, 0);
	if (known) {
		if (sock_term_addr6_equal(&known->backend_address, backend_address) &&
		    known->backend_port == backend_port) {
			frontend->address = known->frontend_address;
			frontend->port = known->frontend_port;
			frontend->pad = 0;
			frontend->service_id = known->service_id;
			return true;
		}
		if (!(known->flags & LB4_SK_F_MORE_IN_REVERSE_MAP))
			return false;
	}

	value = bpf_map_lookup_elem(&LB6_REVERSE_SK_MAP, &key);
	if (!value)
		return false;
	*frontend = *value;
	return true;
}

/* Whether sk, an IPv4 socket connected to daddr:dport, is a target, i.e.
 * translated from a frontend that daddr:dport left. */
static __always_inline bool
sock_term_is_target4(void *full_sk, __u64 cookie, __be32 daddr, __be16 dport, __u8 proto)
{
	struct lb4_reverse_sk_value frontend;
	struct sock_term_key target = {};

	if (!sock_term_lb_translated(full_sk, cookie, daddr, dport, &frontend))
		return false;
	target.backend_address = daddr;
	target.backend_port = dport;
	target.frontend_address = frontend.address;
	target.frontend_port = frontend.port;
	target.proto = proto;
	return bpf_map_lookup_elem(&SOCK_TERM_TARGETS_MAP, &target) != NULL;
}

static __always_inline bool
sock_term_is_target6(void *full_sk, __u64 cookie, const union lb6_addr *daddr, __be16 dport, __u8 proto)
{
	struct lb6_reverse_sk_value frontend;
	struct sock_term6_key target = {};

	if (!sock_term_lb_translated6(full_sk, cookie, daddr, dport, &frontend))
		return false;
	target.backend_address = *daddr;
	target.backend_port = dport;
	target.frontend_address = frontend.address;
	target.frontend_port = frontend.port;
	target.proto = proto;
	return bpf_map_lookup_elem(&SOCK_TERM6_TARGETS_MAP, &target) != NULL;
}

/* Closes sk if its peer is a removed backend of the frontend it was
 * translated from, and reports it to the seq file. full_sk is the same
 * socket typed as a full socket, for its storage. An AF_INET6 socket with a
 * v4-mapped peer is judged by the IPv4 rule, against the IPv4 targets. */
static __always_inline void
sock_term_visit(struct seq_file *seq, struct sock_common *sk, void *full_sk, __u8 proto)
{
	struct sock_term_event event = {};
	unsigned short family = sk->skc_family;
	__be16 dport;
	__u64 cookie;

	if (family != SOCK_TERM_AF_INET && family != SOCK_TERM_AF_INET6)
		return;
	dport = sk->skc_dport;
	if (!dport)
		return; /* not connected: nothing pins it to a backend */

	if (family == SOCK_TERM_AF_INET) {
		event.backend_address.words[0] = sk->skc_daddr;
		if (!event.backend_address.words[0])
			return;
		cookie = bpf_get_socket_cookie(sk);
		if (!sock_term_is_target4(full_sk, cookie, event.backend_address.words[0], dport, proto))
			return;
	} else {
		event.backend_address.words[0] = sk->skc_v6_daddr.in6_u.u6_addr32[0];
		event.backend_address.words[1] = sk->skc_v6_daddr.in6_u.u6_addr32[1];
		event.backend_address.words[2] = sk->skc_v6_daddr.in6_u.u6_addr32[2];
		event.backend_address.words[3] = sk->skc_v6_daddr.in6_u.u6_addr32[3];
		if (sock_term_addr6_is_v4_mapped(&event.backend_address)) {
			cookie = bpf_get_socket_cookie(sk);
			if (!sock_term_is_target4(full_sk, cookie, event.backend_address.words[3], dport, proto))
				return;
		} else {
			if (!sock_term_addr6_is_ours(&event.backend_address))
				return;
			cookie = bpf_get_socket_cookie(sk);
			if (!sock_term_is_target6(full_sk, cookie, &event.backend_address, dport, proto))
				return;
		}
	}

	event.cookie = cookie;
	event.backend_port = dport;
	event.proto = proto;
	event.family = (__u8)family;
	event.result = bpf_sock_destroy(sk);
	bpf_seq_write(seq, &event, sizeof(event));
}

#endif /* CGLB_SOCK_TERM_H */
