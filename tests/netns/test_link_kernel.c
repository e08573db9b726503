/* tests/netns/test_link_kernel.c: tun.c, netlink.c and sock.c against the
 * real kernel, inside a private network namespace.
 *
 * Needs root (CAP_NET_ADMIN, CAP_NET_RAW) and /dev/net/tun; exits 77 (skip)
 * otherwise.  Everything done here is read back independently with
 * rtnetlink dumps, and disappears with the namespace when the test ends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* unshare */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if.h>          /* IF_OPER_*, after net/if.h */
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "tunnel/netlink.h"
#include "tunnel/sock.h"
#include "tunnel/tun.h"
#include "tunnel/wire.h"

/* ---- small helpers ---- */

static struct ip_addr ip(const char *s)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.u.bytes), 1);
	return a;
}

static struct ip_prefix pfx(const char *s, uint8_t len)
{
	struct ip_prefix p = { .addr = ip(s), .len = len };

	return p;
}

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static struct pkt *pkt_new(void)
{
	struct pkt *p = malloc(sizeof(*p));

	assert_non_null(p);
	pkt_reset(p);
	return p;
}

/* ---- independent read-back through rtnetlink dumps ---- */

struct link_info {
	unsigned flags;
	unsigned short type;
	uint32_t mtu;
	int carrier;            /* -1: attribute absent */
};

struct addr_rec {
	int family;
	uint8_t prefixlen, flags, scope;
	bool has_local, has_address;
	uint8_t local[16], address[16];
};

struct route_rec {
	int family;
	uint8_t dst_len, protocol, scope, table, type;
	bool has_dst;
	uint8_t dst[16];
	uint32_t oif, priority;
};

enum { MAX_RECS = 64 };

struct dump {
	int ifindex;
	struct link_info link;
	struct addr_rec addrs[MAX_RECS];
	struct route_rec routes[MAX_RECS];
	unsigned n;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (ifi->ifi_index != d->ifindex)
		return MNL_CB_OK;
	d->link.flags = ifi->ifi_flags;
	d->link.type = ifi->ifi_type;
	d->link.carrier = -1;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(attr) == IFLA_MTU &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			d->link.mtu = mnl_attr_get_u32(attr);
		if (mnl_attr_get_type(attr) == IFLA_CARRIER &&
		    mnl_attr_validate(attr, MNL_TYPE_U8) == 0)
			d->link.carrier = mnl_attr_get_u8(attr);
	}
	d->n++;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct addr_rec *r;

	if ((int)ifa->ifa_index != d->ifindex || d->n >= MAX_RECS)
		return MNL_CB_OK;
	r = &d->addrs[d->n++];
	memset(r, 0, sizeof(*r));
	r->family = ifa->ifa_family;
	r->prefixlen = ifa->ifa_prefixlen;
	r->flags = ifa->ifa_flags;
	r->scope = ifa->ifa_scope;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		uint16_t t = mnl_attr_get_type(attr);

		if (mnl_attr_get_payload_len(attr) != alen(r->family))
			continue;
		if (t == IFA_LOCAL) {
			r->has_local = true;
			memcpy(r->local, mnl_attr_get_payload(attr), alen(r->family));
		} else if (t == IFA_ADDRESS) {
			r->has_address = true;
			memcpy(r->address, mnl_attr_get_payload(attr), alen(r->family));
		}
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	struct route_rec r;

	memset(&r, 0, sizeof(r));
	r.family = rtm->rtm_family;
	r.dst_len = rtm->rtm_dst_len;
	r.protocol = rtm->rtm_protocol;
	r.scope = rtm->rtm_scope;
	r.table = rtm->rtm_table;
	r.type = rtm->rtm_type;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(attr)) {
		case RTA_DST:
			if (mnl_attr_get_payload_len(attr) == alen(r.family)) {
				r.has_dst = true;
				memcpy(r.dst, mnl_attr_get_payload(attr), alen(r.family));
			}
			break;
		case RTA_OIF:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				r.oif = mnl_attr_get_u32(attr);
			break;
		case RTA_PRIORITY:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				r.priority = mnl_attr_get_u32(attr);
			break;
		case RTA_TABLE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				r.table = (uint8_t)mnl_attr_get_u32(attr);
			break;
		}
	}
	if ((int)r.oif == d->ifindex && d->n < MAX_RECS)
		d->routes[d->n++] = r;
	return MNL_CB_OK;
}

/* Dump (or get) type for family and run cb on each reply. */
static void dump(uint16_t type, int family, int ifindex, mnl_cb_t cb, struct dump *d)
{
	_Alignas(struct nlmsghdr) uint8_t buf[32768];
	struct mnl_socket *s;
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	uint32_t seq = 4242, portid;
	ssize_t n;
	int ret;

	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	s = mnl_socket_open(NETLINK_ROUTE);
	assert_non_null(s);
	assert_int_equal(mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(s);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
	} else {
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->rtgen_family = (uint8_t)family;
	}
	assert_true(mnl_socket_sendto(s, nlh, nlh->nlmsg_len) > 0);
	do {
		n = mnl_socket_recvfrom(s, buf, sizeof(buf));
		assert_true(n > 0);
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, d);
	} while (ret > MNL_CB_STOP);
	assert_int_equal(ret, MNL_CB_STOP);
	mnl_socket_close(s);
}

static struct link_info get_link(int ifindex)
{
	static struct dump d;

	dump(RTM_GETLINK, AF_UNSPEC, ifindex, link_cb, &d);
	assert_int_equal(d.n, 1);
	return d.link;
}

static const struct addr_rec *find_addr(struct dump *d, int ifindex,
					const struct ip_prefix *p)
{
	unsigned i;

	dump(RTM_GETADDR, p->addr.family, ifindex, addr_cb, d);
	for (i = 0; i < d->n; i++) {
		const struct addr_rec *r = &d->addrs[i];
		const uint8_t *local = r->has_local ? r->local : r->address;

		if (r->family == p->addr.family && r->prefixlen == p->len &&
		    memcmp(local, p->addr.u.bytes, alen(r->family)) == 0)
			return r;
	}
	return NULL;
}

static const struct route_rec *find_route(struct dump *d, int ifindex,
					  const struct ip_prefix *p)
{
	unsigned i;

	dump(RTM_GETROUTE, p->addr.family, ifindex, route_cb, d);
	for (i = 0; i < d->n; i++) {
		const struct route_rec *r = &d->routes[i];

		if (r->family == p->addr.family && r->dst_len == p->len &&
		    r->has_dst && memcmp(r->dst, p->addr.u.bytes, alen(r->family)) == 0)
			return r;
	}
	return NULL;
}

/* ---- fixtures ---- */

struct env {
	struct nl_ctx nl;
	int fd;
	int ifindex;
	char name[IFNAMSIZ];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e || nl_open(&e->nl) != 0)
		return -1;
	e->fd = tun_open("gst0", false, e->name);
	if (e->fd < 0)
		return -1;
	e->ifindex = (int)if_nametoindex(e->name);
	if (e->ifindex <= 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->fd);
	nl_close(&e->nl);
	free(e);
	return 0;
}

/* ---- tests ---- */

static void test_tun_open(void **state)
{
	char name[IFNAMSIZ];
	struct link_info li;
	int fd, fd2, idx;

	(void)state;
	fd = tun_open("gstun9", false, name);
	assert_true(fd >= 0);
	assert_string_equal(name, "gstun9");
	idx = (int)if_nametoindex(name);
	assert_true(idx > 0);
	li = get_link(idx);
	assert_int_equal(li.type, ARPHRD_NONE);
	assert_true(li.flags & IFF_POINTOPOINT);
	assert_true(li.flags & IFF_NOARP);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* taken: attached TUN, TUN asked as TAP, and a non-tun interface */
	assert_int_equal(tun_open("gstun9", false, NULL), -EBUSY);
	assert_int_equal(tun_open("gstun9", true, NULL), -EEXIST);
	assert_int_equal(tun_open("lo", false, NULL), -EEXIST);
	assert_int_equal(tun_open("lo", true, NULL), -EEXIST);
	assert_int_equal(tun_open("0123456789abcdef", false, NULL), -EINVAL);

	/* not persistent: gone with the fd */
	close(fd);
	assert_int_equal(if_nametoindex("gstun9"), 0);

	/* TAP, and a kernel-chosen name */
	fd = tun_open("gstap9", true, name);
	assert_true(fd >= 0);
	li = get_link((int)if_nametoindex(name));
	assert_int_equal(li.type, ARPHRD_ETHER);
	fd2 = tun_open(NULL, false, name);
	assert_true(fd2 >= 0);
	assert_memory_equal(name, "tun", 3);
	assert_true(if_nametoindex(name) > 0);
	close(fd2);
	close(fd);
	assert_int_equal(if_nametoindex("gstap9"), 0);
}

static void test_link_set_carrier(void **state)
{
	struct env *e = *state;
	struct link_info li;
	int err;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	li = get_link(e->ifindex);
	assert_int_equal(li.mtu, 1400);
	assert_true(li.flags & IFF_UP);
	assert_true(li.flags & IFF_MULTICAST);
	assert_true(li.flags & IFF_POINTOPOINT);

	err = tun_set_carrier(e->fd, false);
	if (err == 0) {
		assert_int_equal(get_link(e->ifindex).carrier, 0);
		assert_int_equal(tun_set_carrier(e->fd, true), 0);
		assert_int_equal(get_link(e->ifindex).carrier, 1);
	} else {
		print_message("TUNSETCARRIER unsupported here: %s\n", strerror(-err));
	}

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 0, false), 0);
	li = get_link(e->ifindex);
	assert_false(li.flags & IFF_UP);
	assert_int_equal(li.mtu, 1400);   /* 0 left it alone */

	/* the kernel's refusal comes back as -errno */
	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 20, true), -EINVAL);
	assert_int_equal(nl_link_set(&e->nl, 999999, 1400, true), -ENODEV);
}

static void check_addr(struct env *e, const struct ip_prefix *p,
		       const struct ip_addr *peer)
{
	static struct dump d;
	const struct addr_rec *r;
	const uint8_t *local, *remote;

	r = find_addr(&d, e->ifindex, p);
	assert_non_null(r);
	if (p->addr.family == AF_INET6)
		assert_true(r->flags & IFA_F_NODAD);
	local = r->has_local ? r->local : r->address;
	remote = r->address;
	assert_memory_equal(local, p->addr.u.bytes, alen(p->addr.family));
	assert_true(r->has_address);
	assert_memory_equal(remote, peer ? peer->u.bytes : p->addr.u.bytes,
			    alen(p->addr.family));
}

static void test_addresses(void **state)
{
	struct env *e = *state;
	struct ip_prefix a4 = pfx("11.11.1.2", 30), a6 = pfx("2001:db8:1::2", 64);
	struct ip_prefix b4 = pfx("198.51.100.7", 24), ll;
	struct ip_addr p4 = ip("11.11.1.1"), p6 = ip("2001:db8:1::1");
	const uint8_t iid[8] = { 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };
	static struct dump d;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a4, &p4), 0);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a6, &p6), 0);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &b4, NULL), 0);
	assert_int_equal(nl_addr_add_ll6(&e->nl, e->ifindex, iid), 0);
	check_addr(e, &a4, &p4);
	check_addr(e, &a6, &p6);
	check_addr(e, &b4, NULL);
	nl_ll6_prefix(&ll, iid);
	check_addr(e, &ll, NULL);
	assert_int_equal(find_addr(&d, e->ifindex, &ll)->scope, RT_SCOPE_LINK);

	/* EXCL: a second add reports -EEXIST */
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a4, &p4), -EEXIST);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a6, &p6), -EEXIST);
	assert_int_equal(nl_addr_add_ll6(&e->nl, e->ifindex, iid), -EEXIST);

	/* the kernel made the point-to-point route to the peer's prefix */
	{
		struct ip_prefix net = pfx("11.11.1.0", 30);

		assert_non_null(find_route(&d, e->ifindex, &net));
	}

	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &a4, &p4), 0);
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &a6, &p6), 0);
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &b4, NULL), 0);
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &ll, NULL), 0);
	assert_null(find_addr(&d, e->ifindex, &a4));
	assert_null(find_addr(&d, e->ifindex, &a6));
	assert_null(find_addr(&d, e->ifindex, &b4));
	assert_null(find_addr(&d, e->ifindex, &ll));
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &a4, &p4), -EADDRNOTAVAIL);
	assert_true(nl_addr_del(&e->nl, e->ifindex, &a6, &p6) < 0);
}

static void test_routes(void **state)
{
	struct env *e = *state;
	struct ip_prefix r4 = pfx("10.99.0.0", 16), r6 = pfx("2001:db8:99::", 48);
	struct ip_prefix h4 = pfx("10.98.7.7", 32);
	static struct dump d;
	const struct route_rec *r;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r4, 100), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r6, 0), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &h4, 0), 0);

	r = find_route(&d, e->ifindex, &r4);
	assert_non_null(r);
	assert_int_equal(r->protocol, RTPROT_STATIC);
	assert_int_equal(r->scope, RT_SCOPE_LINK);
	assert_int_equal(r->table, RT_TABLE_MAIN);
	assert_int_equal(r->type, RTN_UNICAST);
	assert_int_equal(r->priority, 100);
	r = find_route(&d, e->ifindex, &r6);
	assert_non_null(r);
	assert_int_equal(r->protocol, RTPROT_STATIC);
	assert_int_equal(r->table, RT_TABLE_MAIN);
	assert_non_null(find_route(&d, e->ifindex, &h4));

	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r4, 100), -EEXIST);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r6, 0), -EEXIST);

	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r4, 100), 0);
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r6, 0), 0);
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &h4, 0), 0);
	assert_null(find_route(&d, e->ifindex, &r4));
	assert_null(find_route(&d, e->ifindex, &r6));
	assert_null(find_route(&d, e->ifindex, &h4));
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r4, 100), -ESRCH);
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r6, 0), -ESRCH);
}

static void wait_fd(int fd);

struct found {
	struct ip_prefix want;
	int n, oif;
};

static int found_cb(const struct nl_route_info *r, void *data)
{
	struct found *f = data;

	if (r->dst_len == f->want.len &&
	    memcmp(r->dst.u.bytes, f->want.addr.u.bytes, alen(r->dst.family)) == 0) {
		f->n++;
		f->oif = r->oif;
	}
	return 0;
}

/* The routes through one link, as gresecd looks for its own routes, and
 * the route the kernel would use for an address (who holds a prefix). */
static void test_route_dump_lookup(void **state)
{
	struct env *e = *state;
	struct ip_prefix r4 = pfx("10.97.0.0", 16), r6 = pfx("2001:db8:97::", 48);
	struct ip_addr in4 = ip("10.97.1.1"), in6 = ip("2001:db8:97::5"), off = ip("10.1.2.3");
	struct found f = { .want = r4 };
	struct nl_route_info ri;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r4, 0), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r6, 0), 0);
	assert_int_equal(nl_route_dump(&e->nl, AF_INET, e->ifindex, found_cb, &f), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.oif, e->ifindex);
	f = (struct found){ .want = r6 };
	assert_int_equal(nl_route_dump(&e->nl, AF_INET6, e->ifindex, found_cb, &f), 0);
	assert_int_equal(f.n, 1);
	f = (struct found){ .want = r4 };
	assert_int_equal(nl_route_dump(&e->nl, AF_INET, e->ifindex + 1000, found_cb, &f), 0);
	assert_int_equal(f.n, 0);

	assert_int_equal(nl_route_lookup(&e->nl, &in4, &ri), 0);
	assert_int_equal(ri.oif, e->ifindex);
	assert_int_equal(ri.dst_len, 16);
	assert_memory_equal(ri.dst.u.bytes, r4.addr.u.bytes, 4);
	assert_int_equal(nl_route_lookup(&e->nl, &in6, &ri), 0);
	assert_int_equal(ri.oif, e->ifindex);
	assert_int_equal(ri.dst_len, 48);
	assert_int_not_equal(nl_route_lookup(&e->nl, &off, &ri), 0);   /* no default route here */
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r4, 0), 0);
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r6, 0), 0);
}

/* Notifications: a route, an address and the link going away are told
 * on a watch socket. */
static void test_watch(void **state)
{
	struct env *e = *state;
	struct nl_ctx w;
	struct ip_prefix a4 = pfx("10.96.0.1", 24), r4 = pfx("10.95.0.0", 16);
	_Alignas(struct nlmsghdr) uint8_t buf[32768];
	bool del_addr = false, del_route = false, new_link_down = false;
	int fd;

	assert_int_equal(nl_watch_open(&w, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE,
				       1 << 20), 0);
	fd = mnl_socket_get_fd(w.sock);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a4, NULL), 0);
	assert_int_equal(nl_route_add(&e->nl, e->ifindex, &r4, 0), 0);
	assert_int_equal(nl_route_del(&e->nl, e->ifindex, &r4, 0), 0);
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &a4, NULL), 0);
	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 0, false), 0);
	for (int rounds = 0; rounds < 50 && !(del_addr && del_route && new_link_down); rounds++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *nlh;

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			wait_fd(fd);
			continue;
		}
		for (nlh = (const void *)buf; mnl_nlmsg_ok(nlh, (int)n); nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			struct nl_addr_info ai;
			struct nl_route_info ri;
			struct nl_link_info li;

			if (nlh->nlmsg_type == RTM_DELADDR && nl_parse_addr(nlh, &ai) == 0 &&
			    ai.ifindex == e->ifindex && ai.prefixlen == 24)
				del_addr = true;
			if (nlh->nlmsg_type == RTM_DELROUTE && nl_parse_route(nlh, &ri) == 0 &&
			    ri.oif == e->ifindex && ri.dst_len == 16)
				del_route = true;
			if (nlh->nlmsg_type == RTM_NEWLINK && nl_parse_link(nlh, &li) == 0 &&
			    li.ifindex == e->ifindex && !(li.flags & IFF_UP))
				new_link_down = true;
		}
	}
	assert_true(del_addr);
	assert_true(del_route);
	assert_true(new_link_down);
	nl_close(&w);
}

static uint16_t csum(const uint8_t *d, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += load_be16(d + i);
	if (len & 1)
		s += (uint32_t)d[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void wait_fd(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 2000), 1);
}

/* Packets through the device both ways; one above its MTU is fragmented. */
static void test_tun_io(void **state)
{
	struct env *e = *state;
	struct ip_prefix a4 = pfx("11.11.1.2", 30);
	struct ip_addr p4 = ip("11.11.1.1");
	union sockaddr_inet to, bound;
	struct pkt *p = pkt_new(), *burst[4];
	uint8_t *h, rbuf[64], big[1472];
	int s, i, n, frags = 0;
	ssize_t r;
	size_t frag_bytes = 0;
	bool found = false;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	assert_int_equal(nl_addr_add(&e->nl, e->ifindex, &a4, &p4), 0);

	/* kernel -> device: a datagram to the peer comes out of tun_read */
	s = sock_open_udp(AF_INET, &a4.addr, 0, NULL);
	assert_true(s >= 0);
	assert_int_equal(sock_local_addr(s, &bound), 0);
	assert_int_equal(sockaddr_from_ip(&to, &p4, 9), 0);
	assert_int_equal(sendto(s, "ping", 4, 0, &to.sa, sizeof(to.in)), 4);
	for (i = 0; i < 20 && !found; i++) {
		wait_fd(e->fd);
		r = tun_read(e->fd, p);
		assert_true(r > 0);
		assert_int_equal(p->off, PKT_HEADROOM);
		assert_int_equal(p->len, (size_t)r);
		h = pkt_data(p);
		/* skip IPv6 chatter (MLD, RS) the kernel sends on its own */
		if (r != 32 || h[0] != 0x45 || h[9] != 17)
			continue;
		found = true;
		assert_int_equal(load_be16(h + 2), 32);
		assert_int_equal(load_be16(h + 6) & 0x4000, 0);          /* no DF */
		assert_memory_equal(h + 12, a4.addr.u.bytes, 4);
		assert_memory_equal(h + 16, p4.u.bytes, 4);
		assert_int_equal(load_be16(h + 22), 9);
		assert_memory_equal(h + 28, "ping", 4);
	}
	assert_true(found);

	/* 1500 bytes on the wire through a 1400-byte device: the kernel
	 * fragments (no DF, tunnel/sock.c) instead of refusing the send. */
	memset(big, 0x5a, sizeof(big));
	assert_int_equal(sendto(s, big, sizeof(big), 0, &to.sa, sizeof(to.in)), (ssize_t)sizeof(big));
	for (i = 0; i < 20 && frags < 2; i++) {
		uint16_t frag;

		wait_fd(e->fd);
		r = tun_read(e->fd, p);
		h = pkt_data(p);
		if (r < 20 || h[0] != 0x45 || h[9] != 17)
			continue;
		frag = load_be16(h + 6);
		assert_true(r <= 1400);
		assert_int_equal(frag & 0x4000, 0);                      /* no DF */
		/* the first fragment has MF set, the last does not */
		assert_int_equal(!!(frag & 0x2000), (frag & 0x1fff) == 0);
		frag_bytes += (size_t)r - 20;
		frags++;
	}
	assert_int_equal(frags, 2);
	assert_int_equal(frag_bytes, 8 + sizeof(big));

	/* device -> kernel: a datagram from the peer written with tun_write */
	pkt_reset(p);
	h = pkt_data(p);
	memset(h, 0, 33);
	h[0] = 0x45;
	store_be16(h + 2, 33);
	h[8] = 64;
	h[9] = 17;
	memcpy(h + 12, p4.u.bytes, 4);
	memcpy(h + 16, a4.addr.u.bytes, 4);
	store_be16(h + 10, csum(h, 20));
	store_be16(h + 20, 4321);
	store_be16(h + 22, ntohs(bound.in.sin_port));
	store_be16(h + 24, 13);          /* UDP checksum 0: none */
	memcpy(h + 28, "hello", 5);
	p->len = 33;
	assert_int_equal(tun_write(e->fd, p), 33);
	wait_fd(s);
	assert_int_equal(recv(s, rbuf, sizeof(rbuf), 0), 5);
	assert_memory_equal(rbuf, "hello", 5);

	/* a burst read stops at "nothing waiting" */
	for (i = 0; i < 4; i++)
		burst[i] = pkt_new();
	for (i = 0; i < 3; i++)
		assert_int_equal(sendto(s, "burst", 5, 0, &to.sa, sizeof(to.in)), 5);
	usleep(100000);
	n = tun_read_burst(e->fd, burst, 4);
	assert_true(n >= 3 && n <= 4);
	assert_int_equal(tun_read_burst(e->fd, burst, 4), 0);
	for (i = 0; i < 4; i++)
		free(burst[i]);

	close(s);
	assert_int_equal(nl_addr_del(&e->nl, e->ifindex, &a4, &p4), 0);
	free(p);
}

/* Raw GRE sockets over loopback: no DF, TTL, the IPv4 header on receive;
 * IPv6 sockets take ICMPv6 errors (IPV6_RECVERR, tunnel/sock.c). */
static void test_gre_sockets(void **state)
{
	struct env *e = *state;
	struct ip_addr lo4 = ip("127.0.0.1"), lo6 = ip("::1");
	const uint8_t gre[8] = { 0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x04 };
	union sockaddr_inet dst, src;
	struct pkt *p = pkt_new(), *rx = pkt_new();
	int tx, rcv, err = -1, n, v = -1;
	socklen_t len = sizeof(v);
	uint8_t *h;

	assert_int_equal(nl_link_set(&e->nl, (int)if_nametoindex("lo"), 0, true), 0);

	assert_int_equal(sock_open_gre(AF_INET, &lo4, "nonexistent0"), -ENODEV);
	tx = sock_open_gre(AF_INET, &lo4, "lo");
	assert_true(tx >= 0);
	rcv = sock_open_gre(AF_INET, &lo4, NULL);
	assert_true(rcv >= 0);
	assert_int_equal(sock_set_ttl(tx, AF_INET, 7), 0);

	memcpy(pkt_data(p), gre, sizeof(gre));
	p->len = sizeof(gre);
	assert_int_equal(sockaddr_from_ip(&dst, &lo4, 0), 0);
	assert_int_equal(sock_send_batch(tx, &p, &dst, 1, &err), 1);
	assert_int_equal(err, 0);
	wait_fd(rcv);
	n = sock_recv_batch(rcv, &rx, &src, 1);
	assert_int_equal(n, 1);
	assert_true(sockaddr_equal_addr(&src, &dst));
	h = pkt_data(rx);
	assert_int_equal(rx->len, 20 + sizeof(gre));
	assert_int_equal(h[9], IPPROTO_GRE_NUM);
	assert_int_equal(h[8], 7);                               /* TTL */
	assert_int_equal(load_be16(h + 6) & 0x4000, 0);          /* no DF */
	assert_int_equal(sock_strip_ipv4_header(rx), 0);
	assert_int_equal(rx->len, sizeof(gre));
	assert_memory_equal(pkt_data(rx), gre, sizeof(gre));
	close(tx);
	close(rcv);

	/* IPv6: no outer header on receive */
	tx = sock_open_gre(AF_INET6, &lo6, NULL);
	assert_true(tx >= 0);
	assert_int_equal(getsockopt(tx, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, &len), 0);
	assert_int_equal(v, IPV6_PMTUDISC_DONT);
	assert_int_equal(getsockopt(tx, IPPROTO_IPV6, IPV6_RECVERR, &v, &len), 0);
	assert_int_equal(v, 1);
	rcv = sock_open_gre(AF_INET6, NULL, "");
	assert_true(rcv >= 0);
	assert_int_equal(sockaddr_from_ip(&dst, &lo6, 0), 0);
	assert_int_equal(sock_send_batch(tx, &p, &dst, 1, &err), 1);
	assert_int_equal(err, 0);
	wait_fd(rcv);
	assert_int_equal(sock_recv_batch(rcv, &rx, &src, 1), 1);
	assert_true(sockaddr_equal_addr(&src, &dst));
	assert_int_equal(rx->len, sizeof(gre));
	assert_memory_equal(pkt_data(rx), gre, sizeof(gre));
	close(tx);
	close(rcv);
	free(p);
	free(rx);
}

/* The keepalive socket of a kernel-path tunnel: only keepalive packets
 * from the peer get through its BPF filter and its connect(). */
static void send_gre_from(const char *from, const uint8_t *gre, size_t len)
{
	struct ip_addr src = ip(from), lo = ip("127.0.0.1");
	union sockaddr_inet dst;
	int fd = sock_open_gre(AF_INET, &src, NULL);

	assert_true(fd >= 0);
	assert_int_equal(sockaddr_from_ip(&dst, &lo, 0), 0);
	assert_int_equal(sendto(fd, gre, len, 0, &dst.sa, sockaddr_len(&dst)), (ssize_t)len);
	close(fd);
}

/* A GRE header with flags (C, K, S) and protocol proto, then an inner
 * IPv4 header of protocol iproto and total length ilen (0: no inner). */
static size_t make_gre(uint8_t *b, uint16_t flags, uint16_t proto, uint8_t iproto,
		       uint16_t ilen, uint8_t mark)
{
	size_t o = 4;

	memset(b, 0, 128);
	store_be16(b, flags);
	store_be16(b + 2, proto);
	if (flags & 0x8000)
		o += 4;
	if (flags & 0x2000) {
		b[o + 3] = mark;      /* the key tells the packets apart */
		o += 4;
	}
	if (flags & 0x1000)
		o += 4;
	if (ilen) {
		b[o] = 0x45;
		store_be16(b + o + 2, ilen);
		b[o + 8] = 255;
		b[o + 9] = iproto;
		o += ilen;
	}
	return o;
}

static void test_gre_keepalive_socket(void **state)
{
	struct env *e = *state;
	struct ip_addr lo = ip("127.0.0.1"), peer = ip("127.0.0.2"), lo6 = ip("::1");
	uint8_t b[128];
	struct pkt *rx[8];
	union sockaddr_inet src[8];
	int ka, all, n, i;
	unsigned got = 0;

	assert_int_equal(nl_link_set(&e->nl, (int)if_nametoindex("lo"), 0, true), 0);
	assert_int_equal(sock_open_gre_keepalive(&lo6, &lo6, NULL), -EAFNOSUPPORT);
	ka = sock_open_gre_keepalive(&lo, &peer, NULL);
	assert_true(ka >= 0);
	all = sock_open_gre(AF_INET, &lo, NULL);
	assert_true(all >= 0);
	for (i = 0; i < 8; i++)
		rx[i] = pkt_new();

	/* Through: our keepalive back (protocol 0), bare and with every option;
	 * the peer's keepalive (0x0800 around a short IPv4 GRE packet), bare and
	 * behind checksum, key and sequence. */
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x0000, 0, 0, 1));
	send_gre_from("127.0.0.2", b, make_gre(b, 0xb000, 0x0000, 0, 0, 2));
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x0800, 47, 24, 3));
	send_gre_from("127.0.0.2", b, make_gre(b, 0xb000, 0x0800, 47, 36, 4));
	/* Not through: data (IPv4 ICMP, IPv6, Ethernet), a long IPv4 GRE
	 * packet inside (GRE in GRE traffic), an IPv6 header claiming version 4's
	 * place, and a keepalive from another address. */
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x0800, 1, 84, 5));
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x86dd, 47, 24, 6));
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x6558, 47, 24, 7));
	send_gre_from("127.0.0.2", b, make_gre(b, 0x2000, 0x0800, 47, 100, 8));
	make_gre(b, 0x2000, 0x0800, 47, 24, 9);
	b[8] = 0x65;
	send_gre_from("127.0.0.2", b, 32);
	send_gre_from("127.0.0.3", b, make_gre(b, 0x2000, 0x0000, 0, 0, 10));

	/* The unfiltered socket saw all ten; by then lo has delivered them. */
	for (unsigned total = 0; total < 10;) {
		wait_fd(all);
		n = sock_recv_batch(all, rx, src, 8);
		assert_true(n > 0);
		total += (unsigned)n;
	}
	n = sock_recv_batch(ka, rx, src, 8);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_int_equal(sock_strip_ipv4_header(rx[i]), 0);
		assert_true(src[i].in.sin_addr.s_addr == peer.u.v4.s_addr);
		/* the key's last byte: after the checksum word when there is one */
		got |= 1u << pkt_data(rx[i])[(pkt_data(rx[i])[0] & 0x80) ? 11 : 7];
	}
	assert_int_equal(got, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4));
	assert_int_equal(sock_recv_batch(ka, rx, src, 8), 0);
	close(ka);
	close(all);
	for (i = 0; i < 8; i++)
		free(rx[i]);
}

/* The kernel's GRE links: created and read back where the kernel has
 * ip_gre, refused as an unknown link type where it has not (as here on
 * the development machines). */
static void test_gre_link_kernel(void **state)
{
	struct env *e = *state;
	struct nl_gre_params p;
	struct nl_link_info li;
	int ifindex = -1, err;

	memset(&p, 0, sizeof(p));
	p.local = ip("127.0.0.1");
	p.remote = ip("127.0.0.9");
	p.ttl = 64;
	p.has_ikey = p.has_okey = true;
	p.ikey = p.okey = 5;
	err = nl_gre_link_create(&e->nl, "gstgre0", 1400, &p, &ifindex);
	if (err == -EOPNOTSUPP) {
		print_message("  this kernel has no GRE links: %s\n", strerror(-err));
		assert_int_equal(ifindex, 0);
		assert_int_equal(nl_link_get(&e->nl, 0, "gstgre0", &li), -ENODEV);
		return;
	}
	assert_int_equal(err, 0);
	assert_true(ifindex > 0);
	assert_int_equal(nl_link_get(&e->nl, ifindex, NULL, &li), 0);
	assert_string_equal(li.kind, "gre");
	assert_int_equal(li.mtu, 1400);
	/* the same parameters again: taken */
	assert_int_equal(nl_gre_link_create(&e->nl, "gstgre1", 0, &p, NULL), -EEXIST);
	p.ttl = 0;
	assert_int_equal(nl_gre_link_change(&e->nl, ifindex, &p), 0);
	assert_int_equal(nl_link_delete(&e->nl, ifindex), 0);
	assert_int_equal(nl_link_delete(&e->nl, ifindex), -ENODEV);
}

/* Link attributes read back: alias, operational state (dormant: what a
 * kernel-path tunnel shows while its peer does not answer), stats. */
static void test_link_attrs(void **state)
{
	struct env *e = *state;
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	struct nl_link_info li;
	int err;

	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, false), 0);
	/* The MTU alone leaves the flags: still down. */
	assert_int_equal(nl_link_mtu(&e->nl, e->ifindex, 1380), 0);
	assert_int_equal(nl_link_get(&e->nl, e->ifindex, NULL, &li), 0);
	assert_int_equal(li.mtu, 1380);
	assert_false(li.flags & IFF_UP);
	assert_int_equal(nl_link_set(&e->nl, e->ifindex, 1400, true), 0);
	a.alias = "gresec: test";
	assert_int_equal(nl_link_setattrs(&e->nl, e->ifindex, &a), 0);
	assert_int_equal(nl_link_get(&e->nl, 0, e->name, &li), 0);
	assert_int_equal(li.ifindex, e->ifindex);
	assert_string_equal(li.name, e->name);
	assert_string_equal(li.kind, "tun");
	assert_string_equal(li.alias, "gresec: test");
	assert_int_equal(li.mtu, 1400);
	assert_true(li.has_stats);
	assert_true(li.flags & IFF_UP);
	/* A TUN (like a GRE link) manages no carrier: "unknown", which counts as up. */
	assert_true(li.operstate == IF_OPER_UNKNOWN || li.operstate == IF_OPER_UP);
	assert_true(li.flags & IFF_RUNNING);

	a = (struct nl_link_attrs)NL_LINK_ATTRS_NONE;
	a.operstate = IF_OPER_DORMANT;
	assert_int_equal(nl_link_setattrs(&e->nl, e->ifindex, &a), 0);
	assert_int_equal(nl_link_get(&e->nl, e->ifindex, NULL, &li), 0);
	assert_int_equal(li.operstate, IF_OPER_DORMANT);
	assert_false(li.flags & IFF_RUNNING);          /* what routing daemons look at */
	a.operstate = IF_OPER_UP;
	assert_int_equal(nl_link_setattrs(&e->nl, e->ifindex, &a), 0);
	assert_int_equal(nl_link_get(&e->nl, e->ifindex, NULL, &li), 0);
	assert_int_equal(li.operstate, IF_OPER_UP);
	assert_true(li.flags & IFF_RUNNING);

	/* A TUN has no protodown; the kernel says so. */
	a = (struct nl_link_attrs)NL_LINK_ATTRS_NONE;
	a.proto_down = 1;
	assert_int_equal(nl_link_setattrs(&e->nl, e->ifindex, &a), -EOPNOTSUPP);
	/* tc: clsact everywhere; matchall and gact where the kernel has them */
	err = nl_link_drop_ingress(&e->nl, e->ifindex);
	if (err)
		print_message("  ingress drop: %s (no cls_matchall/act_gact here)\n", strerror(-err));
	assert_true(err == 0 || err == -ENOENT || err == -EOPNOTSUPP);
	assert_int_equal(nl_link_get(&e->nl, 0, "nonexistent0", &li), -ENODEV);
}

static void test_link_delete(void **state)
{
	struct env *e = *state;
	char name[IFNAMSIZ];
	int fd;

	fd = tun_open("gsdel0", false, name);
	assert_true(fd >= 0);
	assert_true(if_nametoindex("gsdel0") > 0);
	assert_int_equal(nl_link_delete_by_name(&e->nl, "gsdel0"), 0);
	assert_int_equal(if_nametoindex("gsdel0"), 0);
	assert_int_equal(nl_link_delete_by_name(&e->nl, "gsdel0"), -ENODEV);
	close(fd);
	/* and the name is free again for a fresh device */
	fd = tun_open("gsdel0", true, name);
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tun_open),
		cmocka_unit_test_setup_teardown(test_link_set_carrier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_dump_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tun_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gre_sockets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gre_keepalive_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gre_link_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_attrs, setup, teardown),
	};
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "test_link_kernel: needs root (CAP_NET_ADMIN): skipped\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "test_link_kernel: unshare(CLONE_NEWNET): %s: skipped\n",
			strerror(errno));
		return 77;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "test_link_kernel: /dev/net/tun: %s: skipped\n",
			strerror(errno));
		return 77;
	}
	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
