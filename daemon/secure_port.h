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

#include "conf/conf.h"
#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/ratelimiter.h"
#include "daemon/hashtab.h"
#include "tunnel/sock.h"

struct gresecd;
struct secure_peer;

/* The peers of a port that share a local static key.  mac1 of a message to
 * the port is checked once per identity (usually one per host), and the
 * identity's checker (mac1 key, cookie secret) is that of one of its peers,
 * the first on its list (`rep`): WireGuard's one cookie checker per local
 * key.  When that peer goes, the next one's checker takes over (cookies
 * handed out before are refused like after a secret rotation). */
struct port_identity {
	uint8_t static_public[NOISE_PUBLIC_KEY_LEN];
	struct secure_peer *peers;     /* linked by next_of_ident / prev_of_ident */
	unsigned n;
	struct port_identity *next;
};

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
	/* Invariants: every peer of the port is on `peers` (next_on_port,
	 * prev_on_port), on its identity's list, and in by_peer_key under
	 * its peer_public; n_peers counts them.  The configuration allows one
	 * tunnel per peer key on a port; a reload may briefly hold two, which
	 * the table allows (the lookup also matches the identity). */
	struct secure_peer *peers;
	unsigned n_peers;
	struct port_identity *identities;
	struct hashtab by_peer_key;
	struct secure_peer *scheduled; /* peers to run timers for after this batch */
	struct secure_port *next;
};

/* The port for c->port (opened on first use, shared after).  NULL with
 * *err set when it cannot be opened. */
struct secure_port *secure_port_get(struct gresecd *d, const struct tunnel_config *c, int *err);
/* Drop a reference; the last one closes the sockets. */
void secure_port_put(struct gresecd *d, struct secure_port *sp);

/* Add / remove a peer on the port's list, its identity and its key table.
 * Add: 0 or -ENOMEM (nothing added). */
int secure_port_add_peer(struct secure_port *sp, struct secure_peer *peer);
void secure_port_remove_peer(struct secure_port *sp, struct secure_peer *peer);

/* The identity whose key a handshake message's mac1 was made for, with the
 * cookie check's result (secure_rx.c), or NULL: each distinct local key
 * of the port is tried once. */
struct port_identity *secure_port_mac1(struct secure_port *sp, const uint8_t *msg, size_t len,
				       const struct sockaddr *src, bool under_load, uint64_t now,
				       enum cookie_result *res);
/* The peer of identity ident whose public key is peer_static, or NULL. */
struct secure_peer *secure_port_peer_by_key(const struct secure_port *sp,
					    const struct port_identity *ident,
					    const uint8_t peer_static[NOISE_PUBLIC_KEY_LEN]);
/* The checker (mac1, cookies) of an identity, and of a peer's. */
struct cookie_checker *secure_port_checker(const struct port_identity *ident);

/* At the end of the start: read and drop what arrived on the ports while
 * the tunnels were being set up (no session exists yet; peers retry their
 * handshakes, and ours go out once the loop runs).  Returns how many
 * receive buffers were dropped. */
size_t secure_ports_discard_backlog(struct gresecd *d);

/* The socket of the family (AF_INET / AF_INET6), or -1. */
int secure_port_fd(const struct secure_port *sp, int family);

/* Send one datagram (handshake message, cookie reply) to dst from the
 * port.  0 or -errno; never logs. */
int secure_port_send(struct secure_port *sp, const uint8_t *buf, size_t len,
		     const union sockaddr_inet *dst);

#endif
