/* tests/unit/test_offload.c: virtio-net header, checksum completion and TCP
 * segmentation (tunnel/offload.c).
 *
 * Packets are built as the kernel hands them over a TUN with TSO enabled:
 * virtio header with NEEDS_CSUM, csum_start at the TCP header, and the
 * folded pseudo-header sum (not complemented) in the TCP checksum field.
 * Every check on the results uses a reference checksum written here, not
 * the one in tunnel/inet.c.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <cmocka.h>

#include "tunnel/offload.h"
#include "tunnel/wire.h"
#include "tests/unit/ref_csum.h"

static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_LEN, "virtio_net_hdr size");
static_assert(VNET_F_NEEDS_CSUM == VIRTIO_NET_HDR_F_NEEDS_CSUM, "NEEDS_CSUM");
static_assert(VNET_F_DATA_VALID == VIRTIO_NET_HDR_F_DATA_VALID, "DATA_VALID");
static_assert(VNET_GSO_NONE == VIRTIO_NET_HDR_GSO_NONE, "GSO_NONE");
static_assert(VNET_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4, "GSO_TCPV4");
static_assert(VNET_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6, "GSO_TCPV6");
static_assert(VNET_GSO_UDP == VIRTIO_NET_HDR_GSO_UDP, "GSO_UDP");
static_assert(VNET_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN, "GSO_ECN");
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
static_assert(VNET_GSO_UDP_L4 == VIRTIO_NET_HDR_GSO_UDP_L4, "GSO_UDP_L4");
#endif

enum {
	NOUT = 64,
	IN_OFF = PKT_HEADROOM - VNET_HDR_LEN,   /* so the IP packet lands at PKT_HEADROOM */
	TCP_OPT_LEN = 12,                       /* NOP NOP timestamps */
	F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10, F_ECE = 0x40, F_CWR = 0x80,
	SEQ0 = 0xfffff000u,                     /* wraps within a large packet */
	ACK0 = 0x12345678u,
};

static struct pkt in_pkt, saved_pkt;
static struct pkt seg_pool[NOUT];
static struct pkt *out[NOUT];
static uint8_t orig_ip[PKT_BUF_SIZE];

static void reset_out(void)
{
	unsigned i;

	for (i = 0; i < NOUT; i++)
		out[i] = &seg_pool[i];
}

/* True when the L4 checksum of ip[0..len) (L4 header at l4_off) verifies. */
static bool l4_csum_ok(const uint8_t *ip, size_t len, size_t l4_off, uint8_t proto)
{
	return ref_sum(ip + l4_off, len - l4_off, ref_pseudo(ip, proto, len - l4_off)) == 0xffff;
}

struct spec {
	bool v6;
	size_t ip_opt;          /* IPv4 option bytes (multiple of 4) */
	size_t pay;
	uint8_t tcp_flags;
	uint8_t gso_type;       /* as on the wire, ECN bit included */
	uint16_t gso_size;
	uint16_t ip_id;
};

static void store_vnet(uint8_t *h, uint8_t flags, uint8_t gso_type, uint16_t hdr_len,
		       uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	h[0] = flags;
	h[1] = gso_type;
	h[2] = (uint8_t)hdr_len;  h[3] = (uint8_t)(hdr_len >> 8);
	h[4] = (uint8_t)gso_size; h[5] = (uint8_t)(gso_size >> 8);
	h[6] = (uint8_t)csum_start; h[7] = (uint8_t)(csum_start >> 8);
	h[8] = (uint8_t)csum_offset; h[9] = (uint8_t)(csum_offset >> 8);
}

/* Build into in_pkt a TSO packet as the kernel writes it; keep a copy of
 * the IP packet in orig_ip.  Returns the IP header length. */
static size_t build_tcp(const struct spec *s)
{
	size_t ip_hlen = s->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN + s->ip_opt;
	size_t tcp_hlen = 20 + TCP_OPT_LEN, len = ip_hlen + tcp_hlen + s->pay, i;
	uint8_t *ip, *tcp;

	assert_true(len + VNET_HDR_LEN <= sizeof(in_pkt.buf) - IN_OFF);
	memset(&in_pkt, 0, sizeof(in_pkt));
	in_pkt.off = IN_OFF;
	in_pkt.len = VNET_HDR_LEN + len;
	ip = pkt_data(&in_pkt) + VNET_HDR_LEN;
	if (!s->v6) {
		ip[0] = (uint8_t)(0x40 | (ip_hlen / 4));
		ip[1] = 0x02;                   /* ECT(0) */
		store_be16(ip + 2, (uint16_t)len);
		store_be16(ip + 4, s->ip_id);
		store_be16(ip + 6, 0x4000);     /* DF */
		ip[8] = 64;
		ip[9] = 6;
		store_be32(ip + 12, 0xc0000201);
		store_be32(ip + 16, 0xc6336402);
		for (i = IPV4_HDR_LEN; i < ip_hlen; i++)
			ip[i] = 1;              /* NOP options */
		store_be16(ip + 10, (uint16_t)~ref_sum(ip, ip_hlen, 0));
	} else {
		store_be32(ip, 0x60012345);     /* flow label */
		store_be16(ip + 4, (uint16_t)(len - IPV6_HDR_LEN));
		ip[6] = 6;
		ip[7] = 64;
		for (i = 0; i < 16; i++) {
			ip[8 + i] = (uint8_t)(0x20 + i);
			ip[24 + i] = (uint8_t)(0x90 + i);
		}
	}
	tcp = ip + ip_hlen;
	store_be16(tcp, 44321);
	store_be16(tcp + 2, 5201);
	store_be32(tcp + 4, SEQ0);
	store_be32(tcp + 8, ACK0);
	tcp[12] = (uint8_t)((tcp_hlen / 4) << 4);
	tcp[13] = s->tcp_flags;
	store_be16(tcp + 14, 502);
	tcp[20] = 1;
	tcp[21] = 1;
	tcp[22] = 8;                            /* timestamps */
	tcp[23] = 10;
	store_be32(tcp + 24, 0x01020304);
	store_be32(tcp + 28, 0x0a0b0c0d);
	for (i = 0; i < s->pay; i++)
		tcp[tcp_hlen + i] = (uint8_t)(i * 7 + (i >> 8) + 3);
	/* The kernel leaves the pseudo-header sum, folded, in the field. */
	store_be16(tcp + 16, (uint16_t)ref_pseudo(ip, 6, tcp_hlen + s->pay));
	store_vnet(pkt_data(&in_pkt), VNET_F_NEEDS_CSUM, s->gso_type,
		   (uint16_t)(ip_hlen + tcp_hlen), s->gso_size, (uint16_t)ip_hlen, 16);
	memcpy(orig_ip, ip, len);
	return ip_hlen;
}

/* Check segments out[0..n) of the packet in orig_ip against every rule. */
static void check_segments(const struct spec *s, size_t ip_hlen, int n)
{
	size_t hlen = ip_hlen + 20 + TCP_OPT_LEN, done = 0;
	int i, want = (int)((s->pay + s->gso_size - 1) / s->gso_size);

	assert_int_equal(n, want);
	for (i = 0; i < n; i++) {
		const struct pkt *q = out[i];
		const uint8_t *d = q->buf + q->off, *tcp = d + ip_hlen;
		size_t seg = s->pay - done < s->gso_size ? s->pay - done : s->gso_size;
		uint8_t flags = s->tcp_flags;
		uint8_t a[60], b[60];

		assert_ptr_equal(q, &seg_pool[i]);
		assert_int_equal(q->off, PKT_HEADROOM);
		assert_int_equal(q->len, hlen + seg);
		assert_true(q->len <= PKT_MAX_PAYLOAD);
		if (!s->v6) {
			assert_int_equal(ref_sum(d, ip_hlen, 0), 0xffff);
			assert_int_equal(load_be16(d + 2), q->len);
			assert_int_equal(load_be16(d + 4), (uint16_t)(s->ip_id + i));
			/* Everything else in the IP header as in the original. */
			memcpy(a, d, ip_hlen);
			memcpy(b, orig_ip, ip_hlen);
			memset(a + 2, 0, 4); memset(b + 2, 0, 4);
			memset(a + 10, 0, 2); memset(b + 10, 0, 2);
			assert_memory_equal(a, b, ip_hlen);
		} else {
			assert_int_equal(load_be16(d + 4), q->len - IPV6_HDR_LEN);
			assert_memory_equal(d, orig_ip, 4);
			assert_memory_equal(d + 6, orig_ip + 6, 34);
		}
		assert_int_equal(load_be32(tcp + 4), (uint32_t)(SEQ0 + done));
		if (i > 0)
			flags &= (uint8_t)~F_CWR;
		if (i + 1 < n)
			flags &= (uint8_t)~(F_FIN | F_PSH);
		assert_int_equal(tcp[13], flags);
		assert_true(l4_csum_ok(d, q->len, ip_hlen, 6));
		/* Ports, ack, window, options unchanged. */
		assert_memory_equal(tcp, orig_ip + ip_hlen, 4);
		assert_memory_equal(tcp + 8, orig_ip + ip_hlen + 8, 5);
		assert_memory_equal(tcp + 14, orig_ip + ip_hlen + 14, 2);
		assert_memory_equal(tcp + 18, orig_ip + ip_hlen + 18, hlen - ip_hlen - 18);
		/* Payloads reassemble to the original. */
		assert_memory_equal(d + hlen, orig_ip + hlen + done, seg);
		done += seg;
	}
	assert_int_equal(done, s->pay);
}

static void run_tso(const struct spec *s)
{
	size_t ip_hlen = build_tcp(s);
	int n;

	memcpy(&saved_pkt, &in_pkt, sizeof(in_pkt));
	reset_out();
	n = offload_segment(&in_pkt, out, NOUT);
	assert_true(n >= 2);
	check_segments(s, ip_hlen, n);
	/* The input is left as it was. */
	assert_int_equal(in_pkt.off, saved_pkt.off);
	assert_int_equal(in_pkt.len, saved_pkt.len);
	assert_memory_equal(in_pkt.buf, saved_pkt.buf, sizeof(in_pkt.buf));
}

static void test_tso4_sizes(void **state)
{
	static const struct { size_t pay; uint16_t gso; } cases[] = {
		{ 6000, 1448 },         /* last segment short */
		{ 6000, 1500 },         /* exact multiple */
		{ 6000, 5999 },         /* one byte left over */
		{ 20, 7 },
		{ 2, 1 },
		{ 65535 - 20 - 32, 1448 },      /* the largest IPv4 packet, 46 segments */
		{ 65535 - 20 - 32, 65000 },
		{ 64 * 100, 100 },      /* exactly the output capacity */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s = {
			.pay = cases[i].pay, .gso_size = cases[i].gso,
			.gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK | F_PSH,
			.ip_id = 0x1234,
		};

		run_tso(&s);
	}
}

static void test_tso6_sizes(void **state)
{
	static const struct { size_t pay; uint16_t gso; } cases[] = {
		{ 6000, 1428 },
		{ 6000, 1200 },
		{ 3, 2 },
		{ 65535 - 32, 1428 },   /* payload length 65535: a 65575-byte packet */
		{ 65535 - 32, 65400 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s = {
			.v6 = true, .pay = cases[i].pay, .gso_size = cases[i].gso,
			.gso_type = VNET_GSO_TCPV6, .tcp_flags = F_ACK,
		};

		run_tso(&s);
	}
}

static void test_tso_flags_ecn_id(void **state)
{
	/* FIN, PSH and CWR together, with the ECN GSO bit; IPv4 ID wraps. */
	struct spec s4 = {
		.pay = 5000, .gso_size = 1000, .gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN,
		.tcp_flags = F_ACK | F_PSH | F_FIN | F_CWR | F_ECE, .ip_id = 0xfffe,
	};
	struct spec s6 = {
		.v6 = true, .pay = 4001, .gso_size = 1000, .gso_type = VNET_GSO_TCPV6 | VNET_GSO_ECN,
		.tcp_flags = F_ACK | F_PSH | F_FIN | F_CWR,
	};
	/* IPv4 options are copied into every segment. */
	struct spec opt = {
		.ip_opt = 8, .pay = 3000, .gso_size = 1400, .gso_type = VNET_GSO_TCPV4,
		.tcp_flags = F_ACK | F_FIN, .ip_id = 7,
	};

	(void)state;
	run_tso(&s4);
	assert_int_equal(load_be16(pkt_data(out[2]) + 4), 0x0000);
	run_tso(&s6);
	run_tso(&opt);
}

/* hdr_len is a hint: the kernel may report the linear length there. */
static void test_tso_hdr_len_hint(void **state)
{
	struct spec s = { .pay = 3000, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK };
	size_t ip_hlen;
	int n;

	(void)state;
	ip_hlen = build_tcp(&s);
	store_vnet(pkt_data(&in_pkt), VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4,
		   (uint16_t)(in_pkt.len - VNET_HDR_LEN), 1448, (uint16_t)ip_hlen, 16);
	reset_out();
	n = offload_segment(&in_pkt, out, NOUT);
	check_segments(&s, ip_hlen, n);

	ip_hlen = build_tcp(&s);
	store_vnet(pkt_data(&in_pkt), VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 0, 1448, (uint16_t)ip_hlen, 16);
	reset_out();
	n = offload_segment(&in_pkt, out, NOUT);
	check_segments(&s, ip_hlen, n);
}

/* A TSO packet whose payload fits one segment is finished in place. */
static void test_tso_single_in_place(void **state)
{
	static const struct spec cases[] = {
		{ .pay = 1448, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK | F_FIN | F_CWR, .ip_id = 9 },
		{ .pay = 0, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK | F_SYN },
		{ .v6 = true, .pay = 100, .gso_size = 1428, .gso_type = VNET_GSO_TCPV6, .tcp_flags = F_ACK | F_PSH },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t ip_hlen = build_tcp(&cases[i]), len = in_pkt.len - VNET_HDR_LEN;
		const uint8_t *d;

		reset_out();
		assert_int_equal(offload_segment(&in_pkt, out, NOUT), 1);
		assert_ptr_equal(out[0], &in_pkt);
		assert_int_equal(in_pkt.off, PKT_HEADROOM);
		assert_int_equal(in_pkt.len, len);
		d = pkt_data(&in_pkt);
		if (!cases[i].v6)
			assert_int_equal(ref_sum(d, ip_hlen, 0), 0xffff);
		assert_true(l4_csum_ok(d, len, ip_hlen, 6));
		/* Only the TCP checksum differs from what the kernel gave. */
		assert_memory_equal(d, orig_ip, ip_hlen + 16);
		assert_memory_equal(d + ip_hlen + 18, orig_ip + ip_hlen + 18, len - ip_hlen - 18);
	}
	/* Also with just one output slot. */
	build_tcp(&cases[0]);
	reset_out();
	assert_int_equal(offload_segment(&in_pkt, out, 1), 1);
	assert_ptr_equal(out[0], &in_pkt);
}

/* Build a plain UDP or TCP packet with a partial checksum, no GSO. */
static size_t build_csum_only(bool v6, uint8_t proto, size_t pay, uint8_t fill)
{
	size_t ip_hlen = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	size_t l4_hlen = proto == 17 ? 8 : 20, csum_off = proto == 17 ? 6 : 16;
	size_t len = ip_hlen + l4_hlen + pay, i;
	uint8_t *ip, *l4;

	memset(&in_pkt, 0, sizeof(in_pkt));
	in_pkt.off = IN_OFF;
	in_pkt.len = VNET_HDR_LEN + len;
	ip = pkt_data(&in_pkt) + VNET_HDR_LEN;
	if (!v6) {
		ip[0] = 0x45;
		store_be16(ip + 2, (uint16_t)len);
		ip[8] = 64;
		ip[9] = proto;
		store_be32(ip + 12, 0x0a000001);
		store_be32(ip + 16, 0x0a000002);
		store_be16(ip + 10, (uint16_t)~ref_sum(ip, 20, 0));
	} else {
		ip[0] = 0x60;
		store_be16(ip + 4, (uint16_t)(len - IPV6_HDR_LEN));
		ip[6] = proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[24] = 0xfd;
		ip[39] = 1;
	}
	l4 = ip + ip_hlen;
	store_be16(l4, 5353);
	store_be16(l4 + 2, 53);
	if (proto == 17) {
		store_be16(l4 + 4, (uint16_t)(l4_hlen + pay));
	} else {
		store_be32(l4 + 4, 1000);
		l4[12] = 0x50;
		l4[13] = F_ACK | F_PSH;
	}
	for (i = 0; i < pay; i++)
		l4[l4_hlen + i] = (uint8_t)(fill + i * 13);
	store_be16(l4 + csum_off, (uint16_t)ref_pseudo(ip, proto, l4_hlen + pay));
	store_vnet(pkt_data(&in_pkt), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0,
		   (uint16_t)ip_hlen, (uint16_t)csum_off);
	memcpy(orig_ip, ip, len);
	return ip_hlen;
}

static void test_csum_only(void **state)
{
	static const struct { bool v6; uint8_t proto; size_t pay; } cases[] = {
		{ false, 17, 100 }, { false, 17, 101 }, { true, 17, 1 }, { true, 17, 0 },
		{ false, 6, 1400 }, { false, 6, 1 }, { true, 6, 1401 }, { true, 6, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t ip_hlen = build_csum_only(cases[i].v6, cases[i].proto, cases[i].pay, (uint8_t)i);
		size_t len = in_pkt.len - VNET_HDR_LEN, field = ip_hlen + (cases[i].proto == 17 ? 6 : 16);
		const uint8_t *d;

		reset_out();
		assert_int_equal(offload_segment(&in_pkt, out, NOUT), 1);
		assert_ptr_equal(out[0], &in_pkt);
		assert_int_equal(in_pkt.off, PKT_HEADROOM);
		assert_int_equal(in_pkt.len, len);
		d = pkt_data(&in_pkt);
		assert_true(l4_csum_ok(d, len, ip_hlen, cases[i].proto));
		assert_memory_equal(d, orig_ip, field);
		assert_memory_equal(d + field + 2, orig_ip + field + 2, len - field - 2);
	}
}

/* A UDP checksum that comes out 0 is sent as 0xffff (RFC 768). */
static void test_csum_udp_zero(void **state)
{
	size_t ip_hlen, len;
	uint8_t *ip;
	uint32_t s;

	(void)state;
	ip_hlen = build_csum_only(false, 17, 10, 0);
	ip = pkt_data(&in_pkt) + VNET_HDR_LEN;
	len = in_pkt.len - VNET_HDR_LEN;
	/* Choose the first payload word so that the whole sum is 0xffff. */
	store_be16(ip + ip_hlen + 8, 0);
	s = ref_sum(ip + ip_hlen, len - ip_hlen, 0);
	store_be16(ip + ip_hlen + 8, (uint16_t)(0xffff - s));
	assert_int_equal(ref_sum(ip + ip_hlen, len - ip_hlen, 0), 0xffff);
	reset_out();
	assert_int_equal(offload_segment(&in_pkt, out, NOUT), 1);
	assert_int_equal(load_be16(pkt_data(&in_pkt) + ip_hlen + 6), 0xffff);
	assert_true(l4_csum_ok(pkt_data(&in_pkt), len, ip_hlen, 17));
}

/* No flags, or DATA_VALID: the packet is passed on untouched. */
static void test_no_offload(void **state)
{
	static const uint8_t flags[] = { 0, VNET_F_DATA_VALID };
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(flags); i++) {
		build_csum_only(false, 17, 33, 5);
		store_vnet(pkt_data(&in_pkt), flags[i], VNET_GSO_NONE, 0, 0, 0, 0);
		len = in_pkt.len - VNET_HDR_LEN;
		reset_out();
		assert_int_equal(offload_segment(&in_pkt, out, NOUT), 1);
		assert_ptr_equal(out[0], &in_pkt);
		assert_int_equal(in_pkt.len, len);
		assert_memory_equal(pkt_data(&in_pkt), orig_ip, len);
	}
}

static void test_parse_vnet(void **state)
{
	uint8_t h[VNET_HDR_LEN];
	struct offload_info info;

	(void)state;
	store_vnet(h, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6 | VNET_GSO_ECN, 0x0102, 0x0304, 0x0506, 0x0708);
	assert_int_equal(h[2], 0x02);   /* little-endian on the wire */
	assert_int_equal(offload_parse_vnet(h, sizeof(h), &info), 0);
	assert_int_equal(info.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(info.gso_type, VNET_GSO_TCPV6);
	assert_int_equal(info.gso_ecn, 1);
	assert_int_equal(info.hdr_len, 0x0102);
	assert_int_equal(info.gso_size, 0x0304);
	assert_int_equal(info.csum_start, 0x0506);
	assert_int_equal(info.csum_offset, 0x0708);

	store_vnet(h, 0, VNET_GSO_NONE, 0, 0, 0, 0);
	assert_int_equal(offload_parse_vnet(h, sizeof(h), &info), 0);
	assert_int_equal(info.gso_ecn, 0);
	assert_int_equal(offload_parse_vnet(h, sizeof(h) - 1, &info), -EINVAL);
	assert_int_equal(offload_parse_vnet(h, 0, &info), -EINVAL);
	/* Odd csum_offset only matters with NEEDS_CSUM. */
	store_vnet(h, VNET_F_DATA_VALID, VNET_GSO_NONE, 0, 0, 3, 7);
	assert_int_equal(offload_parse_vnet(h, sizeof(h), &info), 0);
	store_vnet(h, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 3, 7);
	assert_int_equal(offload_parse_vnet(h, sizeof(h), &info), -EINVAL);
}

/* Expect offload_segment to fail with err and leave p and out[] alone. */
static void expect_reject(int err, unsigned max_out)
{
	unsigned i;

	memcpy(&saved_pkt, &in_pkt, sizeof(in_pkt));
	reset_out();
	assert_int_equal(offload_segment(&in_pkt, out, max_out), err);
	assert_int_equal(in_pkt.off, saved_pkt.off);
	assert_int_equal(in_pkt.len, saved_pkt.len);
	assert_memory_equal(in_pkt.buf, saved_pkt.buf, sizeof(in_pkt.buf));
	for (i = 0; i < NOUT; i++)
		assert_ptr_equal(out[i], &seg_pool[i]);
}

static uint8_t *vnet(void) { return pkt_data(&in_pkt); }
static uint8_t *ipd(void) { return pkt_data(&in_pkt) + VNET_HDR_LEN; }

static void test_reject_header(void **state)
{
	static const struct spec s4 = { .pay = 3000, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK };
	size_t full;

	(void)state;
	build_tcp(&s4);
	full = in_pkt.len;
	in_pkt.len = VNET_HDR_LEN - 1;
	expect_reject(-EINVAL, NOUT);
	in_pkt.len = VNET_HDR_LEN;              /* a header and no packet */
	expect_reject(-EINVAL, NOUT);
	in_pkt.len = full;

	vnet()[0] = VNET_F_NEEDS_CSUM | 0x04;   /* RSC_INFO */
	expect_reject(-EINVAL, NOUT);
	vnet()[0] = 0;                          /* TSO without NEEDS_CSUM */
	expect_reject(-EINVAL, NOUT);
	vnet()[0] = VNET_F_NEEDS_CSUM;

	vnet()[4] = vnet()[5] = 0;              /* gso_size 0 */
	expect_reject(-EINVAL, NOUT);
	build_tcp(&s4);
	vnet()[1] = VNET_GSO_UDP;
	expect_reject(-EOPNOTSUPP, NOUT);
	vnet()[1] = VNET_GSO_UDP_L4;
	expect_reject(-EOPNOTSUPP, NOUT);
	vnet()[1] = VNET_GSO_UDP_L4 | VNET_GSO_ECN;
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = 2;
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = 0x7f;
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = VNET_GSO_ECN;               /* ECN without TCP */
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = VNET_GSO_TCPV6;             /* IPv4 packet, IPv6 type */
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = VNET_GSO_TCPV4;

	vnet()[2] = (uint8_t)(full - VNET_HDR_LEN + 1);         /* hdr_len beyond */
	vnet()[3] = (uint8_t)((full - VNET_HDR_LEN + 1) >> 8);
	expect_reject(-EINVAL, NOUT);
	vnet()[2] = 52;
	vnet()[3] = 0;

	vnet()[6] = 24;                         /* csum_start not the TCP header */
	expect_reject(-EINVAL, NOUT);
	vnet()[6] = 0xff;                       /* beyond the packet */
	vnet()[7] = 0xff;
	expect_reject(-EINVAL, NOUT);
	vnet()[6] = 20;
	vnet()[7] = 0;
	vnet()[8] = 6;                          /* not the TCP checksum */
	expect_reject(-EINVAL, NOUT);
	vnet()[8] = 17;                         /* odd */
	expect_reject(-EINVAL, NOUT);
	vnet()[8] = 16;
	expect_reject(-ENOBUFS, 2);             /* the header is fine otherwise */
}

static void test_reject_csum_only(void **state)
{
	size_t len;

	(void)state;
	build_csum_only(false, 17, 40, 1);
	len = in_pkt.len - VNET_HDR_LEN;
	/* csum_start beyond the packet, the field straddling the end, odd
	 * offset, and start + offset beyond 16 bits of sense. */
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, (uint16_t)(len + 2), 0);
	expect_reject(-EINVAL, NOUT);
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, (uint16_t)(len - 2), 2);
	expect_reject(-EINVAL, NOUT);
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, (uint16_t)(len - 1), 0);
	expect_reject(-EINVAL, NOUT);
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 5);
	expect_reject(-EINVAL, NOUT);
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 0xfffe, 0xfffe);
	expect_reject(-EINVAL, NOUT);
	/* The last two bytes are still a valid place. */
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, (uint16_t)(len - 2), 0);
	reset_out();
	assert_int_equal(offload_segment(&in_pkt, out, NOUT), 1);
}

static void test_reject_ipv4(void **state)
{
	static const struct spec s = { .pay = 3000, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK };
	size_t len;

	(void)state;
	build_tcp(&s);
	len = in_pkt.len - VNET_HDR_LEN;
	ipd()[0] = 0x65;                        /* version 6 */
	expect_reject(-EINVAL, NOUT);
	ipd()[0] = 0x44;                        /* IHL < 5 */
	expect_reject(-EINVAL, NOUT);
	ipd()[0] = 0x45;
	store_be16(ipd() + 2, (uint16_t)(len + 1));
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 2, (uint16_t)(len - 1));
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 2, (uint16_t)len);
	store_be16(ipd() + 6, 0x2000);          /* MF */
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 6, 0x0001);          /* fragment offset */
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 6, 0x4000);
	ipd()[9] = 17;
	expect_reject(-EINVAL, NOUT);
	ipd()[9] = 6;
	ipd()[20 + 12] = 0x40;                  /* TCP data offset < 5 */
	expect_reject(-EINVAL, NOUT);
	ipd()[20 + 12] = 0x80;
	expect_reject(-ENOBUFS, 2);             /* intact again */

	/* Truncated: IHL beyond the packet, TCP header beyond the packet. */
	build_tcp(&(struct spec){ .pay = 0, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4 });
	ipd()[0] = 0x4f;                        /* 60 > 52 bytes */
	store_vnet(vnet(), VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 0, 1448, 60, 16);
	expect_reject(-EINVAL, NOUT);
	build_tcp(&(struct spec){ .pay = 0, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4 });
	ipd()[20 + 12] = 0xf0;                  /* 60-byte TCP header in 32 */
	expect_reject(-EINVAL, NOUT);
	build_tcp(&(struct spec){ .pay = 0, .gso_size = 1448, .gso_type = VNET_GSO_TCPV4 });
	in_pkt.len = VNET_HDR_LEN + 30;         /* not even a TCP header */
	store_be16(ipd() + 2, 30);
	expect_reject(-EINVAL, NOUT);
	in_pkt.len = VNET_HDR_LEN + 19;         /* not even an IP header */
	store_be16(ipd() + 2, 19);
	expect_reject(-EINVAL, NOUT);
}

static void test_reject_ipv6(void **state)
{
	static const struct spec s = { .v6 = true, .pay = 3000, .gso_size = 1428, .gso_type = VNET_GSO_TCPV6, .tcp_flags = F_ACK };
	size_t len;

	(void)state;
	build_tcp(&s);
	len = in_pkt.len - VNET_HDR_LEN;
	ipd()[0] = 0x40;
	expect_reject(-EINVAL, NOUT);
	ipd()[0] = 0x60;
	store_be16(ipd() + 4, (uint16_t)(len - IPV6_HDR_LEN + 1));
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 4, (uint16_t)(len - IPV6_HDR_LEN - 1));
	expect_reject(-EINVAL, NOUT);
	store_be16(ipd() + 4, (uint16_t)(len - IPV6_HDR_LEN));
	ipd()[6] = 0;                           /* hop-by-hop options */
	expect_reject(-EINVAL, NOUT);
	ipd()[6] = 44;                          /* fragment header */
	expect_reject(-EINVAL, NOUT);
	ipd()[6] = 6;
	vnet()[1] = VNET_GSO_TCPV4;             /* IPv6 packet, IPv4 type */
	expect_reject(-EINVAL, NOUT);
	vnet()[1] = VNET_GSO_TCPV6;
	vnet()[6] = 20;                         /* csum_start of IPv4 */
	expect_reject(-EINVAL, NOUT);
	vnet()[6] = 40;
	expect_reject(-ENOBUFS, 2);
	in_pkt.len = VNET_HDR_LEN + 39;
	expect_reject(-EINVAL, NOUT);
}

static void test_reject_capacity(void **state)
{
	struct spec s = { .pay = 6000, .gso_size = 1000, .gso_type = VNET_GSO_TCPV4, .tcp_flags = F_ACK };
	int n;

	(void)state;
	build_tcp(&s);
	expect_reject(-ENOBUFS, 5);
	expect_reject(-ENOBUFS, 0);
	/* An output slot that is the input itself. */
	memcpy(&saved_pkt, &in_pkt, sizeof(in_pkt));
	reset_out();
	out[3] = &in_pkt;
	assert_int_equal(offload_segment(&in_pkt, out, NOUT), -EINVAL);
	assert_memory_equal(in_pkt.buf, saved_pkt.buf, sizeof(in_pkt.buf));
	/* Exactly enough. */
	reset_out();
	n = offload_segment(&in_pkt, out, 6);
	check_segments(&s, IPV4_HDR_LEN, n);

	/* An IPv6 packet longer than PKT_MAX_PAYLOAD: fine when split into
	 * small segments, refused when a segment would be as large. */
	s = (struct spec){ .v6 = true, .pay = 65535 - 32, .gso_size = 65500, .gso_type = VNET_GSO_TCPV6 };
	build_tcp(&s);
	expect_reject(-EMSGSIZE, NOUT);
	s.gso_size = 65535;
	build_tcp(&s);
	expect_reject(-EMSGSIZE, NOUT);
	s.gso_size = 65535 - 72;
	run_tso(&s);
}

static void test_prepend_vnet_none(void **state)
{
	struct pkt *p = &seg_pool[0];
	static const uint8_t zero[VNET_HDR_LEN];
	struct offload_info info;

	(void)state;
	pkt_reset(p);
	p->len = 3;
	memcpy(pkt_data(p), "abc", 3);
	memset(p->buf, 0xee, PKT_HEADROOM);
	assert_int_equal(offload_prepend_vnet_none(p), 0);
	assert_int_equal(p->off, PKT_HEADROOM - VNET_HDR_LEN);
	assert_int_equal(p->len, VNET_HDR_LEN + 3);
	assert_memory_equal(pkt_data(p), zero, VNET_HDR_LEN);
	assert_memory_equal(pkt_data(p) + VNET_HDR_LEN, "abc", 3);
	assert_int_equal(offload_parse_vnet(pkt_data(p), p->len, &info), 0);
	assert_int_equal(info.gso_type, VNET_GSO_NONE);

	p->off = VNET_HDR_LEN - 1;
	p->len = 3;
	assert_int_equal(offload_prepend_vnet_none(p), -ENOBUFS);
	assert_int_equal(p->off, VNET_HDR_LEN - 1);
	assert_int_equal(p->len, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_vnet),
		cmocka_unit_test(test_tso4_sizes),
		cmocka_unit_test(test_tso6_sizes),
		cmocka_unit_test(test_tso_flags_ecn_id),
		cmocka_unit_test(test_tso_hdr_len_hint),
		cmocka_unit_test(test_tso_single_in_place),
		cmocka_unit_test(test_csum_only),
		cmocka_unit_test(test_csum_udp_zero),
		cmocka_unit_test(test_no_offload),
		cmocka_unit_test(test_reject_header),
		cmocka_unit_test(test_reject_csum_only),
		cmocka_unit_test(test_reject_ipv4),
		cmocka_unit_test(test_reject_ipv6),
		cmocka_unit_test(test_reject_capacity),
		cmocka_unit_test(test_prepend_vnet_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
