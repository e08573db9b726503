/* tunnel/netlink.c: rtnetlink link, address and route requests. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <libmnl/libmnl.h>

#include "tunnel/netlink.h"

#ifndef IFALIASZ
#define IFALIASZ 256    /* linux/if.h, which clashes with net/if.h */
#endif

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
#ifdef NETLINK_GET_STRICT_CHK
	/* Dumps filtered by the kernel (routes through one link); requests
	 * are checked strictly too, which ours pass.  Without it (before
	 * Linux 4.20) the filters are ignored and the replies filtered here. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
#endif
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
	/* libmnl before 1.0.5 leaves attribute padding as it finds it. */
	memset(buf, 0, len);
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

/* ---- GRE links ---- */

const char *nl_gre_kind(const struct nl_gre_params *p)
{
	if (p->local.family != p->remote.family)
		return NULL;
	switch (p->local.family) {
	case AF_INET:
		return p->tap ? "gretap" : "gre";
	case AF_INET6:
		return p->tap ? "ip6gretap" : "ip6gre";
	default:
		return NULL;
	}
}

static uint16_t gre_flags_be(bool key, bool csum, bool seq)
{
	return (uint16_t)((key ? GRE_KEY : 0) | (csum ? GRE_CSUM : 0) | (seq ? GRE_SEQ : 0));
}

size_t nl_build_gre_link(void *buf, size_t len, uint16_t flags, uint32_t seq,
			 int ifindex, const char *name, uint32_t mtu,
			 const struct nl_gre_params *p)
{
	const char *kind = nl_gre_kind(p);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;
	size_t alen;

	if (!kind || ifindex < 0 || (ifindex == 0 && !name) || p->tos > 255 || p->tos < -1)
		return 0;
	if (name && (name[0] == '\0' || strlen(name) >= IFNAMSIZ))
		return 0;
	alen = addr_len(p->local.family);
	nlh = put_header(buf, len, sizeof(*ifi), RTM_NEWLINK, flags, seq);
	if (!nlh)
		return 0;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name && !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return 0;
	if (mtu && !mnl_attr_put_u32_check(nlh, len, IFLA_MTU, mtu))
		return 0;
	if (p->has_mac && p->tap && !mnl_attr_put_check(nlh, len, IFLA_ADDRESS, 6, p->mac))
		return 0;
	info = mnl_attr_nest_start_check(nlh, len, IFLA_LINKINFO);
	if (!info || !mnl_attr_put_strz_check(nlh, len, IFLA_INFO_KIND, kind))
		return 0;
	data = mnl_attr_nest_start_check(nlh, len, IFLA_INFO_DATA);
	if (!data ||
	    !mnl_attr_put_u32_check(nlh, len, IFLA_GRE_LINK, p->link) ||
	    !mnl_attr_put_u16_check(nlh, len, IFLA_GRE_IFLAGS, gre_flags_be(p->has_ikey, p->icsum, p->iseq)) ||
	    !mnl_attr_put_u16_check(nlh, len, IFLA_GRE_OFLAGS, gre_flags_be(p->has_okey, p->ocsum, p->oseq)) ||
	    !mnl_attr_put_u32_check(nlh, len, IFLA_GRE_IKEY, p->has_ikey ? htonl(p->ikey) : 0) ||
	    !mnl_attr_put_u32_check(nlh, len, IFLA_GRE_OKEY, p->has_okey ? htonl(p->okey) : 0) ||
	    !mnl_attr_put_check(nlh, len, IFLA_GRE_LOCAL, alen, p->local.u.bytes) ||
	    !mnl_attr_put_check(nlh, len, IFLA_GRE_REMOTE, alen, p->remote.u.bytes) ||
	    !mnl_attr_put_u8_check(nlh, len, IFLA_GRE_TTL, p->ttl))
		return 0;
	if (p->local.family == AF_INET) {
		/* ip_gre: TOS 1 is "inherit" (the low bit, an ECN bit, is never
		 * sent: the kernel takes ECN from the inner packet). */
		uint8_t tos = p->tos < 0 ? 1 : (uint8_t)(p->tos & ~1);

		if (!mnl_attr_put_u8_check(nlh, len, IFLA_GRE_TOS, tos) ||
		    !mnl_attr_put_u8_check(nlh, len, IFLA_GRE_PMTUDISC, 1))
			return 0;
	} else {
		uint32_t tclass = p->tos < 0 ? 0 : (uint32_t)p->tos;
		uint32_t f = IP6_TNL_F_IGN_ENCAP_LIMIT | (p->tos < 0 ? IP6_TNL_F_USE_ORIG_TCLASS : 0);

		if (!mnl_attr_put_u32_check(nlh, len, IFLA_GRE_FLOWINFO, htonl(tclass << 20)) ||
		    !mnl_attr_put_u32_check(nlh, len, IFLA_GRE_FLAGS, f))
			return 0;
	}
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh->nlmsg_len;
}

size_t nl_build_setlink(void *buf, size_t len, uint32_t seq, int ifindex,
			const struct nl_link_attrs *a)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0 || (a->alias && strlen(a->alias) >= IFALIASZ))
		return 0;
	nlh = put_header(buf, len, sizeof(*ifi), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
	if (!nlh)
		return 0;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = a->flags & a->change;
	ifi->ifi_change = a->change;
	if (a->mtu && !mnl_attr_put_u32_check(nlh, len, IFLA_MTU, a->mtu))
		return 0;
	if (a->alias && !mnl_attr_put_strz_check(nlh, len, IFLA_IFALIAS, a->alias))
		return 0;
	if (a->mac && !mnl_attr_put_check(nlh, len, IFLA_ADDRESS, 6, a->mac))
		return 0;
	if (a->operstate >= 0 && !mnl_attr_put_u8_check(nlh, len, IFLA_OPERSTATE, (uint8_t)a->operstate))
		return 0;
	if (a->linkmode >= 0 && !mnl_attr_put_u8_check(nlh, len, IFLA_LINKMODE, (uint8_t)a->linkmode))
		return 0;
	if (a->proto_down >= 0 && !mnl_attr_put_u8_check(nlh, len, IFLA_PROTO_DOWN, (uint8_t)a->proto_down))
		return 0;
	if (a->addrgenmode >= 0) {
		struct nlattr *spec = mnl_attr_nest_start_check(nlh, len, IFLA_AF_SPEC), *af;

		if (!spec || !(af = mnl_attr_nest_start_check(nlh, len, AF_INET6)) ||
		    !mnl_attr_put_u8_check(nlh, len, IFLA_INET6_ADDR_GEN_MODE, (uint8_t)a->addrgenmode))
			return 0;
		mnl_attr_nest_end(nlh, af);
		mnl_attr_nest_end(nlh, spec);
	}
	return nlh->nlmsg_len;
}

/* The fixed part of a tc request on ifindex. */
static struct nlmsghdr *put_tc_header(void *buf, size_t len, uint16_t type, uint32_t seq,
				      int ifindex, uint32_t handle, uint32_t parent, uint32_t info)
{
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	if (ifindex <= 0)
		return NULL;
	nlh = put_header(buf, len, sizeof(*tcm), type,
			 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
	if (!nlh)
		return NULL;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = handle;
	tcm->tcm_parent = parent;
	tcm->tcm_info = info;
	return nlh;
}

size_t nl_build_qdisc_clsact(void *buf, size_t len, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = put_tc_header(buf, len, RTM_NEWQDISC, seq, ifindex,
					     TC_H_MAKE(TC_H_CLSACT, 0), TC_H_CLSACT, 0);

	if (!nlh || !mnl_attr_put_strz_check(nlh, len, TCA_KIND, "clsact"))
		return 0;
	return nlh->nlmsg_len;
}

size_t nl_build_ingress_drop(void *buf, size_t len, uint32_t seq, int ifindex)
{
	/* Priority 1, every protocol: tcm_info = prio << 16 | protocol. */
	struct nlmsghdr *nlh = put_tc_header(buf, len, RTM_NEWTFILTER, seq, ifindex, 0,
					     TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
					     TC_H_MAKE(1U << 16, htons(ETH_P_ALL)));
	struct tc_gact gact = { .action = TC_ACT_SHOT };
	struct nlattr *opts, *acts, *act, *aopts;

	if (!nlh || !mnl_attr_put_strz_check(nlh, len, TCA_KIND, "matchall") ||
	    !(opts = mnl_attr_nest_start_check(nlh, len, TCA_OPTIONS)) ||
	    !(acts = mnl_attr_nest_start_check(nlh, len, TCA_MATCHALL_ACT)) ||
	    !(act = mnl_attr_nest_start_check(nlh, len, 1)) ||
	    !mnl_attr_put_strz_check(nlh, len, TCA_ACT_KIND, "gact") ||
	    !(aopts = mnl_attr_nest_start_check(nlh, len, TCA_ACT_OPTIONS)) ||
	    !mnl_attr_put_check(nlh, len, TCA_GACT_PARMS, sizeof(gact), &gact))
		return 0;
	mnl_attr_nest_end(nlh, aopts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	return nlh->nlmsg_len;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	struct nl_link_info *out = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		snprintf(out->kind, sizeof(out->kind), "%.*s",
			 (int)strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr)),
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static void copy_str_attr(char *dst, size_t size, const struct nlattr *attr)
{
	size_t n = strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));

	if (n >= size)
		n = size - 1;
	memcpy(dst, mnl_attr_get_str(attr), n);
	dst[n] = '\0';
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_link_info *out = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
			copy_str_attr(out->name, sizeof(out->name), attr);
		break;
	case IFLA_IFALIAS:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
			copy_str_attr(out->alias, sizeof(out->alias), attr);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			out->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			out->operstate = mnl_attr_get_u8(attr);
		break;
	case IFLA_PROTO_DOWN:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			out->proto_down = mnl_attr_get_u8(attr) != 0;
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == sizeof(out->hwaddr)) {
			memcpy(out->hwaddr, mnl_attr_get_payload(attr), sizeof(out->hwaddr));
			out->has_hwaddr = true;
		}
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(attr, linkinfo_cb, out);
		break;
	case IFLA_STATS64: {
		/* The kernel's struct rtnl_link_stats64 starts with our fields,
		 * in this order; newer kernels append more. */
		size_t n = mnl_attr_get_payload_len(attr);

		if (n > sizeof(out->stats))
			n = sizeof(out->stats);
		if (n >= 4 * sizeof(uint64_t)) {
			memcpy(&out->stats, mnl_attr_get_payload(attr), n);
			out->has_stats = true;
		}
		break;
	}
	}
	return MNL_CB_OK;
}

int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link_info *out)
{
	const struct ifinfomsg *ifi;

	memset(out, 0, sizeof(*out));
	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EINVAL;
	ifi = mnl_nlmsg_get_payload(nlh);
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, out) != MNL_CB_OK)
		return -EINVAL;
	return 0;
}

/* ---- addresses and routes, as the kernel reports them ---- */

static void ip_from_attr(struct ip_addr *out, int family, const struct nlattr *attr)
{
	size_t alen = addr_len(family);

	if (!alen || mnl_attr_get_payload_len(attr) != alen)
		return;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->u.bytes, mnl_attr_get_payload(attr), alen);
}

struct addr_parse {
	struct nl_addr_info *out;
	int family;
	bool has_local;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	struct addr_parse *ap = data;

	switch (mnl_attr_get_type(attr)) {
	case IFA_LOCAL:
		ip_from_attr(&ap->out->local, ap->family, attr);
		ap->has_local = ap->out->local.family != AF_UNSPEC;
		break;
	case IFA_ADDRESS:
		ip_from_attr(&ap->out->address, ap->family, attr);
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr_info *out)
{
	const struct ifaddrmsg *ifa;
	struct addr_parse ap = { out, 0, false };

	memset(out, 0, sizeof(*out));
	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (!addr_len(ifa->ifa_family))
		return -EINVAL;
	ap.family = ifa->ifa_family;
	out->ifindex = (int)ifa->ifa_index;
	out->prefixlen = ifa->ifa_prefixlen;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, &ap) != MNL_CB_OK)
		return -EINVAL;
	if (!ap.has_local)
		out->local = out->address;   /* IPv6, and IPv4 without a peer */
	if (out->local.family == AF_UNSPEC)
		return -EINVAL;
	return 0;
}

struct route_parse {
	struct nl_route_info *out;
	int family;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route_parse *rp = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		ip_from_attr(&rp->out->dst, rp->family, attr);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			rp->out->table = mnl_attr_get_u32(attr);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			rp->out->oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			rp->out->priority = mnl_attr_get_u32(attr);
		break;
	case RTA_MULTIPATH:
		rp->out->multipath = true;
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_route(const struct nlmsghdr *nlh, struct nl_route_info *out)
{
	const struct rtmsg *rtm;
	struct route_parse rp = { out, 0 };

	memset(out, 0, sizeof(*out));
	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (!addr_len(rtm->rtm_family) || rtm->rtm_dst_len > addr_len(rtm->rtm_family) * 8)
		return -EINVAL;
	rp.family = rtm->rtm_family;
	out->dst.family = rtm->rtm_family;
	out->dst_len = rtm->rtm_dst_len;
	out->table = rtm->rtm_table;
	out->type = rtm->rtm_type;
	out->protocol = rtm->rtm_protocol;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &rp) != MNL_CB_OK)
		return -EINVAL;
	out->dst.family = rtm->rtm_family;   /* a default route has no RTA_DST */
	return 0;
}

size_t nl_build_route_dump(void *buf, size_t len, uint32_t seq, int family, int oif)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!addr_len(family) || oif < 0)
		return 0;
	nlh = put_header(buf, len, sizeof(*rtm), RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);
	if (!nlh)
		return 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (oif && !mnl_attr_put_u32_check(nlh, len, RTA_OIF, (uint32_t)oif))
		return 0;
	return nlh->nlmsg_len;
}

size_t nl_build_route_lookup(void *buf, size_t len, uint32_t seq, const struct ip_addr *addr)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen = addr_len(addr->family);

	if (!alen)
		return 0;
	nlh = put_header(buf, len, sizeof(*rtm), RTM_GETROUTE, NLM_F_REQUEST, seq);
	if (!nlh)
		return 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)addr->family;
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	if (!mnl_attr_put_check(nlh, len, RTA_DST, alen, addr->u.bytes))
		return 0;
	return nlh->nlmsg_len;
}

/* ---- notifications ---- */

int nl_watch_open(struct nl_ctx *nl, unsigned groups, int rcvbuf)
{
	int fd, flags, err;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	fd = mnl_socket_get_fd(nl->sock);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		goto fail;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
fail:
	err = -errno;
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return err;
}

/* Send one request and wait for its ack; messages before the ack (a GET's
 * reply) go to cb.  Replies with another sequence number (the late ack of
 * an earlier, interrupted request) are skipped. */
static int nl_talk_cb(struct nl_ctx *nl, void *req, size_t req_len, mnl_cb_t cb, void *data)
{
	/* A dump's parts are as large as the buffer the last receive offered. */
	_Alignas(struct nlmsghdr) uint8_t buf[32768];
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
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EPROTO;
		/* MNL_CB_OK: no ack yet, keep reading */
	}
}

static int nl_talk(struct nl_ctx *nl, void *req, size_t req_len)
{
	return nl_talk_cb(nl, req, req_len, NULL, NULL);
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

int nl_link_mtu(struct nl_ctx *nl, int ifindex, uint32_t mtu)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	if (ifindex <= 0 || mtu == 0)
		return -EINVAL;
	len = nl_build_link(buf, sizeof(buf), RTM_NEWLINK,
			    NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), ifindex,
			    NULL, mtu, -1);
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

int nl_link_delete(struct nl_ctx *nl, int ifindex)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	if (ifindex <= 0)
		return -EINVAL;
	len = nl_build_link(buf, sizeof(buf), RTM_DELLINK,
			    NLM_F_REQUEST | NLM_F_ACK, next_seq(nl), ifindex, NULL, 0, -1);
	return nl_talk(nl, buf, len);
}

struct link_get {
	struct nl_link_info *out;
	bool found;
};

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_get *g = data;

	if (nl_parse_link(nlh, g->out) == 0)
		g->found = true;
	return MNL_CB_OK;
}

int nl_link_get(struct nl_ctx *nl, int ifindex, const char *name, struct nl_link_info *out)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	struct link_get g = { out, false };
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	if (ifindex < 0 || (ifindex == 0 && !name))
		return -EINVAL;
	len = nl_build_link(buf, sizeof(buf), RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK,
			    next_seq(nl), ifindex, ifindex ? NULL : name, 0, -1);
	err = nl_talk_cb(nl, buf, len, link_get_cb, &g);
	if (err)
		return err;
	return g.found ? 0 : -ENODEV;
}

int nl_gre_link_create(struct nl_ctx *nl, const char *name, uint32_t mtu,
		       const struct nl_gre_params *p, int *ifindex_out)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	struct nl_link_info info;
	size_t len;
	int err;

	if (ifindex_out)
		*ifindex_out = 0;
	len = nl_build_gre_link(buf, sizeof(buf),
				NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
				next_seq(nl), 0, name, mtu, p);
	if ((err = nl_talk(nl, buf, len)))
		return err;
	if (ifindex_out && nl_link_get(nl, 0, name, &info) == 0)
		*ifindex_out = info.ifindex;
	return 0;
}

int nl_gre_link_change(struct nl_ctx *nl, int ifindex, const struct nl_gre_params *p)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	if (ifindex <= 0)
		return -EINVAL;
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_ACK, next_seq(nl),
				ifindex, NULL, 0, p);
	return nl_talk(nl, buf, len);
}

int nl_link_setattrs(struct nl_ctx *nl, int ifindex, const struct nl_link_attrs *a)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;

	len = nl_build_setlink(buf, sizeof(buf), next_seq(nl), ifindex, a);
	return nl_talk(nl, buf, len);
}

int nl_link_drop_ingress(struct nl_ctx *nl, int ifindex)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	size_t len;
	int err;

	len = nl_build_qdisc_clsact(buf, sizeof(buf), next_seq(nl), ifindex);
	if ((err = nl_talk(nl, buf, len)) && err != -EEXIST)
		return err;
	len = nl_build_ingress_drop(buf, sizeof(buf), next_seq(nl), ifindex);
	return nl_talk(nl, buf, len);
}

struct route_dump {
	int ifindex;
	int (*cb)(const struct nl_route_info *r, void *data);
	void *data;
	int stop;
};

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *rd = data;
	struct nl_route_info r;

	if (rd->stop || nl_parse_route(nlh, &r) != 0)
		return MNL_CB_OK;
	if (r.table != RT_TABLE_MAIN || (rd->ifindex && r.oif != rd->ifindex))
		return MNL_CB_OK;
	rd->stop = rd->cb(&r, rd->data);
	return MNL_CB_OK;     /* read to the end of the dump either way */
}

int nl_route_dump(struct nl_ctx *nl, int family, int ifindex,
		  int (*cb)(const struct nl_route_info *r, void *data), void *data)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	struct route_dump rd = { ifindex, cb, data, 0 };
	size_t len = nl_build_route_dump(buf, sizeof(buf), next_seq(nl), family, ifindex);

	return nl_talk_cb(nl, buf, len, route_dump_cb, &rd);
}

struct route_get {
	struct nl_route_info *out;
	bool found;
};

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_get *g = data;

	if (nl_parse_route(nlh, g->out) == 0)
		g->found = true;
	return MNL_CB_OK;
}

int nl_route_lookup(struct nl_ctx *nl, const struct ip_addr *addr, struct nl_route_info *out)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	struct route_get g = { out, false };
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	len = nl_build_route_lookup(buf, sizeof(buf), next_seq(nl), addr);
	/* The reply comes before the ack only if NLM_F_ACK is asked; without
	 * it the reply alone ends the exchange. */
	if (len)
		((struct nlmsghdr *)buf)->nlmsg_flags |= NLM_F_ACK;
	err = nl_talk_cb(nl, buf, len, route_get_cb, &g);
	if (err)
		return err;
	return g.found ? 0 : -ENETUNREACH;
}

struct generic_dump {
	int (*link_cb)(const struct nl_link_info *l, void *data);
	int (*addr_cb)(const struct nl_addr_info *a, void *data);
	void *data;
	int stop;
};

static int generic_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct generic_dump *g = data;

	if (g->stop)
		return MNL_CB_OK;
	if (g->link_cb) {
		struct nl_link_info li;

		if (nl_parse_link(nlh, &li) == 0)
			g->stop = g->link_cb(&li, g->data);
	} else {
		struct nl_addr_info ai;

		if (nl_parse_addr(nlh, &ai) == 0)
			g->stop = g->addr_cb(&ai, g->data);
	}
	return MNL_CB_OK;
}

static int dump_request(struct nl_ctx *nl, uint16_t type, size_t hdr, struct generic_dump *g)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_REQ_BUF_SIZE];
	struct nlmsghdr *nlh = put_header(buf, sizeof(buf), hdr, type, NLM_F_REQUEST | NLM_F_DUMP,
					  next_seq(nl));

	if (!nlh)
		return -EINVAL;
	mnl_nlmsg_put_extra_header(nlh, hdr);   /* zeroed: every family, no filter */
	return nl_talk_cb(nl, buf, nlh->nlmsg_len, generic_dump_cb, g);
}

int nl_link_dump(struct nl_ctx *nl, int (*cb)(const struct nl_link_info *l, void *data), void *data)
{
	struct generic_dump g = { cb, NULL, data, 0 };

	return dump_request(nl, RTM_GETLINK, sizeof(struct ifinfomsg), &g);
}

int nl_addr_dump(struct nl_ctx *nl, int (*cb)(const struct nl_addr_info *a, void *data), void *data)
{
	struct generic_dump g = { NULL, cb, data, 0 };

	return dump_request(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), &g);
}
