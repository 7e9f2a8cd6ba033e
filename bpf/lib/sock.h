/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket-hook helpers that do not depend on the address family: how a socket
 * picks among backends and how a hook turns an error into a verdict.
 */
#ifndef CGLB_SOCK_H
#define CGLB_SOCK_H

#include "common.h"
#include "config.h"

static __always_inline __u64 sock_cookie(struct bpf_sock_addr *ctx)
{
	return bpf_get_socket_cookie(ctx);
}

/* Cookies are handed out in sequence, so neighbouring sockets differ only in
 * their low bits; a multiplicative (Fibonacci) hash spreads them over the
 * whole word before the caller reduces it modulo the backend count. */
static __always_inline __u32 sock_cookie_hash(__u64 cookie)
{
	return (__u32)((cookie * 0x9E3779B97F4A7C15ULL) >> 32);
}

/* The hash that picks a backend slot (sock_claim_select_hash() may use the
 * cookie for a TCP socket's first connect). TCP: every connection is a new
 * choice, which spreads load best. UDP: an unconnected socket calls sendmsg() per
 * datagram; a per-datagram choice would scatter one conversation (DNS query
 * retries, QUIC) over several backends, so the socket's own cookie decides and
 * the choice holds while the backend set is unchanged. */
static __always_inline __u32 sock_select_hash(struct bpf_sock_addr *ctx, __u8 proto)
{
	if (proto == IPPROTO_UDP)
		return sock_cookie_hash(sock_cookie(ctx));
	return bpf_get_prandom_u32();
}

/* The socket's protocol as the lb maps store it. Only TCP and UDP are
 * balanced; wider values are not ours and must not truncate into ours:
 * IPPROTO_MPTCP (262) would read as IPPROTO_TCP (6). */
static __always_inline __u8 ctx_l4_proto(const struct bpf_sock_addr *ctx)
{
	return ctx->protocol <= 0xff ? (__u8)ctx->protocol : 0;
}

/* Errors of the forward path that must fail the syscall. Everything else
 * (not a service, unsupported protocol) lets the socket proceed untouched. */
static __always_inline bool sock_err_is_refusal(int err)
{
	return err == -ECONNREFUSED;
}

/* Rejects connect()/sendmsg() with err as the errno the application sees.
 *
 * bpf_set_retval() exists for cgroup sock_addr programs only since 5.18.
 * cglb_config lives in .rodata, which libbpf freezes before load, so
 * the verifier knows its value: with 0 it never walks the call below, and
 * dead instructions are removed (privileged load) or overwritten (unprivileged)
 * before the pass that resolves helper ids. An older kernel therefore never
 * sees helper 187 and loads the object; the application gets the default
 * errno of a rejecting cgroup program, EPERM. tests/bpf/smoke.sh checks on the
 * running kernel that the call is absent from the translated program with 0
 * and present with 1. */
static __always_inline int sock_refuse(int err)
{
	if (cglb_config.have_set_retval)
		bpf_set_retval(err);
	return SYS_REJECT;
}

#endif /* CGLB_SOCK_H */
