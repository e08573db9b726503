/* tests/unit/test_gro.c: receive coalescing of TCP segments into TSO super
 * packets for the TUN (tunnel/gro.c).
 *
 * Segments are built here with a reference checksum; every super packet is
 * checked field by field, its partial checksum completed as the kernel
 * would, and then split again with offload_segment() (tunnel/offload.c),
 * which must give back the original segments byte for byte.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "tunnel/gro.h"
#include "tunnel/offload.h"
#include "tunnel/wire.h"
#include "tests/unit/ref_csum.h"

enum {
	NPKT = 40,
	NOUT = 64,
	F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10,
	F_URG = 0x20, F_ECE = 0x40, F_CWR = 0x80,
	SEQ0 = 0xffffe000u,                     /* wraps inside the runs */
	ACK0 = 0x12345678u,
	MSS4 = 1448,
	MSS6 = 1428,
};

static struct pkt pkts[NPKT], saved[NPKT];
static struct pkt seg_pool[NOUT], copy_pkt;
static struct pkt *out[NOUT];
static struct gro_table g;
static bool merged[NPKT];

struct spec {
	bool v6;
	uint16_t sport;
	uint32_t seq;
	uint32_t ack;
	size_t pay;
	uint8_t flags;
	uint16_t id;
	bool no_df;
	uint8_t ttl;
	uint8_t tos;
	uint32_t tsval;
	size_t ip_opt;          /* IPv4 option bytes */
	size_t tcp_opt;         /* 12: NOP NOP timestamps; 0: none */
	uint8_t proto;          /* 6, or 17/1/58 for other protocols */
	bool bad_csum;
	uint16_t window;
};

static struct spec spec_default(bool v6)
{
	struct spec s = {
		.v6 = v6, .sport = 44321, .seq = SEQ0, .ack = ACK0, .pay = v6 ? MSS6 : MSS4,
		.flags = F_ACK, .id = 0xfff0, .ttl = 63, .tos = 0x02, .tsval = 0x01020304,
		.tcp_opt = 12, .proto = 6, .window = 502,
	};
	return s;
}

/* Byte i of the TCP stream of a flow: a payload run reassembles to it. */
static uint8_t stream_byte(uint16_t sport, uint32_t seq)
{
	return (uint8_t)(((seq + sport) * 2654435761u) >> 24);
}

/* Build packet i of the batch at PKT_HEADROOM and keep a copy. */
static void build(unsigned i, const struct spec *s)
{
	struct pkt *p = &pkts[i];
	size_t ip_hlen = s->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN + s->ip_opt;
	size_t l4_hlen = s->proto == 6 ? 20 + s->tcp_opt : 8;
	size_t len = ip_hlen + l4_hlen + s->pay, k;
	uint8_t *ip, *l4;

	assert_true(len <= PKT_MAX_PAYLOAD);
	pkt_reset(p);
	p->len = len;
	ip = pkt_data(p);
	memset(ip, 0, len);
	if (!s->v6) {
		ip[0] = (uint8_t)(0x40 | (ip_hlen / 4));
		ip[1] = s->tos;
		store_be16(ip + 2, (uint16_t)len);
		store_be16(ip + 4, s->id);
		store_be16(ip + 6, s->no_df ? 0 : 0x4000);
		ip[8] = s->ttl;
		ip[9] = s->proto;
		store_be32(ip + 12, 0xc0000201);
		store_be32(ip + 16, 0xc6336402);
		for (k = IPV4_HDR_LEN; k < ip_hlen; k++)
			ip[k] = 1;
		store_be16(ip + 10, (uint16_t)~ref_sum(ip, ip_hlen, 0));
	} else {
		store_be32(ip, 0x60000000u | (uint32_t)s->tos << 20 | 0x12345);
		store_be16(ip + 4, (uint16_t)(len - IPV6_HDR_LEN));
		ip[6] = s->proto;
		ip[7] = s->ttl;
		for (k = 0; k < 16; k++) {
			ip[8 + k] = (uint8_t)(0x20 + k);
			ip[24 + k] = (uint8_t)(0x90 + k);
		}
	}
	l4 = ip + ip_hlen;
	store_be16(l4, s->sport);
	store_be16(l4 + 2, 5201);
	if (s->proto == 6) {
		store_be32(l4 + 4, s->seq);
		store_be32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4_hlen / 4) << 4);
		l4[13] = s->flags;
		store_be16(l4 + 14, s->window);
		if (s->tcp_opt) {
			l4[20] = 1;
			l4[21] = 1;
			l4[22] = 8;
			l4[23] = 10;
			store_be32(l4 + 24, s->tsval);
			store_be32(l4 + 28, 0x0a0b0c0d);
		}
	} else if (s->proto == 17) {
		store_be16(l4 + 4, (uint16_t)(l4_hlen + s->pay));
	}
	for (k = 0; k < s->pay; k++)
		l4[l4_hlen + k] = stream_byte(s->sport, s->seq + (uint32_t)k);
	if (s->proto == 6 || s->proto == 17) {
		size_t csum_off = s->proto == 6 ? 16 : 6;
		uint16_t c = (uint16_t)~ref_sum(l4, len - ip_hlen, ref_pseudo(ip, s->proto, len - ip_hlen));

		store_be16(l4 + csum_off, c);
		if (s->bad_csum)
			l4[csum_off] ^= 0x40;
	}
	memcpy(&saved[i], p, sizeof(*p));
}

/* n segments of one flow in pkts[first..]: consecutive sequence numbers
 * and IPv4 IDs, the last one last_pay bytes long with last_flags. */
static void build_run(unsigned first, unsigned n, struct spec s, size_t last_pay, uint8_t last_flags)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct spec t = s;

		if (i + 1 == n) {
			t.pay = last_pay;
			t.flags = last_flags;
		}
		build(first + i, &t);
		s.seq += (uint32_t)t.pay;
		s.id++;
	}
}

static unsigned offer_all(unsigned n)
{
	unsigned i, heads = 0;

	gro_init(&g);
	for (i = 0; i < n; i++) {
		merged[i] = gro_offer(&g, &pkts[i]);
		heads += !merged[i];
	}
	return heads;
}

/* A packet that passed alone: a zeroed virtio header, then its bytes. */
static void check_untouched(unsigned i)
{
	static const uint8_t zero[VNET_HDR_LEN];

	assert_false(merged[i]);
	assert_int_equal(gro_finish(&g, &pkts[i]), 1);
	assert_int_equal(pkts[i].off, PKT_HEADROOM - VNET_HDR_LEN);
	assert_int_equal(pkts[i].len, saved[i].len + VNET_HDR_LEN);
	assert_memory_equal(pkt_data(&pkts[i]), zero, VNET_HDR_LEN);
	assert_memory_equal(pkt_data(&pkts[i]) + VNET_HDR_LEN, pkt_data(&saved[i]), saved[i].len);
}

static size_t tcp_payload_off(const struct pkt *p, size_t *ip_hlen)
{
	const uint8_t *d = p->buf + p->off;

	*ip_hlen = (d[0] >> 4) == 4 ? (size_t)(d[0] & 15) * 4 : IPV6_HDR_LEN;
	return *ip_hlen + (size_t)(d[*ip_hlen + 12] >> 4) * 4;
}

/* pkts[head] must carry the segments head..head+n-1 (by index list idx)
 * as one super packet: check every field, then resegment it. */
static void check_super(unsigned head, const unsigned *idx, unsigned n)
{
	struct offload_info info;
	struct pkt *p = &pkts[head];
	const struct pkt *first = &saved[idx[0]], *last = &saved[idx[n - 1]];
	size_t ip_hlen, hlen = tcp_payload_off(first, &ip_hlen), total = hlen, k;
	const uint8_t *h, *d, *f = first->buf + first->off;
	uint8_t tcp_ref[60], tcp_got[60];
	bool v6 = (f[0] >> 4) == 6;
	uint16_t field;
	int r;

	assert_int_equal(idx[0], head);
	assert_false(merged[head]);
	for (k = 1; k < n; k++)
		assert_true(merged[idx[k]]);
	for (k = 0; k < n; k++)
		total += saved[idx[k]].len - hlen;

	assert_int_equal(gro_finish(&g, p), (int)n);
	assert_int_equal(p->len, VNET_HDR_LEN + total);
	h = pkt_data(p);
	d = h + VNET_HDR_LEN;

	/* virtio header, raw (little-endian) and decoded. */
	assert_int_equal(h[0], VNET_F_NEEDS_CSUM);
	assert_int_equal(h[1], v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
	assert_int_equal(h[2] | h[3] << 8, hlen);
	assert_int_equal(h[4] | h[5] << 8, first->len - hlen);
	assert_int_equal(h[6] | h[7] << 8, ip_hlen);
	assert_int_equal(h[8] | h[9] << 8, 16);
	assert_int_equal(offload_parse_vnet(h, p->len, &info), 0);
	assert_int_equal(info.gso_size, first->len - hlen);

	/* IP header: lengths and checksum new, the rest of the head's. */
	if (!v6) {
		assert_int_equal(load_be16(d + 2), total);
		assert_int_equal(ref_sum(d, ip_hlen, 0), 0xffff);
		assert_memory_equal(d + 4, f + 4, 6);
		assert_memory_equal(d + 12, f + 12, 8);
		assert_memory_equal(d, f, 2);
	} else {
		assert_int_equal(load_be16(d + 4), total - IPV6_HDR_LEN);
		assert_memory_equal(d, f, 4);
		assert_memory_equal(d + 6, f + 6, 34);
	}
	/* TCP header: the head's, PSH from the last, partial checksum. */
	memcpy(tcp_ref, f + ip_hlen, hlen - ip_hlen);
	memcpy(tcp_got, d + ip_hlen, hlen - ip_hlen);
	tcp_ref[13] |= (last->buf + last->off)[ip_hlen + 13] & F_PSH;
	memset(tcp_ref + 16, 0, 2);
	memset(tcp_got + 16, 0, 2);
	assert_memory_equal(tcp_got, tcp_ref, hlen - ip_hlen);
	field = load_be16(d + ip_hlen + 16);
	assert_int_equal(field, ref_pseudo(d, 6, total - ip_hlen));

	/* Payloads concatenated in order. */
	{
		size_t at = hlen;

		for (k = 0; k < n; k++) {
			const struct pkt *q = &saved[idx[k]];
			size_t pay = q->len - hlen;

			assert_memory_equal(d + at, q->buf + q->off + hlen, pay);
			at += pay;
		}
	}

	/* What the kernel does with CHECKSUM_PARTIAL: sum from csum_start
	 * with the field in place, complement, store; then it verifies. */
	memcpy(&copy_pkt, p, sizeof(copy_pkt));
	{
		uint8_t *c = pkt_data(&copy_pkt) + VNET_HDR_LEN;

		store_be16(c + ip_hlen + 16, (uint16_t)~ref_sum(c + ip_hlen, total - ip_hlen, 0));
		assert_int_equal(ref_sum(c + ip_hlen, total - ip_hlen, ref_pseudo(c, 6, total - ip_hlen)),
				 0xffff);
	}

	/* Split again: the original segments, byte for byte. */
	memcpy(&copy_pkt, p, sizeof(copy_pkt));
	for (k = 0; k < NOUT; k++)
		out[k] = &seg_pool[k];
	r = offload_segment(&copy_pkt, out, NOUT);
	assert_int_equal(r, (int)n);
	for (k = 0; k < n; k++) {
		const struct pkt *q = &saved[idx[k]];

		assert_int_equal(out[k]->len, q->len);
		assert_memory_equal(pkt_data(out[k]), q->buf + q->off, q->len);
	}
}

static void check_run(unsigned first, unsigned n)
{
	unsigned idx[NPKT], i;

	for (i = 0; i < n; i++)
		idx[i] = first + i;
	check_super(first, idx, n);
}

/* ---- coalescing ---- */

static void test_v4_run(void **state)
{
	(void)state;
	/* Seven full segments and a short one: sequence numbers wrap. */
	build_run(0, 8, spec_default(false), 300, F_ACK);
	assert_int_equal(offer_all(8), 1);
	check_run(0, 8);
}

static void test_v6_run(void **state)
{
	(void)state;
	build_run(0, 6, spec_default(true), MSS6, F_ACK | F_PSH);
	assert_int_equal(offer_all(6), 1);
	check_run(0, 6);
}

static void test_no_options_run(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	s.tcp_opt = 0;
	s.pay = 1460;
	build_run(0, 3, s, 1460, F_ACK);
	assert_int_equal(offer_all(3), 1);
	check_run(0, 3);
}

/* A lone segment stays as it is, with a zeroed header. */
static void test_single(void **state)
{
	(void)state;
	build_run(0, 1, spec_default(false), MSS4, F_ACK);
	assert_int_equal(offer_all(1), 1);
	check_untouched(0);
}

static void test_psh_ends_run(void **state)
{
	(void)state;
	build_run(0, 3, spec_default(false), MSS4, F_ACK | F_PSH);
	{
		struct spec s = spec_default(false);

		s.seq = SEQ0 + 3 * MSS4;
		s.id = (uint16_t)(s.id + 3);
		build_run(3, 3, s, MSS4, F_ACK);
	}
	/* 0..2 end with PSH; 3..5 start a new run. */
	assert_int_equal(offer_all(6), 2);
	check_run(0, 3);
	check_run(3, 3);
}

static void test_short_segment_ends_run(void **state)
{
	struct spec s = spec_default(true);

	(void)state;
	build_run(0, 2, s, 500, F_ACK);
	s.seq += MSS6 + 500;
	build_run(2, 2, s, MSS6, F_ACK);
	assert_int_equal(offer_all(4), 2);
	check_run(0, 2);
	check_run(2, 2);
}

static void test_larger_after_smaller(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	s.pay = 1000;
	build(0, &s);
	s.seq += 1000;
	s.id++;
	s.pay = 1200;
	build(1, &s);
	assert_int_equal(offer_all(2), 2);
	check_untouched(0);
	check_untouched(1);
}

static void test_interleaved_flows(void **state)
{
	struct spec a = spec_default(false), b = spec_default(false), c = spec_default(true);
	unsigned ia[4], ib[4], ic[4], i;

	(void)state;
	b.sport = 40000;
	b.seq = 77;
	c.sport = 40001;
	for (i = 0; i < 4; i++) {
		build(3 * i, &a);
		build(3 * i + 1, &b);
		build(3 * i + 2, &c);
		ia[i] = 3 * i;
		ib[i] = 3 * i + 1;
		ic[i] = 3 * i + 2;
		a.seq += MSS4; a.id++;
		b.seq += MSS4; b.id++;
		c.seq += MSS6;
	}
	assert_int_equal(offer_all(12), 3);
	check_super(0, ia, 4);
	check_super(1, ib, 4);
	check_super(2, ic, 4);
}

/* ---- what must not merge ---- */

static void test_no_merge_across_flows(void **state)
{
	struct spec s = spec_default(false), t;
	unsigned i;

	(void)state;
	build(0, &s);
	s.seq += MSS4;
	s.id++;
	t = s; t.sport++;                       build(1, &t);
	t = s; t.ack++;                         build(2, &t);
	t = s; t.window++;                      build(3, &t);
	t = s; t.tsval++;                       build(4, &t);
	t = s; t.tcp_opt = 0;                   build(5, &t);
	t = s; t.ttl++;                         build(6, &t);
	t = s; t.tos = 0x03;                    build(7, &t);       /* CE */
	t = s; t.no_df = true;                  build(8, &t);
	t = s; t.v6 = true;                     build(9, &t);
	/* Only after all of them: the one that does merge. */
	build(10, &s);
	/* Each unmatched one starts its own run; none of them takes 10. */
	gro_init(&g);
	for (i = 0; i < 11; i++)
		merged[i] = gro_offer(&g, &pkts[i]);
	for (i = 1; i < 10; i++)
		check_untouched(i);
	{
		unsigned idx[2] = { 0, 10 };

		check_super(0, idx, 2);
	}
}

static void test_out_of_order(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	build_run(0, 4, s, MSS4, F_ACK);
	/* Order 0, 2, 1, 3: 1 follows 0, 3 follows 2. */
	memcpy(&pkts[10], &pkts[1], sizeof(pkts[0]));
	memcpy(&pkts[1], &pkts[2], sizeof(pkts[0]));
	memcpy(&pkts[2], &pkts[10], sizeof(pkts[0]));
	memcpy(&saved[10], &saved[1], sizeof(saved[0]));
	memcpy(&saved[1], &saved[2], sizeof(saved[0]));
	memcpy(&saved[2], &saved[10], sizeof(saved[0]));
	assert_int_equal(offer_all(4), 2);
	{
		unsigned a[2] = { 0, 2 }, b[2] = { 1, 3 };

		check_super(0, a, 2);
		check_super(1, b, 2);
	}
}

static void test_gap_and_duplicate(void **state)
{
	struct spec s = spec_default(true);

	(void)state;
	build(0, &s);
	build(1, &s);                           /* duplicate */
	s.seq += 2 * MSS6;                      /* gap */
	build(2, &s);
	assert_int_equal(offer_all(3), 3);
	check_untouched(0);
	check_untouched(1);
	check_untouched(2);
}

static void test_flags(void **state)
{
	static const uint8_t bad[] = {
		F_ACK | F_FIN, F_ACK | F_SYN, F_ACK | F_RST, F_ACK | F_URG, F_ACK | F_ECE,
		F_ACK | F_CWR, F_ACK | F_PSH | F_FIN, 0, F_PSH,
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		struct spec s = spec_default(i & 1);

		build(0, &s);
		s.seq += (uint32_t)s.pay;
		s.id++;
		s.flags = bad[i];
		build(1, &s);
		/* Nor does one with these flags start a run. */
		s.seq += (uint32_t)s.pay;
		s.id++;
		s.flags = F_ACK;
		build(2, &s);
		assert_int_equal(offer_all(3), 3);
		check_untouched(0);
		check_untouched(1);
		check_untouched(2);
	}
	/* A segment with PSH joins a run but starts none. */
	{
		struct spec s = spec_default(false);

		s.flags = F_ACK | F_PSH;
		build(0, &s);
		s.seq += MSS4;
		s.id++;
		s.flags = F_ACK;
		build(1, &s);
		assert_int_equal(offer_all(2), 2);
		check_untouched(0);
		check_untouched(1);
	}
}

static void test_bad_checksum(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	/* A bad segment passes alone; the next one still joins the run. */
	build_run(0, 4, s, MSS4, F_ACK);
	s.seq += MSS4;
	s.id++;
	s.bad_csum = true;
	build(1, &s);
	assert_int_equal(offer_all(4), 3);
	check_untouched(1);
	{
		/* 2 does not follow 0 (1 is missing); 3 follows 2. */
		unsigned a[2] = { 2, 3 };

		check_untouched(0);
		check_super(2, a, 2);
	}

	/* A bad head takes nothing; its follower starts a run. */
	s = spec_default(true);
	build_run(0, 3, s, MSS6, F_ACK);
	s.bad_csum = true;
	build(0, &s);
	s = spec_default(true);
	s.seq += MSS6;
	build_run(1, 2, s, MSS6, F_ACK);
	assert_int_equal(offer_all(3), 2);
	check_untouched(0);
	check_run(1, 2);

	/* A bad IPv4 header checksum: not even looked at. */
	s = spec_default(false);
	build_run(0, 2, s, MSS4, F_ACK);
	pkts[1].buf[pkts[1].off + 10] ^= 1;
	saved[1].buf[saved[1].off + 10] ^= 1;
	assert_int_equal(offer_all(2), 2);
	check_untouched(0);
	check_untouched(1);
}

static void test_ipv4_rules(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	/* IP options: neither head nor segment. */
	s.ip_opt = 4;
	build_run(0, 3, s, MSS4, F_ACK);
	assert_int_equal(offer_all(3), 3);
	check_untouched(0);
	check_untouched(1);
	check_untouched(2);

	/* Fragments (MF, or an offset). */
	s = spec_default(false);
	build_run(0, 3, s, MSS4, F_ACK);
	pkts[1].buf[pkts[1].off + 6] |= 0x20;
	pkts[2].buf[pkts[2].off + 7] = 0x10;
	store_be16(pkt_data(&pkts[1]) + 10, 0);
	store_be16(pkt_data(&pkts[1]) + 10, (uint16_t)~ref_sum(pkt_data(&pkts[1]), 20, 0));
	store_be16(pkt_data(&pkts[2]) + 10, 0);
	store_be16(pkt_data(&pkts[2]) + 10, (uint16_t)~ref_sum(pkt_data(&pkts[2]), 20, 0));
	memcpy(&saved[1], &pkts[1], sizeof(pkts[1]));
	memcpy(&saved[2], &pkts[2], sizeof(pkts[2]));
	assert_int_equal(offer_all(3), 3);
	check_untouched(0);
	check_untouched(1);
	check_untouched(2);

	/* Without DF the IDs must count on; with DF they need not. */
	s = spec_default(false);
	s.no_df = true;
	build_run(0, 3, s, MSS4, F_ACK);
	s.seq += 2 * MSS4;
	s.id = 7;
	build(2, &s);
	assert_int_equal(offer_all(3), 2);
	check_run(0, 2);
	check_untouched(2);

	s = spec_default(false);
	build_run(0, 2, s, MSS4, F_ACK);
	s.seq += MSS4;
	s.id = 7;
	build(1, &s);
	assert_int_equal(offer_all(2), 1);
	assert_true(merged[1]);
	assert_int_equal(gro_finish(&g, &pkts[0]), 2);
	assert_int_equal(load_be16(pkt_data(&pkts[0]) + VNET_HDR_LEN + 4), spec_default(false).id);

	/* A length that disagrees with the IP header. */
	s = spec_default(false);
	build_run(0, 2, s, MSS4, F_ACK);
	pkts[1].len--;
	saved[1].len--;
	assert_int_equal(offer_all(2), 2);
	check_untouched(0);
	check_untouched(1);
}

static void test_ipv6_rules(void **state)
{
	struct spec s = spec_default(true);

	(void)state;
	/* Extension header (hop-by-hop) in front of TCP. */
	build_run(0, 2, s, MSS6, F_ACK);
	pkts[1].buf[pkts[1].off + 6] = 0;
	saved[1].buf[saved[1].off + 6] = 0;
	pkts[0].buf[pkts[0].off + 6] = 0;
	saved[0].buf[saved[0].off + 6] = 0;
	assert_int_equal(offer_all(2), 2);
	check_untouched(0);
	check_untouched(1);

	/* A different flow label or hop limit. */
	build_run(0, 3, s, MSS6, F_ACK);
	pkts[1].buf[pkts[1].off + 3] ^= 1;
	saved[1].buf[saved[1].off + 3] ^= 1;
	pkts[2].buf[pkts[2].off + 7] ^= 1;
	saved[2].buf[saved[2].off + 7] ^= 1;
	assert_int_equal(offer_all(3), 3);
	check_untouched(0);
	check_untouched(1);
	check_untouched(2);
}

static void test_other_protocols(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	s.proto = 17;
	s.pay = 1000;
	build(0, &s);
	build(1, &s);
	s.proto = 1;
	build(2, &s);
	s = spec_default(true);
	s.proto = 17;
	build(3, &s);
	s.proto = 58;
	build(4, &s);
	/* A pure ACK, and a packet too short for any header. */
	s = spec_default(false);
	s.pay = 0;
	build(5, &s);
	build(6, &s);
	pkts[7].off = PKT_HEADROOM;
	pkts[7].len = 3;
	memset(pkt_data(&pkts[7]), 0x45, 3);
	memcpy(&saved[7], &pkts[7], sizeof(pkts[7]));
	assert_int_equal(offer_all(8), 8);
	for (unsigned i = 0; i < 8; i++)
		check_untouched(i);
}

static void test_size_limit(void **state)
{
	struct spec s = spec_default(false);

	(void)state;
	/* 9000-byte segments: seven fit in 64 KB, the eighth starts anew. */
	s.pay = 9000;
	build_run(0, 10, s, 9000, F_ACK);
	assert_int_equal(offer_all(10), 2);
	check_run(0, 7);
	check_run(7, 3);
	assert_true(saved[0].len + 6 * 9000 <= GRO_MAX_LEN);
	assert_true(saved[0].len + 7 * 9000 > GRO_MAX_LEN);

	/* Exactly 65535 bytes is allowed. */
	s = spec_default(true);
	s.pay = (65535 - 72) / 3;               /* 40 + 32 bytes of headers */
	assert_int_equal(72 + 3 * s.pay, 65535);
	build_run(0, 3, s, s.pay, F_ACK);
	assert_int_equal(offer_all(3), 1);
	check_run(0, 3);

	/* The head's buffer ends first: no room behind it. */
	s = spec_default(false);
	build_run(0, 3, s, MSS4, F_ACK);
	memmove(pkts[0].buf + PKT_BUF_SIZE - pkts[0].len - MSS4 - 1, pkt_data(&pkts[0]), pkts[0].len);
	pkts[0].off = PKT_BUF_SIZE - pkts[0].len - MSS4 - 1;
	memcpy(&saved[0], &pkts[0], sizeof(pkts[0]));
	assert_int_equal(offer_all(3), 2);
	assert_true(merged[1]);
	assert_false(merged[2]);
	{
		unsigned a[2] = { 0, 1 };

		check_super(0, a, 2);
		check_untouched(2);
	}
}

static void test_table_full(void **state)
{
	struct spec s = spec_default(false);
	unsigned i;

	(void)state;
	/* GRO_MAX_HEADS flows take every slot; a new flow then passes
	 * alone, while the tracked ones still merge. */
	for (i = 0; i < GRO_MAX_HEADS + 1; i++) {
		s.sport = (uint16_t)(1000 + i);
		build(i, &s);
	}
	s.sport = 1000 + GRO_MAX_HEADS;
	s.seq += MSS4;
	s.id++;
	build(GRO_MAX_HEADS + 1, &s);
	s.sport = 1000;
	build(GRO_MAX_HEADS + 2, &s);
	assert_int_equal(offer_all(GRO_MAX_HEADS + 3), GRO_MAX_HEADS + 2);
	assert_false(merged[GRO_MAX_HEADS + 1]);
	assert_true(merged[GRO_MAX_HEADS + 2]);
	{
		unsigned a[2] = { 0, GRO_MAX_HEADS + 2 };

		check_super(0, a, 2);
	}
	for (i = 1; i < GRO_MAX_HEADS + 2; i++)
		check_untouched(i);
}

static void test_finish_errors(void **state)
{
	(void)state;
	build_run(0, 2, spec_default(false), MSS4, F_ACK);
	assert_int_equal(offer_all(2), 1);
	/* No headroom for the virtio header: nothing is changed. */
	memmove(pkts[0].buf + 4, pkt_data(&pkts[0]), pkts[0].len);
	pkts[0].off = 4;
	memcpy(&copy_pkt, &pkts[0], sizeof(copy_pkt));
	assert_int_equal(gro_finish(&g, &pkts[0]), -ENOBUFS);
	assert_int_equal(pkts[0].off, 4);
	assert_memory_equal(pkt_data(&pkts[0]), pkt_data(&copy_pkt), copy_pkt.len);
	memmove(pkts[0].buf + PKT_HEADROOM, pkt_data(&pkts[0]), pkts[0].len);
	pkts[0].off = PKT_HEADROOM;
	assert_int_equal(gro_finish(&g, &pkts[0]), 2);
	/* Twice: refused; and a finished head takes no more. */
	assert_int_equal(gro_finish(&g, &pkts[0]), -EALREADY);
	{
		struct spec s = spec_default(false);

		s.seq += 2 * MSS4;
		s.id = (uint16_t)(s.id + 2);
		build(2, &s);
		assert_false(gro_offer(&g, &pkts[2]));
	}
	/* A packet never offered gets a zeroed header too. */
	build(5, &(struct spec){ .proto = 17, .pay = 10, .ttl = 1 });
	merged[5] = false;
	check_untouched(5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_run),
		cmocka_unit_test(test_v6_run),
		cmocka_unit_test(test_no_options_run),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_psh_ends_run),
		cmocka_unit_test(test_short_segment_ends_run),
		cmocka_unit_test(test_larger_after_smaller),
		cmocka_unit_test(test_interleaved_flows),
		cmocka_unit_test(test_no_merge_across_flows),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_gap_and_duplicate),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_ipv4_rules),
		cmocka_unit_test(test_ipv6_rules),
		cmocka_unit_test(test_other_protocols),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_finish_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
