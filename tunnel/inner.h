/* tunnel/inner.h: the IP packet that carries GRE inside WireGuard.
 *
 * Secure mode is WireGuard on the wire, and what rides in a WireGuard
 * transport message is an ordinary IPv4 or IPv6 packet.  gresec's are GRE
 * packets, IP protocol 47, from the tunnel's gre_local to its gre_remote:
 * byte for byte what a stock router sends after `ip tunnel add … mode gre
 * local <its WireGuard address> remote <ours>` over its WireGuard
 * interface (docs/protocol.md).  This file builds that header on the way
 * out and, on the way in, decides what a decrypted packet is.
 *
 * Pure: no I/O, no state.  Every length is checked before a byte is read;
 * nothing here logs.
 */
#ifndef GRESEC_TUNNEL_INNER_H
#define GRESEC_TUNNEL_INNER_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/addr.h"
#include "tunnel/pkt.h"

/* Push the IPv4 or IPv6 header (the family of src and dst, which must
 * match) in front of the GRE packet in p: protocol 47, hop limit ttl,
 * IPv4 with DF set (as Linux ip_gre with path MTU discovery) and the given
 * identification.  0, or -ENOBUFS (no headroom, or too long for one IP
 * packet), or -EAFNOSUPPORT. */
int inner_push(struct pkt *p, const struct ip_addr *src, const struct ip_addr *dst, uint8_t ttl,
	       uint16_t ip_id);

/* The bytes inner_push() adds for the family (20 or 40; 0 for another). */
size_t inner_header_len(int family);

/* What a decrypted transport message holds. */
enum inner_verdict {
	INNER_GRE = 0,         /* GRE from gre_remote to gre_local */
	INNER_ECHO,            /* ICMP or ICMPv6 echo request to gre_local: answer it */
	INNER_MALFORMED,       /* not a well-formed IPv4/IPv6 packet (version, lengths, header checksum) */
	INNER_FRAGMENT,        /* an IP fragment: GRE packets must fit the WireGuard MTU */
	INNER_NOT_GRE,         /* another protocol, or not addressed to gre_local */
	INNER_WRONG_ADDRESS,   /* GRE, but not from gre_remote to gre_local */
};

/* Classify the plaintext buf of len bytes (trailing padding allowed)
 * against the tunnel's gre_local and gre_remote.  Sets *pkt_len to the IP
 * packet's own length (what the header announces; the rest is padding)
 * for every verdict but INNER_MALFORMED, and *hdr_len to the length of
 * the IP header with any IPv6 hop-by-hop / destination options headers in
 * front of the GRE or ICMP message. */
enum inner_verdict inner_classify(const uint8_t *buf, size_t len, const struct ip_addr *local,
				  const struct ip_addr *remote, size_t *hdr_len, size_t *pkt_len);

/* Turn an echo request that inner_classify() called INNER_ECHO (hdr_len,
 * pkt_len from it) into its echo reply, in place: addresses swapped,
 * IPv4 options and IPv6 extension headers dropped, type 0 / 129, checksums
 * recomputed.  Returns the reply's length (<= pkt_len), or -EINVAL. */
int inner_echo_reply(uint8_t *buf, size_t hdr_len, size_t pkt_len);

#endif
