/* daemon/secure_rx.h: what secure mode does with each received datagram.
 *
 * WireGuard's receive path (whitepaper 5.4, the kernel's receive.c and
 * cookie.c), cheapest check first: type and exact length; for handshake
 * messages mac1, then under load mac2 (else a cookie reply) and the
 * per-source limit, and only then any Diffie-Hellman; for data messages
 * the receiver index, the replay window, the AEAD, and then the inner IP
 * packet (tunnel/inner.h): GRE from gre_remote to gre_local goes to the
 * tunnel, an echo request to gre_local is answered, anything else is
 * dropped and counted by reason.
 *
 * Called by daemon/secure_port.c for every datagram of a receive batch;
 * tests/fuzz/fuzz_secure_rx.c links this file and drives it directly.
 */
#ifndef GRESEC_DAEMON_SECURE_RX_H
#define GRESEC_DAEMON_SECURE_RX_H

#include <stddef.h>
#include <stdint.h>

#include "tunnel/pkt.h"
#include "tunnel/sock.h"

struct secure_port;

/* Handle the datagram in pk (pkt_data(pk), pk->len) from src.  pk may be
 * kept for the end of the batch (the receive batch: tunnel.h). */
void secure_rx_datagram(struct secure_port *sp, struct pkt *pk, const union sockaddr_inet *src,
			uint64_t now);

/* The same for one datagram of len bytes at msg inside a coalesced (UDP
 * GRO) buffer: pk is a reset buffer of its own that a data message is
 * opened into (decrypting it is its copy); other messages are copied. */
void secure_rx_segment(struct secure_port *sp, const uint8_t *msg, size_t len, struct pkt *pk,
		       const union sockaddr_inet *src, uint64_t now);

#endif
