/* tests/fuzz/fuzz_offload.c: libFuzzer target for tunnel/offload.c.
 *
 * Input: 1 byte of options, then what the TUN would hand us (virtio header
 * and packet).  Option bits 0-5 give max_out (0..63); bit 6 makes the
 * input a well-formed TSO header in front of the data (so that the fuzzer
 * reaches segmentation quickly): the virtio header is then built from the
 * first 3 data bytes (ECN/IPv6 choice and gso_size) and the measured IP and
 * TCP header lengths.
 *
 * Invariants: on error the input is untouched; in place (1, out[0] == p)
 * the virtio header is gone and a completed checksum verifies; segments are
 * valid IP packets (IPv4 header checksum, lengths, TCP checksum with the
 * pseudo-header) of at most PKT_MAX_PAYLOAD bytes at PKT_HEADROOM, with
 * contiguous sequence numbers and payloads that reassemble the original.
 * Build: clang -g -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_offload.c \
 *        tunnel/offload.c tunnel/inet.c
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/inet.h"
#include "tunnel/offload.h"
#include "tunnel/wire.h"

enum { MAX_OUT = 63, IN_OFF = PKT_HEADROOM - VNET_HDR_LEN };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt in, saved;
static struct pkt pool[MAX_OUT];
static struct pkt *out[MAX_OUT];

static void check(int cond)
{
	if (!cond)
		abort();
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

/* A complete TCP/IPv4 or TCP/IPv6 packet with correct checksums; returns
 * the IP header length, or 0. */
static size_t valid_tcp(const uint8_t *d, size_t len, bool v6)
{
	size_t ihl;

	if (len > PKT_MAX_PAYLOAD)
		return 0;
	if (!v6) {
		if (len < 40 || d[0] >> 4 != 4)
			return 0;
		ihl = (size_t)(d[0] & 15) * 4;
		if (ihl < 20 || ihl + 20 > len || load_be16(d + 2) != len || d[9] != 6)
			return 0;
		if (inet_checksum(d, ihl) != 0)
			return 0;
	} else {
		ihl = 40;
		if (len < 60 || d[0] >> 4 != 6 || load_be16(d + 4) + 40u != len || d[6] != 6)
			return 0;
	}
	if ((size_t)(d[ihl + 12] >> 4) * 4 < 20 || (size_t)(d[ihl + 12] >> 4) * 4 > len - ihl)
		return 0;
	if (inet_csum_fold(inet_csum_partial(d + ihl, len - ihl, pseudo_sum(d, v6, len - ihl))) != 0)
		return 0;
	return ihl;
}

/* Give the data a virtio header that passes the header checks, so that
 * most runs reach the packet checks and segmentation. */
static size_t make_tso(uint8_t *h, const uint8_t *data, size_t size)
{
	const uint8_t *ip;
	size_t ihl = 0, len;
	bool v6;

	if (size < 3)
		return 0;
	v6 = data[0] & 1;
	h[0] = VNET_F_NEEDS_CSUM;
	h[1] = (uint8_t)((v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) | (data[0] & VNET_GSO_ECN));
	h[4] = data[1];
	h[5] = data[2] & 0x3f;                  /* gso_size below 16 KB: more segments */
	if (!h[4] && !h[5])
		h[4] = 1;
	ip = data + 3;
	len = size - 3;
	if (len)
		ihl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;
	h[6] = (uint8_t)ihl;
	h[8] = 16;
	if (ihl + 13 <= len) {
		h[2] = (uint8_t)(ihl + (ip[ihl + 12] >> 4) * 4);
		h[3] = 0;
	}
	memcpy(h + VNET_HDR_LEN, ip, len);
	return VNET_HDR_LEN + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct offload_info info;
	unsigned max_out, i;
	size_t len, ihl = 0, hlen = 0, done = 0;
	uint32_t seq0 = 0, pseudo = 0;
	const uint8_t *orig;
	int n, pr;

	if (size < 1)
		return 0;
	max_out = data[0] & 0x3f;
	in.off = IN_OFF;
	if (data[0] & 0x40) {
		if (size - 1 > PKT_MAX_PAYLOAD + 3)
			return 0;
		memset(in.buf + IN_OFF, 0, VNET_HDR_LEN);
		in.len = make_tso(in.buf + IN_OFF, data + 1, size - 1);
		if (!in.len)
			return 0;
	} else {
		if (size - 1 > sizeof(in.buf) - IN_OFF)
			return 0;
		in.len = size - 1;
		memcpy(in.buf + IN_OFF, data + 1, in.len);
	}
	for (i = 0; i < MAX_OUT; i++)
		out[i] = &pool[i];
	memcpy(saved.buf + IN_OFF, in.buf + IN_OFF, in.len);
	saved.len = in.len;
	orig = saved.buf + IN_OFF + VNET_HDR_LEN;
	len = in.len >= VNET_HDR_LEN ? in.len - VNET_HDR_LEN : 0;

	pr = offload_parse_vnet(in.buf + IN_OFF, in.len, &info);
	if (pr == 0 && info.gso_type == VNET_GSO_NONE && (info.flags & VNET_F_NEEDS_CSUM) &&
	    (size_t)info.csum_start + info.csum_offset + 2 <= len)
		pseudo = load_be16(orig + info.csum_start + info.csum_offset);

	n = offload_segment(&in, out, max_out);
	if (n < 0) {
		check(n == -EINVAL || n == -EOPNOTSUPP || n == -ENOBUFS || n == -EMSGSIZE);
		check(in.off == IN_OFF && in.len == saved.len);
		check(memcmp(in.buf + IN_OFF, saved.buf + IN_OFF, in.len) == 0);
		for (i = 0; i < MAX_OUT; i++)
			check(out[i] == &pool[i]);
		return 0;
	}
	check(pr == 0 && max_out > 0 && (unsigned)n <= max_out);

	if (n == 1 && out[0] == &in) {
		const uint8_t *d = pkt_data(&in);

		check(in.off == PKT_HEADROOM && in.len == len && len <= PKT_MAX_PAYLOAD);
		if (info.gso_type != VNET_GSO_NONE) {
			check(valid_tcp(d, len, info.gso_type == VNET_GSO_TCPV6) != 0);
		} else if (info.flags & VNET_F_NEEDS_CSUM) {
			uint8_t pw[2];
			size_t start = info.csum_start;

			/* What the field held plus everything now sums to zero. */
			store_be16(pw, (uint16_t)pseudo);
			check(inet_csum_fold(inet_csum_partial(d + start, len - start,
				inet_csum_partial(pw, 2, 0))) == 0);
			check(load_be16(d + start + info.csum_offset) != 0);
		} else {
			check(memcmp(d, orig, len) == 0);
		}
		/* Written back to the TUN: a header that decodes to nothing. */
		check(offload_prepend_vnet_none(&in) == 0);
		check(offload_parse_vnet(pkt_data(&in), in.len, &info) == 0);
		check(info.flags == 0 && info.gso_type == VNET_GSO_NONE && in.len == len + VNET_HDR_LEN);
		return 0;
	}

	/* Segmented: at least two valid packets carrying the original. */
	check(n >= 2 && info.gso_type != VNET_GSO_NONE && info.gso_size > 0);
	for (i = 0; i < (unsigned)n; i++) {
		const struct pkt *q = out[i];
		const uint8_t *d = q->buf + q->off;
		size_t h, pay;

		check(q == &pool[i] && q->off == PKT_HEADROOM && q->len <= PKT_MAX_PAYLOAD);
		h = valid_tcp(d, q->len, info.gso_type == VNET_GSO_TCPV6);
		check(h != 0);
		if (i == 0) {
			ihl = h;
			hlen = h + (size_t)(d[h + 12] >> 4) * 4;
			seq0 = load_be32(orig + ihl + 4);
		}
		check(h == ihl && q->len >= hlen);
		pay = q->len - hlen;
		check(pay > 0 && pay <= info.gso_size);
		check(i + 1 == (unsigned)n || pay == info.gso_size);
		check(load_be32(d + ihl + 4) == (uint32_t)(seq0 + done));
		check(hlen + done + pay <= len);
		check(memcmp(d + hlen, orig + hlen + done, pay) == 0);
		if (i + 1 < (unsigned)n)
			check((d[ihl + 13] & 0x09) == 0);
		if (i > 0)
			check((d[ihl + 13] & 0x80) == 0);
		done += pay;
	}
	check(hlen + done == len);
	return 0;
}
