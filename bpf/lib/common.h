/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Includes and small definitions every CgroupLb BPF header relies on.
 * Nothing here knows about services or sockets.
 */
#ifndef CGLB_COMMON_H
#define CGLB_COMMON_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/in.h>
#include <linux/types.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef __maybe_unused
#define __maybe_unused __attribute__((__unused__))
#endif

/* Verdicts of cgroup sock_addr programs. connect4/sendmsg4 may return either;
 * recvmsg4/getpeername4 must return SYS_PROCEED or the verifier rejects them. */
#define SYS_REJECT  0
#define SYS_PROCEED 1

#endif /* CGLB_COMMON_H */
