// SPDX-License-Identifier: GPL-2.0
// Test object for CgroupLb.Interop.Tests: one connect4 program that records the .rodata marker it was configured
// with, and one the verifier must reject. Compiled by the tests with clang -target bpf.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 cglb_test_marker = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} cglb_hits SEC(".maps");

SEC("cgroup/connect4")
int cglb_test_connect4(struct bpf_sock_addr *ctx)
{
	__u32 key = cglb_test_marker;
	__u32 one = 1;

	bpf_map_update_elem(&cglb_hits, &key, &one, BPF_ANY);
	return 1;
}

SEC("cgroup/connect4")
int cglb_test_rejected(struct bpf_sock_addr *ctx)
{
	/* Reads far past the context: the verifier refuses the program. */
	return *(volatile __u32 *)((char *)ctx + 4096);
}

char LICENSE[] SEC("license") = "GPL";
