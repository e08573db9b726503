/* tests/fuzz/fuzz_gre.c: libFuzzer target for the GRE codec and the inner
 * packet helpers (tunnel/gre.c, tunnel/inet.c).
 *
 * Input: 1 byte of options, 4 bytes key, 4 bytes next sequence, 2 bytes
 * max MSS, then the packet.  Option bits 0-4 set struct gre_rx, bits 5-6
 * choose what the packet is fed to:
 *   0: gre_decap, then the inner helpers on the payload, then a re-encap
 *      round trip that must decode to the same payload
 *   1: inner helpers on an IPv4 packet, 2: on an IPv6 packet
 *   3: the keepalive recognisers
 * Build: clang -g -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_gre.c \
 *        tunnel/gre.c tunnel/inet.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel/gre.h"
#include "tunnel/inet.h"
#include "tunnel/wire.h"

enum { HDR = 11 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt pkt_a, pkt_b;        /* too large for the stack */
static uint8_t scratch[PKT_MAX_PAYLOAD];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void inner_helpers(const uint8_t *in, size_t len, uint16_t proto, uint16_t max_mss)
{
	size_t ip_len = 0;
	int r;

	r = inet_packet_len(in, len, proto, &ip_len);
	if (r == 0)
		check(ip_len <= len && ip_len >= IPV4_HDR_LEN);

	/* Clamping works in place on a copy; clamping twice changes nothing
	 * the second time, and only the MSS and checksum may change. */
	if (len) {
		size_t i, diff = 0;

		memcpy(scratch, in, len);
		if (inet_clamp_mss(scratch, len, proto, max_mss)) {
			check(!inet_clamp_mss(scratch, len, proto, max_mss));
			for (i = 0; i < len; i++)
				diff += scratch[i] != in[i];
			check(diff >= 1 && diff <= 4);
		}
	}
}

static void gre_path(const uint8_t *data, size_t size, struct gre_rx *rx, uint16_t max_mss)
{
	struct gre_rx before = *rx;
	uint16_t proto = 0xbeef;
	enum gre_result r;
	size_t hlen;

	pkt_reset(&pkt_a);
	if (size)
		memcpy(pkt_data(&pkt_a), data, size);
	pkt_a.len = size;

	r = gre_decap(&pkt_a, rx, &proto);
	check(r < GRE_RESULT_MAX && gre_result_name(r) != NULL);
	if (r != GRE_OK && r != GRE_KEEPALIVE) {
		check(pkt_a.off == PKT_HEADROOM && pkt_a.len == size);
		check(memcmp(&before, rx, sizeof(before)) == 0);
		return;
	}
	hlen = pkt_a.off - PKT_HEADROOM;
	check(hlen >= GRE_BASE_LEN && hlen <= GRE_MAX_LEN && hlen % 4 == 0);
	check(pkt_a.len + hlen == size);
	check(r == GRE_KEEPALIVE ? proto == GRE_PROTO_KEEPALIVE :
	      proto == GRE_PROTO_IPV4 || proto == GRE_PROTO_IPV6 || proto == GRE_PROTO_TEB);

	if (r == GRE_OK)
		inner_helpers(pkt_data(&pkt_a), pkt_a.len, proto, max_mss);

	/* Round trip: what we send with the options we accept is accepted. */
	{
		struct gre_tx tx = {
			.csum = rx->csum_required, .has_key = rx->has_key, .key = rx->key,
			.seq = rx->seq_required, .next_seq = rx->next_seq,
		};
		uint16_t proto2 = 0;

		pkt_reset(&pkt_b);
		if (pkt_a.len)
			memcpy(pkt_data(&pkt_b), pkt_data(&pkt_a), pkt_a.len);
		pkt_b.len = pkt_a.len;
		check(gre_encap(&pkt_b, &tx, proto) == 0);
		check(gre_decap(&pkt_b, rx, &proto2) == r);
		check(proto2 == proto && pkt_b.len == pkt_a.len);
		check(pkt_a.len == 0 || memcmp(pkt_data(&pkt_b), pkt_data(&pkt_a), pkt_a.len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gre_rx rx;
	uint16_t max_mss;
	uint8_t opt;

	if (size < HDR || size - HDR > PKT_MAX_PAYLOAD)
		return 0;
	opt = data[0];
	rx = (struct gre_rx){
		.csum_required = opt & 1,
		.has_key = (opt >> 1) & 1,
		.key = load_be32(data + 1),
		.seq_required = (opt >> 2) & 1,
		.seq_started = (opt >> 3) & 1,
		.next_seq = load_be32(data + 5),
		.keepalive_enabled = (opt >> 4) & 1,
	};
	max_mss = load_be16(data + 9);
	data += HDR;
	size -= HDR;

	switch ((opt >> 5) & 3) {
	case 0:
		gre_path(data, size, &rx, max_mss);
		break;
	case 1:
		inner_helpers(data, size, GRE_PROTO_IPV4, max_mss);
		break;
	case 2:
		inner_helpers(data, size, GRE_PROTO_IPV6, max_mss);
		break;
	default: {
		struct in_addr a = { .s_addr = rx.key }, b = { .s_addr = rx.next_seq };
		size_t off = 0, glen = 0;

		(void)gre_keepalive_is_reply(data, size, a, b);
		if (gre_keepalive_is_request(data, size, a, b, &off, &glen))
			check(off >= IPV4_HDR_LEN && off + glen <= size && glen >= GRE_BASE_LEN);
		break;
	}
	}
	return 0;
}
