// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CgroupLb socket termination: iterators over one network namespace's UDP
 * and TCP sockets that close those the load balancer connected to a backend
 * which has since left the Service, so the client reconnects and is balanced
 * again. Its own object because bpf_sock_destroy() needs Linux 6.5: on an
 * older kernel only this object fails to load and the agent falls back to
 * netlink SOCK_DESTROY, while cgroup_lb.bpf.o loads as before.
 */
#include "lib/common.h"
#include "lib/sock_term.h"

SEC("iter/udp")
int cglb_sock_term_udp(struct bpf_iter__udp *ctx)
{
	struct sock *sk = (struct sock *)ctx->udp_sk;

	if (!sk)
		return 0;
	sock_term_visit(ctx->meta->seq, &sk->__sk_common, sk, IPPROTO_UDP);
	return 0;
}

/* Only loaded when TCP termination is switched on. Time-wait and request
 * sockets have no application behind them, listeners no peer. */
SEC("iter/tcp")
int cglb_sock_term_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *sk = ctx->sk_common;
	struct tcp_sock *tp;
	unsigned char state;

	if (!sk)
		return 0;
	state = sk->skc_state;
	if (state == SOCK_TERM_TCP_TIME_WAIT || state == SOCK_TERM_TCP_NEW_SYN_RECV ||
	    state == SOCK_TERM_TCP_LISTEN || state == SOCK_TERM_TCP_CLOSE)
		return 0;
	/* The verifier knows sk as a sock_common; socket storage wants the
	 * full socket it is part of (Linux 5.9+, older than the kfunc). */
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	sock_term_visit(ctx->meta->seq, sk, tp, IPPROTO_TCP);
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
