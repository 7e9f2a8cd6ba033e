// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The floor of bench/bpfstats: eight hooks (IPv4 and IPv6) that do nothing. Their run time is
 * what any attached program costs (the dispatch and the stats clock itself);
 * the miss path of CgroupLb is compared against it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int bench_empty_connect4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sendmsg4")
int bench_empty_sendmsg4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/recvmsg4")
int bench_empty_recvmsg4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/getpeername4")
int bench_empty_getpeername4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/connect6")
int bench_empty_connect6(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sendmsg6")
int bench_empty_sendmsg6(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/recvmsg6")
int bench_empty_recvmsg6(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/getpeername6")
int bench_empty_getpeername6(struct bpf_sock_addr *ctx) { return 1; }

char _license[] SEC("license") = "Dual BSD/GPL";
