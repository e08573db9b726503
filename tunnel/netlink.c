/* tunnel/netlink.c: rtnetlink link, address and route requests. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "tunnel/netlink.h"

int nl_open(struct nl_ctx *nl)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return err;
	}
	/* Acks without the echoed request: smaller, never truncated.  Old
	 * kernels lack the option, which only costs bytes. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = 1;
	return 0;
}

void nl_close(struct nl_ctx *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static size_t addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return sizeof(struct in_addr);
	case AF_INET6:
		return sizeof(struct in6_addr);
	default:
		return 0;
	}
}

/* The fixed part: header plus family header, all inside len. */
static struct nlmsghdr *put_header(void *buf, size_t len, size_t extra,
				   uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(extra))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

size_t nl_build_link(void *buf, size_t len, uint16_t type, uint16_t flags,
		     uint32_t seq, int ifindex, const char *name, uint32_t mtu,
		     int up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex < 0 || (ifindex == 0 && !name))
		return 0;
	if (name && (name[0] == '\0' || strlen(name) >= IFNAMSIZ))
		return 0;
	nlh = put_header(buf, len, sizeof(*ifi), type, flags, seq);
	if (!nlh)
		return 0;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up >= 0) {
		/* Routing daemons (OSPF, PIM) want a multicast-capable link. */
		ifi->ifi_flags = IFF_MULTICAST | (up ? IFF_UP : 0);
		ifi->ifi_change = IFF_UP | IFF_MULTICAST;
	}
	if (name && !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return 0;
	if (mtu && !mnl_attr_put_u32_check(nlh, len, IFLA_MTU, mtu))
		return 0;
	return nlh->nlmsg_len;
}

static bool is_ll6(const struct ip_addr *a)
{
	return a->family == AF_INET6 && a->u.bytes[0] == 0xfe &&
	       (a->u.bytes[1] & 0xc0) == 0x80;
}

size_t nl_build_addr(void *buf, size_t len, uint16_t type, uint16_t flags,
		     uint32_t seq, int ifindex, const struct ip_prefix *addr,
		     const struct ip_addr *peer)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen = addr_len(addr->addr.family);
	const struct ip_addr *remote = &addr->addr;

	if (!alen || addr->len > alen * 8 || ifindex <= 0)
		return 0;
	if (peer && peer->family != AF_UNSPEC) {
		if (peer->family != addr->addr.family)
			return 0;
		remote = peer;
	}
	nlh = put_header(buf, len, sizeof(*ifa), type, flags, seq);
	if (!nlh)
		return 0;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)addr->addr.family;
	ifa->ifa_prefixlen = addr->len;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = is_ll6(&addr->addr) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (addr->addr.family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD; /* no neighbour to collide with */
	if (!mnl_attr_put_check(nlh, len, IFA_LOCAL, alen, addr->addr.u.bytes) ||
	    !mnl_attr_put_check(nlh, len, IFA_ADDRESS, alen, remote->u.bytes))
		return 0;
	return nlh->nlmsg_len;
}

size_t nl_build_route(void *buf, size_t len, uint16_t type, uint16_t flags,
		      uint32_t seq, int ifindex, const struct ip_prefix *dst,
		      uint32_t metric)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen = addr_len(dst->addr.family), i;
	uint8_t net[16];

	if (!alen || dst->len > alen * 8 || ifindex <= 0)
		return 0;
	/* The kernel refuses IPv4 routes with host bits set (IPv6 masks). */
	memcpy(net, dst->addr.u.bytes, alen);
	for (i = 0; i < alen; i++) {
		size_t bits = dst->len > i * 8 ? dst->len - i * 8 : 0;

		if (bits < 8)
			net[i] &= (uint8_t)(0xff00u >> bits);
	}

	nlh = put_header(buf, len, sizeof(*rtm), type, flags, seq);
	if (!nlh)
		return 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)dst->addr.family;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (dst->len && !mnl_attr_put_check(nlh, len, RTA_DST, alen, net))
		return 0;
	if (!mnl_attr_put_u32_check(nlh, len, RTA_OIF, (uint32_t)ifindex))
		return 0;
	if (metric && !mnl_attr_put_u32_check(nlh, len, RTA_PRIORITY, metric))
		return 0;
	return nlh->nlmsg_len;
}

void nl_ll6_prefix(struct ip_prefix *out, const uint8_t iid[8])
{
	memset(out, 0, sizeof(*out));
	out->addr.family = AF_INET6;
	out->addr.u.bytes[0] = 0xfe;
	out->addr.u.bytes[1] = 0x80;
	memcpy(&out->addr.u.bytes[8], iid, 8);
	out->len = 64;
}

/* Send one request and wait for its ack.  Replies with another sequence
 * number (the late ack of an earlier, interrupted request) are skipped. */
static int nl_talk(struct nl_ctx *nl, void *req, size_t req_len)
{
	_Alignas(struct nlmsghdr) uint8_t buf[8192];
	uint32_t seq;
	ssize_t n;
	int ret;

	if (!nl->sock)
		return -EBADF;
	if (!req_len)
		return -EINVAL;
	seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	if (mnl_socket_sendto(nl->sock, req, req_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* libmnl reports a foreign sequence number as EPROTO, which a
		 * kernel error could be too: sort stale replies out first. */
		if ((size_t)n >= sizeof(struct nlmsghdr) &&
		    ((struct nlmsghdr *)buf)->nlmsg_seq != seq)
			continue;
		errno = 0;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, NULL, NULL);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EPROTO;
		/* MNL_CB_OK: no ack yet, keep reading */
	}
}

static uint32_t next_seq(struct nl_ctx *nl)
{
	if (++nl->seq == 0)
		nl->seq = 1;
	return nl->seq;
}

int nl_link_set(struct nl_ctx *nl, int ifindex, uint32_t mtu, bool up)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	if (ifindex <= 0)
		return -EINVAL;
	len = nl_build_link(buf, sizeof(buf), RTM_NEWLINK,
			    NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), ifindex,
			    NULL, mtu, up ? 1 : 0);
	return nl_talk(nl, buf, len);
}

int nl_link_delete_by_name(struct nl_ctx *nl, const char *name)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_link(buf, sizeof(buf), RTM_DELLINK,
			    NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), 0, name, 0, -1);
	return nl_talk(nl, buf, len);
}

int nl_addr_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR,
			    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			    next_seq(nl), ifindex, addr, peer);
	return nl_talk(nl, buf, len);
}

int nl_addr_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *addr,
		const struct ip_addr *peer)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_addr(buf, sizeof(buf), RTM_DELADDR,
			    NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), ifindex,
			    addr, peer);
	return nl_talk(nl, buf, len);
}

int nl_addr_add_ll6(struct nl_ctx *nl, int ifindex, const uint8_t iid[8])
{
	struct ip_prefix p;

	nl_ll6_prefix(&p, iid);
	return nl_addr_add(nl, ifindex, &p, NULL);
}

int nl_route_add(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE,
			     NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			     next_seq(nl), ifindex, dst, metric);
	return nl_talk(nl, buf, len);
}

int nl_route_del(struct nl_ctx *nl, int ifindex, const struct ip_prefix *dst,
		 uint32_t metric)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_route(buf, sizeof(buf), RTM_DELROUTE,
			     NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), ifindex,
			     dst, metric);
	return nl_talk(nl, buf, len);
}
