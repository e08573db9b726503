/* tests/unit/test_inner.c: the IP header around GRE inside WireGuard
 * (tunnel/inner.c): building it, classifying what a peer sent, answering
 * pings to gre_local. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tunnel/inet.h"
#include "tunnel/inner.h"
#include "tunnel/wire.h"

static struct pkt p;   /* too large for the stack */

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.u.bytes), 1);
	return a;
}

static const uint8_t gre_ipv4[] = { 0x00, 0x00, 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1,
				     0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };

/* A GRE packet wrapped by inner_push(), its bytes in p. */
static void wrap(const char *src, const char *dst, uint8_t ttl, uint16_t id)
{
	struct ip_addr s = addr(src), d = addr(dst);

	pkt_reset(&p);
	memcpy(pkt_data(&p), gre_ipv4, sizeof(gre_ipv4));
	p.len = sizeof(gre_ipv4);
	assert_int_equal(inner_push(&p, &s, &d, ttl, id), 0);
}

static enum inner_verdict classify(const uint8_t *buf, size_t len, const char *local,
				   const char *remote, size_t *hl, size_t *pl)
{
	struct ip_addr l = addr(local), r = addr(remote);

	return inner_classify(buf, len, &l, &r, hl, pl);
}

static void test_push_ipv4(void **state)
{
	const uint8_t *h;
	size_t hl, pl;

	(void)state;
	wrap("10.99.0.1", "10.99.0.2", 61, 0x1234);
	h = pkt_data(&p);
	assert_int_equal(p.len, 20 + sizeof(gre_ipv4));
	assert_int_equal(h[0], 0x45);
	assert_int_equal(load_be16(h + 2), p.len);
	assert_int_equal(load_be16(h + 4), 0x1234);
	assert_int_equal(load_be16(h + 6), 0x4000);               /* DF, not a fragment */
	assert_int_equal(h[8], 61);
	assert_int_equal(h[9], IPPROTO_GRE_NUM);
	assert_int_equal(inet_checksum(h, 20), 0);
	assert_memory_equal(h + 12, ((const uint8_t[]){ 10, 99, 0, 1, 10, 99, 0, 2 }), 8);
	assert_memory_equal(h + 20, gre_ipv4, sizeof(gre_ipv4));
	assert_int_equal(inner_header_len(AF_INET), 20);
	/* The other end sees GRE from its gre_remote to its gre_local. */
	assert_int_equal(classify(h, p.len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_GRE);
	assert_int_equal(hl, 20);
	assert_int_equal(pl, p.len);
	/* ... and nothing else does. */
	assert_int_equal(classify(h, p.len, "10.99.0.1", "10.99.0.2", &hl, &pl), INNER_WRONG_ADDRESS);
	assert_int_equal(classify(h, p.len, "10.99.0.2", "10.99.0.3", &hl, &pl), INNER_WRONG_ADDRESS);
	assert_int_equal(classify(h, p.len, "fd99::2", "fd99::1", &hl, &pl), INNER_WRONG_ADDRESS);
}

static void test_push_ipv6(void **state)
{
	const uint8_t *h;
	size_t hl, pl;

	(void)state;
	wrap("fd99::1", "fd99::2", 255, 0);
	h = pkt_data(&p);
	assert_int_equal(p.len, 40 + sizeof(gre_ipv4));
	assert_int_equal(load_be32(h), 0x60000000u);
	assert_int_equal(load_be16(h + 4), sizeof(gre_ipv4));
	assert_int_equal(h[6], IPPROTO_GRE_NUM);
	assert_int_equal(h[7], 255);
	assert_int_equal(classify(h, p.len, "fd99::2", "fd99::1", &hl, &pl), INNER_GRE);
	assert_int_equal(hl, 40);
	assert_int_equal(pl, p.len);
}

static void test_push_refused(void **state)
{
	struct ip_addr v4 = addr("10.0.0.1"), v6 = addr("fd00::1"), none;

	(void)state;
	memset(&none, 0, sizeof(none));
	pkt_reset(&p);
	p.len = 10;
	assert_int_equal(inner_push(&p, &v4, &v6, 64, 0), -EAFNOSUPPORT);
	assert_int_equal(inner_push(&p, &none, &none, 64, 0), -EAFNOSUPPORT);
	p.off = 10;                                                /* no headroom */
	assert_int_equal(inner_push(&p, &v4, &v4, 64, 0), -ENOBUFS);
	pkt_reset(&p);
	p.len = 65535 - 19;                                        /* over one IPv4 packet */
	assert_int_equal(inner_push(&p, &v4, &v4, 64, 0), -ENOBUFS);
}

/* WireGuard pads to 16: what follows the IP packet is not part of it. */
static void test_padding_and_lengths(void **state)
{
	uint8_t buf[128];
	size_t hl, pl, len;

	(void)state;
	wrap("10.99.0.1", "10.99.0.2", 64, 7);
	len = p.len;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, pkt_data(&p), len);
	assert_int_equal(classify(buf, 64, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_GRE);
	assert_int_equal(pl, len);
	/* Every truncation is malformed (the header announces more). */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(classify(buf, n, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
}

static void test_ipv4_malformed(void **state)
{
	uint8_t buf[64];
	size_t hl, pl, len;

	(void)state;
	wrap("10.99.0.1", "10.99.0.2", 64, 7);
	len = p.len;
	memcpy(buf, pkt_data(&p), len);
	buf[10] ^= 1;                                              /* checksum */
	assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
	memcpy(buf, pkt_data(&p), len);
	buf[0] = 0x44;                                             /* IHL 4 */
	assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
	memcpy(buf, pkt_data(&p), len);
	buf[0] = 0x55;                                             /* version 5 */
	assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
	memcpy(buf, pkt_data(&p), len);
	store_be16(buf + 2, 19);                                   /* total < IHL */
	store_be16(buf + 10, 0);
	store_be16(buf + 10, inet_checksum(buf, 20));
	assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
	assert_int_equal(classify(buf, 0, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_MALFORMED);
}

static void test_ipv4_fragments_and_protocols(void **state)
{
	uint8_t buf[64];
	size_t hl, pl, len;
	uint16_t frag[] = { 0x2000 /* MF */, 0x0001 /* offset */, 0x6000 /* DF|MF */ };

	(void)state;
	wrap("10.99.0.1", "10.99.0.2", 64, 7);
	len = p.len;
	for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
		memcpy(buf, pkt_data(&p), len);
		store_be16(buf + 6, frag[i]);
		store_be16(buf + 10, 0);
		store_be16(buf + 10, inet_checksum(buf, 20));
		assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_FRAGMENT);
	}
	memcpy(buf, pkt_data(&p), len);
	buf[9] = 17;                                               /* UDP */
	store_be16(buf + 10, 0);
	store_be16(buf + 10, inet_checksum(buf, 20));
	assert_int_equal(classify(buf, len, "10.99.0.2", "10.99.0.1", &hl, &pl), INNER_NOT_GRE);
}

/* An echo request to gre_local with IP options, answered in place. */
static void test_ipv4_echo(void **state)
{
	uint8_t buf[80];
	size_t hl, pl;
	int n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x46;                                             /* 4 bytes of options */
	store_be16(buf + 2, 24 + 8 + 12);
	store_be16(buf + 6, 0x4000);
	buf[8] = 63;
	buf[9] = IPPROTO_ICMP_NUM;
	memcpy(buf + 12, (const uint8_t[]){ 10, 99, 0, 2, 10, 99, 0, 1 }, 8);
	buf[20] = 1;                                               /* NOP option x4 */
	buf[21] = 1;
	buf[22] = 1;
	buf[23] = 1;
	store_be16(buf + 10, inet_checksum(buf, 24));
	buf[24] = 8;                                               /* echo request */
	store_be16(buf + 28, 0xbeef);                              /* id */
	store_be16(buf + 30, 3);                                   /* seq */
	memcpy(buf + 32, "hello, world", 12);
	store_be16(buf + 26, inet_checksum(buf + 24, 20));
	assert_int_equal(classify(buf, 60, "10.99.0.1", "10.99.0.2", &hl, &pl), INNER_ECHO);
	assert_int_equal(hl, 24);
	assert_int_equal(pl, 44);
	/* to another address: not ours to answer */
	assert_int_equal(classify(buf, 60, "10.99.0.3", "10.99.0.2", &hl, &pl), INNER_NOT_GRE);

	assert_int_equal(classify(buf, 60, "10.99.0.1", "10.99.0.2", &hl, &pl), INNER_ECHO);
	n = inner_echo_reply(buf, hl, pl);
	assert_int_equal(n, 40);
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(load_be16(buf + 2), 40);
	assert_int_equal(inet_checksum(buf, 20), 0);
	assert_memory_equal(buf + 12, ((const uint8_t[]){ 10, 99, 0, 1, 10, 99, 0, 2 }), 8);
	assert_int_equal(buf[20], 0);                              /* echo reply */
	assert_int_equal(load_be16(buf + 24), 0xbeef);
	assert_int_equal(load_be16(buf + 26), 3);
	assert_memory_equal(buf + 28, "hello, world", 12);
	assert_int_equal(inet_checksum(buf + 20, 20), 0);
}

/* What Linux ip6gre sends by default: a destination options header with
 * a tunnel encapsulation limit (RFC 2473) between IPv6 and GRE. */
static void test_ipv6_extension_headers(void **state)
{
	uint8_t buf[128];
	size_t hl, pl;

	(void)state;
	wrap("fd99::1", "fd99::2", 64, 0);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, pkt_data(&p), 40);
	buf[6] = 60;                                               /* dest opts */
	store_be16(buf + 4, (uint16_t)(8 + sizeof(gre_ipv4)));
	memcpy(buf + 40, (const uint8_t[]){ IPPROTO_GRE_NUM, 0, 4, 1, 4, 1, 1, 0 }, 8);
	memcpy(buf + 48, gre_ipv4, sizeof(gre_ipv4));
	assert_int_equal(classify(buf, 48 + sizeof(gre_ipv4), "fd99::2", "fd99::1", &hl, &pl), INNER_GRE);
	assert_int_equal(hl, 48);
	/* header length overrunning the packet */
	buf[41] = 10;
	assert_int_equal(classify(buf, 48 + sizeof(gre_ipv4), "fd99::2", "fd99::1", &hl, &pl),
			 INNER_MALFORMED);
	/* a fragment header */
	buf[41] = 0;
	buf[40] = 44;
	assert_int_equal(classify(buf, 48 + sizeof(gre_ipv4), "fd99::2", "fd99::1", &hl, &pl),
			 INNER_FRAGMENT);
	buf[6] = 44;
	assert_int_equal(classify(buf, 48 + sizeof(gre_ipv4), "fd99::2", "fd99::1", &hl, &pl),
			 INNER_FRAGMENT);
}

static void test_ipv6_echo(void **state)
{
	uint8_t buf[128];
	size_t hl, pl;
	uint32_t sum;
	int n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x60;
	store_be16(buf + 4, 8 + 16);
	buf[6] = 0;                                                /* hop-by-hop first */
	buf[7] = 9;
	memcpy(buf + 8, addr("fd99::2").u.bytes, 16);
	memcpy(buf + 24, addr("fd99::1").u.bytes, 16);
	buf[40] = IPPROTO_ICMPV6_NUM;                              /* hop-by-hop: next ICMPv6 */
	buf[48] = 128;                                             /* echo request */
	store_be16(buf + 52, 0x77);
	memcpy(buf + 56, "payload", 7);
	store_be16(buf + 4, 8 + 15);
	assert_int_equal(classify(buf, 80, "fd99::1", "fd99::2", &hl, &pl), INNER_ECHO);
	assert_int_equal(hl, 48);
	assert_int_equal(pl, 63);
	n = inner_echo_reply(buf, hl, pl);
	assert_int_equal(n, 55);
	assert_int_equal(buf[6], IPPROTO_ICMPV6_NUM);
	assert_int_equal(load_be16(buf + 4), 15);
	assert_memory_equal(buf + 8, addr("fd99::1").u.bytes, 16);
	assert_memory_equal(buf + 24, addr("fd99::2").u.bytes, 16);
	assert_int_equal(buf[40], 129);
	assert_memory_equal(buf + 48, "payload", 7);
	/* The reply's checksum over the pseudo-header sums to zero. */
	sum = inet_csum_partial(buf + 8, 32, 0);
	sum = inet_csum_partial((const uint8_t[]){ 0, 0, 0, 15, 0, 0, 0, IPPROTO_ICMPV6_NUM }, 8, sum);
	sum = inet_csum_partial(buf + 40, 15, sum);
	assert_int_equal(inet_csum_fold(sum), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_ipv4),
		cmocka_unit_test(test_push_ipv6),
		cmocka_unit_test(test_push_refused),
		cmocka_unit_test(test_padding_and_lengths),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_fragments_and_protocols),
		cmocka_unit_test(test_ipv4_echo),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_ipv6_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
