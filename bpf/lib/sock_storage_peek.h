/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Whether a socket can have an entry in lb4_sk_frontend or lb6_sk_frontend,
 * told without a helper call.
 *
 * recvmsg4/6 and getpeername4/6 run for every socket of the cgroup, and so
 * does accept(), whose returned address goes through the getpeername hook.
 * Nearly all of those sockets were never translated and own no socket storage
 * at all. bpf_sk_storage_get() would say so, but as a helper call it costs
 * about 30 ns on the development VM (bench/README.md), nearly all of it the
 * call itself.
 * The socket's sk_bpf_storage pointer says the same in one load: NULL means no
 * map holds anything for this socket. bpf_rdonly_cast() (Linux 6.2+) turns the
 * context's socket into a read-only struct sock the program may load from; the
 * verifier rewrites the call into a register move. A non-NULL pointer (any
 * map's storage) still asks bpf_sk_storage_get(), so the answer never changes,
 * only its price.
 *
 * The kfunc is a weak extern: where the kernel lacks it, libbpf leaves a
 * poisoned call that the verifier never reaches while have_rdonly_cast is 0
 * (the loader's fallback after the first load is refused). A kfunc, like the
 * CO-RE relocation of the field, makes libbpf need the kernel's BTF, which
 * this project does not require: only the build with CGLB_KERNEL_BTF
 * (cgroup_lb_btf.bpf.o, loaded where /sys/kernel/btf/vmlinux exists) has
 * the peek; cgroup_lb.bpf.o always asks the helper.
 */
#ifndef CGLB_SOCK_STORAGE_PEEK_H
#define CGLB_SOCK_STORAGE_PEEK_H

#include "common.h"
#include "config.h"

#ifndef CGLB_KERNEL_BTF
#define CGLB_KERNEL_BTF 0
#endif

#if CGLB_KERNEL_BTF
#include <bpf/bpf_core_read.h>

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* The one field of the kernel's struct sock read here; CO-RE finds its offset
 * in the running kernel's BTF. */
struct sock___cglb_peek {
	void *sk_bpf_storage;
} __attribute__((preserve_access_index));

/* False only when the socket certainly has no socket storage. */
static __always_inline bool sock_may_have_storage(struct bpf_sock *sk)
{
	const struct sock___cglb_peek *full;

	if (!cglb_config.have_rdonly_cast)
		return true;
	full = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock___cglb_peek));
	return full->sk_bpf_storage != NULL;
}
#else
static __always_inline bool sock_may_have_storage(struct bpf_sock *sk)
{
	(void)sk;
	return true;
}
#endif

#endif /* CGLB_SOCK_STORAGE_PEEK_H */
