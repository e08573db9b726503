/* tunnel/offload.c: virtio-net header checksum completion and TCP
 * segmentation (pure). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tunnel/inet.h"
#include "tunnel/offload.h"
#include "tunnel/wire.h"

enum {
	VNET_F_KNOWN    = VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID,
	IP4_MF          = 0x2000,
	IP4_OFFSET_MASK = 0x1fff,
	IPPROTO_TCP_NUM = 6,
	TCP_MIN_HDR_LEN = 20,
	TCP_CSUM_OFF    = 16,
	TCP_FLAG_FIN    = 0x01,
	TCP_FLAG_PSH    = 0x08,
	TCP_FLAG_CWR    = 0x80,
	CSUM_MANGLED_0  = 0xffff,   /* what the kernel stores for a checksum of 0 */
};

/* Where the pieces of a TSO packet are, once checked. */
struct tso_layout {
	bool v6;
	size_t ip_hlen;
	size_t hlen;            /* IP + TCP headers */
	size_t len;             /* the whole IP packet */
};

static uint16_t vnet_load16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

int offload_parse_vnet(const uint8_t *buf, size_t len, struct offload_info *info)
{
	uint8_t gso;

	if (len < VNET_HDR_LEN)
		return -EINVAL;
	info->flags = buf[0];
	gso = buf[1];
	info->gso_type = gso & (uint8_t)~VNET_GSO_ECN;
	info->gso_ecn = (gso & VNET_GSO_ECN) != 0;
	info->hdr_len = vnet_load16(buf + 2);
	info->gso_size = vnet_load16(buf + 4);
	info->csum_start = vnet_load16(buf + 6);
	info->csum_offset = vnet_load16(buf + 8);

	/* RSC_INFO and anything newer would reinterpret the csum fields. */
	if (info->flags & ~VNET_F_KNOWN)
		return -EINVAL;
	/* An odd offset would put the checksum out of word alignment with
	 * csum_start, and no protocol does that. */
	if ((info->flags & VNET_F_NEEDS_CSUM) && (info->csum_offset & 1))
		return -EINVAL;
	switch (info->gso_type) {
	case VNET_GSO_NONE:
		if (info->gso_ecn)
			return -EINVAL;
		return 0;
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		/* TSO packets are always checksum-partial (virtio 1.0 5.1.6.2). */
		if (info->gso_size == 0 || !(info->flags & VNET_F_NEEDS_CSUM))
			return -EINVAL;
		return 0;
	case VNET_GSO_UDP:
	case VNET_GSO_UDP_L4:
		return info->gso_ecn ? -EINVAL : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

/* Check that ip[0..len) is plain TCP over the IP version the GSO type
 * names, with lengths that add up and csum fields on the TCP checksum.
 * hdr_len is only bounded: the kernel may report the linear length there
 * rather than the header length, so the headers are measured instead. */
static int tso_check(const uint8_t *ip, size_t len, const struct offload_info *info,
		     struct tso_layout *l)
{
	size_t ip_hlen, tcp_hlen;

	l->v6 = info->gso_type == VNET_GSO_TCPV6;
	if (!l->v6) {
		if (len < IPV4_HDR_LEN || (ip[0] >> 4) != 4)
			return -EINVAL;
		ip_hlen = (size_t)(ip[0] & 0x0f) * 4;
		if (ip_hlen < IPV4_HDR_LEN || ip_hlen > len)
			return -EINVAL;
		if (load_be16(ip + 2) != len)
			return -EINVAL;
		if (load_be16(ip + 6) & (IP4_MF | IP4_OFFSET_MASK))
			return -EINVAL;
		if (ip[9] != IPPROTO_TCP_NUM)
			return -EINVAL;
	} else {
		if (len < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
			return -EINVAL;
		ip_hlen = IPV6_HDR_LEN;
		if ((size_t)IPV6_HDR_LEN + load_be16(ip + 4) != len)
			return -EINVAL;
		/* Extension headers: the kernel does not put them on TCP
		 * it sends through a TUN, and we would have to walk them. */
		if (ip[6] != IPPROTO_TCP_NUM)
			return -EINVAL;
	}
	if (len - ip_hlen < TCP_MIN_HDR_LEN)
		return -EINVAL;
	tcp_hlen = (size_t)(ip[ip_hlen + 12] >> 4) * 4;
	if (tcp_hlen < TCP_MIN_HDR_LEN || tcp_hlen > len - ip_hlen)
		return -EINVAL;
	if (info->csum_start != ip_hlen || info->csum_offset != TCP_CSUM_OFF)
		return -EINVAL;
	if (info->hdr_len > len)
		return -EINVAL;
	l->ip_hlen = ip_hlen;
	l->hlen = ip_hlen + tcp_hlen;
	l->len = len;
	return 0;
}

/* Set the IPv4 header checksum, and the TCP checksum over the pseudo-header
 * and the TCP segment of the complete IP packet ip[0..len). */
static void tso_fix_csums(uint8_t *ip, size_t len, const struct tso_layout *l)
{
	uint8_t ph[IPV6_HDR_LEN] = { 0 };
	size_t tcp_len = len - l->ip_hlen, ph_len;
	uint8_t *tcp = ip + l->ip_hlen;
	uint32_t sum;

	if (!l->v6) {
		store_be16(ip + 10, 0);
		store_be16(ip + 10, inet_checksum(ip, l->ip_hlen));
		memcpy(ph, ip + 12, 8);
		ph[9] = IPPROTO_TCP_NUM;
		store_be16(ph + 10, (uint16_t)tcp_len);
		ph_len = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		store_be32(ph + 32, (uint32_t)tcp_len);
		ph[39] = IPPROTO_TCP_NUM;
		ph_len = IPV6_HDR_LEN;
	}
	store_be16(tcp + TCP_CSUM_OFF, 0);
	sum = inet_csum_partial(ph, ph_len, 0);
	sum = inet_csum_partial(tcp, tcp_len, sum);
	store_be16(tcp + TCP_CSUM_OFF, inet_csum_fold(sum));
}

/* Finish the checksum the kernel left partial: the field holds the
 * pseudo-header sum, so summing from csum_start to the end and folding
 * gives the checksum (as skb_checksum_help does). */
static int complete_csum(uint8_t *data, size_t len, const struct offload_info *info)
{
	size_t start = info->csum_start, field = start + info->csum_offset;
	uint16_t csum;

	if (field > len || len - field < 2)
		return -EINVAL;
	csum = inet_csum_fold(inet_csum_partial(data + start, len - start, 0));
	store_be16(data + field, csum ? csum : CSUM_MANGLED_0);
	return 0;
}

static void tso_write_segment(struct pkt *q, const uint8_t *ip, const struct tso_layout *l,
			      size_t pay_off, size_t pay_len, unsigned i, bool last)
{
	uint32_t seq = load_be32(ip + l->ip_hlen + 4);
	uint8_t *d, *tcp;

	pkt_reset(q);
	q->len = l->hlen + pay_len;
	d = pkt_data(q);
	memcpy(d, ip, l->hlen);
	memcpy(d + l->hlen, ip + l->hlen + pay_off, pay_len);
	if (!l->v6) {
		store_be16(d + 2, (uint16_t)q->len);
		store_be16(d + 4, (uint16_t)(load_be16(ip + 4) + i));
	} else {
		store_be16(d + 4, (uint16_t)(q->len - IPV6_HDR_LEN));
	}
	tcp = d + l->ip_hlen;
	store_be32(tcp + 4, seq + (uint32_t)pay_off);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_FLAG_CWR;
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
	tso_fix_csums(d, q->len, l);
}

/* Hand p itself on, without its virtio header. */
static int in_place(struct pkt *p, struct pkt **out)
{
	if (!pkt_pull(p, VNET_HDR_LEN))         /* p->len > VNET_HDR_LEN was checked */
		return -EINVAL;
	out[0] = p;
	return 1;
}

int offload_segment(struct pkt *p, struct pkt **out, unsigned max_out)
{
	struct offload_info info;
	struct tso_layout l;
	size_t len, pay, gso, nseg, i;
	uint8_t *ip;
	int r;

	if (max_out == 0)
		return -ENOBUFS;
	r = offload_parse_vnet(pkt_data(p), p->len, &info);
	if (r < 0)
		return r;
	if (p->len == VNET_HDR_LEN)
		return -EINVAL;
	ip = pkt_data(p) + VNET_HDR_LEN;
	len = p->len - VNET_HDR_LEN;

	if (info.gso_type == VNET_GSO_NONE) {
		if (len > PKT_MAX_PAYLOAD)
			return -EMSGSIZE;
		if (info.flags & VNET_F_NEEDS_CSUM) {
			r = complete_csum(ip, len, &info);
			if (r < 0)
				return r;
		}
		return in_place(p, out);
	}

	r = tso_check(ip, len, &info, &l);
	if (r < 0)
		return r;
	pay = len - l.hlen;
	gso = info.gso_size;
	if (pay <= gso) {
		if (len > PKT_MAX_PAYLOAD)
			return -EMSGSIZE;
		tso_fix_csums(ip, len, &l);
		return in_place(p, out);
	}
	nseg = pay / gso + (pay % gso != 0);
	if (nseg > max_out)
		return -ENOBUFS;
	/* An IPv6 packet may be up to 40 bytes longer than PKT_MAX_PAYLOAD,
	 * and so may its first segment. */
	if (l.hlen + gso > PKT_MAX_PAYLOAD)
		return -EMSGSIZE;
	for (i = 0; i < nseg; i++)
		if (out[i] == p)
			return -EINVAL;
	for (i = 0; i < nseg; i++) {
		size_t off = i * gso, n = pay - off < gso ? pay - off : gso;

		tso_write_segment(out[i], ip, &l, off, n, (unsigned)i, i + 1 == nseg);
	}
	return (int)nseg;
}

int offload_prepend_vnet_none(struct pkt *p)
{
	uint8_t *h = pkt_push(p, VNET_HDR_LEN);

	if (!h)
		return -ENOBUFS;
	memset(h, 0, VNET_HDR_LEN);
	return 0;
}
