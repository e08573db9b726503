/* tunnel/inner.c: the IP packet that carries GRE inside WireGuard (see inner.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tunnel/inet.h"
#include "tunnel/inner.h"
#include "tunnel/wire.h"

enum {
	IP4_DF             = 0x4000,
	IP4_FRAG_MASK      = 0x3fff,  /* MF and the fragment offset */
	IP6_EXT_HOPOPTS    = 0,
	IP6_EXT_FRAGMENT   = 44,
	IP6_EXT_DSTOPTS    = 60,
	IP6_EXT_MAX        = 4,       /* Linux ip6gre sends one (encapsulation limit) */
	ICMP4_ECHO_REQUEST = 8,
	ICMP4_ECHO_REPLY   = 0,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY   = 129,
	ICMP_ECHO_HDR_LEN  = 8,
	REPLY_TTL          = 64,
	IP_MAX_LEN         = 65535,
};

size_t inner_header_len(int family)
{
	return family == AF_INET ? IPV4_HDR_LEN : family == AF_INET6 ? IPV6_HDR_LEN : 0;
}

int inner_push(struct pkt *p, const struct ip_addr *src, const struct ip_addr *dst, uint8_t ttl,
	       uint16_t ip_id)
{
	size_t hl = inner_header_len(src->family);
	uint8_t *h;

	if (!hl || dst->family != src->family)
		return -EAFNOSUPPORT;
	if (p->len > IP_MAX_LEN - (src->family == AF_INET ? hl : 0) || !(h = pkt_push(p, hl)))
		return -ENOBUFS;
	if (src->family == AF_INET) {
		h[0] = 0x45;
		h[1] = 0;                       /* TOS */
		store_be16(h + 2, (uint16_t)p->len);
		store_be16(h + 4, ip_id);
		store_be16(h + 6, IP4_DF);
		h[8] = ttl;
		h[9] = IPPROTO_GRE_NUM;
		store_be16(h + 10, 0);
		memcpy(h + 12, &src->u.v4, 4);
		memcpy(h + 16, &dst->u.v4, 4);
		store_be16(h + 10, inet_checksum(h, IPV4_HDR_LEN));
	} else {
		store_be32(h, 0x60000000u);     /* version 6, no class, no flow label */
		store_be16(h + 4, (uint16_t)(p->len - IPV6_HDR_LEN));
		h[6] = IPPROTO_GRE_NUM;
		h[7] = ttl;
		memcpy(h + 8, &src->u.v6, 16);
		memcpy(h + 24, &dst->u.v6, 16);
	}
	return 0;
}

static bool addr_is(const uint8_t *bytes, const struct ip_addr *a, int family)
{
	return a->family == family && memcmp(bytes, a->u.bytes, family == AF_INET ? 4 : 16) == 0;
}

/* Upper-layer verdict once the addresses and the protocol are known. */
static enum inner_verdict upper(const uint8_t *buf, size_t off, size_t end, uint8_t proto,
				const uint8_t *src, const uint8_t *dst, int family,
				const struct ip_addr *local, const struct ip_addr *remote)
{
	uint8_t echo = family == AF_INET ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST;
	uint8_t icmp = family == AF_INET ? IPPROTO_ICMP_NUM : IPPROTO_ICMPV6_NUM;

	if (proto == IPPROTO_GRE_NUM)
		return addr_is(src, remote, family) && addr_is(dst, local, family) ?
			INNER_GRE : INNER_WRONG_ADDRESS;
	if (proto == icmp && addr_is(dst, local, family) && end - off >= ICMP_ECHO_HDR_LEN &&
	    buf[off] == echo && buf[off + 1] == 0)
		return INNER_ECHO;
	return INNER_NOT_GRE;
}

static enum inner_verdict classify4(const uint8_t *buf, size_t len, const struct ip_addr *local,
				    const struct ip_addr *remote, size_t *hdr_len, size_t *pkt_len)
{
	size_t ihl, total;

	if (len < IPV4_HDR_LEN)
		return INNER_MALFORMED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	total = load_be16(buf + 2);
	/* The receiving kernel would check the header checksum too. */
	if (ihl < IPV4_HDR_LEN || total < ihl || total > len || inet_checksum(buf, ihl) != 0)
		return INNER_MALFORMED;
	*hdr_len = ihl;
	*pkt_len = total;
	if (load_be16(buf + 6) & IP4_FRAG_MASK)
		return INNER_FRAGMENT;
	return upper(buf, ihl, total, buf[9], buf + 12, buf + 16, AF_INET, local, remote);
}

static enum inner_verdict classify6(const uint8_t *buf, size_t len, const struct ip_addr *local,
				    const struct ip_addr *remote, size_t *hdr_len, size_t *pkt_len)
{
	size_t total, off = IPV6_HDR_LEN;
	uint8_t nh;

	if (len < IPV6_HDR_LEN)
		return INNER_MALFORMED;
	total = IPV6_HDR_LEN + (size_t)load_be16(buf + 4);
	if (total > len)
		return INNER_MALFORMED;
	*pkt_len = total;
	nh = buf[6];
	/* Skip the options headers a GRE sender may add (Linux ip6gre puts
	 * a tunnel encapsulation limit in a destination options header). */
	for (int i = 0; i < IP6_EXT_MAX && (nh == IP6_EXT_HOPOPTS || nh == IP6_EXT_DSTOPTS); i++) {
		size_t hl;

		if (total - off < 8)
			return INNER_MALFORMED;
		hl = ((size_t)buf[off + 1] + 1) * 8;
		if (hl > total - off)
			return INNER_MALFORMED;
		nh = buf[off];
		off += hl;
	}
	*hdr_len = off;
	if (nh == IP6_EXT_FRAGMENT)
		return INNER_FRAGMENT;
	return upper(buf, off, total, nh, buf + 8, buf + 24, AF_INET6, local, remote);
}

enum inner_verdict inner_classify(const uint8_t *buf, size_t len, const struct ip_addr *local,
				  const struct ip_addr *remote, size_t *hdr_len, size_t *pkt_len)
{
	if (len == 0)
		return INNER_MALFORMED;
	switch (buf[0] >> 4) {
	case 4:
		return classify4(buf, len, local, remote, hdr_len, pkt_len);
	case 6:
		return classify6(buf, len, local, remote, hdr_len, pkt_len);
	default:
		return INNER_MALFORMED;
	}
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

int inner_echo_reply(uint8_t *buf, size_t hdr_len, size_t pkt_len)
{
	size_t base, msg_len;
	uint8_t *icmp;
	uint32_t sum;

	if (pkt_len < hdr_len + ICMP_ECHO_HDR_LEN)
		return -EINVAL;
	msg_len = pkt_len - hdr_len;
	if ((buf[0] >> 4) == 4) {
		base = IPV4_HDR_LEN;
		if (hdr_len < base)
			return -EINVAL;
		memmove(buf + base, buf + hdr_len, msg_len);    /* drop IP options */
		buf[0] = 0x45;
		store_be16(buf + 2, (uint16_t)(base + msg_len));
		store_be16(buf + 6, 0);
		buf[8] = REPLY_TTL;
		swap_bytes(buf + 12, buf + 16, 4);
		store_be16(buf + 10, 0);
		store_be16(buf + 10, inet_checksum(buf, base));
		icmp = buf + base;
		icmp[0] = ICMP4_ECHO_REPLY;
		store_be16(icmp + 2, 0);
		store_be16(icmp + 2, inet_checksum(icmp, msg_len));
	} else {
		base = IPV6_HDR_LEN;
		if (hdr_len < base)
			return -EINVAL;
		memmove(buf + base, buf + hdr_len, msg_len);    /* drop extension headers */
		store_be16(buf + 4, (uint16_t)msg_len);
		buf[6] = IPPROTO_ICMPV6_NUM;
		buf[7] = REPLY_TTL;
		swap_bytes(buf + 8, buf + 24, 16);
		icmp = buf + base;
		icmp[0] = ICMP6_ECHO_REPLY;
		store_be16(icmp + 2, 0);
		/* Pseudo-header (RFC 8200 8.1): addresses, length, next header. */
		sum = inet_csum_partial(buf + 8, 32, 0);
		sum = inet_csum_partial((const uint8_t[]){ 0, 0, (uint8_t)(msg_len >> 8),
							   (uint8_t)msg_len, 0, 0, 0, IPPROTO_ICMPV6_NUM },
					8, sum);
		sum = inet_csum_partial(icmp, msg_len, sum);
		store_be16(icmp + 2, inet_csum_fold(sum));
	}
	return (int)(base + msg_len);
}
