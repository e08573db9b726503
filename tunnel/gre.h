/* tunnel/gre.h: GRE header codec (RFC 2784, RFC 2890), pure, in place.
 *
 * Wire-compatible with Linux ip_gre: the same header layout and option
 * order (C|K|S, protocol, checksum+reserved1, key, sequence), the checksum
 * over GRE header and payload, and the same receive decisions as
 * gre_parse_header() (net/ipv4/gre_demux.c) and ip_tunnel_rcv().
 *
 * Cisco-compatible keepalives (IPv4 underlay), the flow between us (local)
 * and the peer (remote):
 *
 *   we send     outer IP local->remote, GRE proto 0x0800,
 *                 inner IP remote->local proto 47, GRE proto 0, no payload
 *               (gre_keepalive_build() makes the inner packet, the caller
 *               gre_encap()s it with 0x0800 and sends it to remote)
 *   the peer    decapsulates and routes the inner packet, which is itself a
 *               GRE packet addressed to us, back over the underlay
 *   we receive  IP remote->local proto 47, GRE proto 0: gre_decap() with
 *               rx.keepalive_enabled returns GRE_KEEPALIVE, and
 *               gre_keepalive_is_reply() on the whole received datagram
 *               (IP header included, as a raw socket delivers it) confirms
 *               it is ours: carrier stays up.
 *
 * The other way round, a Cisco peer's keepalive reaches us as an ordinary
 * GRE packet (GRE_OK, proto 0x0800) whose payload is an IPv4 packet
 * local->remote proto 47 with GRE proto 0; gre_keepalive_is_request()
 * recognises it and the daemon reflects it by sending the GRE part of that
 * inner packet to remote on the raw GRE socket (writing it to the TUN would
 * not work: the kernel drops packets arriving with a local source).
 *
 * The inner GRE header of our keepalive comes back through our own
 * gre_decap(), so it must satisfy our receive options: build it with a
 * gre_tx whose key is the tunnel's input key (when ikey != okey) and with
 * checksum/sequence as the peer sends them.  Sequence numbers of keepalives
 * are not ordered against the peer's stream (they come from our counter).
 */
#ifndef GRESEC_TUNNEL_GRE_H
#define GRESEC_TUNNEL_GRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "tunnel/pkt.h"

/* Transmit options of one tunnel.  next_seq is the number the next packet
 * carries; gre_encap() increments it when seq is on (Linux sends 1 first). */
struct gre_tx {
	bool csum;
	bool has_key;
	uint32_t key;
	bool seq;
	uint32_t next_seq;
};

/* Receive policy and state of one tunnel.  has_key false: packets must
 * carry no key (Linux ip_gre without ikey).  With seq_required, a packet
 * older than next_seq (serial arithmetic) is dropped once seq_started. */
struct gre_rx {
	bool csum_required;
	bool has_key;
	uint32_t key;
	bool seq_required;
	bool seq_started;
	uint32_t next_seq;
	bool keepalive_enabled;   /* accept protocol 0 as GRE_KEEPALIVE */
	bool csum_trusted;        /* take a checksum unverified (a GRO-merged packet
				   * keeps its first segment's: daemon/tunnel.c) */
};

enum gre_result {
	GRE_OK = 0,
	GRE_DROP_TRUNCATED,       /* shorter than the header its flags announce */
	GRE_DROP_VERSION,         /* version != 0 */
	GRE_DROP_RFC1701,         /* routing, strict source route or recursion */
	GRE_DROP_PROTO,           /* protocol type we do not carry */
	GRE_DROP_CSUM_MISSING,
	GRE_DROP_CSUM_BAD,
	GRE_DROP_KEY_MISMATCH,    /* key absent, unexpected or different */
	GRE_DROP_SEQ_MISSING,
	GRE_DROP_SEQ_ORDER,       /* older than expected */
	GRE_KEEPALIVE,            /* protocol 0 with keepalive_enabled: not a drop */
	GRE_RESULT_MAX
};

/* Stable snake_case name for JSON output and counters; "unknown" when out
 * of range. */
const char *gre_result_name(enum gre_result r);

/* Header length for these options: 4 + 4 per option, at most GRE_MAX_LEN. */
size_t gre_header_len(const struct gre_tx *tx);

/* Push the GRE header for proto in front of p's data (into the headroom)
 * and fill in the checksum over header and payload.  Returns 0 or -ENOBUFS
 * when the headroom is too small. */
int gre_encap(struct pkt *p, struct gre_tx *tx, uint16_t proto);

/* Validate the GRE header at p's data against rx, and pull it: on GRE_OK
 * (and GRE_KEEPALIVE) p holds the payload and *proto_out its protocol
 * type.  Any other result leaves p and rx untouched.  Only GRE_OK advances
 * rx's sequence state. */
enum gre_result gre_decap(struct pkt *p, struct gre_rx *rx, uint16_t *proto_out);

/* Build in the empty packet p our keepalive's inner packet: IPv4 header
 * remote->local, proto 47, TTL 255, then a GRE header with tx's options
 * and protocol 0.  Returns 0, -EINVAL when p is not empty, or -ENOBUFS. */
int gre_keepalive_build(struct pkt *p, struct gre_tx *tx, struct in_addr local,
			struct in_addr remote);

/* Whether pkt, a whole IPv4 datagram received on the raw GRE socket (IP
 * header included), is our keepalive coming back: IPv4 remote->local,
 * proto 47, not fragmented, GRE version 0 with protocol 0. */
bool gre_keepalive_is_reply(const uint8_t *pkt, size_t len, struct in_addr local,
			    struct in_addr remote);

/* Whether inner, the payload of a packet gre_decap() returned with proto
 * 0x0800, is the peer's keepalive to reflect: IPv4 local->remote, proto 47,
 * not fragmented, GRE version 0 with protocol 0.  Then *gre_off_out and
 * *gre_len_out (each may be NULL) locate the GRE packet in inner, to be sent
 * as is to remote over the raw GRE socket. */
bool gre_keepalive_is_request(const uint8_t *inner, size_t len, struct in_addr local,
			      struct in_addr remote, size_t *gre_off_out, size_t *gre_len_out);

#endif
