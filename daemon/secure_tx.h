/* daemon/secure_tx.h: what secure mode sends: GRE packets in an inner IP
 * header (tunnel/inner.h) sealed as WireGuard transport messages, runs of
 * them with UDP GSO, keepalives and echo replies.
 */
#ifndef GRESEC_DAEMON_SECURE_TX_H
#define GRESEC_DAEMON_SECURE_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "tunnel/pkt.h"

struct tunnel;
struct secure_peer;

/* Put the inner IP header on the GRE packet in p and seal it in place for
 * secure_transmit(); 0 when ready, else it was held for the handshake or
 * dropped and counted. */
int secure_seal(struct tunnel *t, struct pkt *p, uint64_t now);

/* Send sealed packets to the peer's endpoint: runs of equal-sized
 * datagrams in one UDP GSO sendmsg, the rest with sendmmsg.  Returns how
 * many went. */
unsigned secure_transmit(struct tunnel *t, struct pkt **pkts, unsigned n, uint64_t now);

/* Seal and send one IP packet outside the burst path: a packet held for
 * the handshake, an echo reply, or (empty) a keepalive.  0 or -errno (held
 * or dropped and counted). */
int secure_send_ip(struct secure_peer *peer, struct pkt *p);

/* A GRE keepalive of the peer (Cisco-style, as MikroTik and Linux ip_gre
 * send them): the decapsulated IPv4 packet in p (proto 0x0800) is GRE from
 * gre_local to gre_remote.  A stock GRE interface would route it back to
 * the peer; send it back sealed and return true, else false. */
bool secure_reflect_keepalive(struct tunnel *t, struct pkt *p, uint16_t proto);

#endif
