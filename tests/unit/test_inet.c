/* tests/unit/test_inet.c: checksums and inner packet helpers (tunnel/inet.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tunnel/inet.h"
#include "tunnel/wire.h"
#include "tests/unit/ref_csum.h"

static uint16_t ref_csum(const uint8_t *b, size_t len)
{
	return (uint16_t)~ref_sum(b, len, 0);
}

/* Sum of the upper-layer checksum with its pseudo-header: 0 when correct. */
static uint16_t ref_l4_csum(const uint8_t *ip, uint8_t l4proto, size_t l4_off, size_t l4_len)
{
	uint8_t ph[40] = { 0 };
	size_t phlen;
	uint32_t s;

	if ((ip[0] >> 4) == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = l4proto;
		store_be16(ph + 10, (uint16_t)l4_len);
		phlen = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		store_be32(ph + 32, (uint32_t)l4_len);
		ph[39] = l4proto;
		phlen = 40;
	}
	s = ref_sum(ph, phlen, 0);
	s = ref_sum(ip + l4_off, l4_len, s);
	return (uint16_t)~s;
}

static void test_checksum_known(void **state)
{
	/* RFC 1071 section 3 example: sum ddf2. */
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* A well-known IPv4 header, checksum b861. */
	uint8_t ip[] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
		0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	static const uint8_t odd[] = { 0x01, 0x02, 0x03 };   /* 0102 + 0300 */
	uint8_t *big;
	size_t i, split;

	(void)state;
	assert_int_equal(inet_checksum(rfc1071, sizeof(rfc1071)), (uint16_t)~0xddf2);
	assert_int_equal(inet_csum_fold(inet_csum_partial(rfc1071, sizeof(rfc1071), 0)), (uint16_t)~0xddf2);
	assert_int_equal(inet_checksum(ip, sizeof(ip)), 0xb861);
	store_be16(ip + 10, 0xb861);
	assert_int_equal(inet_checksum(ip, sizeof(ip)), 0);
	assert_int_equal(inet_checksum(odd, 3), (uint16_t)~0x0402);
	assert_int_equal(inet_checksum(odd, 0), 0xffff);

	/* Long buffers (carries well past 32 bits), every split point of a
	 * shorter one, all against the reference. */
	big = malloc(65535);
	assert_non_null(big);
	memset(big, 0xff, 65535);
	assert_int_equal(inet_checksum(big, 65535), ref_csum(big, 65535));
	for (i = 0; i < 65535; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	for (i = 65500; i < 65535; i++)
		assert_int_equal(inet_checksum(big, i), ref_csum(big, i));
	/* Every length around the 32- and 8-byte steps, at every alignment. */
	for (size_t off = 0; off < 8; off++)
		for (i = 0; i <= 300; i++)
			assert_int_equal(inet_checksum(big + off, i), ref_csum(big + off, i));
	for (split = 0; split <= 300; split += 2) {
		uint32_t s = inet_csum_partial(big, split, 0);

		s = inet_csum_partial(big + split, 301 - split, s);
		assert_int_equal(inet_csum_fold(s), ref_csum(big, 301));
	}
	free(big);
}

static void test_checksum_update(void **state)
{
	uint8_t buf[64];
	size_t i, off;

	(void)state;
	/* RFC 1624 section 4: eqn. 3 gives 0x0000 where eqn. 2 gave 0xffff. */
	assert_int_equal(inet_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (off = 0; off + 2 <= sizeof(buf); off += 2) {
		uint16_t c = inet_checksum(buf, sizeof(buf));
		uint16_t old = load_be16(buf + off);
		uint16_t nw = (uint16_t)(old * 3 + off);

		store_be16(buf + off, nw);
		assert_int_equal(ref_sum(buf, sizeof(buf), inet_csum_update16(c, old, nw)), 0xffff);
		assert_int_equal(inet_checksum(buf, sizeof(buf)), ref_csum(buf, sizeof(buf)));
	}
}

static void test_packet_len(void **state)
{
	uint8_t b[80] = { 0 };
	size_t n = 0;

	(void)state;
	b[0] = 0x45;
	store_be16(b + 2, 60);
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV4, &n), 0);
	assert_int_equal(n, 60);                 /* padding trimmed */
	assert_int_equal(inet_packet_len(b, 60, GRE_PROTO_IPV4, &n), 0);
	assert_int_equal(inet_packet_len(b, 59, GRE_PROTO_IPV4, &n), -EINVAL);
	assert_int_equal(inet_packet_len(b, 19, GRE_PROTO_IPV4, &n), -EINVAL);
	b[0] = 0x44;                             /* IHL below 5 */
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV4, &n), -EINVAL);
	b[0] = 0x4f;                             /* 60-byte header */
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV4, &n), 0);
	store_be16(b + 2, 40);                   /* total below the header */
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV4, &n), -EINVAL);
	b[0] = 0x65;
	store_be16(b + 2, 60);
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV4, &n), -EINVAL);
	/* An IPv4 packet under 0x86dd is a bad version, not IPv4. */
	b[0] = 0x45;
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV6, &n), -EINVAL);

	memset(b, 0, sizeof(b));
	b[0] = 0x60;
	store_be16(b + 4, 20);
	n = 0;
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_IPV6, &n), 0);
	assert_int_equal(n, 60);
	assert_int_equal(inet_packet_len(b, 59, GRE_PROTO_IPV6, &n), -EINVAL);
	assert_int_equal(inet_packet_len(b, 39, GRE_PROTO_IPV6, &n), -EINVAL);
	store_be16(b + 4, 0);
	assert_int_equal(inet_packet_len(b, 40, GRE_PROTO_IPV6, &n), 0);
	assert_int_equal(n, 40);
	assert_int_equal(inet_packet_len(b, 80, GRE_PROTO_TEB, &n), -EPROTONOSUPPORT);
}

/* ---- test packets ---- */

static void mk_ip4(uint8_t *b, size_t len, const char *src, const char *dst, uint8_t proto, uint16_t frag)
{
	size_t i;

	for (i = 20; i < len; i++)
		b[i] = (uint8_t)(i ^ 0x5a);
	memset(b, 0, 20);
	b[0] = 0x45;
	store_be16(b + 2, (uint16_t)len);
	store_be16(b + 4, 0x1234);
	store_be16(b + 6, frag);
	b[8] = 63;
	b[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, b + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, b + 16), 1);
	store_be16(b + 10, ref_csum(b, 20));
}

static void mk_ip6(uint8_t *b, size_t len, const char *src, const char *dst, uint8_t nh)
{
	size_t i;

	for (i = 40; i < len; i++)
		b[i] = (uint8_t)(i ^ 0xa5);
	memset(b, 0, 40);
	b[0] = 0x60;
	store_be16(b + 4, (uint16_t)(len - 40));
	b[6] = nh;
	b[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, b + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, b + 24), 1);
}

/* ---- MSS clamping ---- */

/* A TCP segment with the given options in an IPv4 or IPv6 packet (IPv6 with
 * an optional 8-byte hop-by-hop header), correct checksum. */
static size_t mk_tcp(uint8_t *b, int family, bool hbh, uint8_t flags, const uint8_t *opts,
		     size_t optlen, size_t payload)
{
	size_t ip_len = family == AF_INET ? 20 : 40 + (hbh ? 8 : 0);
	size_t tcp_len = 20 + optlen + payload, i;
	uint8_t *t = b + ip_len;

	assert_true(optlen % 4 == 0);
	if (family == AF_INET) {
		mk_ip4(b, ip_len + tcp_len, "10.1.0.5", "10.2.0.9", 6, 0x4000);
	} else {
		mk_ip6(b, ip_len + tcp_len, "2001:db8:1::5", "2001:db8:2::9", hbh ? 0 : 6);
		if (hbh) {
			memset(b + 40, 0, 8);
			b[40] = 6;
			b[42] = 1;              /* PadN */
			b[43] = 4;
		}
	}
	memset(t, 0, 20);
	store_be16(t, 40000);
	store_be16(t + 2, 443);
	store_be32(t + 4, 0x01020304);
	t[12] = (uint8_t)((20 + optlen) / 4) << 4;
	t[13] = flags;
	store_be16(t + 14, 65535);
	if (optlen)
		memcpy(t + 20, opts, optlen);
	for (i = 0; i < payload; i++)
		t[20 + optlen + i] = (uint8_t)(i * 13);
	store_be16(t + 16, ref_l4_csum(b, 6, ip_len, tcp_len));
	assert_int_equal(ref_l4_csum(b, 6, ip_len, tcp_len), 0);
	return ip_len + tcp_len;
}

static void test_clamp_mss_positions(void **state)
{
	/* MSS at even and odd offsets in the TCP header, first and last. */
	static const struct { uint8_t opts[20]; size_t len, mss_at; } cases[] = {
		{ { 2, 4, 0x05, 0xb4 }, 4, 22 },
		{ { 1, 2, 4, 0x05, 0xb4, 1, 1, 1 }, 8, 23 },
		{ { 4, 2, 1, 2, 4, 0x23, 0x28, 0 }, 8, 25 },
		{ { 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7, 2, 4, 0x05, 0xb4 }, 20, 38 },
		{ { 3, 3, 7, 2, 4, 0xff, 0xff, 0 }, 8, 25 },
		{ { 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0x05, 0xb4, 4, 2 }, 16, 32 },
	};
	static const uint8_t flag_sets[] = { 0x02, 0x12 };   /* SYN, SYN-ACK */
	uint8_t b[200];
	size_t c, f, payload;
	int fam;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (f = 0; f < 2; f++)
			for (fam = 0; fam < 3; fam++)
				for (payload = 0; payload < 3; payload++) {
					int family = fam == 0 ? AF_INET : AF_INET6;
					uint16_t proto = fam == 0 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6;
					size_t ip_len = fam == 0 ? 20 : fam == 1 ? 40 : 48;
					size_t len = mk_tcp(b, family, fam == 2, flag_sets[f], cases[c].opts,
							    cases[c].len, payload);
					uint8_t before[200];

					memcpy(before, b, len);
					assert_true(inet_clamp_mss(b, len, proto, 1360));
					assert_int_equal(load_be16(b + ip_len + cases[c].mss_at), 1360);
					assert_int_equal(ref_l4_csum(b, 6, ip_len, len - ip_len), 0);
					/* Only the MSS and the checksum changed. */
					memcpy(b + ip_len + cases[c].mss_at, before + ip_len + cases[c].mss_at, 2);
					memcpy(b + ip_len + 16, before + ip_len + 16, 2);
					assert_memory_equal(b, before, len);

					/* Already small enough: untouched. */
					len = mk_tcp(b, family, fam == 2, flag_sets[f], cases[c].opts,
						     cases[c].len, payload);
					memcpy(before, b, len);
					assert_false(inet_clamp_mss(b, len, proto, 0xffff));
					assert_false(inet_clamp_mss(b, len, proto,
								    load_be16(b + ip_len + cases[c].mss_at)));
					assert_memory_equal(b, before, len);
				}
}

static void test_clamp_mss_not_applicable(void **state)
{
	static const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };
	static const uint8_t eol_first[] = { 0, 0, 0, 0, 2, 4, 0x05, 0xb4 };
	uint8_t b[200], before[200];
	size_t len;

	(void)state;
	/* Not a SYN. */
	len = mk_tcp(b, AF_INET, false, 0x10, mss, 4, 0);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
	/* MSS after end-of-options: not an option. */
	len = mk_tcp(b, AF_INET, false, 0x02, eol_first, 8, 0);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
	/* No options. */
	len = mk_tcp(b, AF_INET6, false, 0x02, NULL, 0, 0);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV6, 536));
	/* Non-first IPv4 fragment. */
	len = mk_tcp(b, AF_INET, false, 0x02, mss, 4, 0);
	store_be16(b + 6, 0x0010);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
	/* Not TCP. */
	len = mk_tcp(b, AF_INET, false, 0x02, mss, 4, 0);
	b[9] = 17;
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
	/* Wrong protocol type for the packet, and gretap frames. */
	len = mk_tcp(b, AF_INET, false, 0x02, mss, 4, 0);
	memcpy(before, b, len);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV6, 536));
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_TEB, 536));
	assert_memory_equal(b, before, len);
	/* IPv4 total length beyond the buffer. */
	assert_false(inet_clamp_mss(b, len - 1, GRE_PROTO_IPV4, 536));
	/* IPv6 non-first fragment. */
	len = mk_tcp(b, AF_INET6, true, 0x02, mss, 4, 0);
	b[6] = 44;                                      /* the 8 bytes become a fragment header */
	memset(b + 40, 0, 8);
	b[40] = 6;
	store_be16(b + 42, 0x0008);
	assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV6, 536));
	store_be16(b + 42, 0x0001);                     /* first fragment: clamped */
	assert_true(inet_clamp_mss(b, len, GRE_PROTO_IPV6, 536));
}

/* Malformed options and headers, in exact-size heap buffers so that ASan
 * sees any overrun; every truncation of each. */
static void test_clamp_mss_malformed(void **state)
{
	static const struct { uint8_t opts[8]; size_t len; } bad[] = {
		{ { 3, 0, 2, 4, 0x05, 0xb4, 0, 0 }, 8 },   /* length 0 */
		{ { 3, 1, 2, 4, 0x05, 0xb4, 0, 0 }, 8 },   /* length 1 */
		{ { 3, 9, 2, 4, 0x05, 0xb4, 0, 0 }, 8 },   /* past the options */
		{ { 1, 1, 1, 1, 1, 1, 1, 2 }, 8 },         /* kind at the very end */
		{ { 1, 1, 1, 1, 1, 2, 4, 5 }, 8 },         /* MSS cut by the end */
		{ { 2, 3, 0x05, 0xb4, 0, 0, 0, 0 }, 8 },   /* MSS of length 3 */
		{ { 2, 5, 0x05, 0xb4, 0, 0, 0, 0 }, 8 },   /* MSS of length 5 */
	};
	uint8_t b[200];
	size_t i, len, cut;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = mk_tcp(b, AF_INET, false, 0x02, bad[i].opts, bad[i].len, 0);
		for (cut = 0; cut <= len; cut++) {
			uint8_t *h = malloc(cut ? cut : 1);

			memcpy(h, b, cut);
			if (cut >= 4)
				store_be16(h + 2, (uint16_t)cut);  /* IP length agrees */
			assert_false(inet_clamp_mss(h, cut, GRE_PROTO_IPV4, 536));
			free(h);
		}
	}

	/* Data offset beyond the segment, or below 5. */
	{
		static const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };

		len = mk_tcp(b, AF_INET, false, 0x02, mss, 4, 0);
		b[32] = 0xf0;
		assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
		b[32] = 0x40;
		assert_false(inet_clamp_mss(b, len, GRE_PROTO_IPV4, 536));
		/* A truncated good SYN, with the IP length adjusted to the cut:
		 * clamped only when the MSS option is whole. */
		for (cut = 20; cut <= len; cut++) {
			uint8_t *h;

			len = mk_tcp(b, AF_INET, false, 0x02, mss, 4, 0);
			h = malloc(cut);
			memcpy(h, b, cut);
			store_be16(h + 2, (uint16_t)cut);
			assert_int_equal(inet_clamp_mss(h, cut, GRE_PROTO_IPV4, 536), cut == len);
			free(h);
		}
	}
}

static void test_mss_for_mtu(void **state)
{
	(void)state;
	assert_int_equal(inet_mss_for_mtu(1476, AF_INET), 1436);
	assert_int_equal(inet_mss_for_mtu(1476, AF_INET6), 1416);
	assert_int_equal(inet_mss_for_mtu(1500, AF_INET), 1460);
	assert_int_equal(inet_mss_for_mtu(40, AF_INET), 0);
	assert_int_equal(inet_mss_for_mtu(59, AF_INET6), 0);
	assert_int_equal(inet_mss_for_mtu(1500, AF_UNSPEC), 0);
	assert_int_equal(inet_mss_for_mtu(1u << 20, AF_INET), 0xffff);
}

/* ---- TCP super packets of the kernel's GRO ---- */

/* A TCP packet of `pay` payload bytes with a complete checksum: IPv4
 * (no options) or IPv6, 12 bytes of TCP options. */
static size_t tcp_packet(uint8_t *b, bool v6, size_t pay)
{
	size_t ip = v6 ? 40 : 20, th = 32, len = ip + th + pay;

	memset(b, 0, len);
	if (!v6) {
		b[0] = 0x45;
		store_be16(b + 2, (uint16_t)len);
		b[6] = 0x40;            /* DF */
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, "\x0b\x0b\x01\x01\x0b\x0b\x01\x02", 8);
		store_be16(b + 10, ref_csum(b, 20));
	} else {
		b[0] = 0x60;
		store_be16(b + 4, (uint16_t)(th + pay));
		b[6] = 6;
		b[7] = 64;
		b[8] = 0xfd;
		b[23] = 1;
		b[24] = 0xfd;
		b[39] = 2;
	}
	store_be16(b + ip, 40000);
	store_be16(b + ip + 2, 5001);
	store_be32(b + ip + 4, 12345);
	b[ip + 12] = (uint8_t)(th / 4) << 4;
	b[ip + 13] = 0x18;      /* PSH ACK */
	for (size_t i = 0; i < pay; i++)
		b[ip + th + i] = (uint8_t)(i * 7 + 3);
	store_be16(b + ip + 16, ref_l4_csum(b, 6, ip, th + pay));
	return len;
}

/* The pseudo-header sum, folded, not complemented: what the kernel's GRO
 * leaves in the checksum field. */
static uint16_t pseudo_partial(const uint8_t *b, bool v6, size_t tcp_len)
{
	uint8_t ph[40] = { 0 };

	if (!v6) {
		memcpy(ph, b + 12, 8);
		ph[9] = 6;
		store_be16(ph + 10, (uint16_t)tcp_len);
		return (uint16_t)ref_sum(ph, 12, 0);
	}
	memcpy(ph, b + 8, 32);
	store_be32(ph + 32, (uint32_t)tcp_len);
	ph[39] = 6;
	return (uint16_t)ref_sum(ph, 40, 0);
}

static void test_tcp_gro_super(void **state)
{
	uint8_t *b = malloc(70000);
	struct inet_tcp_gro g;
	size_t len;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t ip = v6 ? 40 : 20;
		uint16_t proto = v6 ? GRE_PROTO_IPV6 : GRE_PROTO_IPV4;

		/* A complete checksum: an ordinary packet. */
		len = tcp_packet(b, v6, 5696);
		assert_int_equal(ref_l4_csum(b, 6, ip, len - ip), 0);
		assert_false(inet_tcp_gro_super(b, len, proto, &g));
		/* The kernel's partial checksum: a GRO super packet. */
		store_be16(b + ip + 16, pseudo_partial(b, v6, len - ip));
		memset(&g, 0, sizeof(g));
		assert_true(inet_tcp_gro_super(b, len, proto, &g));
		assert_int_equal(g.v6, v6);
		assert_int_equal(g.ip_hlen, ip);
		assert_int_equal(g.tcp_hlen, 32);
		assert_int_equal(g.payload, 5696);
		/* ... but not with the wrong protocol, length or version */
		assert_false(inet_tcp_gro_super(b, len, v6 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6, &g));
		assert_false(inet_tcp_gro_super(b, len - 1, proto, &g));
		assert_false(inet_tcp_gro_super(b, len, GRE_PROTO_TEB, &g));
		/* Any other wrong checksum: not ours to repair. */
		store_be16(b + ip + 16, (uint16_t)(pseudo_partial(b, v6, len - ip) + 1));
		assert_false(inet_tcp_gro_super(b, len, proto, &g));
		/* A data offset beyond the packet. */
		len = tcp_packet(b, v6, 0);
		b[ip + 12] = 0xf0;
		store_be16(b + ip + 16, pseudo_partial(b, v6, len - ip));
		assert_false(inet_tcp_gro_super(b, len, proto, &g));
	}
	/* IPv4: options and fragments are never merged; UDP is not TCP. */
	len = tcp_packet(b, false, 100);
	store_be16(b + 20 + 16, pseudo_partial(b, false, len - 20));
	assert_true(inet_tcp_gro_super(b, len, GRE_PROTO_IPV4, &g));
	b[6] = 0x20;    /* MF */
	assert_false(inet_tcp_gro_super(b, len, GRE_PROTO_IPV4, &g));
	b[6] = 0x40;
	b[9] = 17;
	assert_false(inet_tcp_gro_super(b, len, GRE_PROTO_IPV4, &g));
	b[9] = 6;
	b[0] = 0x46;
	assert_false(inet_tcp_gro_super(b, len, GRE_PROTO_IPV4, &g));
	assert_false(inet_tcp_gro_super(b, 10, GRE_PROTO_IPV4, &g));
	/* IPv6 with an extension header first */
	len = tcp_packet(b, true, 100);
	b[6] = 0;
	assert_false(inet_tcp_gro_super(b, len, GRE_PROTO_IPV6, &g));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_known),
		cmocka_unit_test(test_checksum_update),
		cmocka_unit_test(test_packet_len),
		cmocka_unit_test(test_clamp_mss_positions),
		cmocka_unit_test(test_clamp_mss_not_applicable),
		cmocka_unit_test(test_clamp_mss_malformed),
		cmocka_unit_test(test_mss_for_mtu),
		cmocka_unit_test(test_tcp_gro_super),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
