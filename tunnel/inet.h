/* tunnel/inet.h: pure helpers for Internet checksums and inner IP packets.
 *
 * Nothing here does I/O or keeps state: functions take the packet bytes,
 * check every length before reading, and return a result.  Checksums are
 * returned in host order, ready for store_be16().
 */
#ifndef GRESEC_TUNNEL_INET_H
#define GRESEC_TUNNEL_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Internet checksum (RFC 1071, RFC 1624) ---- */

/* Add data to a running one's complement sum (start with 0).  Every chunk
 * but the last must have an even length, so that words stay aligned. */
uint32_t inet_csum_partial(const void *data, size_t len, uint32_t sum);

/* Fold a running sum to 16 bits and complement it: the checksum field. */
uint16_t inet_csum_fold(uint32_t sum);

/* Checksum of one buffer: inet_csum_fold(inet_csum_partial(data, len, 0)).
 * A buffer that includes a correct checksum field sums to 0. */
uint16_t inet_checksum(const void *data, size_t len);

/* RFC 1624 eqn. 3: the checksum after one 16-bit word changed from old_word
 * to new_word (all values in host order, the word at an even offset from
 * the start of the checksummed data). */
uint16_t inet_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* ---- Inner packets ---- */

/* The length the IP header of an inner packet announces (IPv4 total length,
 * IPv6 40 + payload length), so the receiver can trim padding added by
 * secure mode.  proto is the GRE protocol type (0x0800, 0x86dd).
 * Returns 0, -EINVAL for a bad version nibble, short buffer or a length
 * beyond len, -EPROTONOSUPPORT for any other proto (Ethernet frames of
 * gretap: receivers ignore trailing padding, keep them as they are). */
int inet_packet_len(const uint8_t *pkt, size_t len, uint16_t proto, size_t *ip_len_out);

/* A TCP packet as the kernel's GRO leaves it after merging segments. */
struct inet_tcp_gro {
	bool v6;
	size_t ip_hlen;         /* 20 or 40 */
	size_t tcp_hlen;        /* with options */
	size_t payload;         /* TCP payload bytes */
};

/* Whether pkt[0..len), an IPv4 (no options, not a fragment) or IPv6 (next
 * header TCP) packet, proto 0x0800 / 0x86dd, is TCP whose checksum does not
 * verify but holds exactly the pseudo-header sum of its length: the
 * kernel's partial checksum (CHECKSUM_PARTIAL), which is what a GRO-merged
 * packet carries (tcp4_gro_complete / tcp6_gro_complete).  The kernel's
 * GRE GRO merges the peer's GRE packets that way before a raw socket sees
 * them.  A packet with a correct checksum, or with any other wrong one, is
 * not (false); the lengths must match the IP header exactly. */
bool inet_tcp_gro_super(const uint8_t *pkt, size_t len, uint16_t proto, struct inet_tcp_gro *out);

/* Lower the MSS option of a TCP SYN or SYN-ACK in an IPv4 or IPv6 packet
 * (first fragment; IPv6 extension headers are skipped) to max_mss when it
 * is larger, updating the TCP checksum incrementally.  Returns true when
 * the packet was changed.  Malformed packets are left alone. */
bool inet_clamp_mss(uint8_t *pkt, size_t len, uint16_t proto, uint16_t max_mss);

/* The MSS that fits a tunnel MTU: mtu - 40 (AF_INET) or mtu - 60
 * (AF_INET6, header plus the same 20 bytes of TCP); 0 when mtu is smaller
 * than that or the family unknown. */
uint16_t inet_mss_for_mtu(uint32_t mtu, int family);

#endif
