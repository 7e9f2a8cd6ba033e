/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CgroupLb map ABI: the single source of truth for every BPF map key and value.
 *
 * The C# host mirrors each struct in src/CgroupLb.Datapath/Abi/ and a test
 * (tests/CgroupLb.Datapath.Tests/AbiLayoutTests) compares sizes and offsets with
 * the BTF that clang emits for this header. Rules for changing it:
 *   - every field has an explicit width, padding is spelled out as pad fields;
 *   - network-order fields are __be16/__be32, host-order fields __u16/__u32;
 *   - a struct whose layout changes gets a new name and its map a new name
 *     (suffix _v2), so an agent never adopts a pinned map it cannot read.
 */
#ifndef CGROUP_LB_ABI_H
#define CGROUP_LB_ABI_H

#include <linux/types.h>

/* Map names as the kernel and bpffs see them (BPF_OBJ_NAME_LEN is 16). */
#define LB4_SERVICES_MAP   lb4_services_v2 /* v2: struct lb_service_value_v2 */
#define LB4_BACKENDS_MAP   lb4_backends_v2 /* v2: an ARRAY indexed by backend id (was a hash) */
#define LB4_REVERSE_SK_MAP lb4_reverse_sk
#define LB4_SK_FRONTEND_MAP lb4_sk_frontend /* socket storage, HAVE_SK_STORAGE */
#define LB4_SK_CLAIM_MAP   lb4_sk_claim   /* TCP reverse entries by socket cookie (sock_claim.h) */
#define LB_SVC_STATS_MAP   lb_svc_stats
#define LB_SVC_NAMES_MAP   lb_svc_names /* user space only: names for status */
#define LB4_FRONTEND_FILTER_MAP lb4_fe_filter /* which addresses may be frontends */
#define LB4_REFUSED_MAP    lb4_refused  /* user space only: frontends not (fully) written */
#define LB6_SERVICES_MAP   lb6_services   /* struct lb6_service_key -> struct lb6_service_value */
#define LB6_BACKENDS_MAP   lb6_backends_v2 /* v2 as lb4_backends_v2; the same backend id space */
#define LB6_REVERSE_SK_MAP lb6_reverse_sk
#define LB6_SK_FRONTEND_MAP lb6_sk_frontend /* socket storage, HAVE_SK_STORAGE */
#define LB6_SK_CLAIM_MAP   lb6_sk_claim   /* lb4_sk_claim's twin for IPv6 peers (sock_claim.h) */
#define LB6_REFUSED_MAP    lb6_refused    /* user space only, as lb4_refused */
#define LB_AFFINITY_MAP    lb_affinity    /* ClientIP session affinity, both families */
#define LB_SKIP_NETNS_MAP  lb_skip_netns  /* netns cookies the programs leave alone */
#define LB4_NODE_ADDRS_MAP lb4_node_addrs /* __be32 address -> struct lb_node_addr */
#define LB6_NODE_ADDRS_MAP lb6_node_addrs /* union lb6_addr -> struct lb_node_addr */
#define LB6_FRONTEND_FILTER_MAP lb6_fe_filter /* lb4_fe_filter's twin for IPv6 addresses */
#define LB_SVC_GEN_MAP     lb_svc_gen     /* reuse generation per service id (unconnected UDP sends) */

/* Capacities. The agent reads max_entries back from the kernel, so these are
 * defaults, not assumptions baked into the host. */
#define LB_SERVICE_MAP_MAX    262144 /* frontends x (1 master + backend slots) */
#define LB_BACKEND_MAP_MAX    131072 /* backend ids are 1..LB_BACKEND_MAP_MAX-1 (array indexes; 0 is "none") */
#define LB_REVERSE_SK_MAP_MAX 262144
#define LB_MAX_SERVICE_ID     65536  /* service ids are 1..65535; 0 is "none" */
#define LB_MAX_BACKEND_SLOTS  1024   /* per frontend; bounds the slot index */
#define LB4_REFUSED_MAP_MAX   65536  /* one per frontend at most */
#define LB_AFFINITY_MAP_MAX   65536  /* client x affine frontend pairs (LRU: the least recently used go first) */
#define LB_SKIP_NETNS_MAP_MAX 1024   /* excluded network namespaces (--exclude-netns) */
#define LB_NODE_ADDRS_MAX     16384  /* per family: this host's addresses and every Node's */

/* lb4_fe_filter: an ARRAY of __u64 words, a bitmap over frontend addresses,
 * so connect4/sendmsg4 of the sockets that go to no Service (nearly all of
 * them) end after one bit test instead of a hash lookup. Bit
 * lb4_fe_filter_bit(address) is set while any master entry has that address:
 * the agent sets it before it writes the first master of an address and clears
 * it after it deleted the last one. A set bit only means "look it up" (two
 * addresses may share a bit). Word LB4_FE_FILTER_ARMED is nonzero once the
 * agent has filled the bitmap from lb4_services_v2; until then the programs
 * ignore the filter, so maps written by an older agent keep working. */
#define LB4_FE_FILTER_BITS_LOG2 20
#define LB4_FE_FILTER_WORDS     (1 << (LB4_FE_FILTER_BITS_LOG2 - 6)) /* 16384 x 64 bits */
#define LB4_FE_FILTER_ARMED     LB4_FE_FILTER_WORDS                   /* the word after the bitmap */
#define LB4_FE_FILTER_HASH_MUL  0x9E3779B1U /* Fibonacci hashing of the address as stored (network order) */

/* lb6_fe_filter: the same bitmap, the same rules (bits set before a master or
 * a node address of lb6_node_addrs appears, cleared after the last is gone;
 * its own armed word, set once the agent filled it from lb6_services and
 * lb6_node_addrs) and the same geometry, over IPv6 addresses. The bit of an
 * address is lb6_fe_filter_bit(): its four words as stored (network-order
 * bytes read natively) folded by h = (h ^ word) * LB6_FE_FILTER_HASH_MUL,
 * h ^= h >> 16 from h = 0, then (h * LB6_FE_FILTER_HASH_MUL) >> (32 -
 * LB6_FE_FILTER_BITS_LOG2). The shift matters: addresses of one prefix differ
 * in their last bytes, the high bits of the last word, which a multiplication
 * alone would carry only into the top bits of the index. A v4-mapped address
 * (::ffff:a.b.c.d) is never looked up in lb6_services, so it never has a bit
 * here; lb4_fe_filter decides for it. */
#define LB6_FE_FILTER_BITS_LOG2 LB4_FE_FILTER_BITS_LOG2
#define LB6_FE_FILTER_WORDS     LB4_FE_FILTER_WORDS
#define LB6_FE_FILTER_ARMED     LB4_FE_FILTER_ARMED
#define LB6_FE_FILTER_HASH_MUL  LB4_FE_FILTER_HASH_MUL

/* Frontend scope. Every frontend is written with LB_SCOPE_EXTERNAL: a socket
 * LB sees only connections that start on this node, and kube-proxy sends pod-
 * and host-originated traffic for a NodePort, external IP or load-balancer IP
 * to the cluster-wide endpoints whatever externalTrafficPolicy says (that
 * policy filters only traffic arriving from outside); Cilium's socket LB uses
 * the service's internal scope for the same reason. internalTrafficPolicy=
 * Local is resolved by the agent into the ClusterIP's one backend list
 * (LB_SVC_F_LOCAL_ONLY). LB_SCOPE_INTERNAL is reserved for a second backend
 * list under one address, which only a north-south (tc/XDP) path would need. */
enum lb_scope {
	LB_SCOPE_EXTERNAL = 0, /* the backend list the agent chose for this frontend */
	LB_SCOPE_INTERNAL = 1, /* reserved: a second list (north-south only) */
};

/* Frontend flags, kept in the master entry. Values are part of the ABI. */
enum lb_service_flags {
	LB_SVC_F_CLUSTER_IP    = 1 << 0, /* a ClusterIP frontend */
	LB_SVC_F_NODE_PORT     = 1 << 1, /* NodePort: the wildcard address (0.0.0.0, ::) matched via lb*_node_addrs */
	LB_SVC_F_EXTERNAL_IP   = 1 << 2, /* spec.externalIPs */
	LB_SVC_F_LOADBALANCER  = 1 << 3, /* status.loadBalancer.ingress[].ip (not ipMode Proxy) */
	LB_SVC_F_AFFINITY      = 1 << 4, /* sessionAffinity ClientIP, affinity_timeout seconds (lb_affinity) */
	LB_SVC_F_LOCAL_ONLY    = 1 << 5, /* internalTrafficPolicy=Local was applied */
	LB_SVC_F_HOST_ONLY     = 1 << 6, /* reserved: per frontend; the node-wide mode is enable_socket_lb_host_only */
};

/* lb4_services key. One frontend occupies slot 0 (the master entry) and
 * slots 1..count (one backend each). 12 bytes. */
struct lb4_service_key {
	__be32 address;      /* frontend IPv4 address (ClusterIP, ...) */
	__be16 port;         /* frontend port */
	__u16  backend_slot; /* 0: master entry; 1..count: backend slot */
	__u8   proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   scope;        /* enum lb_scope */
	__u8   pad[2];
};

/* lb4_services_v2 value. 24 bytes. A slot carries its backend's address as
 * well as its id, so connect4/sendmsg4 need no lb4_backends_v2 lookup; the writer
 * builds every slot from the backend it points at, and an id names one address
 * for its whole life (ids are reused only after no slot points at them), so
 * the copy cannot drift. lb4_backends_v2 stays the table of ids for the host.
 * (v1, struct lb_service_value of 16 bytes, had no backend_address/port.) */
struct lb_service_value_v2 {
	__u32  backend_id;       /* slot >= 1: index into lb4_backends_v2; master: 0 */
	__u32  service_id;       /* frontend id: index into lb_svc_stats, same in every slot */
	__u16  count;            /* master: number of backend slots; slots: 0 */
	__u16  flags;            /* master: enum lb_service_flags */
	__u32  affinity_timeout; /* master: ClientIP affinity seconds (with LB_SVC_F_AFFINITY) */
	__be32 backend_address;  /* slot: lb4_backends_v2[backend_id].address; master: 0 */
	__be16 backend_port;     /* slot: lb4_backends_v2[backend_id].port; master: 0 */
	__u16  pad;
};

/* lb4_backends_v2 value, at index = backend id. 8 bytes. No program reads the
 * backend maps (slots carry their backend): they are the host's table of ids,
 * which a restarted agent adopts. BPF_F_MMAPABLE arrays, which the agent
 * writes and status reads as memory: a first sync's 100k backends cost
 * neither an allocation nor a syscall each (as a hash map without
 * preallocation they took 75-100 ms of a 10k x 10 sync), and a reader scans
 * the whole array in about a millisecond. An all-zero value is a free id; the
 * writer "deletes" by writing zeros, and id 0 is never used. Both families
 * draw ids from one space below the maps' max_entries, which the loader keeps
 * equal. (v1, lb4_backends/lb6_backends, were hash maps keyed by any id.) */
struct lb4_backend {
	__be32 address; /* backend (pod) IPv4 address */
	__be16 port;    /* backend target port */
	__u8   proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   flags;   /* reserved: backend state (terminating, quarantined) */
};

/* lb4_reverse_sk key: which frontend a translated socket really talked to.
 * Keyed by the backend too, because one unconnected UDP socket may send to
 * several services (a resolver with two nameservers). 16 bytes. */
struct lb4_reverse_sk_key {
	__u64  cookie;  /* bpf_get_socket_cookie() of the client socket */
	__be32 address; /* backend address the socket was sent to */
	__be16 port;    /* backend port */
	__u16  pad;
};

/* lb4_reverse_sk value. 12 bytes. */
struct lb4_reverse_sk_value {
	__be32 address;    /* frontend address to report to the application */
	__be16 port;       /* frontend port */
	__u16  pad;
	__u32  service_id; /* for counters and debugging */
};

/* lb4_sk_frontend value: socket-local storage (BPF_MAP_TYPE_SK_STORAGE), so the
 * kernel frees it with the socket. Used when the loader found
 * bpf_sk_storage_get() allowed in sock_addr programs (have_sk_storage):
 *   - every socket connect4 translated (TCP, connected UDP) has exactly this
 *     entry, holding the backend it was connected to, and nothing in
 *     lb4_reverse_sk;
 *   - an unconnected UDP socket keeps the first backend it sent to here; a
 *     datagram to another backend goes to lb4_reverse_sk as before and sets
 *     LB4_SK_F_MORE_IN_REVERSE_MAP, so only such sockets ever look there.
 * "Did the LB translate this socket to backend B?" is: this entry's backend
 * is B, or (flag set, or have_sk_storage off) lb4_reverse_sk holds
 * {cookie, B}.
 * The entry doubles as an unconnected UDP socket's translation cache: while
 * lb_svc_gen[service_id] equals its nonzero generation, sendmsg4 to
 * frontend_address:frontend_port goes to the backend without a lookup (see
 * lb_svc_gen below). The generation's 24 bits took the high byte of what was a
 * __u16 flags (only bit 0 was ever set) and the pad after it, so the layout
 * and 20 bytes stayed and entries written before read as generation 0, "never
 * reuse" (little-endian, as every supported architecture is). 20 bytes. */
enum lb4_sk_frontend_flags {
	LB4_SK_F_MORE_IN_REVERSE_MAP = 1 << 0, /* more backends in lb4_reverse_sk (lb6_reverse_sk for lb6_sk_frontend) */
};

struct lb4_sk_frontend {
	__be32 backend_address;  /* backend the socket reached; 0: none yet */
	__be32 frontend_address; /* frontend to report to the application */
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;       /* for counters and debugging */
	__u8   flags;            /* enum lb4_sk_frontend_flags */
	__u8   generation_hi;    /* bits 16-23 and 0-15 of lb_svc_gen[service_id] as read before the */
	__u16  generation_lo;    /* lookups that chose this backend; 0: never reuse (TCP, connected UDP,
				  * an affine or NodePort frontend, an entry of an older build) */
};

/* lb4_sk_claim: an ARRAY of these, indexed by the socket cookie's low bits
 * (cglb_config.sk_claim_slots entries, a power of two), where connect4 keeps
 * a TCP socket's reverse entry instead of in socket storage: no allocation,
 * nothing charged per socket (bpf/lib/sock_claim.h); connected UDP sockets
 * (a resolver connects one per query) claim the same way. Only the build for
 * kernels with bpf_rdonly_cast (6.2+) claims. An entry belongs to the socket
 * whose cookie it holds, for as long as that socket is neither freed nor
 * closed; nobody frees it on close. A claimant finding an entry whose owner is
 * gone takes it over; finding a live owner, it keeps its entry in socket
 * storage, as before. "Did the LB translate this TCP socket to backend B?"
 * is: its lb4_sk_frontend entry says so, or the entry at its cookie holds its
 * cookie and backend B. 32 bytes. */
#define LB4_SK_CLAIM_SLOTS   262144         /* the agent's default: 8 MiB */
#define LB4_SK_CLAIM_WRITING (1ULL << 63)   /* in cookie: being written; no cookie reaches this bit */

struct lb4_sk_claim {
	__u64  cookie;           /* the owner's socket cookie; 0: never claimed */
	__u64  owner;            /* the owner's struct sock, only ever read through bpf_rdonly_cast */
	__be32 backend_address;
	__be32 frontend_address;
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;
};

/* lb_svc_gen: an ARRAY (BPF_F_MMAPABLE, the agent writes it as memory) of
 * __u32 indexed by service id, LB_MAX_SERVICE_ID entries. After every write
 * that changes a frontend's master or slots, removal included, the writer gives
 * its service id the next generation: 1..LB_SVC_GEN_LIMIT-1, wrapping to 1,
 * never reset (a reused service id continues where it was). 0, the value of an
 * id never written, means "never reuse", so an array nobody writes is safe. A
 * restarted agent moves every nonzero value on once before it writes, since
 * its predecessor may have died between a write and its bump. sendmsg4 reads
 * the generation before its lookups and stores it with their answer; the next
 * datagram to the same frontend reuses the answer while the value stands. A
 * reused answer is what the lookups would give: an unconnected UDP socket's
 * choice depends on its cookie and the slots only. The reads are ordered on
 * x86-64 (the only architecture the agent ships for); a weakly ordered CPU
 * would need a load-acquire of the generation. sendmsg6 does the same with
 * struct lb6_sk_frontend. */
#define LB_SVC_GEN_LIMIT 0x1000000 /* generations are 1..LB_SVC_GEN_LIMIT-1: 24 bits */

/* lb_svc_stats value: per-CPU array indexed by service id. 24 bytes. */
struct lb_service_stats {
	__u64 translated;         /* connect/sendmsg rewritten to a backend */
	__u64 refused_no_backend; /* connect/sendmsg refused: frontend has no backends */
	__u64 reverse_translated; /* recvmsg/getpeername restored to the frontend */
};

/* lb_svc_names value, keyed by __u32 service id. Never read by the programs:
 * it lets `cgroup-lb status` and a restarted agent name what the kernel holds
 * without trusting any agent's memory. NUL-terminated "namespace/name:port". */
#define LB_SERVICE_NAME_LEN 256
struct lb_service_name {
	char name[LB_SERVICE_NAME_LEN];
};

/* Why the agent did not program a frontend as asked (lb4_refused value).
 * Values are part of the ABI: `cgroup-lb status` of another version reads them. */
enum lb_refusal_reason {
	LB_REFUSED_SUBSET           = 1, /* programmed, but only LB_MAX_BACKEND_SLOTS of its backends */
	LB_REFUSED_SERVICE_MAP_FULL = 2, /* lb4_services has no room for its master and slots */
	LB_REFUSED_BACKEND_MAP_FULL = 3, /* no free backend id (lb4/lb6_backends_v2) for its new backends */
	LB_REFUSED_NO_SERVICE_ID    = 4, /* every service id below LB_MAX_SERVICE_ID is in use */
	LB_REFUSED_UNSUPPORTED      = 5, /* an address family or protocol this data path cannot write */
	LB_REFUSED_WRITE_FAILED     = 6, /* the kernel refused the update (errno in detail) */
};

/* lb4_refused value, keyed by the frontend's master key (struct lb4_service_key,
 * backend_slot 0). Never read by the programs: the agent records here each
 * frontend it refused (or programmed only in part) so `cgroup-lb status` shows
 * it from the kernel alone. Removed when the frontend is written or goes away. */
#define LB_REFUSED_DETAIL_LEN 128
struct lb4_refused {
	__u32 reason;    /* enum lb_refusal_reason */
	__u32 backends;  /* backends the Service asked for */
	__u32 limit;     /* the limit it met (slots, entries, ids), 0 if none */
	__u32 pad;
	char  name[LB_SERVICE_NAME_LEN];      /* "namespace/name:port", NUL-terminated */
	char  detail[LB_REFUSED_DETAIL_LEN];  /* for people, NUL-terminated */
};

/* lb4_node_addrs / lb6_node_addrs value: the node-address set of NodePort.
 * A NodePort frontend is the wildcard master (address 0.0.0.0 or ::, the
 * nodePort, proto, flag LB_SVC_F_NODE_PORT). A destination that is no exact
 * frontend but is in this set is looked up again as the wildcard, so one entry
 * per Service port serves every node address, as in Cilium. The set holds this
 * host's interface addresses and every Node object's InternalIP/ExternalIP;
 * loopback is never in it: 127.0.0.0/8 and ::1 count as node addresses only
 * for sockets in the host network namespace, which the programs decide. The
 * agent sets an address's lb4_fe_filter (IPv4) or lb6_fe_filter (IPv6) bit
 * before it writes the address here, and clears the bit only after the address
 * and every frontend sharing that bit are gone. 4 bytes. */
enum lb_node_addr_flags {
	LB_NODE_ADDR_F_LOCAL  = 1 << 0, /* an address of this host's interfaces */
	LB_NODE_ADDR_F_REMOTE = 1 << 1, /* a Node object's InternalIP/ExternalIP */
};

struct lb_node_addr {
	__u32 flags; /* enum lb_node_addr_flags; for people, the programs only test presence */
};

/* IPv6. The same concepts as the IPv4 structs above, with 16-byte addresses:
 * a frontend is a master entry (slot 0) plus slots 1..count in lb6_services,
 * written in the same order (backends, slots, master) by the same writer.
 * Backend ids come from one space shared with lb4_backends_v2 (as in Cilium), so
 * an id names one backend of one family, and lb_svc_stats/lb_svc_names are
 * indexed by service ids shared by both families. A v4-mapped IPv6 socket
 * (::ffff:a.b.c.d) is translated by the IPv4 maps, never by these. */

/* An IPv6 address as the socket carries it (network order), readable as the
 * four words of bpf_sock_addr.user_ip6. 16 bytes. */
union lb6_addr {
	__u8   bytes[16];
	__be32 words[4];
};

/* lb6_services key. 24 bytes. */
struct lb6_service_key {
	union lb6_addr address; /* frontend IPv6 address (ClusterIP, ...) */
	__be16 port;            /* frontend port */
	__u16  backend_slot;    /* 0: master entry; 1..count: backend slot */
	__u8   proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   scope;           /* enum lb_scope */
	__u8   pad[2];
};

/* lb6_services value: lb_service_value_v2 with a 16-byte backend address
 * (the slot carries its backend, as in IPv4). 36 bytes. */
struct lb6_service_value {
	__u32  backend_id;             /* slot >= 1: index into lb6_backends_v2; master: 0 */
	__u32  service_id;             /* frontend id: index into lb_svc_stats, same in every slot */
	__u16  count;                  /* master: number of backend slots; slots: 0 */
	__u16  flags;                  /* master: enum lb_service_flags */
	__u32  affinity_timeout;       /* master: ClientIP affinity seconds (with LB_SVC_F_AFFINITY) */
	union lb6_addr backend_address; /* slot: lb6_backends_v2[backend_id].address; master: 0 */
	__be16 backend_port;           /* slot: lb6_backends_v2[backend_id].port; master: 0 */
	__u16  pad;
};

/* lb6_backends_v2 value, at index = backend id, as lb4_backends_v2 (all zero:
 * free). 20 bytes. */
struct lb6_backend {
	union lb6_addr address; /* backend (pod) IPv6 address */
	__be16 port;            /* backend target port */
	__u8   proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	__u8   flags;           /* reserved: backend state */
};

/* lb6_reverse_sk key, as lb4_reverse_sk_key: every reverse entry where socket
 * storage is missing, else only an unconnected UDP socket's further backends
 * (the rule of struct lb6_sk_frontend). 32 bytes. */
struct lb6_reverse_sk_key {
	__u64  cookie;          /* bpf_get_socket_cookie() of the client socket */
	union lb6_addr address; /* backend address the socket was sent to */
	__be16 port;            /* backend port */
	__u16  pad[3];
};

/* lb6_reverse_sk value. 24 bytes. */
struct lb6_reverse_sk_value {
	union lb6_addr address; /* frontend address to report to the application */
	__be16 port;            /* frontend port */
	__u16  pad;
	__u32  service_id;      /* for counters and debugging */
};

/* lb6_sk_frontend value: the IPv6 twin of struct lb4_sk_frontend, with the
 * same rule (read it there), the same flags (enum lb4_sk_frontend_flags,
 * which names lb6_reverse_sk for an IPv6 socket's further backends) and the
 * same translation cache for sendmsg6 (generation, from lb_svc_gen, which
 * both families share through the service id). A backend address of all
 * zeros means none yet. A v4-mapped peer of an AF_INET6 socket is translated
 * by the IPv4 core, so its entry is in lb4_sk_frontend, not here. The
 * generation took the last two of what was pad[3], always written as zero, so
 * the layout and 48 bytes stayed and older entries read as "never reuse". */
struct lb6_sk_frontend {
	union lb6_addr backend_address;  /* backend the socket reached; ::: none yet */
	union lb6_addr frontend_address; /* frontend to report to the application */
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;               /* for counters and debugging */
	__u16  flags;                    /* enum lb4_sk_frontend_flags */
	__u16  pad;
	__u32  generation;               /* lb_svc_gen[service_id] as read before the lookups; 0: never reuse */
};

/* lb6_sk_claim: the IPv6 twin of lb4_sk_claim, where connect6 keeps the
 * reverse entry of a connected socket with a real IPv6 peer (a v4-mapped peer
 * is the IPv4 core's, in lb4_sk_claim), by the same rule and with the same
 * number of entries (cglb_config.sk_claim_slots, indexed by the same cookie
 * bits). cookie and owner come first, as in struct lb4_sk_claim, so one
 * claim protocol serves both. 56 bytes: 14 MiB at the default 262144. */
struct lb6_sk_claim {
	__u64  cookie;                   /* the owner's socket cookie; 0: never claimed */
	__u64  owner;                    /* the owner's struct sock, only ever read through bpf_rdonly_cast */
	union lb6_addr backend_address;
	union lb6_addr frontend_address;
	__be16 backend_port;
	__be16 frontend_port;
	__u32  service_id;
};

/* lb_skip_netns: network namespaces whose sockets the programs never
 * translate, in every mode (--exclude-netns: a sandbox whose sidecar proxy or
 * CNI balances Services itself). Keyed by the namespace cookie
 * (bpf_get_netns_cookie(), __u64); the agent fills it from the paths it was
 * given and drops a namespace that went away on its next full sync. Consulted
 * only after a frontend lookup hit, so sockets to no Service never pay for it,
 * and only by programs loaded with enable_netns_exclusion (--exclude-netns
 * given), so a node without exclusions never pays for it at all. */
struct lb_skip_netns_value {
	__u32 reserved; /* 0; room for per-namespace choices (which families, hooks) */
};

/* lb6_refused is keyed by the frontend's master key (struct lb6_service_key,
 * backend_slot 0); its value is struct lb4_refused, which holds no address
 * and so serves both families. */

/* lb_affinity key: one client of one affine frontend. The client is its
 * network namespace (bpf_get_netns_cookie): every pod has its own, so this is
 * ClientIP affinity per pod, and host-network sockets share the host's. One map
 * serves both families because service ids are shared by them. 16 bytes. */
struct lb_affinity_key {
	__u64 netns_cookie; /* the client socket's network namespace */
	__u32 service_id;   /* the frontend (master entry's service_id) */
	__u32 pad;
};

/* lb_affinity value, written only by the programs (an LRU hash: nothing tells
 * them when a client goes away). The entry is usable while
 * now - last_used stays within the master's affinity_timeout and slot still
 * holds backend_id; a backend that left the frontend, or a slot that now holds
 * another backend, makes the program choose again. 16 bytes. */
struct lb_affinity_value {
	__u64 last_used;  /* bpf_ktime_get_ns() of the last connect/sendmsg that used it */
	__u32 backend_id; /* the backend chosen for this client */
	__u16 slot;       /* the slot (1..count) it was found in */
	__u16 pad;
};

/* Read-only configuration in .rodata, written by the loader between open and
 * load so the verifier prunes what is switched off. It must be the only
 * .rodata variable (offset 0); the layout test checks that. */
struct lb_datapath_config {
	__u32 have_set_retval; /* HAVE_SET_RETVAL: probed bpf_set_retval (>= 5.18) */
	__u32 features;        /* reserved: ENABLE_* bits chosen by the operator */
	__u32 have_sk_storage; /* HAVE_SK_STORAGE: probed bpf_sk_storage_get in sock_addr programs */
	__u32 have_ringbuf;    /* HAVE_RINGBUF: probed BPF_MAP_TYPE_RINGBUF (>= 5.8), for trace.h */
	__u64 host_netns_cookie; /* offset 16: the host network namespace (the agent's); 0: init_net (netns.h) */
	__u32 enable_socket_lb_host_only; /* ENABLE_SOCKET_LB_HOST_ONLY: translate only sockets in the host netns (--host-namespace-only) */
	__u32 enable_netns_exclusion;     /* ENABLE_NETNS_EXCLUSION: look sockets' netns up in lb_skip_netns (--exclude-netns given) */
	__u32 have_rdonly_cast; /* offset 32, HAVE_RDONLY_CAST: probed bpf_rdonly_cast kfunc (>= 6.2), sock_storage_peek.h */
	__u32 sk_claim_slots;   /* offset 36: lb4_sk_claim's entries, a power of two; 0: no claims (sock_claim.h) */
};

#endif /* CGROUP_LB_ABI_H */
