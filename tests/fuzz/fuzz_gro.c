/* tests/fuzz/fuzz_gro.c: libFuzzer target for tunnel/gro.c.
 *
 * Input: 1 byte of mode, then a batch of up to BATCH packets.
 *  - Raw mode (bit 0 clear): records of [len16 BE][placement][bytes];
 *    bit 1 fixes the IPv4 header and TCP checksums of each packet first.
 *  - Template mode (bit 0 set): one raw record, a TCP/IP packet whose
 *    headers serve as template, then 7-byte records that each make a
 *    segment from it: payload length, sequence (next in its flow or off
 *    by some), TCP flags, one of 4 flows (source port), a header byte to
 *    flip, a broken TCP checksum, a buffer placement with little tailroom,
 *    payloads above 2047 bytes.
 *    Lengths and checksums are then right, so that runs form.
 * The placement byte puts a packet at PKT_HEADROOM, deep into the buffer
 * (little tailroom) or at offset 3 (no headroom for the virtio header).
 *
 * Invariants: gro_offer() merges a packet into exactly one earlier head
 * (the head's segment count grows by one) or leaves it untouched; each
 * packet not merged finishes (or fails with -ENOBUFS when there is no
 * headroom) carrying 1 + its merges; a lone packet is byte for byte what it
 * was behind a zeroed header; a super packet's partial checksum completes
 * to a valid one, and offload_segment() splits it back into exactly its
 * segments, each equal to the packet offered (up to the IPv4 ID under DF
 * and checksum representation), each of which had valid checksums.
 * GRESEC_FUZZ_TRACE=1 prints per input a line of '.' (alone), 'H' (head of
 * merges) and '+' (merged) for the packets of the batch.
 * Build: clang -g -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_gro.c \
 *        tunnel/gro.c tunnel/offload.c tunnel/inet.c
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gro.h"
#include "tunnel/inet.h"
#include "tunnel/offload.h"
#include "tunnel/wire.h"

enum { BATCH = 40, NOUT = 64, TMPL_REC = 7 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt pkts[BATCH], saved[BATCH], copy_pkt, pool[NOUT];
static struct pkt *out[NOUT];
static struct gro_table g;
static bool merged[BATCH];
static unsigned members[BATCH][BATCH], nmembers[BATCH];
static uint8_t stream[65536 + 251];

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Copy a packet's bytes only: whole 64 KB buffers would slow fuzzing. */
static void copy_bytes(struct pkt *dst, const struct pkt *src)
{
	dst->off = src->off;
	dst->len = src->len;
	memcpy(dst->buf + src->off, src->buf + src->off, src->len);
}

static uint32_t pseudo_sum(const uint8_t *ip, bool v6, size_t l4_len)
{
	uint8_t ph[40] = { 0 };

	if (!v6) {
		memcpy(ph, ip + 12, 8);
		ph[9] = 6;
		store_be16(ph + 10, (uint16_t)l4_len);
		return inet_csum_partial(ph, 12, 0);
	}
	memcpy(ph, ip + 8, 32);
	store_be32(ph + 32, (uint32_t)l4_len);
	ph[39] = 6;
	return inet_csum_partial(ph, 40, 0);
}

static bool tcp_ok(const uint8_t *d, size_t len, bool v6, size_t ihl)
{
	return inet_csum_fold(inet_csum_partial(d + ihl, len - ihl, pseudo_sum(d, v6, len - ihl))) == 0;
}

/* Set the IPv4 header and TCP checksums where the packet has room for them. */
static void fix_csums(uint8_t *d, size_t len)
{
	size_t ihl;
	bool v6;

	if (len < 1)
		return;
	v6 = (d[0] >> 4) == 6;
	ihl = v6 ? 40 : (size_t)(d[0] & 15) * 4;
	if (!v6 && ihl >= 20 && ihl <= len) {
		store_be16(d + 10, 0);
		store_be16(d + 10, inet_checksum(d, ihl));
	}
	if (ihl + 20 <= len && len <= 65535) {
		store_be16(d + ihl + 16, 0);
		store_be16(d + ihl + 16, inet_csum_fold(inet_csum_partial(d + ihl, len - ihl,
							pseudo_sum(d, v6, len - ihl))));
	}
}

/* Place packet i of len bytes as the placement byte says; returns its data. */
static uint8_t *place(unsigned i, size_t len, uint8_t where)
{
	struct pkt *p = &pkts[i];
	size_t room = sizeof(p->buf) - len;

	if (where == 0xfe)
		p->off = 3;
	else if (where >= 0x80)
		p->off = room - (where & 0x7f);         /* almost no tailroom */
	else
		p->off = PKT_HEADROOM;
	if (p->off > room)
		p->off = room;
	p->len = len;
	return pkt_data(p);
}

static unsigned parse_raw(const uint8_t *data, size_t size, bool fix)
{
	unsigned n = 0;

	while (size >= 3 && n < BATCH) {
		size_t len = load_be16(data);
		uint8_t where = data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(place(n, len, where), data, len);
		if (fix)
			fix_csums(pkt_data(&pkts[n]), len);
		data += len;
		size -= len;
		n++;
	}
	return n;
}

static unsigned parse_template(const uint8_t *data, size_t size)
{
	uint8_t hdr[120];               /* IP and TCP headers, 60 bytes each at most */
	uint32_t next_seq[4];
	uint16_t next_id[4];
	size_t len, ihl, hlen, k;
	unsigned n = 0, v;
	bool v6;

	if (!stream[1])
		for (k = 0; k < sizeof(stream); k++)
			stream[k] = (uint8_t)((k % 251) * 97 + 5);
	if (size < 2)
		return 0;
	len = load_be16(data);
	data += 2;
	size -= 2;
	if (len > size)
		len = size;
	if (len < 40)
		return 0;
	v6 = (data[0] >> 4) == 6;
	ihl = v6 ? 40 : (size_t)(data[0] & 15) * 4;
	if (ihl < 20 || ihl + 20 > len)
		return 0;
	hlen = ihl + (size_t)(data[ihl + 12] >> 4) * 4;
	if (hlen < ihl + 20 || hlen > len)
		return 0;
	memcpy(hdr, data, hlen);
	for (v = 0; v < 4; v++) {
		next_seq[v] = load_be32(hdr + ihl + 4);
		next_id[v] = load_be16(hdr + 4);
	}
	data += len;
	size -= len;

	for (; size >= TMPL_REC && n < BATCH; data += TMPL_REC, size -= TMPL_REC, n++) {
		size_t pay = load_be16(data);
		uint8_t d2 = data[2], d3 = data[3], d4 = data[4], d5 = data[5], d6 = data[6];
		uint32_t seq;
		uint8_t *d;

		if (!(d4 & 0x80))
			pay &= 0x7ff;                   /* big ones only when asked: speed */
		if (pay > 65535 - hlen)
			pay = 65535 - hlen;
		v = d4 & 3;
		seq = next_seq[v];
		if (d2 >= 0xc0)
			seq += (uint32_t)(d2 - 0xe0) * 100u;
		next_seq[v] = seq + (uint32_t)pay;
		d = place(n, hlen + pay, (d4 & 0x40) ? (uint8_t)(0x80 | (d6 & 0x7f)) : 0);
		memcpy(d, hdr, hlen);
		if (!v6) {
			store_be16(d + 2, (uint16_t)(hlen + pay));
			store_be16(d + 4, next_id[v]++);
		} else {
			store_be16(d + 4, (uint16_t)(hlen + pay - 40));
		}
		d[ihl + 1] ^= (uint8_t)v;               /* the flow: source port */
		store_be32(d + ihl + 4, seq);
		d[ihl + 13] = d3 < 0x80 ? (uint8_t)(0x10 | ((d3 & 1) << 3)) : (uint8_t)(d3 ^ 0x80);
		/* The stream's bytes (period 251, so a misplaced run shows). */
		memcpy(d + hlen, stream + seq % 251, pay);
		if (d4 & 0x10)
			d[d5 % hlen] ^= d6;
		fix_csums(d, hlen + pay);
		if (d4 & 0x20)
			d[ihl + 17] ^= 1;
	}
	return n;
}

/* Segment s (from offload_segment) against the packet o that was offered:
 * equal but for checksum fields and, under DF, the IPv4 ID. */
static void check_same(const uint8_t *s, size_t slen, const struct pkt *o, bool v6, size_t ihl)
{
	const uint8_t *d = o->buf + o->off;

	check(slen == o->len);
	check(tcp_ok(d, slen, v6, ihl) && tcp_ok(s, slen, v6, ihl));
	if (!v6) {
		check(inet_checksum(d, ihl) == 0 && inet_checksum(s, ihl) == 0);
		check(load_be16(d + 6) == load_be16(s + 6));
	}
	if (!v6) {
		check(memcmp(s, d, 4) == 0 && memcmp(s + 6, d + 6, 4) == 0);
		check(memcmp(s + 12, d + 12, ihl - 12) == 0);
		check((load_be16(d + 6) & 0x4000) || memcmp(s + 4, d + 4, 2) == 0);
	} else {
		check(memcmp(s, d, ihl) == 0);
	}
	check(memcmp(s + ihl, d + ihl, 16) == 0);
	check(memcmp(s + ihl + 18, d + ihl + 18, slen - ihl - 18) == 0);
}

static void check_super(unsigned i, int r)
{
	struct offload_info info;
	struct pkt *p = &pkts[i];
	const uint8_t *d;
	uint8_t *c;
	size_t len, ihl;
	unsigned k;
	bool v6;
	int n;

	check(offload_parse_vnet(pkt_data(p), p->len, &info) == 0);
	check(info.flags == VNET_F_NEEDS_CSUM && !info.gso_ecn);
	d = pkt_data(p) + VNET_HDR_LEN;
	len = p->len - VNET_HDR_LEN;
	v6 = info.gso_type == VNET_GSO_TCPV6;
	check(v6 ? (d[0] >> 4) == 6 : info.gso_type == VNET_GSO_TCPV4 && d[0] == 0x45);
	ihl = v6 ? 40 : 20;
	check(info.csum_start == ihl && info.csum_offset == 16);
	check(len <= GRO_MAX_LEN && info.hdr_len < len);
	check(len - info.hdr_len > info.gso_size);
	check(info.gso_size == saved[i].len - info.hdr_len);

	/* Complete the partial checksum as the kernel would. */
	copy_bytes(&copy_pkt, p);
	c = pkt_data(&copy_pkt) + VNET_HDR_LEN;
	store_be16(c + ihl + 16, inet_csum_fold(inet_csum_partial(c + ihl, len - ihl, 0)));
	check(tcp_ok(c, len, v6, ihl));

	copy_bytes(&copy_pkt, p);
	for (k = 0; k < NOUT; k++)
		out[k] = &pool[k];
	n = offload_segment(&copy_pkt, out, NOUT);
	check(n == r);
	check_same(pkt_data(out[0]), out[0]->len, &saved[i], v6, ihl);
	for (k = 1; k < (unsigned)n; k++)
		check_same(pkt_data(out[k]), out[k]->len, &saved[members[i][k - 1]], v6, ihl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t before[GRO_MAX_HEADS];
	unsigned n, i, j, total = 0;

	if (size < 1)
		return 0;
	n = (data[0] & 1) ? parse_template(data + 1, size - 1)
			  : parse_raw(data + 1, size - 1, data[0] & 2);
	for (i = 0; i < n; i++)
		copy_bytes(&saved[i], &pkts[i]);

	gro_init(&g);
	for (i = 0; i < n; i++) {
		unsigned heads = g.n, grown = 0, at = 0;

		for (j = 0; j < heads; j++)
			before[j] = g.heads[j].nsegs;
		nmembers[i] = 0;
		merged[i] = gro_offer(&g, &pkts[i]);
		check(g.n >= heads && g.n <= heads + 1 && g.n <= GRO_MAX_HEADS);
		for (j = 0; j < heads; j++) {
			if (g.heads[j].nsegs != before[j]) {
				check(g.heads[j].nsegs == before[j] + 1);
				grown++;
				at = j;
			}
		}
		if (merged[i]) {
			unsigned h = (unsigned)(g.heads[at].p - pkts);

			check(grown == 1 && g.n == heads && h < i && !merged[h]);
			members[h][nmembers[h]++] = i;
		} else {
			check(grown == 0);
			check(pkts[i].off == saved[i].off && pkts[i].len == saved[i].len);
			check(memcmp(pkt_data(&pkts[i]), pkt_data(&saved[i]), pkts[i].len) == 0);
			if (g.n == heads + 1)
				check(g.heads[heads].p == &pkts[i] && g.heads[heads].nsegs == 1);
		}
	}

	for (i = 0; i < n; i++) {
		int r;

		if (merged[i])
			continue;
		r = gro_finish(&g, &pkts[i]);
		if (r == -ENOBUFS) {
			check(saved[i].off < VNET_HDR_LEN);
			total += 1 + nmembers[i];
			continue;
		}
		check(r == (int)(1 + nmembers[i]));
		total += (unsigned)r;
		if (r == 1) {
			static const uint8_t zero[VNET_HDR_LEN];

			check(pkts[i].len == saved[i].len + VNET_HDR_LEN);
			check(memcmp(pkt_data(&pkts[i]), zero, VNET_HDR_LEN) == 0);
			check(memcmp(pkt_data(&pkts[i]) + VNET_HDR_LEN, pkt_data(&saved[i]),
				     saved[i].len) == 0);
		} else {
			check_super(i, r);
			check(gro_finish(&g, &pkts[i]) == -EALREADY);
		}
	}
	check(total == n);
	if (getenv("GRESEC_FUZZ_TRACE")) {
		for (i = 0; i < n; i++)
			fprintf(stderr, "%c", merged[i] ? '+' : nmembers[i] ? 'H' : '.');
		fprintf(stderr, " (%u packets)\n", n);
	}
	return 0;
}
