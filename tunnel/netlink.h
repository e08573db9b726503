/* tunnel/netlink.h: rtnetlink requests for the tunnel interface (libmnl).
 *
 * Messages are built by pure functions (nl_build_*) that the unit tests
 * parse back, and sent by nl_* functions that wait for the kernel's ack.
 * Every request carries NLM_F_ACK; the result is 0 or the kernel's -errno
 * (e.g. -EEXIST for an address or route that is already there).  Nothing
 * here logs.
 */
#ifndef GRESEC_TUNNEL_NETLINK_H
#define GRESEC_TUNNEL_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/addr.h"

struct mnl_socket;
struct nlmsghdr;

struct nl_ctx {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

/* Size of a buffer that holds any request built here (align it like a
 * struct nlmsghdr). */
enum { NL_REQ_BUF_SIZE = 512 };

/* Open a NETLINK_ROUTE socket (close-on-exec).  0 or -errno. */
int nl_open(struct nl_ctx *nl);
void nl_close(struct nl_ctx *nl);

/* ---- pure builders: return the message length, 0 when it does not fit
 * in len or an argument is invalid (bad family, prefix length, name). ---- */

/* RTM_NEWLINK/RTM_DELLINK on ifindex (0: use name).  name (NULL: none) goes
 * into IFLA_IFNAME, mtu (0: unchanged) into IFLA_MTU.  up: 1 sets
 * IFF_UP|IFF_MULTICAST, 0 clears IFF_UP and sets IFF_MULTICAST, -1 leaves
 * the flags alone (ifi_change 0). */
size_t nl_build_link(void *buf, size_t len, uint16_t type, uint16_t flags,
		     uint32_t seq, int ifindex, const char *name, uint32_t mtu,
		     int up);

/* RTM_NEWADDR/RTM_DELADDR: IFA_LOCAL = addr, IFA_ADDRESS = peer when peer
 * is given (not NULL, not AF_UNSPEC; must be addr's family), else addr.
 * IPv6 addresses get IFA_F_NODAD (no DAD on a tunnel); fe80::/10 gets link
 * scope, everything else universe scope. */
size_t nl_build_addr(void *buf, size_t len, uint16_t type, uint16_t flags,
		     uint32_t seq, int ifindex, const struct ip_prefix *addr,
		     const struct ip_addr *peer);

/* RTM_NEWROUTE/RTM_DELROUTE: dst (host bits cleared; no RTA_DST for a
 * default route) via the interface, main table, RTPROT_STATIC, link scope
 * (RT_SCOPE_NOWHERE for RTM_DELROUTE so any scope matches), unicast;
 * RTA_PRIORITY when metric != 0. */
size_t nl_build_route(void *buf, size_t len, uint16_t type, uint16_t flags,
		      uint32_t seq, int ifindex, const struct ip_prefix *dst,
		      uint32_t metric);

/* fe80::iid/64 */
void nl_ll6_prefix(struct ip_prefix *out, const uint8_t iid[8]);

/* ---- the kernel's own GRE links (ip_gre, ip6_gre) ---- */

/* What a GRE link is made of.  local and remote share the family that
 * picks the kind: AF_INET gives "gre" ("gretap" with tap), AF_INET6
 * "ip6gre" ("ip6gretap"). */
struct nl_gre_params {
	bool tap;
	struct ip_addr local, remote;
	uint32_t link;              /* underlay ifindex (IFLA_GRE_LINK), 0: none */
	bool has_ikey, has_okey;
	uint32_t ikey, okey;
	bool icsum, ocsum;          /* checksum required / sent */
	bool iseq, oseq;            /* sequence numbers required / sent */
	uint8_t ttl;                /* TTL or hop limit, 0: inherit */
	int tos;                    /* TOS (IPv6: traffic class) 0..255, -1: inherit */
	bool has_mac;               /* tap: IFLA_ADDRESS at creation */
	uint8_t mac[6];
};

/* "gre", "gretap", "ip6gre", "ip6gretap"; NULL for another family. */
const char *nl_gre_kind(const struct nl_gre_params *p);

/* RTM_NEWLINK with IFLA_LINKINFO: kind and IFLA_INFO_DATA with every
 * IFLA_GRE_* attribute (so that it also serves as a changelink, which
 * resets what is left out).  ifindex 0 and a name: create (use flags
 * NLM_F_CREATE|NLM_F_EXCL); ifindex > 0: change that link.  mtu 0: none.
 * IPv4: IFLA_GRE_TTL, IFLA_GRE_TOS (1 = inherit), IFLA_GRE_PMTUDISC 1
 * (Don't Fragment, as gresec's own sockets send).  IPv6: IFLA_GRE_TTL
 * (hop limit), IFLA_GRE_FLOWINFO (traffic class), IFLA_GRE_FLAGS with
 * IP6_TNL_F_IGN_ENCAP_LIMIT (no encapsulation-limit option, so the header
 * and the MTU are those of user space) and IP6_TNL_F_USE_ORIG_TCLASS for
 * an inherited traffic class. */
size_t nl_build_gre_link(void *buf, size_t len, uint16_t flags, uint32_t seq,
			 int ifindex, const char *name, uint32_t mtu,
			 const struct nl_gre_params *p);

/* Optional link attributes for nl_build_setlink (-1 / NULL / 0: leave). */
struct nl_link_attrs {
	uint32_t mtu;               /* IFLA_MTU, 0: unchanged */
	unsigned flags, change;     /* ifi_flags under the mask ifi_change */
	const char *alias;          /* IFLA_IFALIAS ("" removes it), NULL: unchanged */
	int operstate;              /* IFLA_OPERSTATE: IF_OPER_UP, IF_OPER_DORMANT, ... */
	int linkmode;               /* IFLA_LINKMODE: IF_LINK_MODE_DEFAULT / _DORMANT */
	int proto_down;             /* IFLA_PROTO_DOWN 0/1 */
	int addrgenmode;            /* IFLA_AF_SPEC/AF_INET6/IFLA_INET6_ADDR_GEN_MODE */
	const uint8_t *mac;         /* IFLA_ADDRESS (6 bytes), NULL: unchanged */
};
#define NL_LINK_ATTRS_NONE { .operstate = -1, .linkmode = -1, .proto_down = -1, .addrgenmode = -1 }

/* RTM_NEWLINK on ifindex (> 0) with the attributes set in a. */
size_t nl_build_setlink(void *buf, size_t len, uint32_t seq, int ifindex,
			const struct nl_link_attrs *a);

/* tc: a clsact qdisc on ifindex, and on its ingress a matchall filter
 * whose one action (gact) drops everything. */
size_t nl_build_qdisc_clsact(void *buf, size_t len, uint32_t seq, int ifindex);
size_t nl_build_ingress_drop(void *buf, size_t len, uint32_t seq, int ifindex);

/* What RTM_GETLINK tells about a link. */
struct nl_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[16];              /* IFLA_INFO_KIND, "" when none */
	char alias[128];            /* IFLA_IFALIAS (truncated), "" when none */
	unsigned flags;             /* ifi_flags */
	uint32_t mtu;
	uint8_t operstate;          /* IF_OPER_* */
	bool proto_down;            /* IFLA_PROTO_DOWN */
	uint8_t hwaddr[6];          /* IFLA_ADDRESS when it is 6 bytes (Ethernet) */
	bool has_hwaddr;
	bool has_stats;
	struct nl_link_stats {      /* IFLA_STATS64, the counters gresec shows */
		uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
		uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
		uint64_t multicast, collisions;
		uint64_t rx_length_errors, rx_over_errors, rx_crc_errors;
		uint64_t rx_frame_errors, rx_fifo_errors, rx_missed_errors;
		uint64_t tx_aborted_errors, tx_carrier_errors, tx_fifo_errors;
		uint64_t tx_heartbeat_errors, tx_window_errors;
	} stats;
};

/* Parse an RTM_NEWLINK message (a GETLINK reply, or an RTM_NEWLINK or
 * RTM_DELLINK notification).  0 or -EINVAL. */
int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link_info *out);

/* An RTM_NEWADDR / RTM_DELADDR message. */
struct nl_addr_info {
	int ifindex;
	uint8_t prefixlen;
	struct ip_addr local;       /* IFA_LOCAL, else IFA_ADDRESS */
	struct ip_addr address;     /* IFA_ADDRESS (the peer of a point-to-point address) */
};
int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr_info *out);

/* An RTM_NEWROUTE / RTM_DELROUTE message (or a GETROUTE reply). */
struct nl_route_info {
	struct ip_addr dst;         /* family always set; address zero for a default route */
	uint8_t dst_len;
	uint32_t table;             /* RTA_TABLE, else rtm_table */
	uint8_t type;               /* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t protocol;           /* RTPROT_* */
	int oif;                    /* RTA_OIF, 0 when none (or multipath) */
	bool multipath;             /* RTA_MULTIPATH */
	uint32_t priority;          /* RTA_PRIORITY (the metric) */
};
int nl_parse_route(const struct nlmsghdr *nlh, struct nl_route_info *out);

/* RTM_GETROUTE dump of one family's routes in the main table through
 * oif (0: any), asking the kernel to filter (strict checking); replies
 * must still be filtered, since older kernels ignore the filter. */
size_t nl_build_route_dump(void *buf, size_t len, uint32_t seq, int family, int oif);
/* RTM_GETROUTE with RTM_F_FIB_MATCH: the route entry the kernel would
 * use for addr (the longest prefix that holds it). */
size_t nl_build_route_lookup(void *buf, size_t len, uint32_t seq, const struct ip_addr *addr);

/* ---- notifications ---- */

/* A socket for rtnetlink multicast notifications of the groups
 * (RTMGRP_* bit mask), nonblocking, close-on-exec, with a receive buffer
 * of rcvbuf bytes where allowed (SO_RCVBUFFORCE, else SO_RCVBUF): a
 * burst larger than that is lost, and a receive then fails with ENOBUFS.
 * Its fd is mnl_socket_get_fd(nl->sock).  0 or -errno. */
int nl_watch_open(struct nl_ctx *nl, unsigned groups, int rcvbuf);

/* ---- requests (0 or -errno from the kernel ack) ---- */

/* Set the MTU (0: unchanged) and IFF_UP on/off, always IFF_MULTICAST. */
int nl_link_set(struct nl_ctx *nl, int ifindex, uint32_t mtu, bool up);

/* Set the MTU only (flags untouched). */
int nl_link_mtu(struct nl_ctx *nl, int ifindex, uint32_t mtu);

/* Delete the interface `name` (-ENODEV when there is none). */
int nl_link_delete_by_name(struct nl_ctx *nl, const char *name);

/* Delete the interface ifindex (-ENODEV when there is none). */
int nl_link_delete(struct nl_ctx *nl, int ifindex);

/* Create a GRE link named name (-EEXIST: the name is taken, or a tunnel
 * with the same addresses, key and underlay link exists; -EOPNOTSUPP: the
 * kernel has no such link type and could not load it), or change the
 * parameters of link ifindex.  Create: *ifindex_out (may be NULL) gets the
 * new link's index (0 when it cannot be read back). */
int nl_gre_link_create(struct nl_ctx *nl, const char *name, uint32_t mtu,
		       const struct nl_gre_params *p, int *ifindex_out);
int nl_gre_link_change(struct nl_ctx *nl, int ifindex, const struct nl_gre_params *p);

/* Set the attributes in a on link ifindex. */
int nl_link_setattrs(struct nl_ctx *nl, int ifindex, const struct nl_link_attrs *a);

/* Drop everything link ifindex receives, before the IP stack sees it
 * (tc clsact + ingress matchall/gact drop). */
int nl_link_drop_ingress(struct nl_ctx *nl, int ifindex);

/* RTM_GETLINK by ifindex (> 0) or by name: -ENODEV when there is none. */
int nl_link_get(struct nl_ctx *nl, int ifindex, const char *name, struct nl_link_info *out);

/* Add (NLM_F_CREATE|NLM_F_EXCL: -EEXIST when present) or delete an address,
 * like `ip addr add 11.11.1.2/30 peer 11.11.1.1 dev tun0`.  peer may be
 * NULL or AF_UNSPEC. */
int nl_addr_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer);
int nl_addr_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer);

/* Add the link-local fe80::iid/64 (-EEXIST when present). */
int nl_addr_add_ll6(struct nl_ctx *nl, int ifindex, const uint8_t iid[8]);

/* Every route of the family's main table through ifindex (the kernel
 * filters where it can, this filters again): cb for each, a non-zero
 * return stops.  0 or -errno. */
int nl_route_dump(struct nl_ctx *nl, int family, int ifindex,
		  int (*cb)(const struct nl_route_info *r, void *data), void *data);

/* Every link / every address of the namespace, each given to cb (a
 * non-zero return stops).  0 or -errno. */
int nl_link_dump(struct nl_ctx *nl, int (*cb)(const struct nl_link_info *l, void *data), void *data);
int nl_addr_dump(struct nl_ctx *nl, int (*cb)(const struct nl_addr_info *a, void *data), void *data);

/* The route entry that the kernel would use for addr.  0, -ENETUNREACH
 * (or another -errno) when none. */
int nl_route_lookup(struct nl_ctx *nl, const struct ip_addr *addr, struct nl_route_info *out);

/* Add (-EEXIST when present) or delete (-ESRCH when absent) a static route
 * to dst through the interface.  metric 0: the kernel's default. */
int nl_route_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric);
int nl_route_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric);

#endif
