/* tunnel/gro.c: coalescing of inner TCP segments into TSO super packets
 * for the TUN (pure). */
#include <errno.h>
#include <string.h>

#include "tunnel/gro.h"
#include "tunnel/inet.h"
#include "tunnel/offload.h"
#include "tunnel/wire.h"

enum {
	IP4_DF          = 0x4000,
	IP4_MF          = 0x2000,
	IP4_OFFSET_MASK = 0x1fff,
	IPPROTO_TCP_NUM = 6,
	TCP_MIN_HDR_LEN = 20,
	TCP_CSUM_OFF    = 16,
	TCP_FLAG_PSH    = 0x08,
	TCP_FLAG_ACK    = 0x10,
};

enum gro_head_state {
	GRO_OPEN,               /* takes segments; its TCP checksum not yet checked */
	GRO_OPEN_CHECKED,       /* takes segments; checksum verified */
	GRO_CLOSED,             /* ended by PSH, a short segment or a bad checksum */
	GRO_FINISHED,           /* virtio header pushed by gro_finish() */
};

/* What gro_offer() learns about a candidate segment. */
struct seg {
	bool v6;
	size_t ip_hlen;
	size_t tcp_hlen;
	size_t pay;             /* TCP payload length */
	uint32_t seq;
	bool psh;
};

/* The pseudo-header sum of a TCP segment of tcp_len bytes in packet ip. */
static uint32_t pseudo_sum(const uint8_t *ip, bool v6, size_t tcp_len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	if (!v6) {
		sum = inet_csum_partial(ip + 12, 8, 0);
		tail[1] = IPPROTO_TCP_NUM;
		store_be16(tail + 2, (uint16_t)tcp_len);
		return inet_csum_partial(tail, 4, sum);
	}
	sum = inet_csum_partial(ip + 8, 32, 0);
	store_be32(tail, (uint32_t)tcp_len);
	tail[7] = IPPROTO_TCP_NUM;
	return inet_csum_partial(tail, 8, sum);
}

static bool tcp_csum_ok(const uint8_t *ip, size_t len, bool v6, size_t ip_hlen)
{
	uint32_t sum = pseudo_sum(ip, v6, len - ip_hlen);

	return inet_csum_fold(inet_csum_partial(ip + ip_hlen, len - ip_hlen, sum)) == 0;
}

/* Could d[0..len) be part of a run at all?  Plain TCP with payload, flags
 * ACK or ACK|PSH, lengths that match the IP header, not a fragment. */
static bool parse_segment(const uint8_t *d, size_t len, struct seg *s)
{
	size_t tcp_hlen;
	uint8_t flags;

	if (len < IPV4_HDR_LEN || len > GRO_MAX_LEN)
		return false;
	switch (d[0] >> 4) {
	case 4:
		/* No options: the kernel does not merge them either. */
		if (d[0] != 0x45 || load_be16(d + 2) != len || d[9] != IPPROTO_TCP_NUM)
			return false;
		if (load_be16(d + 6) & (IP4_MF | IP4_OFFSET_MASK))
			return false;
		if (inet_checksum(d, IPV4_HDR_LEN) != 0)
			return false;
		s->v6 = false;
		s->ip_hlen = IPV4_HDR_LEN;
		break;
	case 6:
		/* Next header TCP: extension headers are not merged. */
		if (len < IPV6_HDR_LEN || (size_t)IPV6_HDR_LEN + load_be16(d + 4) != len ||
		    d[6] != IPPROTO_TCP_NUM)
			return false;
		s->v6 = true;
		s->ip_hlen = IPV6_HDR_LEN;
		break;
	default:
		return false;
	}
	if (len - s->ip_hlen < TCP_MIN_HDR_LEN)
		return false;
	tcp_hlen = (size_t)(d[s->ip_hlen + 12] >> 4) * 4;
	if (tcp_hlen < TCP_MIN_HDR_LEN || tcp_hlen >= len - s->ip_hlen)
		return false;           /* no payload: nothing to merge */
	flags = d[s->ip_hlen + 13];
	if (flags != TCP_FLAG_ACK && flags != (TCP_FLAG_ACK | TCP_FLAG_PSH))
		return false;
	s->tcp_hlen = tcp_hlen;
	s->pay = len - s->ip_hlen - tcp_hlen;
	s->seq = load_be32(d + s->ip_hlen + 4);
	s->psh = flags & TCP_FLAG_PSH;
	return true;
}

/* Same flow: version, addresses and ports. */
static bool same_flow(const uint8_t *h, const uint8_t *d, const struct seg *s,
		      const struct gro_head *e)
{
	if (e->ip_hlen != s->ip_hlen || (h[0] >> 4) != (d[0] >> 4))
		return false;
	if (!s->v6) {
		if (memcmp(h + 12, d + 12, 8) != 0)
			return false;
	} else if (memcmp(h + 8, d + 8, 32) != 0) {
		return false;
	}
	return memcmp(h + e->ip_hlen, d + s->ip_hlen, 4) == 0;
}

/* Everything but the sequence number, the checksums and PSH must be what
 * the head has, so that resegmenting restores each segment; the IPv4 ID
 * must count on unless DF makes it meaningless (RFC 6864). */
static bool headers_match(const uint8_t *h, const uint8_t *d, const struct seg *s,
			  const struct gro_head *e)
{
	const uint8_t *ht = h + e->ip_hlen, *dt = d + s->ip_hlen;

	if (!s->v6) {
		if (h[1] != d[1] || h[6] != d[6] || h[8] != d[8])    /* TOS, DF/evil bit, TTL */
			return false;
		if (!(load_be16(d + 6) & IP4_DF) && load_be16(d + 4) != e->next_id)
			return false;
	} else {
		/* Traffic class, flow label and hop limit, as the kernel. */
		if (memcmp(h, d, 4) != 0 || h[7] != d[7])
			return false;
	}
	if (e->tcp_hlen != s->tcp_hlen)
		return false;
	/* ACK number and data offset/reserved bits; window; urgent pointer
	 * and options.  The head's flags are plain ACK while it is open. */
	return memcmp(ht + 8, dt + 8, 5) == 0 && memcmp(ht + 14, dt + 14, 2) == 0 &&
	       memcmp(ht + 18, dt + 18, s->tcp_hlen - 18) == 0;
}

static bool try_append(struct gro_head *e, struct pkt *p, const struct seg *s)
{
	struct pkt *hp = e->p;
	const uint8_t *d = pkt_data(p);
	uint8_t *h = pkt_data(hp);

	if (hp == p || !same_flow(h, d, s, e) || !headers_match(h, d, s, e))
		return false;
	if (s->seq != e->next_seq || s->pay > e->gso_size)
		return false;
	if (hp->len + s->pay > GRO_MAX_LEN || pkt_tailroom(hp) < s->pay)
		return false;
	if (e->state == GRO_OPEN) {
		if (!tcp_csum_ok(h, hp->len, s->v6, e->ip_hlen)) {
			e->state = GRO_CLOSED;  /* the kernel drops it; merge nothing into it */
			return false;
		}
		e->state = GRO_OPEN_CHECKED;
	}
	memcpy(h + hp->len, d + s->ip_hlen + s->tcp_hlen, s->pay);
	hp->len += s->pay;
	e->next_seq += (uint32_t)s->pay;
	e->next_id++;
	e->nsegs++;
	/* Only the last segment may be short or carry PSH. */
	if (s->psh) {
		h[e->ip_hlen + 13] |= TCP_FLAG_PSH;
		e->state = GRO_CLOSED;
	}
	if (s->pay < e->gso_size)
		e->state = GRO_CLOSED;
	return true;
}

void gro_init(struct gro_table *g)
{
	g->n = 0;
}

bool gro_offer(struct gro_table *g, struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	struct gro_head *e;
	struct seg s;
	bool csum_checked = false;
	unsigned i;

	if (!parse_segment(d, p->len, &s))
		return false;
	/* Newest first: in order traffic finds its run at once. */
	for (i = g->n; i-- > 0;) {
		e = &g->heads[i];
		if (e->state != GRO_OPEN && e->state != GRO_OPEN_CHECKED)
			continue;
		if (!csum_checked) {
			/* Cheap tests first; the checksum only for a real candidate. */
			if (!same_flow(pkt_data(e->p), d, &s, e))
				continue;
			if (!tcp_csum_ok(d, p->len, s.v6, s.ip_hlen))
				return false;   /* passes alone, for the kernel to drop */
			csum_checked = true;
		}
		if (try_append(e, p, &s))
			return true;
	}
	/* A PSH segment ends a run, so it cannot start one. */
	if (s.psh || g->n == GRO_MAX_HEADS)
		return false;
	e = &g->heads[g->n++];
	e->p = p;
	e->next_seq = s.seq + (uint32_t)s.pay;
	e->gso_size = (uint16_t)s.pay;
	e->nsegs = 1;
	e->next_id = s.v6 ? 0 : (uint16_t)(load_be16(d + 4) + 1);
	e->ip_hlen = (uint8_t)s.ip_hlen;
	e->tcp_hlen = (uint8_t)s.tcp_hlen;
	e->state = csum_checked ? GRO_OPEN_CHECKED : GRO_OPEN;
	return false;
}

static void vnet_store16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

/* Turn a head with merged segments into a TSO packet behind its header. */
static int finish_super(struct gro_head *e, struct pkt *p)
{
	bool v6 = e->ip_hlen == IPV6_HDR_LEN;
	uint8_t *d = pkt_data(p), *h;
	uint32_t sum;

	if (p->off < VNET_HDR_LEN)
		return -ENOBUFS;
	if (!v6) {
		store_be16(d + 2, (uint16_t)p->len);
		store_be16(d + 10, 0);
		store_be16(d + 10, inet_checksum(d, IPV4_HDR_LEN));
	} else {
		store_be16(d + 4, (uint16_t)(p->len - IPV6_HDR_LEN));
	}
	/* Partial checksum: the folded pseudo-header sum, not complemented;
	 * the kernel adds the segment's bytes (CHECKSUM_PARTIAL). */
	sum = pseudo_sum(d, v6, p->len - e->ip_hlen);
	store_be16(d + e->ip_hlen + TCP_CSUM_OFF, (uint16_t)~inet_csum_fold(sum));
	h = pkt_push(p, VNET_HDR_LEN);          /* headroom checked above */
	h[0] = VNET_F_NEEDS_CSUM;
	h[1] = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
	vnet_store16(h + 2, (uint16_t)(e->ip_hlen + e->tcp_hlen));
	vnet_store16(h + 4, e->gso_size);
	vnet_store16(h + 6, e->ip_hlen);
	vnet_store16(h + 8, TCP_CSUM_OFF);
	e->state = GRO_FINISHED;
	return e->nsegs;
}

int gro_finish(struct gro_table *g, struct pkt *p)
{
	unsigned i;
	int r;

	for (i = 0; i < g->n; i++) {
		struct gro_head *e = &g->heads[i];

		if (e->p != p)
			continue;
		if (e->state == GRO_FINISHED)
			return -EALREADY;
		if (e->nsegs > 1)
			return finish_super(e, p);
		e->state = GRO_FINISHED;
		break;
	}
	r = offload_prepend_vnet_none(p);
	return r < 0 ? r : 1;
}
