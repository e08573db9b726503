/* daemon/secure.h: secure mode, a tunnel's view of it: WireGuard on the
 * wire (docs/protocol.md), each GRE packet riding inside as an IP packet
 * from gre_local to gre_remote.  Defined in daemon/secure.c; the data path
 * is daemon/secure_tx.h (sending) and daemon/secure_rx.h (receiving). */
#ifndef GRESEC_DAEMON_SECURE_H
#define GRESEC_DAEMON_SECURE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

struct tunnel;

/* Load the keys, join the UDP port and start the first handshake.  0, or
 * -errno after logging why. */
int secure_start(struct tunnel *t);
void secure_stop(struct tunnel *t);
/* Apply settings changed in place (persistent keepalive, gre_local and
 * gre_remote, MTU). */
void secure_update(struct tunnel *t);

enum secure_state { SECURE_DOWN, SECURE_HANDSHAKING, SECURE_ESTABLISHED };

struct secure_status {
	enum secure_state state;
	double last_handshake_age;  /* seconds, < 0 when none */
	char public_key[48];        /* base64 of our static public key */
	char peer_public_key[48];
	uint16_t port;
	uint32_t persistent_keepalive;
	struct ip_addr gre_local, gre_remote; /* the WireGuard-layer addresses */
	bool gre_derived;           /* derived from the keys, not configured */
};

void secure_status(const struct tunnel *t, struct secure_status *st);

#endif
