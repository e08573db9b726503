/* daemon/secure_port.h: the UDP ports of secure mode and their socket I/O.
 *
 * Secure tunnels with the same `port` share one struct secure_port: one UDP
 * socket per address family, its receive watcher, the per-source rate
 * limiter and the load measure of the handshake path.  A receive batch is
 * read here (recvmmsg, UDP GRO buffers split into datagrams) and handed
 * datagram by datagram to daemon/secure_rx.c; at its end the inner packets
 * are written (tunnel_rx_flush) and the peers that saw traffic run their
 * timers once.
 */
#ifndef GRESEC_DAEMON_SECURE_PORT_H
#define GRESEC_DAEMON_SECURE_PORT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "crypto/handshake.h"
#include "crypto/ratelimiter.h"
#include "tunnel/sock.h"

struct gresecd;
struct secure_peer;

struct secure_port {
	struct gresecd *d;
	uint16_t port;
	struct ip_addr local;          /* AF_UNSPEC: any */
	char device[IFNAMSIZ];
	int fd[2];                     /* IPv4, IPv6; -1 if not open */
	ev_io io[2];
	struct ratelimiter *rl;
	struct handshake *scratch;     /* the responder's handshake (sodium_malloc) */
	/* Load of the handshake path: mac1-valid handshake messages in the
	 * current one-second window (secure_rx.c). */
	uint64_t load_window_start;
	unsigned load_count;
	uint64_t under_load_until;     /* stays under load for a second after */
	unsigned cookie_replies;       /* sent in the current window */
	bool gso_off;                  /* the kernel refused UDP GSO on this port */
	unsigned refs;
	struct secure_peer *peers;
	struct secure_peer *scheduled; /* peers to run timers for after this batch */
	struct secure_port *next;
};

/* The port for c->port (opened on first use, shared after).  NULL with
 * *err set when it cannot be opened. */
struct secure_port *secure_port_get(struct gresecd *d, const struct tunnel_config *c, int *err);
/* Drop a reference; the last one closes the sockets. */
void secure_port_put(struct gresecd *d, struct secure_port *sp);

/* Add / remove a peer on the port's list. */
void secure_port_add_peer(struct secure_port *sp, struct secure_peer *peer);
void secure_port_remove_peer(struct secure_port *sp, struct secure_peer *peer);

/* The socket of the family (AF_INET / AF_INET6), or -1. */
int secure_port_fd(const struct secure_port *sp, int family);

/* Send one datagram (handshake message, cookie reply) to dst from the
 * port.  0 or -errno; never logs. */
int secure_port_send(struct secure_port *sp, const uint8_t *buf, size_t len,
		     const union sockaddr_inet *dst);

#endif
