/* daemon/secure.h: secure mode: GRE sealed in ChaCha20-Poly1305 inside UDP,
 * keys from a Noise IKpsk2 handshake (docs/protocol.md). */
#ifndef GRESEC_DAEMON_SECURE_H
#define GRESEC_DAEMON_SECURE_H

#include <stdbool.h>
#include <stdint.h>

#include "tunnel/pkt.h"

struct tunnel;
struct gresecd;

int secure_start(struct tunnel *t);
void secure_stop(struct tunnel *t);
/* Apply settings changed in place (persistent keepalive). */
void secure_update(struct tunnel *t);
/* Seal one GRE packet in place for secure_transmit(); 0 when ready, else
 * it was held for the handshake or dropped and counted. */
int secure_seal(struct tunnel *t, struct pkt *p, uint64_t now);
/* Send sealed packets to the peer in one system call; returns how many went. */
unsigned secure_transmit(struct tunnel *t, struct pkt **pkts, unsigned n, uint64_t now);
/* Seal and send one packet (keepalives, packets held during a handshake). */
int secure_send(struct tunnel *t, struct pkt *p);

enum secure_state { SECURE_DOWN, SECURE_HANDSHAKING, SECURE_ESTABLISHED };

struct secure_status {
	enum secure_state state;
	double last_handshake_age;  /* seconds, < 0 when none */
	char public_key[48];        /* base64 of our static public key */
	char peer_public_key[48];
	uint16_t port;
	uint32_t persistent_keepalive;
};

void secure_status(const struct tunnel *t, struct secure_status *st);

#endif
