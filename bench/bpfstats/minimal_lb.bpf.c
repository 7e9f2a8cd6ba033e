// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The yardstick of bench/bpfstats, never loaded by the product: the least a
 * socket load balancer can do. One hash lookup from frontend to one backend on
 * connect4/sendmsg4, a reverse entry written for UDP only (unconditionally, as
 * the plainest code would), and recvmsg4/getpeername4 reading it back. No
 * backend choice, no counters, no refusal, no retry: whatever CgroupLb costs
 * above this is the price of those guarantees.
 *
 * MINIMAL_TCP_ENTRY builds the same yardstick keeping getpeername() of a TCP
 * socket on the frontend, which issue 13 asks CgroupLb to keep and the plain
 * yardstick does not: the entry every translated TCP socket then needs, in
 * socket storage (MINIMAL_TCP_ENTRY_SK_STORAGE, where CgroupLb keeps it) or
 * in the cookie-keyed LRU map the UDP entries use (MINIMAL_TCP_ENTRY_LRU, the
 * way Cilium keeps its reverse entries). run.py measures them as minimal-sk
 * and minimal-lru.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define MINIMAL_TCP_ENTRY_NONE       0
#define MINIMAL_TCP_ENTRY_SK_STORAGE 1
#define MINIMAL_TCP_ENTRY_LRU        2
#ifndef MINIMAL_TCP_ENTRY
#define MINIMAL_TCP_ENTRY MINIMAL_TCP_ENTRY_NONE
#endif

struct bench_min_key {
	__be32 address;
	__be16 port;
	__u8   proto;
	__u8   pad;
};

struct bench_min_backend {
	__be32 address;
	__be16 port;
	__u16  pad;
};

struct bench_min_rev_key {
	__u64  cookie;
	__be32 address;
	__be16 port;
	__u16  pad;
};

/* Same sizes and flags as the product's maps, so neither side wins on them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct bench_min_key);
	__type(value, struct bench_min_backend);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bench_min_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct bench_min_rev_key);
	__type(value, struct bench_min_backend);
	__uint(max_entries, 262144);
} bench_min_rev SEC(".maps");

/* The TCP entry in socket storage: the frontend, and the backend it was
 * translated to, so getpeername() after a reconnect elsewhere stays honest. */
struct bench_min_sk_entry {
	struct bench_min_backend frontend;
	struct bench_min_backend backend;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__type(key, int);
	__type(value, struct bench_min_sk_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bench_min_sk SEC(".maps");

static __always_inline int fwd(struct bpf_sock_addr *ctx)
{
	struct bench_min_key key = {
		.address = ctx->user_ip4,
		.port    = (__be16)ctx->user_port,
		.proto   = (__u8)ctx->protocol,
	};
	const struct bench_min_backend *backend = bpf_map_lookup_elem(&bench_min_svc, &key);

	if (!backend)
		return 1;
	if (MINIMAL_TCP_ENTRY == MINIMAL_TCP_ENTRY_SK_STORAGE && ctx->protocol == IPPROTO_TCP) {
		struct bench_min_sk_entry *entry =
			bpf_sk_storage_get(&bench_min_sk, ctx->sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);

		if (entry) {
			entry->frontend = (struct bench_min_backend){ .address = key.address, .port = key.port };
			entry->backend = *backend;
		}
	} else if (ctx->protocol == IPPROTO_UDP ||
		   (MINIMAL_TCP_ENTRY == MINIMAL_TCP_ENTRY_LRU && ctx->protocol == IPPROTO_TCP)) {
		struct bench_min_rev_key rev = {
			.cookie  = bpf_get_socket_cookie(ctx),
			.address = backend->address,
			.port    = backend->port,
		};
		struct bench_min_backend frontend = { .address = key.address, .port = key.port };

		bpf_map_update_elem(&bench_min_rev, &rev, &frontend, BPF_ANY);
	}
	ctx->user_ip4 = backend->address;
	ctx->user_port = (__u32)backend->port;
	return 1;
}

static __always_inline int rev(struct bpf_sock_addr *ctx)
{
	struct bench_min_rev_key key = {
		.cookie  = bpf_get_socket_cookie(ctx),
		.address = ctx->user_ip4,
		.port    = (__be16)ctx->user_port,
	};
	const struct bench_min_backend *frontend = bpf_map_lookup_elem(&bench_min_rev, &key);

	if (frontend) {
		ctx->user_ip4 = frontend->address;
		ctx->user_port = (__u32)frontend->port;
	}
	return 1;
}

SEC("cgroup/connect4")
int bench_min_connect4(struct bpf_sock_addr *ctx) { return fwd(ctx); }

SEC("cgroup/sendmsg4")
int bench_min_sendmsg4(struct bpf_sock_addr *ctx) { return fwd(ctx); }

SEC("cgroup/recvmsg4")
int bench_min_recvmsg4(struct bpf_sock_addr *ctx) { return rev(ctx); }

static __always_inline int rev_sk(struct bpf_sock_addr *ctx)
{
	const struct bench_min_sk_entry *entry;

	if (!ctx->sk)
		return 1;
	entry = bpf_sk_storage_get(&bench_min_sk, ctx->sk, NULL, 0);
	if (entry && entry->backend.address == ctx->user_ip4 && entry->backend.port == (__be16)ctx->user_port) {
		ctx->user_ip4 = entry->frontend.address;
		ctx->user_port = (__u32)entry->frontend.port;
	}
	return 1;
}

SEC("cgroup/getpeername4")
int bench_min_getpeername4(struct bpf_sock_addr *ctx)
{
	return MINIMAL_TCP_ENTRY == MINIMAL_TCP_ENTRY_SK_STORAGE ? rev_sk(ctx) : rev(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
