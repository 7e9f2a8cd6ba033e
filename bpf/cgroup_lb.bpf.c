// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CgroupLb socket load balancer, IPv4 and IPv6 hooks.
 *
 * Attached to a cgroup v2, these rewrite a Service frontend (ClusterIP:port)
 * to a backend inside connect() and sendmsg(), before any packet exists, and
 * show the frontend again to recvmsg() and getpeername(). Each hook only
 * chooses a verdict; the work lives in lib/sock4.h and lib/sock6.h (which
 * runs the IPv4 core for v4-mapped addresses).
 */
#include "lib/common.h"
#include "lib/sock4.h"
#include "lib/sock6.h"
#include "lib/lb_names.h"
#include "lib/lb_refused.h"

SEC("cgroup/connect4")
int cglb_sock4_connect(struct bpf_sock_addr *ctx)
{
	int err = sock4_xlate_fwd(ctx, true);

	if (sock_err_is_refusal(err))
		return sock_refuse(err);
	return SYS_PROCEED;
}

/* Only unconnected UDP sends (sendto() with an address) reach this hook;
 * connected UDP sockets were translated once by connect4. */
SEC("cgroup/sendmsg4")
int cglb_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	int err = sock4_xlate_fwd(ctx, false);

	if (sock_err_is_refusal(err))
		return sock_refuse(err);
	return SYS_PROCEED;
}

/* UDP only: shows a reply from the backend as coming from the frontend the
 * socket sent to, or an unconnected client would drop it as unexpected. */
SEC("cgroup/recvmsg4")
int cglb_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int cglb_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/connect6")
int cglb_sock6_connect(struct bpf_sock_addr *ctx)
{
	int err = sock6_xlate_fwd(ctx, true);

	if (sock_err_is_refusal(err))
		return sock_refuse(err);
	return SYS_PROCEED;
}

SEC("cgroup/sendmsg6")
int cglb_sock6_sendmsg(struct bpf_sock_addr *ctx)
{
	int err = sock6_xlate_fwd(ctx, false);

	if (sock_err_is_refusal(err))
		return sock_refuse(err);
	return SYS_PROCEED;
}

SEC("cgroup/recvmsg6")
int cglb_sock6_recvmsg(struct bpf_sock_addr *ctx)
{
	sock6_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername6")
int cglb_sock6_getpeername(struct bpf_sock_addr *ctx)
{
	sock6_xlate_rev(ctx);
	return SYS_PROCEED;
}

char _license[] SEC("license") = "Dual BSD/GPL";
