/* tests/unit/test_sock.c: socket address helpers, outer IPv4 header
 * stripping, and batched UDP I/O over the loopback interface. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tunnel/sock.h"
#include "tunnel/wire.h"

static struct ip_addr ip(const char *s)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.u.bytes), 1);
	return a;
}

static union sockaddr_inet sa(const char *s, uint16_t port)
{
	union sockaddr_inet out;
	struct ip_addr a = ip(s);

	assert_int_equal(sockaddr_from_ip(&out, &a, port), 0);
	return out;
}

/* ---- address helpers ---- */

static void test_from_to_ip(void **state)
{
	union sockaddr_inet s;
	struct ip_addr a = ip("192.0.2.1"), b, unspec = { .family = AF_UNSPEC };
	uint16_t port = 0;

	(void)state;
	assert_int_equal(sockaddr_from_ip(&s, &a, 51947), 0);
	assert_int_equal(s.in.sin_family, AF_INET);
	assert_int_equal(s.in.sin_port, htons(51947));
	assert_int_equal(s.in.sin_addr.s_addr, htonl(0xc0000201));
	assert_int_equal(sockaddr_len(&s), sizeof(struct sockaddr_in));
	assert_int_equal(sockaddr_to_ip(&s, &b, &port), 0);
	assert_int_equal(b.family, AF_INET);
	assert_memory_equal(&b.u.v4, &a.u.v4, 4);
	assert_int_equal(port, 51947);

	a = ip("2001:db8::7");
	assert_int_equal(sockaddr_from_ip(&s, &a, 5), 0);
	assert_int_equal(s.in6.sin6_family, AF_INET6);
	assert_int_equal(s.in6.sin6_port, htons(5));
	assert_int_equal(s.in6.sin6_scope_id, 0);
	assert_int_equal(s.in6.sin6_flowinfo, 0);
	assert_int_equal(sockaddr_len(&s), sizeof(struct sockaddr_in6));
	assert_int_equal(sockaddr_to_ip(&s, &b, NULL), 0);
	assert_int_equal(b.family, AF_INET6);
	assert_memory_equal(b.u.bytes, a.u.bytes, 16);

	assert_int_equal(sockaddr_from_ip(&s, &unspec, 1), -EAFNOSUPPORT);
	assert_int_equal(s.sa.sa_family, AF_UNSPEC);
	assert_int_equal(sockaddr_len(&s), 0);
	assert_int_equal(sockaddr_to_ip(&s, &b, &port), -EAFNOSUPPORT);
	assert_int_equal(b.family, AF_UNSPEC);
}

static void test_equal(void **state)
{
	union sockaddr_inet a = sa("10.1.2.3", 1), b = sa("10.1.2.3", 2);
	union sockaddr_inet c = sa("10.1.2.4", 1), d = sa("::ffff:10.1.2.3", 1);
	union sockaddr_inet e = sa("2001:db8::1", 1), f = sa("2001:db8::1", 1);
	union sockaddr_inet g = sa("2001:db8::2", 1);

	(void)state;
	assert_true(sockaddr_equal_addr(&a, &b));
	assert_false(sockaddr_equal(&a, &b));
	assert_true(sockaddr_equal(&a, &a));
	assert_false(sockaddr_equal_addr(&a, &c));
	assert_false(sockaddr_equal_addr(&a, &d));   /* mapped is another family */
	assert_true(sockaddr_equal(&e, &f));
	assert_false(sockaddr_equal_addr(&e, &g));
	f.in6.sin6_port = htons(9);
	assert_true(sockaddr_equal_addr(&e, &f));
	assert_false(sockaddr_equal(&e, &f));
	f.in6.sin6_scope_id = 3;
	assert_false(sockaddr_equal_addr(&e, &f));
}

static void test_format(void **state)
{
	union sockaddr_inet s;
	char buf[SOCKADDR_STRLEN], small[8];

	(void)state;
	s = sa("1.2.3.4", 5);
	assert_string_equal(sockaddr_format(&s, buf, sizeof(buf)), "1.2.3.4:5");
	s = sa("::1", 5);
	assert_string_equal(sockaddr_format(&s, buf, sizeof(buf)), "[::1]:5");
	s = sa("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	assert_string_equal(sockaddr_format(&s, buf, sizeof(buf)),
			    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	s = sa("2001:db8::1", 51947);
	s.in6.sin6_scope_id = 2;   /* not printed: the interface is the caller's */
	assert_string_equal(sockaddr_format(&s, buf, sizeof(buf)), "[2001:db8::1]:51947");
	s = sa("255.255.255.255", 65535);
	assert_string_equal(sockaddr_format(&s, small, sizeof(small)), "255.255");
	memset(&s, 0, sizeof(s));
	assert_string_equal(sockaddr_format(&s, buf, sizeof(buf)), "?");
}

/* ---- outer IPv4 header ---- */

static void put_ipv4(struct pkt *p, uint8_t vihl, uint16_t total, size_t len)
{
	uint8_t *h;
	size_t i;

	pkt_reset(p);
	h = pkt_data(p);
	for (i = 0; i < len; i++)
		h[i] = (uint8_t)(i + 0x40);
	h[0] = vihl;
	store_be16(h + 2, total);
	p->len = len;
}

static void test_strip_ipv4(void **state)
{
	struct pkt *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	/* plain 20-byte header, GRE header behind it */
	put_ipv4(p, 0x45, 28, 28);
	assert_int_equal(sock_strip_ipv4_header(p), 0);
	assert_int_equal(p->off, PKT_HEADROOM + 20);
	assert_int_equal(p->len, 8);
	assert_int_equal(pkt_data(p)[0], 0x40 + 20);

	/* options (IHL 6) and trailing bytes beyond the total length */
	put_ipv4(p, 0x46, 30, 40);
	assert_int_equal(sock_strip_ipv4_header(p), 0);
	assert_int_equal(p->off, PKT_HEADROOM + 24);
	assert_int_equal(p->len, 6);
	assert_int_equal(pkt_data(p)[0], 0x40 + 24);

	/* header only */
	put_ipv4(p, 0x4f, 60, 60);
	assert_int_equal(sock_strip_ipv4_header(p), 0);
	assert_int_equal(p->len, 0);

	/* rejects leave the packet as it was */
	put_ipv4(p, 0x65, 28, 28);                 /* version 6 */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	assert_int_equal(p->off, PKT_HEADROOM);
	assert_int_equal(p->len, 28);
	put_ipv4(p, 0x44, 28, 28);                 /* IHL below 5 */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	put_ipv4(p, 0x46, 22, 28);                 /* total shorter than IHL */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	put_ipv4(p, 0x45, 29, 28);                 /* total beyond what arrived */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	assert_int_equal(p->len, 28);
	put_ipv4(p, 0x4f, 60, 40);                 /* IHL beyond what arrived */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	put_ipv4(p, 0x45, 19, 19);                 /* shorter than any header */
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	put_ipv4(p, 0x45, 0, 0);
	p->len = 0;
	assert_int_equal(sock_strip_ipv4_header(p), -EBADMSG);
	assert_int_equal(p->off, PKT_HEADROOM);
	free(p);
}

/* ---- sockets over loopback ---- */

static int open_lo(int family, uint16_t port, union sockaddr_inet *bound)
{
	struct ip_addr lo = ip(family == AF_INET ? "127.0.0.1" : "::1");
	int fd = sock_open_udp(family, &lo, port, "");

	if (fd >= 0)
		assert_int_equal(sock_local_addr(fd, bound), 0);
	return fd;
}

static void wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 2000), 1);
}

static void batch_roundtrip(int family)
{
	union sockaddr_inet a_addr, b_addr, dst[3], src[4];
	struct pkt *tx[3], *rx[4];
	const size_t sizes[3] = { 1, 1400, 9000 };
	int a, b, err = -1, n, got = 0;
	unsigned i;
	size_t j;

	a = open_lo(family, 0, &a_addr);
	if (a < 0) {
		print_message("no %s loopback (%s): skipped\n",
			      family == AF_INET ? "IPv4" : "IPv6", strerror(-a));
		skip();
	}
	b = open_lo(family, 0, &b_addr);
	assert_true(b >= 0);
	assert_int_not_equal(a_addr.in.sin_port, 0);

	for (i = 0; i < 3; i++) {
		tx[i] = malloc(sizeof(struct pkt));
		assert_non_null(tx[i]);
		pkt_reset(tx[i]);
		for (j = 0; j < sizes[i]; j++)
			pkt_data(tx[i])[j] = (uint8_t)(j * 7 + i);
		tx[i]->len = sizes[i];
		dst[i] = b_addr;
	}
	for (i = 0; i < 4; i++) {
		rx[i] = malloc(sizeof(struct pkt));
		assert_non_null(rx[i]);
	}
	assert_int_equal(sock_send_batch(a, tx, dst, 3, &err), 3);
	assert_int_equal(err, 0);

	while (got < 3) {
		wait_readable(b);
		n = sock_recv_batch(b, rx + got, src + got, 4 - (unsigned)got);
		assert_true(n > 0);
		got += n;
	}
	assert_int_equal(got, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rx[i]->off, PKT_HEADROOM);
		assert_int_equal(rx[i]->len, sizes[i]);
		assert_memory_equal(pkt_data(rx[i]), pkt_data(tx[i]), sizes[i]);
		assert_true(sockaddr_equal(&src[i], &a_addr));
	}
	/* nothing more waiting: 0, not an error */
	assert_int_equal(sock_recv_batch(b, rx, src, 4), 0);

	/* A datagram the kernel refuses (above the 64 KB a UDP datagram can
	 * hold) is dropped, the packets around it still go out */
	tx[1]->len = PKT_MAX_PAYLOAD;
	memset(pkt_data(tx[1]), 0xab, PKT_MAX_PAYLOAD);
	assert_int_equal(sock_send_batch(a, tx, dst, 3, &err), 3);
	assert_int_equal(err, EMSGSIZE);
	got = 0;
	while (got < 2) {
		wait_readable(b);
		n = sock_recv_batch(b, rx + got, NULL, 4 - (unsigned)got);
		assert_true(n > 0);
		got += n;
	}
	assert_int_equal(got, 2);
	assert_int_equal(rx[0]->len, sizes[0]);
	assert_int_equal(rx[1]->len, sizes[2]);
	assert_memory_equal(pkt_data(rx[1]), pkt_data(tx[2]), sizes[2]);

	for (i = 0; i < 3; i++)
		free(tx[i]);
	for (i = 0; i < 4; i++)
		free(rx[i]);
	close(a);
	close(b);
}

static void test_batch_v4(void **state)
{
	(void)state;
	batch_roundtrip(AF_INET);
}

static void test_batch_v6(void **state)
{
	(void)state;
	batch_roundtrip(AF_INET6);
}

/* UDP GSO on send, UDP GRO on receive: a run of 4 x 1400 + 600 bytes goes
 * out in one sendmsg; a receiver with UDP_GRO gets it back in one buffer
 * with the segment size, one without gets the five datagrams. */
enum { GSO_RUN = 5, GSO_SEG = 1400, GSO_LAST = 600 };

static size_t gso_recv_all(int fd, struct pkt **rx, uint16_t *seg, unsigned max,
			   size_t want, unsigned *buffers)
{
	size_t bytes = 0;
	unsigned got = 0;

	while (bytes < want) {
		int n;

		wait_readable(fd);
		n = sock_recv_segments(fd, rx + got, NULL, seg + got, max - got);
		assert_true(n > 0);
		for (int i = 0; i < n; i++)
			bytes += rx[got + (unsigned)i]->len;
		got += (unsigned)n;
		assert_true(got <= max);
	}
	*buffers = got;
	return bytes;
}

static void gso_gro_roundtrip(int family)
{
	union sockaddr_inet a_addr, b_addr, c_addr;
	struct pkt *tx[GSO_RUN], *rx[GSO_RUN];
	uint16_t seg[GSO_RUN];
	size_t total = (GSO_RUN - 1) * GSO_SEG + GSO_LAST, off = 0;
	unsigned i, buffers;
	int a, b, c, err;

	a = open_lo(family, 0, &a_addr);
	if (a < 0) {
		print_message("no %s loopback (%s): skipped\n",
			      family == AF_INET ? "IPv4" : "IPv6", strerror(-a));
		skip();
	}
	b = open_lo(family, 0, &b_addr);
	c = open_lo(family, 0, &c_addr);
	assert_true(b >= 0 && c >= 0);
	err = sock_enable_udp_gro(b);
	if (err) {
		print_message("no UDP GRO in this kernel (%s): skipped\n", strerror(-err));
		skip();
	}
	for (i = 0; i < GSO_RUN; i++) {
		tx[i] = malloc(sizeof(struct pkt));
		rx[i] = malloc(sizeof(struct pkt));
		assert_true(tx[i] && rx[i]);
		pkt_reset(tx[i]);
		tx[i]->len = i + 1 < GSO_RUN ? GSO_SEG : GSO_LAST;
		for (size_t j = 0; j < tx[i]->len; j++)
			pkt_data(tx[i])[j] = (uint8_t)(j * 13 + i * 101);
	}

	err = sock_send_gso(a, tx, GSO_RUN, GSO_SEG, &b_addr);
	if (err == -EIO || err == -EINVAL) {
		print_message("no UDP GSO on loopback (%s): skipped\n", strerror(-err));
		skip();
	}
	assert_int_equal(err, 0);
	assert_int_equal(gso_recv_all(b, rx, seg, GSO_RUN, total, &buffers), total);
	/* One trip through the stack: one buffer, the segment size with it. */
	assert_int_equal(buffers, 1);
	assert_int_equal(seg[0], GSO_SEG);
	assert_int_equal(rx[0]->len, total);
	for (i = 0; i < GSO_RUN; i++) {
		assert_memory_equal(pkt_data(rx[0]) + off, pkt_data(tx[i]), tx[i]->len);
		off += tx[i]->len;
	}

	/* Without UDP_GRO the kernel splits the run: five datagrams, seg 0. */
	assert_int_equal(sock_send_gso(a, tx, GSO_RUN, GSO_SEG, &c_addr), 0);
	assert_int_equal(gso_recv_all(c, rx, seg, GSO_RUN, total, &buffers), total);
	assert_int_equal(buffers, GSO_RUN);
	for (i = 0; i < GSO_RUN; i++) {
		assert_int_equal(seg[i], 0);
		assert_int_equal(rx[i]->len, tx[i]->len);
		assert_memory_equal(pkt_data(rx[i]), pkt_data(tx[i]), tx[i]->len);
	}

	/* A lone datagram to the UDP_GRO socket comes as sent, seg 0. */
	assert_int_equal(sock_send_batch(a, tx, &b_addr, 1, &err), 1);
	assert_int_equal(gso_recv_all(b, rx, seg, GSO_RUN, GSO_SEG, &buffers), GSO_SEG);
	assert_int_equal(buffers, 1);
	assert_int_equal(seg[0], 0);

	/* An empty run is refused. */
	assert_int_equal(sock_send_gso(a, tx, 0, GSO_SEG, &b_addr), -EINVAL);

	for (i = 0; i < GSO_RUN; i++) {
		free(tx[i]);
		free(rx[i]);
	}
	close(a);
	close(b);
	close(c);
}

static void test_gso_gro_v4(void **state)
{
	(void)state;
	gso_gro_roundtrip(AF_INET);
}

static void test_gso_gro_v6(void **state)
{
	(void)state;
	gso_gro_roundtrip(AF_INET6);
}

/* An IPv4 and an IPv6 socket share one port (IPV6_V6ONLY). */
static void test_shared_port(void **state)
{
	union sockaddr_inet b4, b6;
	int fd4, fd6;
	uint16_t port;

	(void)state;
	fd4 = sock_open_udp(AF_INET, NULL, 0, NULL);
	assert_true(fd4 >= 0);
	assert_int_equal(sock_local_addr(fd4, &b4), 0);
	assert_int_equal(b4.in.sin_addr.s_addr, htonl(INADDR_ANY));
	port = ntohs(b4.in.sin_port);
	fd6 = sock_open_udp(AF_INET6, NULL, port, "");
	if (fd6 == -EAFNOSUPPORT || fd6 == -EADDRNOTAVAIL) {
		close(fd4);
		skip();
	}
	assert_true(fd6 >= 0);
	assert_int_equal(sock_local_addr(fd6, &b6), 0);
	assert_int_equal(ntohs(b6.in6.sin6_port), port);
	close(fd6);
	close(fd4);
}

static void test_open_errors(void **state)
{
	struct ip_addr a4 = ip("127.0.0.1"), a6 = ip("::1");

	(void)state;
	assert_int_equal(sock_open_udp(AF_INET, &a6, 0, ""), -EINVAL);
	assert_int_equal(sock_open_udp(AF_INET6, &a4, 0, ""), -EINVAL);
	assert_int_equal(sock_open_udp(AF_UNSPEC, NULL, 0, ""), -EAFNOSUPPORT);
	assert_int_equal(sock_open_gre(AF_UNSPEC, NULL, ""), -EAFNOSUPPORT);
	assert_int_equal(sock_open_udp(AF_INET, NULL, 0, "0123456789abcdef"), -EINVAL);
}

static void test_ttl(void **state)
{
	int fd, v = 0;
	socklen_t len = sizeof(v);

	(void)state;
	fd = sock_open_udp(AF_INET, NULL, 0, "");
	assert_true(fd >= 0);
	assert_int_equal(sock_set_ttl(fd, AF_INET, 7), 0);
	assert_int_equal(getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &len), 0);
	assert_int_equal(v, 7);
	assert_int_equal(sock_set_ttl(fd, AF_INET, 0), -EINVAL);
	assert_int_equal(sock_set_ttl(fd, AF_INET, 256), -EINVAL);
	assert_int_equal(sock_set_ttl(fd, AF_UNSPEC, 9), -EAFNOSUPPORT);
	close(fd);
}

static int getopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* No DF, and no send refused as too big (tunnel/sock.c, set_pmtu_mode):
 * IPv4 omits path MTU discovery (IP_PMTUDISC_DONT on kernels without
 * OMIT), IPv6 fragments at the source to the path MTU. */
static void test_pmtu_mode(void **state)
{
	int fd;

	(void)state;
	fd = sock_open_udp(AF_INET, NULL, 0, "");
	assert_true(fd >= 0);
	assert_in_set(getopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER),
		      ((const uintmax_t[]){ IP_PMTUDISC_OMIT, IP_PMTUDISC_DONT }), 2);
	close(fd);
	fd = sock_open_udp(AF_INET6, NULL, 0, "");
	if (fd == -EAFNOSUPPORT)
		skip();
	assert_true(fd >= 0);
	assert_int_equal(getopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_DONT);
	/* UDP takes "packet too big" without IPV6_RECVERR; only the raw GRE
	 * socket needs it (test_link_kernel.c). */
	assert_int_equal(getopt_int(fd, IPPROTO_IPV6, IPV6_RECVERR), 0);
	close(fd);
}

/* The error queue of a socket with IP_RECVERR: an ICMP port unreachable
 * from loopback queues up, a receive fails with its errno, and
 * sock_drain_errors() empties the queue. */
static void test_drain_errors(void **state)
{
	union sockaddr_inet a_addr, closed;
	struct pkt *rx = malloc(sizeof(struct pkt));
	int a, c, on = 1, i;

	(void)state;
	assert_non_null(rx);
	a = open_lo(AF_INET, 0, &a_addr);
	if (a < 0)
		skip();
	c = open_lo(AF_INET, 0, &closed);
	assert_true(c >= 0);
	close(c);                       /* nobody listens on its port now */
	assert_int_equal(sock_drain_errors(a), 0);
	assert_int_equal(setsockopt(a, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)), 0);
	assert_int_equal(sendto(a, "x", 1, 0, &closed.sa, sizeof(closed.in)), 1);
	for (i = 0; i < 200 && sock_recv_batch(a, &rx, NULL, 1) != -ECONNREFUSED; i++)
		usleep(10000);
	assert_true(i < 200);
	assert_int_equal(sock_drain_errors(a), 1);
	assert_int_equal(sock_drain_errors(a), 0);
	assert_int_equal(sock_recv_batch(a, &rx, NULL, 1), 0);
	close(a);
	free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_to_ip),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_strip_ipv4),
		cmocka_unit_test(test_batch_v4),
		cmocka_unit_test(test_batch_v6),
		cmocka_unit_test(test_gso_gro_v4),
		cmocka_unit_test(test_gso_gro_v6),
		cmocka_unit_test(test_shared_port),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_pmtu_mode),
		cmocka_unit_test(test_drain_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
