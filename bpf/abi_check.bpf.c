// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Not a program: an object whose BTF describes every type of lb_abi.h, so the
 * host's layout test can compare its C# mirrors against what clang emitted
 * (bpftool btf dump file abi_check.bpf.o). cgroup_lb.bpf.o carries the map
 * key/value structs too, but only those its maps use; this object also pins
 * down the enums and stays stable when a program stops using a type.
 *
 * One global per type: a global is the cheapest reference that makes clang
 * emit a type's BTF. Add a line here whenever lb_abi.h gains a type.
 */
#include "lib/common.h"
#include "lib/lb_abi.h"
#include "lib/sock_term_abi.h"
#include "lib/trace_abi.h"

#define ABI_TYPE(type, name) type abi_##name __attribute__((used))

ABI_TYPE(struct lb4_service_key, lb4_service_key);
ABI_TYPE(struct lb_service_value_v2, lb_service_value_v2);
ABI_TYPE(struct lb4_backend, lb4_backend);
ABI_TYPE(struct lb4_reverse_sk_key, lb4_reverse_sk_key);
ABI_TYPE(struct lb4_reverse_sk_value, lb4_reverse_sk_value);
ABI_TYPE(struct lb4_sk_frontend, lb4_sk_frontend);
ABI_TYPE(struct lb4_sk_claim, lb4_sk_claim);
ABI_TYPE(struct lb6_service_key, lb6_service_key);
ABI_TYPE(struct lb6_service_value, lb6_service_value);
ABI_TYPE(struct lb6_backend, lb6_backend);
ABI_TYPE(struct lb6_reverse_sk_key, lb6_reverse_sk_key);
ABI_TYPE(struct lb6_reverse_sk_value, lb6_reverse_sk_value);
ABI_TYPE(struct lb6_sk_frontend, lb6_sk_frontend);
ABI_TYPE(struct lb6_sk_claim, lb6_sk_claim);
ABI_TYPE(struct lb_service_stats, lb_service_stats);
ABI_TYPE(struct lb_service_name, lb_service_name);
ABI_TYPE(struct lb_datapath_config, lb_datapath_config);
ABI_TYPE(struct lb_affinity_key, lb_affinity_key);
ABI_TYPE(struct lb_affinity_value, lb_affinity_value);
ABI_TYPE(struct lb4_refused, lb4_refused);
ABI_TYPE(struct lb_skip_netns_value, lb_skip_netns_value);
ABI_TYPE(enum lb_refusal_reason, lb_refusal_reason);
ABI_TYPE(enum lb_scope, lb_scope);
ABI_TYPE(enum lb_service_flags, lb_service_flags);
ABI_TYPE(enum lb4_sk_frontend_flags, lb4_sk_frontend_flags);
ABI_TYPE(struct lb_node_addr, lb_node_addr);
ABI_TYPE(enum lb_node_addr_flags, lb_node_addr_flags);
ABI_TYPE(struct sock_term_key, sock_term_key);
ABI_TYPE(struct sock_term6_key, sock_term6_key);
ABI_TYPE(struct sock_term_event, sock_term_event);
ABI_TYPE(struct lb_trace_control, lb_trace_control);
ABI_TYPE(struct lb_trace_event, lb_trace_event);
ABI_TYPE(enum lb_trace_hook, lb_trace_hook);
ABI_TYPE(enum lb_trace_verdict, lb_trace_verdict);

char _license[] SEC("license") = "Dual BSD/GPL";
