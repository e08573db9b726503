/* tunnel/offload.h: virtio-net headers of a TUN opened with IFF_VNET_HDR.
 *
 * With TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) the kernel
 * hands us TCP packets of up to 64 KB with the checksum left partial, each
 * behind a 10-byte struct virtio_net_hdr (linux/virtio_net.h).  This module
 * completes those checksums and splits TSO packets into segments of at most
 * gso_size payload bytes, as the kernel's own GSO would, so that each
 * segment is a complete IP packet ready for GRE.  Pure: no I/O, no
 * allocation; the caller owns every buffer.
 *
 * Byte order: the 16-bit fields are read and written little-endian, the
 * virtio 1.0 order.  A TUN uses host order unless told otherwise, which is
 * the same on little-endian hosts; on a big-endian host the daemon must
 * set TUNSETVNETLE (harmless everywhere) before enabling offloads.
 *
 * Segmentation is for L3 packets (TUN): the IP header starts right after
 * the virtio header.  Checksum completion alone works for any frame, since
 * csum_start counts from the start of the frame.
 */
#ifndef GRESEC_TUNNEL_OFFLOAD_H
#define GRESEC_TUNNEL_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/pkt.h"

/* struct virtio_net_hdr: flags(1) gso_type(1) hdr_len(2) gso_size(2)
 * csum_start(2) csum_offset(2); values as in linux/virtio_net.h. */
enum {
	VNET_HDR_LEN = 10,

	VNET_F_NEEDS_CSUM = 0x01,   /* checksum at csum_start+csum_offset is partial */
	VNET_F_DATA_VALID = 0x02,   /* checksum already verified: nothing to do */

	VNET_GSO_NONE  = 0,
	VNET_GSO_TCPV4 = 1,
	VNET_GSO_UDP   = 3,         /* UFO: not supported */
	VNET_GSO_TCPV6 = 4,
	VNET_GSO_UDP_L4 = 5,        /* USO: not supported (never enabled) */
	VNET_GSO_ECN   = 0x80,      /* TCP with ECN (CWR): may be or-ed into TCPV4/6 */
};

/* The decoded header, fields in host order. */
struct offload_info {
	uint8_t flags;
	uint8_t gso_type;       /* without VNET_GSO_ECN */
	uint8_t gso_ecn;        /* 1 when VNET_GSO_ECN was set */
	uint16_t hdr_len;       /* a hint only: the kernel may put the linear length here */
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Decode the virtio header at the front of buf[0..len) and check what can
 * be checked without the packet: only NEEDS_CSUM and DATA_VALID flags,
 * gso_type NONE, TCPV4 or TCPV6 (ECN only with TCP), gso_size > 0 and
 * NEEDS_CSUM for TCP GSO, an even csum_offset.  Returns 0, -EINVAL for a
 * short buffer or a malformed header, -EOPNOTSUPP for UDP GSO (UFO, USO). */
int offload_parse_vnet(const uint8_t *buf, size_t len, struct offload_info *info);

/* p holds one read from the TUN: the virtio header, then the IP packet.
 *
 * When no segmentation is needed (gso_type NONE, or a TSO packet whose
 * payload fits one segment), p is made ready in place: the virtio header
 * is pulled off, a partial checksum completed (a TSO packet gets its IPv4
 * header and TCP checksums recomputed in full), out[0] is set to p and 1
 * is returned.  The caller should keep its own list of spare buffers, as
 * the pointer in out[0] is overwritten.
 *
 * Otherwise the packet is split into n >= 2 segments written into out[0..n)
 * (spare buffers, distinct from p), each placed at PKT_HEADROOM and at
 * most PKT_MAX_PAYLOAD long: IP and TCP headers copied, IPv4 total length,
 * ID (+1 per segment) and header checksum, IPv6 payload length, TCP
 * sequence number, flags (FIN and PSH on the last segment only, CWR on the
 * first only) and TCP checksum set.  p is not modified; n is returned.
 *
 * Errors (p unchanged): -EINVAL for a malformed header or packet (see
 * offload_parse_vnet; lengths that do not match the IP header, hdr_len or
 * csum_start/csum_offset beyond the packet, a TSO packet that is not plain
 * TCP over IPv4 or IPv6 without extension headers, IPv4 fragments, csum
 * fields not pointing at the TCP checksum, an out[] entry equal to p),
 * -EOPNOTSUPP for UDP GSO, -ENOBUFS when more than max_out segments would
 * be needed, -EMSGSIZE when a result would exceed PKT_MAX_PAYLOAD (only an
 * IPv6 packet of more than 65535 bytes can). */
int offload_segment(struct pkt *p, struct pkt **out, unsigned max_out);

/* Push a zeroed virtio header (no GSO, no checksum flags) in front of a
 * packet to be written to the TUN.  Returns 0, or -ENOBUFS when p has no
 * headroom left. */
int offload_prepend_vnet_none(struct pkt *p);

#endif
