/* tunnel/gre.c: GRE header codec (RFC 2784, RFC 2890) and Cisco keepalives. */
#include <errno.h>
#include <string.h>

#include "tunnel/gre.h"
#include "tunnel/inet.h"
#include "tunnel/wire.h"

enum {
	IP4_MF_OFFSET_MASK = 0x3fff,    /* more fragments + fragment offset */
	KEEPALIVE_TTL = 255,
};

static const char *const result_names[GRE_RESULT_MAX] = {
	[GRE_OK]                = "ok",
	[GRE_DROP_TRUNCATED]    = "truncated",
	[GRE_DROP_VERSION]      = "bad_version",
	[GRE_DROP_RFC1701]      = "rfc1701_flags",
	[GRE_DROP_PROTO]        = "unknown_protocol",
	[GRE_DROP_CSUM_MISSING] = "checksum_missing",
	[GRE_DROP_CSUM_BAD]     = "checksum_bad",
	[GRE_DROP_KEY_MISMATCH] = "key_mismatch",
	[GRE_DROP_SEQ_MISSING]  = "sequence_missing",
	[GRE_DROP_SEQ_ORDER]    = "sequence_order",
	[GRE_KEEPALIVE]         = "keepalive",
};

const char *gre_result_name(enum gre_result r)
{
	if ((unsigned int)r >= GRE_RESULT_MAX || !result_names[r])
		return "unknown";
	return result_names[r];
}

static size_t flags_header_len(uint16_t flags)
{
	size_t len = GRE_BASE_LEN;

	if (flags & GRE_FLAG_C)
		len += GRE_OPT_LEN;
	if (flags & GRE_FLAG_K)
		len += GRE_OPT_LEN;
	if (flags & GRE_FLAG_S)
		len += GRE_OPT_LEN;
	return len;
}

static uint16_t tx_flags(const struct gre_tx *tx)
{
	return (uint16_t)((tx->csum ? GRE_FLAG_C : 0) | (tx->has_key ? GRE_FLAG_K : 0) |
			  (tx->seq ? GRE_FLAG_S : 0));
}

size_t gre_header_len(const struct gre_tx *tx)
{
	return flags_header_len(tx_flags(tx));
}

int gre_encap(struct pkt *p, struct gre_tx *tx, uint16_t proto)
{
	uint16_t flags = tx_flags(tx);
	size_t hlen = flags_header_len(flags), o = GRE_BASE_LEN;
	uint8_t *h = pkt_push(p, hlen);

	if (!h)
		return -ENOBUFS;
	store_be16(h, flags);
	store_be16(h + 2, proto);
	if (tx->csum) {
		store_be32(h + o, 0);   /* checksum computed last, reserved1 zero */
		o += GRE_OPT_LEN;
	}
	if (tx->has_key) {
		store_be32(h + o, tx->key);
		o += GRE_OPT_LEN;
	}
	if (tx->seq) {
		store_be32(h + o, tx->next_seq);
		tx->next_seq++;
	}
	if (tx->csum)
		store_be16(h + GRE_BASE_LEN, inet_checksum(h, p->len));
	return 0;
}

static bool proto_known(uint16_t proto)
{
	return proto == GRE_PROTO_IPV4 || proto == GRE_PROTO_IPV6 || proto == GRE_PROTO_TEB;
}

enum gre_result gre_decap(struct pkt *p, struct gre_rx *rx, uint16_t *proto_out)
{
	const uint8_t *h = pkt_data(p);
	size_t hlen, o = GRE_BASE_LEN;
	uint16_t flags, proto;
	bool keepalive;
	uint32_t seq = 0;

	if (p->len < GRE_BASE_LEN)
		return GRE_DROP_TRUNCATED;
	flags = load_be16(h);
	if (flags & GRE_VERSION_MASK)
		return GRE_DROP_VERSION;
	/* RFC 2784 2.3: without RFC 1701, discard when bits 1-5 are set (bits 2
	 * and 3 are RFC 2890's K and S); we refuse all of RFC 1701's routing,
	 * strict source route and recursion control, and ignore bits 8-12.
	 * (Linux refuses only R, so it accepts s and recursion.) */
	if (flags & (GRE_FLAG_R | GRE_FLAG_SSR | GRE_RECUR_MASK))
		return GRE_DROP_RFC1701;
	hlen = flags_header_len(flags);
	if (p->len < hlen)
		return GRE_DROP_TRUNCATED;
	proto = load_be16(h + 2);

	if (flags & GRE_FLAG_C) {
		/* Over header and payload, the checksum field included. */
		if (!rx->csum_trusted && inet_checksum(h, p->len) != 0)
			return GRE_DROP_CSUM_BAD;
		o += GRE_OPT_LEN;
	} else if (rx->csum_required) {
		return GRE_DROP_CSUM_MISSING;
	}

	if (flags & GRE_FLAG_K) {
		if (!rx->has_key || load_be32(h + o) != rx->key)
			return GRE_DROP_KEY_MISMATCH;
		o += GRE_OPT_LEN;
	} else if (rx->has_key) {
		return GRE_DROP_KEY_MISMATCH;
	}

	if (flags & GRE_FLAG_S)
		seq = load_be32(h + o);
	else if (rx->seq_required)
		return GRE_DROP_SEQ_MISSING;

	/* Protocol before the sequence check, so that a packet we would drop
	 * anyway cannot move the window. */
	keepalive = proto == GRE_PROTO_KEEPALIVE && rx->keepalive_enabled;
	if (!keepalive && !proto_known(proto))
		return GRE_DROP_PROTO;

	/* Our own keepalive carries our transmit counter, unrelated to the
	 * peer's: never order it nor let it move next_seq. */
	if (rx->seq_required && !keepalive) {
		/* (int32_t)(seq - next) < 0, as ip_tunnel_rcv() */
		if (rx->seq_started && ((seq - rx->next_seq) & 0x80000000u))
			return GRE_DROP_SEQ_ORDER;
		rx->next_seq = seq + 1;
		rx->seq_started = true;
	}

	pkt_pull(p, hlen);
	*proto_out = proto;
	return keepalive ? GRE_KEEPALIVE : GRE_OK;
}

int gre_keepalive_build(struct pkt *p, struct gre_tx *tx, struct in_addr local,
			struct in_addr remote)
{
	size_t hlen = gre_header_len(tx);
	uint8_t *ip;
	int err;

	if (p->len != 0)
		return -EINVAL;
	if (p->off < hlen + IPV4_HDR_LEN)
		return -ENOBUFS;
	err = gre_encap(p, tx, GRE_PROTO_KEEPALIVE);
	if (err)
		return err;
	ip = pkt_push(p, IPV4_HDR_LEN);
	if (!ip)
		return -ENOBUFS;
	memset(ip, 0, IPV4_HDR_LEN);
	ip[0] = 0x45;
	store_be16(ip + 2, (uint16_t)p->len);
	ip[8] = KEEPALIVE_TTL;
	ip[9] = IPPROTO_GRE_NUM;
	memcpy(ip + 12, &remote.s_addr, 4);
	memcpy(ip + 16, &local.s_addr, 4);
	store_be16(ip + 10, inet_checksum(ip, IPV4_HDR_LEN));
	return 0;
}

/* An unfragmented IPv4 packet src->dst carrying a GRE header of version 0
 * and protocol 0; *ihl_out and *tot_out locate the GRE part. */
static bool keepalive_match(const uint8_t *pkt, size_t len, struct in_addr src,
			    struct in_addr dst, size_t *ihl_out, size_t *tot_out)
{
	size_t ihl, tot;

	if (!pkt || len < IPV4_HDR_LEN || (pkt[0] >> 4) != 4)
		return false;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = load_be16(pkt + 2);
	if (ihl < IPV4_HDR_LEN || tot > len || tot < ihl + GRE_BASE_LEN)
		return false;
	if (pkt[9] != IPPROTO_GRE_NUM || (load_be16(pkt + 6) & IP4_MF_OFFSET_MASK))
		return false;
	if (memcmp(pkt + 12, &src.s_addr, 4) != 0 || memcmp(pkt + 16, &dst.s_addr, 4) != 0)
		return false;
	if ((load_be16(pkt + ihl) & GRE_VERSION_MASK) != 0 ||
	    load_be16(pkt + ihl + 2) != GRE_PROTO_KEEPALIVE)
		return false;
	*ihl_out = ihl;
	*tot_out = tot;
	return true;
}

bool gre_keepalive_is_reply(const uint8_t *pkt, size_t len, struct in_addr local,
			    struct in_addr remote)
{
	size_t ihl, tot;

	return keepalive_match(pkt, len, remote, local, &ihl, &tot);
}

bool gre_keepalive_is_request(const uint8_t *inner, size_t len, struct in_addr local,
			      struct in_addr remote, size_t *gre_off_out, size_t *gre_len_out)
{
	size_t ihl, tot;

	if (!keepalive_match(inner, len, local, remote, &ihl, &tot))
		return false;
	if (gre_off_out)
		*gre_off_out = ihl;
	if (gre_len_out)
		*gre_len_out = tot - ihl;
	return true;
}
