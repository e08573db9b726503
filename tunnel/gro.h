/* tunnel/gro.h: receive coalescing (GRO) of inner TCP segments for a TUN.
 *
 * The mirror of tunnel/offload.h.  Inner IP packets that arrive in one
 * batch (GRE decapsulated or opened) are coalesced per TCP flow into "super
 * packets" of up to 64 KB: the payloads of in-order segments are appended to
 * the first segment of their run (the head), and the head is written to the
 * TUN behind a virtio header with gso_type TCPV4/TCPV6, gso_size = the
 * segment size and a partial TCP checksum (NEEDS_CSUM), which a TUN with
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) takes as one skb.
 * One write and one trip through the receive path instead of many.
 *
 * Segments are merged only when the kernel's GRO would merge them, so that
 * resegmenting a super packet (as the kernel does before forwarding it)
 * gives back the original segments: same flow (version, addresses, ports),
 * plain TCP (no IPv4 options, no IPv6 extension headers, no IPv4
 * fragments), equal TOS/traffic class and flow label, TTL/hop limit, DF;
 * IPv4 IDs that increment by one unless DF is set; equal ACK number,
 * window, urgent pointer, header length and options (byte for byte, so
 * timestamps must be identical); flags exactly ACK, or ACK|PSH on the last
 * segment of a run; a payload of gso_size bytes, or fewer on the last
 * segment; the next sequence number; valid IPv4 header and TCP checksums
 * (a packet with a bad checksum passes alone, for the kernel to drop).
 * Segments are only appended, never prepended: a run starts at the first
 * segment of the batch that can start one.
 *
 * Pure: no I/O, no allocation.  The table only keeps pointers to the
 * batch's packets and is valid for one batch.
 *
 * Per batch, the daemon does:
 *	gro_init(&g);
 *	for each inner IP packet p of the batch (p->len trimmed to the IP
 *	length, no virtio header yet):
 *		merged[i] = gro_offer(&g, p);  (true: p's bytes now live in
 *		                                an earlier packet; p is free)
 *	for each p with merged[i] false, in order:
 *		n = gro_finish(&g, p);          (virtio header pushed; n = the
 *		                                 number of packets p carries)
 *		if (n > 0) write p to the TUN;
 * Packets that are never offered (e.g. Ethernet frames of a TAP) still
 * need a virtio header: gro_finish() gives them a zeroed one, as does
 * offload_prepend_vnet_none().
 */
#ifndef GRESEC_TUNNEL_GRO_H
#define GRESEC_TUNNEL_GRO_H

#include <stdbool.h>
#include <stdint.h>

#include "tunnel/pkt.h"

enum {
	GRO_MAX_HEADS = 32,     /* runs tracked per batch; more packets pass alone */
	GRO_MAX_LEN = 65535,    /* a super packet's IP length (IPv4 total length) */
};

/* One run of segments: its head packet and what the next segment must
 * look like.  Internal; public only so that the table has a fixed size. */
struct gro_head {
	struct pkt *p;          /* the head; its payload grows */
	uint32_t next_seq;      /* sequence number the next segment must carry */
	uint16_t gso_size;      /* payload of the head: every segment but the last */
	uint16_t nsegs;         /* segments in the run, the head included */
	uint16_t next_id;       /* IPv4 ID the next segment must carry (unless DF) */
	uint8_t ip_hlen;
	uint8_t tcp_hlen;
	uint8_t state;          /* enum gro_head_state (gro.c) */
};

struct gro_table {
	unsigned n;
	struct gro_head heads[GRO_MAX_HEADS];
};

/* Start a batch: forget every run. */
void gro_init(struct gro_table *g);

/* Offer p, an inner IPv4 or IPv6 packet at pkt_data(p) of exactly p->len
 * bytes without a virtio header, in batch order.  Returns true when p's
 * payload was appended to an earlier packet of the batch: the caller must
 * not write p and may reuse its buffer at once.  Returns false when p
 * stands on its own (unchanged, possibly the head of later merges): the
 * caller keeps it until it has called gro_finish() on it and written it. */
bool gro_offer(struct gro_table *g, struct pkt *p);

/* Make p (a packet for which gro_offer() returned false, or one never
 * offered) ready for the TUN: push its 10-byte virtio header (little-endian
 * fields, as in tunnel/offload.h).  A head with merged segments gets GSO
 * TCPV4/TCPV6 with NEEDS_CSUM, hdr_len = IP + TCP header length, gso_size,
 * csum_start = IP header length, csum_offset = 16; its IPv4 total length
 * and header checksum or IPv6 payload length are set, and its TCP checksum
 * field holds the pseudo-header sum (folded, not complemented) over the
 * super packet's length.  Any other packet gets a zeroed header and is not
 * changed.  A head takes no more segments afterwards.  Returns the number
 * of packets p now carries (>= 1); -ENOBUFS when p has less than 10 bytes
 * of headroom (p not written: drop it, a head with its merged payload);
 * -EALREADY when p is a head already finished. */
int gro_finish(struct gro_table *g, struct pkt *p);

#endif
