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
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
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

/* The request functions refuse a closed context without touching memory. */
static void test_closed_ctx(void **state)
{
	struct nl_ctx nl = { 0 };
	struct ip_prefix p = prefix("10.0.0.1", 24);

	(void)state;
	assert_int_equal(nl_addr_add(&nl, 1, &p, NULL), -EBADF);
	assert_int_equal(nl_route_add(&nl, 1, &p, 0), -EBADF);
	assert_int_equal(nl_link_set(&nl, 0, 1400, true), -EINVAL);
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
		cmocka_unit_test(test_closed_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
