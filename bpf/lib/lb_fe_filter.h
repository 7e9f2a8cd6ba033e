/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The bit test both frontend address filters share (lb4_fe_filter and
 * lb6_fe_filter, see lb_abi.h). Each family hashes its own address into a bit;
 * the test of that bit, and the rule that an unarmed filter passes
 * everything, are the same for both.
 */
#ifndef CGLB_LB_FE_FILTER_H
#define CGLB_LB_FE_FILTER_H

#include "common.h"
#include "lb_abi.h"

/* filter is the map itself; always inlined, so the verifier sees a constant
 * map pointer and inlines both array lookups. armed_index is the word after
 * the bitmap. False only when the filter is armed and the bit is clear. */
static __always_inline bool lb_fe_filter_has_bit(void *filter, __u32 armed_index, __u32 bit)
{
	__u32 index = armed_index;
	const __u64 *word;

	word = bpf_map_lookup_elem(filter, &index);
	if (!word || !*word)
		return true; /* not filled yet: every address may be a frontend */
	index = bit >> 6;
	word = bpf_map_lookup_elem(filter, &index);
	return !word || (*word & (1ULL << (bit & 63)));
}

#endif /* CGLB_LB_FE_FILTER_H */
