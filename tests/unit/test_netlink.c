/* tests/unit/test_netlink.c: the rtnetlink message builders, parsed back
 * attribute by attribute (no kernel involved). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
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
#include <cmocka.h>

#include "tunnel/netlink.h"

#define MAX_ATTR 64

struct attrs {
	const struct nlattr *tb[MAX_ATTR];
	int count;
	int dup;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(mnl_attr_type_valid(attr, MAX_ATTR - 1) > 0);
	if (a->tb[type])
		a->dup++;
	a->tb[type] = attr;
	a->count++;
	return MNL_CB_OK;
}

/* Validate the header and collect the attributes after the family header. */
static const struct nlmsghdr *parse(const void *buf, size_t len, size_t extra,
				    struct attrs *a)
{
	const struct nlmsghdr *nlh = buf;

	assert_true(len > 0);
	assert_true(mnl_nlmsg_ok(nlh, (int)len));
	assert_int_equal(nlh->nlmsg_len, len);
	assert_true(mnl_nlmsg_get_payload_len(nlh) >= extra);
	memset(a, 0, sizeof(*a));
	assert_int_equal(mnl_attr_parse(nlh, (unsigned)extra, collect_cb, a), MNL_CB_OK);
	assert_int_equal(a->dup, 0);
	return nlh;
}

static void assert_attr_bytes(const struct nlattr *attr, const void *want, size_t len)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_validate2(attr, MNL_TYPE_BINARY, len), 0);
	assert_int_equal(mnl_attr_get_payload_len(attr), len);
	assert_memory_equal(mnl_attr_get_payload(attr), want, len);
}

static void assert_attr_u32(const struct nlattr *attr, uint32_t want)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_U32), 0);
	assert_int_equal(mnl_attr_get_u32(attr), want);
}

static struct ip_prefix prefix(const char *s, uint8_t len)
{
	struct ip_prefix p;

	memset(&p, 0, sizeof(p));
	p.addr.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p.addr.family, s, p.addr.u.bytes), 1);
	p.len = len;
	return p;
}

static struct ip_addr addr(const char *s)
{
	return prefix(s, 0).addr;
}

#define BUF_ALIGNED(name) _Alignas(struct nlmsghdr) uint8_t name[NL_REQ_BUF_SIZE]

/* ---- addresses ---- */

static void test_addr_v4_peer(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix p = prefix("11.11.1.2", 30);
	struct ip_addr peer = addr("11.11.1.1");
	const uint8_t local_b[4] = { 11, 11, 1, 2 }, peer_b[4] = { 11, 11, 1, 1 };
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR,
			    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			    77, 5, &p, &peer);
	nlh = parse(buf, len, sizeof(*ifa), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(nlh->nlmsg_seq, 77);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 30);
	assert_int_equal(ifa->ifa_index, 5);
	assert_int_equal(ifa->ifa_flags, 0);
	assert_int_equal(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(a.count, 2);
	assert_attr_bytes(a.tb[IFA_LOCAL], local_b, 4);
	assert_attr_bytes(a.tb[IFA_ADDRESS], peer_b, 4);
}

static void test_addr_v4_no_peer(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix p = prefix("192.0.2.9", 24);
	struct ip_addr unspec = { .family = AF_UNSPEC };
	const uint8_t local_b[4] = { 192, 0, 2, 9 };
	const struct nlmsghdr *nlh;
	struct attrs a;
	size_t len;

	(void)state;
	/* NULL and AF_UNSPEC peers both mean IFA_ADDRESS = IFA_LOCAL */
	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, NLM_F_REQUEST, 1, 3, &p, NULL);
	parse(buf, len, sizeof(struct ifaddrmsg), &a);
	assert_int_equal(a.count, 2);
	assert_attr_bytes(a.tb[IFA_LOCAL], local_b, 4);
	assert_attr_bytes(a.tb[IFA_ADDRESS], local_b, 4);

	len = nl_build_addr(buf, sizeof(buf), RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK,
			    2, 3, &p, &unspec);
	nlh = parse(buf, len, sizeof(struct ifaddrmsg), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_DELADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(((const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_prefixlen, 24);
	assert_attr_bytes(a.tb[IFA_ADDRESS], local_b, 4);
}

static void test_addr_v6_peer(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix p = prefix("2001:db8:1::2", 64);
	struct ip_addr peer = addr("2001:db8:1::1");
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK,
			    9, 12, &p, &peer);
	nlh = parse(buf, len, sizeof(*ifa), &a);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(ifa->ifa_index, 12);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	assert_int_equal(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(a.count, 2);
	assert_attr_bytes(a.tb[IFA_LOCAL], p.addr.u.bytes, 16);
	assert_attr_bytes(a.tb[IFA_ADDRESS], peer.u.bytes, 16);
}

static void test_addr_ll6(void **state)
{
	BUF_ALIGNED(buf);
	const uint8_t iid[8] = { 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };
	struct ip_prefix p;
	struct ip_addr want = addr("fe80::211:22ff:fe33:4455");
	const struct ifaddrmsg *ifa;
	struct attrs a;
	size_t len;

	(void)state;
	nl_ll6_prefix(&p, iid);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.len, 64);
	assert_memory_equal(p.addr.u.bytes, want.u.bytes, 16);

	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, NLM_F_REQUEST, 1, 4, &p, NULL);
	ifa = mnl_nlmsg_get_payload(parse(buf, len, sizeof(*ifa), &a));
	assert_int_equal(ifa->ifa_scope, RT_SCOPE_LINK);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	assert_attr_bytes(a.tb[IFA_LOCAL], want.u.bytes, 16);
	assert_attr_bytes(a.tb[IFA_ADDRESS], want.u.bytes, 16);
}

static void test_addr_invalid(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix p4 = prefix("10.0.0.1", 24), p6 = prefix("2001:db8::1", 64);
	struct ip_prefix bad;
	struct ip_addr peer6 = addr("2001:db8::2");

	(void)state;
	bad = p4;
	bad.len = 33;
	assert_int_equal(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 1, 1, &bad, NULL), 0);
	bad = p6;
	bad.len = 129;
	assert_int_equal(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 1, 1, &bad, NULL), 0);
	bad = p4;
	bad.addr.family = AF_UNSPEC;
	assert_int_equal(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 1, 1, &bad, NULL), 0);
	/* peer of the other family */
	assert_int_equal(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 1, 1, &p4, &peer6), 0);
	/* no interface */
	assert_int_equal(nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 1, 0, &p4, NULL), 0);
	/* buffers too small: header only, and header but no room for IFA_ADDRESS */
	assert_int_equal(nl_build_addr(buf, 16, RTM_NEWADDR, 0, 1, 1, &p4, NULL), 0);
	assert_int_equal(nl_build_addr(buf, 16 + 8 + 8, RTM_NEWADDR, 0, 1, 1, &p4, NULL), 0);
	assert_int_equal(nl_build_addr(buf, 16 + 8 + 16, RTM_NEWADDR, 0, 1, 1, &p4, NULL), 16 + 8 + 16);
}

/* ---- routes ---- */

static void test_route_v4(void **state)
{
	BUF_ALIGNED(buf);
	/* host bits set on purpose: the builder clears them */
	struct ip_prefix p = prefix("10.99.3.7", 20);
	const uint8_t net[4] = { 10, 99, 0, 0 };
	const struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE,
			     NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			     41, 7, &p, 100);
	nlh = parse(buf, len, sizeof(*rtm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(nlh->nlmsg_seq, 41);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 20);
	assert_int_equal(rtm->rtm_src_len, 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_protocol, RTPROT_STATIC);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_int_equal(a.count, 3);
	assert_attr_bytes(a.tb[RTA_DST], net, 4);
	assert_attr_u32(a.tb[RTA_OIF], 7);
	assert_attr_u32(a.tb[RTA_PRIORITY], 100);
}

static void test_route_v6_no_metric(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix p = prefix("2001:db8:99:ffff::1", 51);
	struct ip_addr net = addr("2001:db8:99:e000::");
	const struct rtmsg *rtm;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, NLM_F_REQUEST, 1, 2, &p, 0);
	rtm = mnl_nlmsg_get_payload(parse(buf, len, sizeof(*rtm), &a));
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 51);
	assert_int_equal(a.count, 2);
	assert_attr_bytes(a.tb[RTA_DST], net.u.bytes, 16);
	assert_attr_u32(a.tb[RTA_OIF], 2);
	assert_null(a.tb[RTA_PRIORITY]);
}

static void test_route_del_and_default(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix def = prefix("0.0.0.0", 0), host = prefix("2001:db8::5", 128);
	const struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct attrs a;
	size_t len;

	(void)state;
	/* a default route carries no RTA_DST, like iproute2 */
	len = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, NLM_F_REQUEST, 1, 2, &def, 0);
	rtm = mnl_nlmsg_get_payload(parse(buf, len, sizeof(*rtm), &a));
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_null(a.tb[RTA_DST]);
	assert_attr_u32(a.tb[RTA_OIF], 2);

	/* deletion matches any scope but only our protocol */
	len = nl_build_route(buf, sizeof(buf), RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK,
			     3, 9, &host, 5);
	nlh = parse(buf, len, sizeof(*rtm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_DELROUTE);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(rtm->rtm_protocol, RTPROT_STATIC);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_dst_len, 128);
	assert_attr_bytes(a.tb[RTA_DST], host.addr.u.bytes, 16);
	assert_attr_u32(a.tb[RTA_OIF], 9);
	assert_attr_u32(a.tb[RTA_PRIORITY], 5);

	host.len = 129;
	assert_int_equal(nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, 0, 1, 2, &host, 0), 0);
	assert_int_equal(nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, 0, 1, 0, &def, 0), 0);
	assert_int_equal(nl_build_route(buf, 20, RTM_NEWROUTE, 0, 1, 2, &def, 0), 0);
}

/* ---- links ---- */

static void test_link_set(void **state)
{
	BUF_ALIGNED(buf);
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifi;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_link(buf, sizeof(buf), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK,
			    5, 8, NULL, 1400, 1);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 8);
	assert_int_equal(ifi->ifi_flags, IFF_UP | IFF_MULTICAST);
	assert_int_equal(ifi->ifi_change, IFF_UP | IFF_MULTICAST);
	assert_int_equal(a.count, 1);
	assert_attr_u32(a.tb[IFLA_MTU], 1400);

	/* down, MTU unchanged */
	len = nl_build_link(buf, sizeof(buf), RTM_NEWLINK, NLM_F_REQUEST, 6, 8, NULL, 0, 0);
	ifi = mnl_nlmsg_get_payload(parse(buf, len, sizeof(*ifi), &a));
	assert_int_equal(ifi->ifi_flags, IFF_MULTICAST);
	assert_int_equal(ifi->ifi_change, IFF_UP | IFF_MULTICAST);
	assert_int_equal(a.count, 0);
}

static void test_link_delete_by_name(void **state)
{
	BUF_ALIGNED(buf);
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifi;
	struct attrs a;
	size_t len;

	(void)state;
	len = nl_build_link(buf, sizeof(buf), RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK,
			    9, 0, "gre-site2", 0, -1);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_DELLINK);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_flags, 0);
	assert_int_equal(ifi->ifi_change, 0);
	assert_int_equal(a.count, 1);
	assert_non_null(a.tb[IFLA_IFNAME]);
	assert_int_equal(mnl_attr_validate(a.tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(a.tb[IFLA_IFNAME]), "gre-site2");

	/* no index and no name, empty name, name too long */
	assert_int_equal(nl_build_link(buf, sizeof(buf), RTM_DELLINK, 0, 1, 0, NULL, 0, -1), 0);
	assert_int_equal(nl_build_link(buf, sizeof(buf), RTM_DELLINK, 0, 1, 0, "", 0, -1), 0);
	assert_int_equal(nl_build_link(buf, sizeof(buf), RTM_DELLINK, 0, 1, 0,
				       "0123456789abcdef", 0, -1), 0);
	assert_int_equal(nl_build_link(buf, sizeof(buf), RTM_DELLINK, 0, 1, 0,
				       "0123456789abcde", 0, -1) > 0, 1);
}


/* ---- the kernel's GRE links ---- */

/* Attributes of a nested attribute, like parse() for a message. */
static void parse_nested(const struct nlattr *nest, struct attrs *a)
{
	assert_non_null(nest);
	assert_int_equal(mnl_attr_validate(nest, MNL_TYPE_NESTED), 0);
	memset(a, 0, sizeof(*a));
	assert_int_equal(mnl_attr_parse_nested(nest, collect_cb, a), MNL_CB_OK);
	assert_int_equal(a->dup, 0);
}

static void assert_attr_u8(const struct nlattr *attr, uint8_t want)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_U8), 0);
	assert_int_equal(mnl_attr_get_u8(attr), want);
}

static void assert_attr_str(const struct nlattr *attr, const char *want)
{
	assert_non_null(attr);
	assert_int_equal(mnl_attr_validate(attr, MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(attr), want);
}

static struct nl_gre_params gre_v4(void)
{
	struct nl_gre_params p;

	memset(&p, 0, sizeof(p));
	p.local = addr("22.22.22.22");
	p.remote = addr("33.33.33.33");
	p.ttl = 64;
	return p;
}

/* The whole message, byte by byte: what `ip link add gre1 type gre local
 * 22.22.22.22 remote 33.33.33.33 ttl 64 key 42 csum seq dev <3>` means. */
static void test_gre_link_v4_bytes(void **state)
{
	BUF_ALIGNED(buf);
	struct nl_gre_params p = gre_v4();
	static const uint8_t want[] = {
		/* nlmsghdr: len 148, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7, port 0 */
		0x94, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x06, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* ifinfomsg: AF_UNSPEC, index 0, flags 0, change 0 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* IFLA_IFNAME "gre1" */
		0x09, 0x00, 0x03, 0x00, 'g', 'r', 'e', '1', 0x00, 0x00, 0x00, 0x00,
		/* IFLA_MTU 1464 */
		0x08, 0x00, 0x04, 0x00, 0xb8, 0x05, 0x00, 0x00,
		/* IFLA_LINKINFO (nested) */
		0x60, 0x00, 0x12, 0x80,
		/*   IFLA_INFO_KIND "gre" */
		0x08, 0x00, 0x01, 0x00, 'g', 'r', 'e', 0x00,
		/*   IFLA_INFO_DATA (nested) */
		0x54, 0x00, 0x02, 0x80,
		/*     IFLA_GRE_LINK 3 */
		0x08, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
		/*     IFLA_GRE_IFLAGS, IFLA_GRE_OFLAGS: C|K|S, network order */
		0x06, 0x00, 0x02, 0x00, 0xb0, 0x00, 0x00, 0x00,
		0x06, 0x00, 0x03, 0x00, 0xb0, 0x00, 0x00, 0x00,
		/*     IFLA_GRE_IKEY, IFLA_GRE_OKEY 42, network order */
		0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x2a,
		0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x2a,
		/*     IFLA_GRE_LOCAL, IFLA_GRE_REMOTE */
		0x08, 0x00, 0x06, 0x00, 22, 22, 22, 22,
		0x08, 0x00, 0x07, 0x00, 33, 33, 33, 33,
		/*     IFLA_GRE_TTL 64, IFLA_GRE_TOS 0, IFLA_GRE_PMTUDISC 1 */
		0x05, 0x00, 0x08, 0x00, 0x40, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	size_t len;

	(void)state;
	p.has_ikey = p.has_okey = true;
	p.ikey = p.okey = 42;
	p.icsum = p.ocsum = p.iseq = p.oseq = true;
	p.link = 3;
	memset(buf, 0xee, sizeof(buf));
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
				7, 0, "gre1", 1464, &p);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Attribute by attribute: IPv4 gretap, separate keys, no options. */
static void test_gre_link_v4_attrs(void **state)
{
	BUF_ALIGNED(buf);
	struct nl_gre_params p = gre_v4();
	const uint8_t local_b[4] = { 22, 22, 22, 22 }, remote_b[4] = { 33, 33, 33, 33 };
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifi;
	struct attrs a, info, data;
	size_t len;

	(void)state;
	p.tap = true;
	p.has_ikey = true;
	p.ikey = 0x01020304;
	p.ttl = 0;              /* inherit */
	p.tos = -1;             /* inherit */
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
				8, 0, "gtap1", 0, &p);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(a.count, 2);            /* no IFLA_MTU */
	assert_attr_str(a.tb[IFLA_IFNAME], "gtap1");
	parse_nested(a.tb[IFLA_LINKINFO], &info);
	assert_int_equal(info.count, 2);
	assert_attr_str(info.tb[IFLA_INFO_KIND], "gretap");
	parse_nested(info.tb[IFLA_INFO_DATA], &data);
	assert_int_equal(data.count, 10);
	assert_attr_u32(data.tb[IFLA_GRE_LINK], 0);
	assert_int_equal(mnl_attr_get_u16(data.tb[IFLA_GRE_IFLAGS]), GRE_KEY);
	assert_int_equal(mnl_attr_get_u16(data.tb[IFLA_GRE_OFLAGS]), 0);
	assert_attr_u32(data.tb[IFLA_GRE_IKEY], htonl(0x01020304));
	assert_attr_u32(data.tb[IFLA_GRE_OKEY], 0);
	assert_attr_bytes(data.tb[IFLA_GRE_LOCAL], local_b, 4);
	assert_attr_bytes(data.tb[IFLA_GRE_REMOTE], remote_b, 4);
	assert_attr_u8(data.tb[IFLA_GRE_TTL], 0);
	assert_attr_u8(data.tb[IFLA_GRE_TOS], 1);     /* ip_gre's "inherit" */
	assert_attr_u8(data.tb[IFLA_GRE_PMTUDISC], 1);
	assert_null(data.tb[IFLA_GRE_FLAGS]);
	assert_null(data.tb[IFLA_GRE_FLOWINFO]);

	/* A fixed TOS goes as is, but never with the low (ECN) bit. */
	p.tos = 0xb9;
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST, 9, 0, "gtap1", 0, &p);
	parse(buf, len, sizeof(*ifi), &a);
	parse_nested(a.tb[IFLA_LINKINFO], &info);
	parse_nested(info.tb[IFLA_INFO_DATA], &data);
	assert_attr_u8(data.tb[IFLA_GRE_TOS], 0xb8);
}

/* IPv6: ip6gre and ip6gretap, traffic class and the encapsulation limit. */
static void test_gre_link_v6(void **state)
{
	BUF_ALIGNED(buf);
	struct nl_gre_params p;
	struct in6_addr l6, r6;
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifi;
	struct attrs a, info, data;
	size_t len;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.local = addr("2001:db8::1");
	p.remote = addr("2001:db8::2");
	p.ttl = 64;
	p.tos = 0x20;
	p.has_okey = true;
	p.okey = 7;
	p.ocsum = true;
	inet_pton(AF_INET6, "2001:db8::1", &l6);
	inet_pton(AF_INET6, "2001:db8::2", &r6);
	/* A change of link 12: no name, no create flags. */
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_ACK, 10, 12, NULL, 1452, &p);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 12);
	assert_null(a.tb[IFLA_IFNAME]);
	assert_attr_u32(a.tb[IFLA_MTU], 1452);
	parse_nested(a.tb[IFLA_LINKINFO], &info);
	assert_attr_str(info.tb[IFLA_INFO_KIND], "ip6gre");
	parse_nested(info.tb[IFLA_INFO_DATA], &data);
	assert_int_equal(data.count, 10);
	assert_attr_bytes(data.tb[IFLA_GRE_LOCAL], &l6, 16);
	assert_attr_bytes(data.tb[IFLA_GRE_REMOTE], &r6, 16);
	assert_int_equal(mnl_attr_get_u16(data.tb[IFLA_GRE_IFLAGS]), 0);
	assert_int_equal(mnl_attr_get_u16(data.tb[IFLA_GRE_OFLAGS]), GRE_KEY | GRE_CSUM);
	assert_attr_u32(data.tb[IFLA_GRE_OKEY], htonl(7));
	assert_attr_u8(data.tb[IFLA_GRE_TTL], 64);
	assert_attr_u32(data.tb[IFLA_GRE_FLOWINFO], htonl(0x20 << 20));
	assert_attr_u32(data.tb[IFLA_GRE_FLAGS], IP6_TNL_F_IGN_ENCAP_LIMIT);
	assert_null(data.tb[IFLA_GRE_TOS]);
	assert_null(data.tb[IFLA_GRE_PMTUDISC]);
	assert_null(data.tb[IFLA_GRE_ENCAP_LIMIT]);

	p.tap = true;
	p.tos = -1;
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST, 11, 0, "g6tap", 0, &p);
	parse(buf, len, sizeof(*ifi), &a);
	parse_nested(a.tb[IFLA_LINKINFO], &info);
	assert_attr_str(info.tb[IFLA_INFO_KIND], "ip6gretap");
	parse_nested(info.tb[IFLA_INFO_DATA], &data);
	assert_attr_u32(data.tb[IFLA_GRE_FLOWINFO], 0);
	assert_attr_u32(data.tb[IFLA_GRE_FLAGS], IP6_TNL_F_IGN_ENCAP_LIMIT | IP6_TNL_F_USE_ORIG_TCLASS);
}

static void test_gre_link_invalid(void **state)
{
	BUF_ALIGNED(buf);
	struct nl_gre_params p = gre_v4();
	const uint16_t f = NLM_F_REQUEST;

	(void)state;
	assert_string_equal(nl_gre_kind(&p), "gre");
	p.remote = addr("2001:db8::2");         /* families differ */
	assert_null(nl_gre_kind(&p));
	assert_int_equal(nl_build_gre_link(buf, sizeof(buf), f, 1, 0, "g", 0, &p), 0);
	p = gre_v4();
	memset(&p.local, 0, sizeof(p.local));
	memset(&p.remote, 0, sizeof(p.remote));
	assert_null(nl_gre_kind(&p));
	p = gre_v4();
	p.tos = 256;
	assert_int_equal(nl_build_gre_link(buf, sizeof(buf), f, 1, 0, "g", 0, &p), 0);
	p.tos = 0;
	assert_int_equal(nl_build_gre_link(buf, sizeof(buf), f, 1, 0, NULL, 0, &p), 0);
	assert_int_equal(nl_build_gre_link(buf, sizeof(buf), f, 1, -1, "g", 0, &p), 0);
	assert_int_equal(nl_build_gre_link(buf, sizeof(buf), f, 1, 0, "0123456789abcdef", 0, &p), 0);
	/* Every shorter buffer is refused, never overrun. */
	for (size_t n = 0; n < 148; n++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(nl_build_gre_link(buf, n, f, 1, 0, "gre1", 1476, &p), 0);
		for (size_t i = n; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee);
	}
	assert_int_equal(nl_build_gre_link(buf, 148, f, 1, 0, "gre1", 1476, &p), 148);
}

static void test_setlink(void **state)
{
	BUF_ALIGNED(buf);
	struct nl_link_attrs at = NL_LINK_ATTRS_NONE;
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifi;
	struct attrs a, spec, inet6;
	size_t len;

	(void)state;
	/* Nothing set: a request that changes nothing. */
	len = nl_build_setlink(buf, sizeof(buf), 3, 4, &at);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(a.count, 0);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 4);
	assert_int_equal(ifi->ifi_change, 0);

	at.mtu = 1400;
	at.flags = IFF_UP | IFF_NOARP | IFF_DEBUG;   /* IFF_DEBUG is outside change */
	at.change = IFF_UP | IFF_NOARP;
	at.alias = "gresec: to site B";
	at.operstate = IF_OPER_DORMANT;
	at.linkmode = IF_LINK_MODE_DORMANT;
	at.proto_down = 1;
	at.addrgenmode = IN6_ADDR_GEN_MODE_NONE;
	len = nl_build_setlink(buf, sizeof(buf), 3, 4, &at);
	nlh = parse(buf, len, sizeof(*ifi), &a);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_flags, IFF_UP | IFF_NOARP);
	assert_int_equal(ifi->ifi_change, IFF_UP | IFF_NOARP);
	assert_int_equal(a.count, 6);
	assert_attr_u32(a.tb[IFLA_MTU], 1400);
	assert_attr_str(a.tb[IFLA_IFALIAS], "gresec: to site B");
	assert_attr_u8(a.tb[IFLA_OPERSTATE], IF_OPER_DORMANT);
	assert_attr_u8(a.tb[IFLA_LINKMODE], IF_LINK_MODE_DORMANT);
	assert_attr_u8(a.tb[IFLA_PROTO_DOWN], 1);
	parse_nested(a.tb[IFLA_AF_SPEC], &spec);
	assert_int_equal(spec.count, 1);
	parse_nested(spec.tb[AF_INET6], &inet6);
	assert_int_equal(inet6.count, 1);
	assert_attr_u8(inet6.tb[IFLA_INET6_ADDR_GEN_MODE], IN6_ADDR_GEN_MODE_NONE);

	assert_int_equal(nl_build_setlink(buf, sizeof(buf), 3, 0, &at), 0);
	assert_int_equal(nl_build_setlink(buf, 40, 3, 4, &at), 0);
}

static void test_tc_drop(void **state)
{
	BUF_ALIGNED(buf);
	const struct nlmsghdr *nlh;
	const struct tcmsg *tcm;
	struct attrs a, opts, acts, act, aopts;
	const struct tc_gact *gact;
	size_t len;

	(void)state;
	len = nl_build_qdisc_clsact(buf, sizeof(buf), 5, 9);
	nlh = parse(buf, len, sizeof(*tcm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWQDISC);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	tcm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(tcm->tcm_ifindex, 9);
	assert_int_equal(tcm->tcm_parent, TC_H_CLSACT);
	assert_int_equal(tcm->tcm_handle, 0xffff0000u);
	assert_int_equal(a.count, 1);
	assert_attr_str(a.tb[TCA_KIND], "clsact");

	len = nl_build_ingress_drop(buf, sizeof(buf), 6, 9);
	nlh = parse(buf, len, sizeof(*tcm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWTFILTER);
	tcm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(tcm->tcm_ifindex, 9);
	assert_int_equal(tcm->tcm_parent, 0xfffffff2u);          /* clsact ingress */
	assert_int_equal(tcm->tcm_info, (1u << 16) | htons(ETH_P_ALL));
	assert_int_equal(a.count, 2);
	assert_attr_str(a.tb[TCA_KIND], "matchall");
	parse_nested(a.tb[TCA_OPTIONS], &opts);
	assert_int_equal(opts.count, 1);
	parse_nested(opts.tb[TCA_MATCHALL_ACT], &acts);
	assert_int_equal(acts.count, 1);
	parse_nested(acts.tb[1], &act);
	assert_int_equal(act.count, 2);
	assert_attr_str(act.tb[TCA_ACT_KIND], "gact");
	parse_nested(act.tb[TCA_ACT_OPTIONS], &aopts);
	assert_int_equal(aopts.count, 1);
	assert_non_null(aopts.tb[TCA_GACT_PARMS]);
	assert_int_equal(mnl_attr_get_payload_len(aopts.tb[TCA_GACT_PARMS]), sizeof(*gact));
	gact = mnl_attr_get_payload(aopts.tb[TCA_GACT_PARMS]);
	assert_int_equal(gact->action, TC_ACT_SHOT);

	assert_int_equal(nl_build_ingress_drop(buf, sizeof(buf), 6, 0), 0);
	assert_int_equal(nl_build_qdisc_clsact(buf, 30, 6, 9), 0);
}

/* A GETLINK reply as the kernel would send it, parsed back. */
static void test_parse_link(void **state)
{
	BUF_ALIGNED(buf);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info;
	struct nl_link_info li;
	uint64_t st[24];

	(void)state;
	for (unsigned i = 0; i < 24; i++)
		st[i] = 1000 + i;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 17;
	ifi->ifi_flags = IFF_UP | IFF_POINTOPOINT;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "gre1");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1476);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, IF_OPER_DORMANT);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, "gresec: x");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "gre");
	mnl_attr_nest_end(nlh, info);
	mnl_attr_put(nlh, IFLA_STATS64, sizeof(st), st);   /* longer than ours: newer kernel */
	assert_int_equal(nl_parse_link(nlh, &li), 0);
	assert_int_equal(li.ifindex, 17);
	assert_int_equal(li.flags, IFF_UP | IFF_POINTOPOINT);
	assert_string_equal(li.name, "gre1");
	assert_string_equal(li.kind, "gre");
	assert_string_equal(li.alias, "gresec: x");
	assert_int_equal(li.mtu, 1476);
	assert_int_equal(li.operstate, IF_OPER_DORMANT);
	assert_true(li.has_stats);
	assert_int_equal(li.stats.rx_packets, 1000);
	assert_int_equal(li.stats.tx_packets, 1001);
	assert_int_equal(li.stats.rx_bytes, 1002);
	assert_int_equal(li.stats.tx_bytes, 1003);
	assert_int_equal(li.stats.rx_crc_errors, 1012);
	assert_int_equal(li.stats.rx_fifo_errors, 1014);
	assert_int_equal(li.stats.tx_carrier_errors, 1017);
	assert_int_equal(li.stats.tx_window_errors, 1020);

	/* A notification of a link that is gone parses too. */
	nlh->nlmsg_type = RTM_DELLINK;
	assert_int_equal(nl_parse_link(nlh, &li), 0);
	assert_int_equal(li.ifindex, 17);
	nlh->nlmsg_type = RTM_GETLINK;
	assert_int_equal(nl_parse_link(nlh, &li), -EINVAL);
}

/* IFLA_ADDRESS: set by setlink, read back by the parser (a GETLINK reply
 * carries it the same way); a gretap link is created with it. */
static void test_link_mac(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	BUF_ALIGNED(buf);
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	struct nl_link_info li;
	struct nl_gre_params gp;
	struct attrs at;
	size_t len;

	(void)state;
	a.mac = mac;
	len = nl_build_setlink(buf, sizeof(buf), 5, 9, &a);
	parse(buf, len, sizeof(struct ifinfomsg), &at);
	assert_attr_bytes(at.tb[IFLA_ADDRESS], mac, 6);
	assert_int_equal(nl_parse_link((struct nlmsghdr *)buf, &li), 0);
	assert_true(li.has_hwaddr);
	assert_memory_equal(li.hwaddr, mac, 6);

	memset(&gp, 0, sizeof(gp));
	gp.local = addr("10.0.0.1");
	gp.remote = addr("10.0.0.2");
	gp.tap = true;
	gp.has_mac = true;
	memcpy(gp.mac, mac, 6);
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_CREATE, 1, 0, "gtap1", 0, &gp);
	parse(buf, len, sizeof(struct ifinfomsg), &at);
	assert_attr_bytes(at.tb[IFLA_ADDRESS], mac, 6);
	gp.tap = false;     /* an L3 link has no MAC */
	len = nl_build_gre_link(buf, sizeof(buf), NLM_F_REQUEST | NLM_F_CREATE, 1, 0, "gre1", 0, &gp);
	parse(buf, len, sizeof(struct ifinfomsg), &at);
	assert_null(at.tb[IFLA_ADDRESS]);
}

/* Address notifications: what nl_build_addr sends comes back parsed. */
static void test_parse_addr(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix a4 = prefix("11.1.1.1", 30), a6 = prefix("fd13::1", 64);
	struct ip_addr peer = addr("11.1.1.2");
	struct nl_addr_info ai;
	size_t len;

	(void)state;
	len = nl_build_addr(buf, sizeof(buf), RTM_DELADDR, 0, 0, 7, &a4, &peer);
	assert_true(len > 0);
	assert_int_equal(nl_parse_addr((struct nlmsghdr *)buf, &ai), 0);
	assert_int_equal(ai.ifindex, 7);
	assert_int_equal(ai.prefixlen, 30);
	assert_int_equal(ai.local.family, AF_INET);
	assert_memory_equal(ai.local.u.bytes, a4.addr.u.bytes, 4);
	assert_memory_equal(ai.address.u.bytes, peer.u.bytes, 4);

	len = nl_build_addr(buf, sizeof(buf), RTM_NEWADDR, 0, 0, 8, &a6, NULL);
	assert_int_equal(nl_parse_addr((struct nlmsghdr *)buf, &ai), 0);
	assert_int_equal(ai.ifindex, 8);
	assert_int_equal(ai.prefixlen, 64);
	assert_int_equal(ai.local.family, AF_INET6);
	assert_memory_equal(ai.local.u.bytes, a6.addr.u.bytes, 16);

	/* IPv6 notifications carry IFA_ADDRESS only: it is the local one. */
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ifaddrmsg *ifa;

		nlh->nlmsg_type = RTM_NEWADDR;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET6;
		ifa->ifa_prefixlen = 64;
		ifa->ifa_index = 3;
		mnl_attr_put(nlh, IFA_ADDRESS, 16, a6.addr.u.bytes);
		assert_int_equal(nl_parse_addr(nlh, &ai), 0);
		assert_memory_equal(ai.local.u.bytes, a6.addr.u.bytes, 16);
		ifa->ifa_family = AF_PACKET;
		assert_int_equal(nl_parse_addr(nlh, &ai), -EINVAL);
		nlh->nlmsg_type = RTM_NEWROUTE;
		assert_int_equal(nl_parse_addr(nlh, &ai), -EINVAL);
	}
}

/* Route notifications, the dump by link and the lookup. */
static void test_parse_route(void **state)
{
	BUF_ALIGNED(buf);
	struct ip_prefix r4 = prefix("192.168.9.0", 24), def6 = prefix("::", 0);
	struct nl_route_info ri;
	struct rtmsg *rtm;
	struct attrs at;
	size_t len;

	(void)state;
	len = nl_build_route(buf, sizeof(buf), RTM_DELROUTE, 0, 0, 12, &r4, 200);
	assert_true(len > 0);
	assert_int_equal(nl_parse_route((struct nlmsghdr *)buf, &ri), 0);
	assert_int_equal(ri.dst.family, AF_INET);
	assert_int_equal(ri.dst_len, 24);
	assert_memory_equal(ri.dst.u.bytes, r4.addr.u.bytes, 4);
	assert_int_equal(ri.oif, 12);
	assert_int_equal(ri.table, RT_TABLE_MAIN);
	assert_int_equal(ri.priority, 200);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_int_equal(ri.protocol, RTPROT_STATIC);
	assert_false(ri.multipath);

	len = nl_build_route(buf, sizeof(buf), RTM_NEWROUTE, 0, 0, 4, &def6, 0);
	assert_int_equal(nl_parse_route((struct nlmsghdr *)buf, &ri), 0);
	assert_int_equal(ri.dst.family, AF_INET6);
	assert_int_equal(ri.dst_len, 0);
	assert_int_equal(ri.oif, 4);

	rtm = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
	rtm->rtm_dst_len = 129;
	assert_int_equal(nl_parse_route((struct nlmsghdr *)buf, &ri), -EINVAL);

	len = nl_build_route_dump(buf, sizeof(buf), 3, AF_INET6, 9);
	parse(buf, len, sizeof(struct rtmsg), &at);
	assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	rtm = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_attr_u32(at.tb[RTA_OIF], 9);
	assert_int_equal(nl_build_route_dump(buf, sizeof(buf), 3, AF_PACKET, 9), 0);

	{
		struct ip_addr a = addr("192.168.9.0");

		len = nl_build_route_lookup(buf, sizeof(buf), 4, &a);
		parse(buf, len, sizeof(struct rtmsg), &at);
		rtm = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
		assert_int_equal(rtm->rtm_dst_len, 32);   /* strict checking: a full length */
		assert_true(rtm->rtm_flags & RTM_F_FIB_MATCH);
		assert_attr_bytes(at.tb[RTA_DST], a.u.bytes, 4);
	}
}

/* The request functions refuse a closed context without touching memory. */
static void test_closed_ctx(void **state)
{
	struct nl_ctx nl = { 0 };
	struct ip_prefix p = prefix("10.0.0.1", 24);

	(void)state;
	assert_int_equal(nl_addr_add(&nl, 1, &p, NULL), -EBADF);
	assert_int_equal(nl_route_add(&nl, 1, &p, 0), -EBADF);
	assert_int_equal(nl_link_set(&nl, 0, 1400, true), -EINVAL);
	assert_int_equal(nl_link_mtu(&nl, 0, 1400), -EINVAL);
	assert_int_equal(nl_link_mtu(&nl, 3, 0), -EINVAL);
	assert_int_equal(nl_link_mtu(&nl, 3, 1400), -EBADF);
	assert_int_equal(nl_link_delete(&nl, 0), -EINVAL);
	assert_int_equal(nl_link_delete(&nl, 3), -EBADF);
	assert_int_equal(nl_link_drop_ingress(&nl, 3), -EBADF);
	{
		struct nl_link_info li;
		struct nl_gre_params gp = gre_v4();

		assert_int_equal(nl_link_get(&nl, 0, NULL, &li), -EINVAL);
		assert_int_equal(nl_link_get(&nl, 3, NULL, &li), -EBADF);
		assert_int_equal(nl_gre_link_create(&nl, "gre1", 0, &gp, NULL), -EBADF);
		assert_int_equal(nl_gre_link_change(&nl, 0, &gp), -EINVAL);
	}
	nl_close(&nl);
	assert_null(nl.sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_v4_peer),
		cmocka_unit_test(test_addr_v4_no_peer),
		cmocka_unit_test(test_addr_v6_peer),
		cmocka_unit_test(test_addr_ll6),
		cmocka_unit_test(test_addr_invalid),
		cmocka_unit_test(test_route_v4),
		cmocka_unit_test(test_route_v6_no_metric),
		cmocka_unit_test(test_route_del_and_default),
		cmocka_unit_test(test_link_set),
		cmocka_unit_test(test_link_delete_by_name),
		cmocka_unit_test(test_gre_link_v4_bytes),
		cmocka_unit_test(test_gre_link_v4_attrs),
		cmocka_unit_test(test_gre_link_v6),
		cmocka_unit_test(test_gre_link_invalid),
		cmocka_unit_test(test_setlink),
		cmocka_unit_test(test_tc_drop),
		cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_link_mac),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_route),
		cmocka_unit_test(test_closed_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
