/* tests/unit/test_gre.c: GRE codec (tunnel/gre.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "tunnel/gre.h"
#include "tunnel/inet.h"
#include "tunnel/wire.h"
#include "tests/unit/ref_csum.h"

/* The naive reference sum (tests/unit/ref_csum.h), complemented. */
static uint16_t ref_csum(const uint8_t *b, size_t len)
{
	return (uint16_t)~ref_sum(b, len, 0);
}

static struct pkt *pkt_new(const uint8_t *data, size_t len)
{
	struct pkt *p = malloc(sizeof(*p));

	assert_non_null(p);
	pkt_reset(p);
	if (len)
		memcpy(pkt_data(p), data, len);
	p->len = len;
	return p;
}

static void pkt_set(struct pkt *p, const uint8_t *data, size_t len)
{
	pkt_reset(p);
	if (len)
		memcpy(pkt_data(p), data, len);
	p->len = len;
}

static struct gre_tx tx_combo(int c)
{
	struct gre_tx tx = {
		.csum = c & 1, .has_key = (c >> 1) & 1, .key = 0xdeadbeef,
		.seq = (c >> 2) & 1, .next_seq = 7,
	};
	return tx;
}

static struct gre_rx rx_for(const struct gre_tx *tx)
{
	struct gre_rx rx = {
		.csum_required = tx->csum, .has_key = tx->has_key, .key = tx->key,
		.seq_required = tx->seq,
	};
	return rx;
}

static void test_result_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(gre_result_name(GRE_OK), "ok");
	assert_string_equal(gre_result_name(GRE_DROP_TRUNCATED), "truncated");
	assert_string_equal(gre_result_name(GRE_DROP_CSUM_BAD), "checksum_bad");
	assert_string_equal(gre_result_name(GRE_DROP_KEY_MISMATCH), "key_mismatch");
	assert_string_equal(gre_result_name(GRE_KEEPALIVE), "keepalive");
	assert_string_equal(gre_result_name(GRE_RESULT_MAX), "unknown");
	assert_string_equal(gre_result_name((enum gre_result)-1), "unknown");
	for (i = 0; i < GRE_RESULT_MAX; i++) {
		const char *n = gre_result_name(i), *c;

		assert_string_not_equal(n, "unknown");
		for (c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, gre_result_name(j));
	}
}

static void test_header_len(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < 8; c++) {
		struct gre_tx tx = tx_combo(c);

		assert_int_equal(gre_header_len(&tx),
				 4 + 4 * ((c & 1) + ((c >> 1) & 1) + ((c >> 2) & 1)));
	}
}

/* Every C/K/S combination, several payload sizes and protocols: the header
 * bytes are what RFC 2784/2890 lay out, and decap gives the payload back. */
static void test_roundtrip_all_combos(void **state)
{
	static const size_t sizes[] = { 0, 1, 7, 64, 1499, 9000 };
	static const uint16_t protos[] = { GRE_PROTO_IPV4, GRE_PROTO_IPV6, GRE_PROTO_TEB };
	uint8_t *payload = malloc(9000);
	struct pkt *p = pkt_new(NULL, 0);
	int c;
	size_t s, i, k;

	(void)state;
	assert_non_null(payload);
	for (i = 0; i < 9000; i++)
		payload[i] = (uint8_t)(i * 31 + 5);

	for (c = 0; c < 8; c++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (k = 0; k < 3; k++) {
				struct gre_tx tx = tx_combo(c);
				struct gre_rx rx = rx_for(&tx);
				size_t hlen = gre_header_len(&tx), o = 4;
				uint32_t seq_before = tx.next_seq;
				uint16_t proto = 0;
				uint8_t *h;

				pkt_set(p, payload, sizes[s]);
				assert_int_equal(gre_encap(p, &tx, protos[k]), 0);
				assert_int_equal(p->len, sizes[s] + hlen);
				assert_int_equal(p->off, PKT_HEADROOM - hlen);
				h = pkt_data(p);
				assert_int_equal(load_be16(h),
						 (tx.csum ? 0x8000 : 0) | (tx.has_key ? 0x2000 : 0) |
						 (tx.seq ? 0x1000 : 0));
				assert_int_equal(load_be16(h + 2), protos[k]);
				if (tx.csum) {
					uint8_t *copy = malloc(p->len);

					assert_non_null(copy);
					memcpy(copy, h, p->len);
					copy[4] = copy[5] = 0;
					assert_int_equal(load_be16(h + 4), ref_csum(copy, p->len));
					assert_int_equal(load_be16(h + 6), 0);
					free(copy);
					o += 4;
				}
				if (tx.has_key) {
					assert_int_equal(load_be32(h + o), 0xdeadbeef);
					o += 4;
				}
				if (tx.seq) {
					assert_int_equal(load_be32(h + o), seq_before);
					assert_int_equal(tx.next_seq, seq_before + 1);
				} else {
					assert_int_equal(tx.next_seq, seq_before);
				}
				assert_memory_equal(h + hlen, payload, sizes[s]);

				assert_int_equal(gre_decap(p, &rx, &proto), GRE_OK);
				assert_int_equal(proto, protos[k]);
				assert_int_equal(p->len, sizes[s]);
				assert_int_equal(p->off, PKT_HEADROOM);
				assert_memory_equal(pkt_data(p), payload, sizes[s]);
				if (tx.seq) {
					assert_true(rx.seq_started);
					assert_int_equal(rx.next_seq, seq_before + 1);
				}
			}
		}
	}
	free(payload);
	free(p);
}

/* 28-byte IPv4 ICMP echo as the payload. */
static const uint8_t echo4[] = {
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x01, 0x26, 0xde,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01,
};

/* Bytes as Linux ip_gre sends them (`ip tunnel add ... key 42 seq csum`,
 * first sequence number 1); checksum computed independently. */
static void test_linux_layout(void **state)
{
	static const uint8_t cks[] = {
		0xb0, 0x00, 0x08, 0x00, 0x47, 0xd4, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x01,
	};
	static const uint8_t ks[] = {
		0x30, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x01,
	};
	static const uint8_t plain6[] = { 0x00, 0x00, 0x86, 0xdd };
	struct gre_tx tx = { .csum = true, .has_key = true, .key = 42, .seq = true, .next_seq = 1 };
	struct gre_rx rx = { .csum_required = true, .has_key = true, .key = 42, .seq_required = true };
	struct pkt *p = pkt_new(echo4, sizeof(echo4));
	uint16_t proto;

	(void)state;
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	assert_int_equal(p->len, sizeof(cks) + sizeof(echo4));
	assert_memory_equal(pkt_data(p), cks, sizeof(cks));
	assert_memory_equal(pkt_data(p) + sizeof(cks), echo4, sizeof(echo4));
	assert_int_equal(tx.next_seq, 2);

	/* The hand-built packet decodes as well. */
	pkt_reset(p);
	memcpy(pkt_data(p), cks, sizeof(cks));
	memcpy(pkt_data(p) + sizeof(cks), echo4, sizeof(echo4));
	p->len = sizeof(cks) + sizeof(echo4);
	assert_int_equal(gre_decap(p, &rx, &proto), GRE_OK);
	assert_int_equal(proto, GRE_PROTO_IPV4);
	assert_memory_equal(pkt_data(p), echo4, sizeof(echo4));
	assert_int_equal(rx.next_seq, 2);

	tx = (struct gre_tx){ .has_key = true, .key = 42, .seq = true, .next_seq = 1 };
	pkt_set(p, echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	assert_memory_equal(pkt_data(p), ks, sizeof(ks));

	tx = (struct gre_tx){ 0 };
	pkt_set(p, echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV6), 0);
	assert_memory_equal(pkt_data(p), plain6, sizeof(plain6));
	free(p);
}

/* Decap a copy of bytes; on a drop, p and rx must be unchanged. */
static enum gre_result decap_bytes(const uint8_t *b, size_t len, struct gre_rx *rx, uint16_t *proto)
{
	struct pkt *p = pkt_new(b, len);
	struct gre_rx before = *rx;
	enum gre_result r = gre_decap(p, rx, proto);

	if (r != GRE_OK && r != GRE_KEEPALIVE) {
		assert_int_equal(p->off, PKT_HEADROOM);
		assert_int_equal(p->len, len);
		assert_memory_equal(pkt_data(p), b, len);
		assert_memory_equal(&before, rx, sizeof(before));
	}
	free(p);
	return r;
}

static void test_drop_version_and_rfc1701(void **state)
{
	struct gre_rx rx = { 0 };
	uint8_t b[8] = { 0x00, 0x00, 0x08, 0x00, 0x45 };
	uint16_t proto;
	int v;

	(void)state;
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_OK);
	for (v = 1; v < 8; v++) {
		b[1] = (uint8_t)v;
		assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_DROP_VERSION);
	}
	b[1] = 0;
	b[0] = 0x40;                            /* R */
	assert_int_equal(decap_bytes(b, 8, &rx, &proto), GRE_DROP_RFC1701);
	b[0] = 0x08;                            /* s */
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_DROP_RFC1701);
	for (v = 1; v < 8; v++) {               /* recursion control */
		b[0] = (uint8_t)v;
		assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_DROP_RFC1701);
	}
	/* Reserved0 bits 8-12 are ignored (RFC 2784 2.3). */
	b[0] = 0;
	b[1] = 0xf8;
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_OK);
	assert_int_equal(proto, GRE_PROTO_IPV4);
}

static void test_drop_proto(void **state)
{
	static const uint16_t bad[] = { 0x0000, 0x0806, 0x8847, 0x88be, 0x880b, 0xffff };
	struct gre_rx rx = { 0 };
	uint8_t b[4] = { 0 };
	uint16_t proto;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		store_be16(b + 2, bad[i]);
		assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_DROP_PROTO);
	}
	rx.keepalive_enabled = true;
	store_be16(b + 2, 0x0806);
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_DROP_PROTO);
	store_be16(b + 2, 0x0000);
	proto = 0xffff;
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_KEEPALIVE);
	assert_int_equal(proto, 0);
	store_be16(b + 2, GRE_PROTO_TEB);
	assert_int_equal(decap_bytes(b, 4, &rx, &proto), GRE_OK);
	assert_int_equal(proto, GRE_PROTO_TEB);
}

static void test_drop_checksum(void **state)
{
	struct gre_tx tx = { .csum = true };
	struct gre_rx rx = { 0 };
	struct pkt *p = pkt_new(echo4, sizeof(echo4));
	uint8_t good[64], bad[64];
	size_t len, i;
	uint16_t proto;

	(void)state;
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	len = p->len;
	memcpy(good, pkt_data(p), len);
	assert_int_equal(decap_bytes(good, len, &rx, &proto), GRE_OK);

	/* Any single bit flipped after the flags word breaks it (flipping a
	 * flag bit changes the layout instead). */
	for (i = 2; i < len; i++) {
		memcpy(bad, good, len);
		bad[i] ^= 0x10;
		assert_int_equal(decap_bytes(bad, len, &rx, &proto), GRE_DROP_CSUM_BAD);
	}
	/* A trailing byte changes the sum too. */
	memcpy(bad, good, len);
	bad[len] = 0x01;
	assert_int_equal(decap_bytes(bad, len + 1, &rx, &proto), GRE_DROP_CSUM_BAD);

	/* Required but absent. */
	rx.csum_required = true;
	tx.csum = false;
	pkt_set(p, echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	assert_int_equal(decap_bytes(pkt_data(p), p->len, &rx, &proto), GRE_DROP_CSUM_MISSING);
	/* Present though not required: verified and accepted. */
	rx.csum_required = false;
	assert_int_equal(decap_bytes(good, len, &rx, &proto), GRE_OK);
	/* Trusted (a GRO-merged packet keeps its first segment's checksum):
	 * taken unverified, but still required when asked for. */
	rx.csum_trusted = true;
	memcpy(bad, good, len);
	bad[len - 1] ^= 0x10;
	assert_int_equal(decap_bytes(bad, len, &rx, &proto), GRE_OK);
	rx.csum_required = true;
	assert_int_equal(decap_bytes(pkt_data(p), p->len, &rx, &proto), GRE_DROP_CSUM_MISSING);
	free(p);
}

static void test_drop_key(void **state)
{
	struct gre_tx tx = { .has_key = true, .key = 42 };
	struct gre_rx rx = { .has_key = true, .key = 42 };
	struct pkt *p = pkt_new(echo4, sizeof(echo4));
	uint8_t keyed[64], plain[64];
	size_t klen, plen;
	uint16_t proto;

	(void)state;
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	klen = p->len;
	memcpy(keyed, pkt_data(p), klen);
	tx.has_key = false;
	pkt_set(p, echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	plen = p->len;
	memcpy(plain, pkt_data(p), plen);

	assert_int_equal(decap_bytes(keyed, klen, &rx, &proto), GRE_OK);
	assert_int_equal(decap_bytes(plain, plen, &rx, &proto), GRE_DROP_KEY_MISMATCH);
	rx.key = 43;
	assert_int_equal(decap_bytes(keyed, klen, &rx, &proto), GRE_DROP_KEY_MISMATCH);
	rx.key = 42 << 24;                      /* byte order matters */
	assert_int_equal(decap_bytes(keyed, klen, &rx, &proto), GRE_DROP_KEY_MISMATCH);
	rx.has_key = false;
	rx.key = 42;                            /* ignored without has_key */
	assert_int_equal(decap_bytes(keyed, klen, &rx, &proto), GRE_DROP_KEY_MISMATCH);
	assert_int_equal(decap_bytes(plain, plen, &rx, &proto), GRE_OK);
	free(p);
}

static enum gre_result decap_seq(struct gre_rx *rx, uint32_t seq, uint16_t proto)
{
	uint8_t b[8];
	uint16_t out;

	store_be16(b, GRE_FLAG_S);
	store_be16(b + 2, proto);
	store_be32(b + 4, seq);
	return decap_bytes(b, sizeof(b), rx, &out);
}

static void test_sequence(void **state)
{
	struct gre_rx rx = { .seq_required = true };
	uint8_t nos[4] = { 0x00, 0x00, 0x08, 0x00 };
	uint16_t proto;

	(void)state;
	assert_int_equal(decap_bytes(nos, 4, &rx, &proto), GRE_DROP_SEQ_MISSING);

	/* Not started: anything goes, then strictly serial. */
	assert_int_equal(decap_seq(&rx, 1000, GRE_PROTO_IPV4), GRE_OK);
	assert_true(rx.seq_started);
	assert_int_equal(rx.next_seq, 1001);
	assert_int_equal(decap_seq(&rx, 1000, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	assert_int_equal(decap_seq(&rx, 999, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	assert_int_equal(decap_seq(&rx, 1001, GRE_PROTO_IPV4), GRE_OK);
	/* Gaps are fine (lost packets), and move the window forward. */
	assert_int_equal(decap_seq(&rx, 1500, GRE_PROTO_IPV4), GRE_OK);
	assert_int_equal(rx.next_seq, 1501);
	assert_int_equal(decap_seq(&rx, 1400, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	/* Half the space ahead is "newer", more than that is "older". */
	assert_int_equal(decap_seq(&rx, 1501u + 0x80000000u, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	assert_int_equal(decap_seq(&rx, 1501u + 0x7fffffffu, GRE_PROTO_IPV4), GRE_OK);
	assert_int_equal(rx.next_seq, 1501u + 0x80000000u);

	/* A dropped protocol does not move the window. */
	rx.next_seq = 10;
	assert_int_equal(decap_seq(&rx, 20, 0x0806), GRE_DROP_PROTO);
	assert_int_equal(rx.next_seq, 10);

	/* Sequence present but not required: ignored. */
	rx = (struct gre_rx){ 0 };
	assert_int_equal(decap_seq(&rx, 5, GRE_PROTO_IPV4), GRE_OK);
	assert_int_equal(decap_seq(&rx, 4, GRE_PROTO_IPV4), GRE_OK);
	assert_false(rx.seq_started);
}

static void test_sequence_wrap(void **state)
{
	struct gre_tx tx = { .seq = true, .next_seq = 0xfffffffeu };
	struct gre_rx rx = { .seq_required = true };
	struct pkt *p = pkt_new(NULL, 0);
	uint32_t expect[] = { 0xfffffffeu, 0xffffffffu, 0, 1, 2 };
	uint16_t proto;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		pkt_set(p, echo4, sizeof(echo4));
		assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
		assert_int_equal(load_be32(pkt_data(p) + 4), expect[i]);
		assert_int_equal(gre_decap(p, &rx, &proto), GRE_OK);
		assert_int_equal(rx.next_seq, expect[i] + 1);
	}
	assert_int_equal(tx.next_seq, 3);
	/* After the wrap, the numbers just before 2^32 are old. */
	assert_int_equal(decap_seq(&rx, 0xffffffffu, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	assert_int_equal(decap_seq(&rx, 0xfffffff0u, GRE_PROTO_IPV4), GRE_DROP_SEQ_ORDER);
	assert_int_equal(decap_seq(&rx, 3, GRE_PROTO_IPV4), GRE_OK);

	/* Expecting 0xffffffff: 0 (wrapped) is newer. */
	rx.next_seq = 0xffffffffu;
	assert_int_equal(decap_seq(&rx, 0, GRE_PROTO_IPV4), GRE_OK);
	assert_int_equal(rx.next_seq, 1);
	free(p);
}

/* Every flag combination, every length 0..15: shorter than the header its
 * flags announce is truncated, anything else decodes. */
static void test_truncated(void **state)
{
	struct pkt *p = pkt_new(NULL, 0);
	uint8_t full[GRE_MAX_LEN];
	int c;
	size_t len;

	(void)state;
	for (c = 0; c < 8; c++) {
		struct gre_tx tx = tx_combo(c);
		size_t hlen = gre_header_len(&tx);

		pkt_set(p, NULL, 0);
		assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV6), 0);
		assert_int_equal(p->len, hlen);
		memset(full, 0, sizeof(full));
		memcpy(full, pkt_data(p), hlen);  /* zero payload keeps the checksum */

		for (len = 0; len < 16; len++) {
			struct gre_rx rx = rx_for(&tx);
			uint16_t proto = 0;
			enum gre_result r = decap_bytes(full, len, &rx, &proto);

			if (len < hlen) {
				assert_int_equal(r, GRE_DROP_TRUNCATED);
			} else {
				assert_int_equal(r, GRE_OK);
				assert_int_equal(proto, GRE_PROTO_IPV6);
			}
		}
	}
	free(p);
}

static void test_encap_headroom(void **state)
{
	struct gre_tx tx = { .csum = true, .has_key = true, .seq = true, .next_seq = 9 };
	struct pkt *p = pkt_new(echo4, sizeof(echo4));

	(void)state;
	p->off = GRE_MAX_LEN - 1;
	memcpy(pkt_data(p), echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), -ENOBUFS);
	assert_int_equal(p->off, GRE_MAX_LEN - 1);
	assert_int_equal(p->len, sizeof(echo4));
	assert_int_equal(tx.next_seq, 9);
	p->off = GRE_MAX_LEN;
	memcpy(pkt_data(p), echo4, sizeof(echo4));
	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);
	assert_int_equal(p->off, 0);
	free(p);
}

/* The whole Cisco keepalive round: we build and send it, the peer
 * recognises and reflects the inner packet, we recognise the reply. */
static void test_keepalive(void **state)
{
	struct in_addr us, peer, other;
	struct gre_tx tx = { .has_key = true, .key = 42, .seq = true, .next_seq = 100 };
	struct gre_rx us_rx = { .has_key = true, .key = 42, .seq_required = true,
				.seq_started = true, .next_seq = 5, .keepalive_enabled = true };
	struct gre_rx peer_rx = { .has_key = true, .key = 42 };
	struct pkt *p = pkt_new(NULL, 0);
	uint8_t inner[64], dgram[64];
	size_t ilen, off = 0, glen = 0, n;
	uint16_t proto;
	const uint8_t *ip;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &us);
	inet_pton(AF_INET, "198.51.100.7", &peer);
	inet_pton(AF_INET, "203.0.113.9", &other);

	assert_int_equal(gre_keepalive_build(p, &tx, us, peer), 0);
	ip = pkt_data(p);
	assert_int_equal(p->len, 20 + 12);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(load_be16(ip + 2), 32);
	assert_int_equal(load_be16(ip + 6) & 0x3fff, 0);
	assert_int_equal(ip[8], 255);
	assert_int_equal(ip[9], 47);
	assert_int_equal(ref_csum(ip, 20), 0);
	assert_memory_equal(ip + 12, &peer, 4);    /* from the peer ... */
	assert_memory_equal(ip + 16, &us, 4);      /* ... to us */
	assert_int_equal(load_be16(ip + 20), GRE_FLAG_K | GRE_FLAG_S);
	assert_int_equal(load_be16(ip + 22), 0);
	assert_int_equal(load_be32(ip + 24), 42);
	assert_int_equal(load_be32(ip + 28), 100);
	assert_int_equal(tx.next_seq, 101);
	ilen = p->len;
	memcpy(inner, ip, ilen);

	/* Not empty: refused. */
	assert_int_equal(gre_keepalive_build(p, &tx, us, peer), -EINVAL);

	assert_int_equal(gre_encap(p, &tx, GRE_PROTO_IPV4), 0);

	/* At the peer: an ordinary packet whose payload is its keepalive
	 * request to reflect (from its view, local = peer, remote = us). */
	assert_int_equal(gre_decap(p, &peer_rx, &proto), GRE_OK);
	assert_int_equal(proto, GRE_PROTO_IPV4);
	assert_int_equal(p->len, ilen);
	assert_true(gre_keepalive_is_request(pkt_data(p), p->len, peer, us, &off, &glen));
	assert_int_equal(off, 20);
	assert_int_equal(glen, 12);
	assert_true(gre_keepalive_is_request(pkt_data(p), p->len, peer, us, NULL, NULL));
	assert_false(gre_keepalive_is_request(pkt_data(p), p->len, us, peer, NULL, NULL));
	assert_false(gre_keepalive_is_request(pkt_data(p), p->len, peer, other, NULL, NULL));
	assert_false(gre_keepalive_is_reply(pkt_data(p), p->len, peer, us));

	/* Back at us, as the raw socket gives it (IP header included; the
	 * peer's router decremented the TTL). */
	memcpy(dgram, inner, ilen);
	dgram[8]--;
	assert_true(gre_keepalive_is_reply(dgram, ilen, us, peer));
	assert_false(gre_keepalive_is_reply(dgram, ilen, peer, us));
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, other));
	for (n = 0; n < ilen; n++)
		assert_false(gre_keepalive_is_reply(dgram, n, us, peer));
	assert_false(gre_keepalive_is_reply(NULL, 0, us, peer));

	pkt_set(p, dgram + 20, ilen - 20);
	assert_int_equal(gre_decap(p, &us_rx, &proto), GRE_KEEPALIVE);
	assert_int_equal(proto, 0);
	assert_int_equal(p->len, 0);
	/* Our own counter (100) must not move the peer's window (5). */
	assert_int_equal(us_rx.next_seq, 5);
	us_rx.keepalive_enabled = false;
	pkt_set(p, dgram + 20, ilen - 20);
	assert_int_equal(gre_decap(p, &us_rx, &proto), GRE_DROP_PROTO);

	/* Not keepalives: fragments, another IP protocol, another GRE
	 * protocol, a GRE version. */
	memcpy(dgram, inner, ilen);
	dgram[6] = 0x20;                           /* MF */
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	dgram[7] = 0x01;                           /* offset */
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	dgram[9] = 4;
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	store_be16(dgram + 22, GRE_PROTO_IPV4);
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	dgram[21] |= 1;                            /* GRE version 1 */
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	dgram[0] = 0x65;
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));
	memcpy(dgram, inner, ilen);
	store_be16(dgram + 2, (uint16_t)(ilen + 1)); /* total length beyond buffer */
	assert_false(gre_keepalive_is_reply(dgram, ilen, us, peer));

	/* With a checksum, the reply verifies through our decap too. */
	tx = (struct gre_tx){ .csum = true };
	us_rx = (struct gre_rx){ .csum_required = true, .keepalive_enabled = true };
	pkt_reset(p);
	assert_int_equal(gre_keepalive_build(p, &tx, us, peer), 0);
	assert_int_equal(p->len, 28);
	assert_true(gre_keepalive_is_reply(pkt_data(p), p->len, us, peer));
	assert_non_null(pkt_pull(p, 20));
	assert_int_equal(ref_csum(pkt_data(p), p->len), 0);
	assert_int_equal(gre_decap(p, &us_rx, &proto), GRE_KEEPALIVE);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_header_len),
		cmocka_unit_test(test_roundtrip_all_combos),
		cmocka_unit_test(test_linux_layout),
		cmocka_unit_test(test_drop_version_and_rfc1701),
		cmocka_unit_test(test_drop_proto),
		cmocka_unit_test(test_drop_checksum),
		cmocka_unit_test(test_drop_key),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_encap_headroom),
		cmocka_unit_test(test_keepalive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
