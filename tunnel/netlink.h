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

#include "conf/config.h"

struct mnl_socket;

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

/* ---- requests (0 or -errno from the kernel ack) ---- */

/* Set the MTU (0: unchanged) and IFF_UP on/off, always IFF_MULTICAST. */
int nl_link_set(struct nl_ctx *nl, int ifindex, uint32_t mtu, bool up);

/* Delete the interface `name` (-ENODEV when there is none). */
int nl_link_delete_by_name(struct nl_ctx *nl, const char *name);

/* Add (NLM_F_CREATE|NLM_F_EXCL: -EEXIST when present) or delete an address,
 * like `ip addr add 11.11.1.2/30 peer 11.11.1.1 dev tun0`.  peer may be
 * NULL or AF_UNSPEC. */
int nl_addr_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer);
int nl_addr_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer);

/* Add the link-local fe80::iid/64 (-EEXIST when present). */
int nl_addr_add_ll6(struct nl_ctx *nl, int ifindex, const uint8_t iid[8]);

/* Add (-EEXIST when present) or delete (-ESRCH when absent) a static route
 * to dst through the interface.  metric 0: the kernel's default. */
int nl_route_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric);
int nl_route_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric);

#endif
