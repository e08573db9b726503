/* daemon/peer.h: a secure tunnel's WireGuard peer: its keys, handshake and
 * keypairs, its timers, its endpoint and whether it is alive.
 *
 * One struct secure_peer per secure tunnel.  The pure timer logic is
 * daemon/session.c; this file turns its actions into packets (initiations,
 * keepalives) and one ev_timer per peer, drives the interface carrier from
 * the peer's liveness, and owns the peer's secret memory.  Receiving is
 * daemon/secure_rx.c, sending daemon/secure_tx.c, the UDP ports
 * daemon/secure_port.c.
 */
#ifndef GRESEC_DAEMON_PEER_H
#define GRESEC_DAEMON_PEER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "daemon/index.h"
#include "daemon/session.h"
#include "tunnel/pkt.h"
#include "tunnel/sock.h"
#include "tunnel/wire.h"

struct gresecd;
struct tunnel;
struct secure_port;
struct port_identity;
struct secmem_chunk;

enum {
	PEER_KEYPAIRS = SESSION_SLOTS + 1,  /* next, current, previous, one being made */
	PEER_STAGED = 8,                    /* packets held while a handshake runs */
	/* Receiver indices a peer can hold: a pending initiation, its
	 * keypairs, the one a response is being made with, and room. */
	PEER_INDICES = 8,
};
/* WireGuard's INITIATIONS_PER_SECOND (50): one accepted per peer per 20 ms. */
#define PEER_INITIATION_MIN_INTERVAL_NS (UINT64_C(20) * 1000000u)

/* Everything secret about a peer, in locked memory (daemon/secmem.c:
 * many to a sodium_malloc'd chunk, guard pages around the chunk), wiped
 * when replaced and when the peer goes.  The cookie checker answers for
 * the peer's identity on its port: the port uses that of one peer per
 * local key (secure_port.h, struct port_identity). */
struct peer_secrets {
	struct handshake_identity id;
	struct handshake hs;               /* our pending initiation (initiator role only) */
	struct keypair kp[PEER_KEYPAIRS];
	bool kp_used[PEER_KEYPAIRS];
	struct cookie_checker checker;     /* mac1/mac2 of messages to us, our cookie secret */
	struct cookie_maker maker;         /* mac1/mac2 of messages to the peer, its cookie */
};

struct secure_peer {
	struct tunnel *t;
	struct secure_port *port;
	struct peer_secrets *sec;
	uint8_t peer_public[NOISE_PUBLIC_KEY_LEN];
	struct session session;
	uint8_t last_timestamp[NOISE_TIMESTAMP_LEN]; /* of the newest initiation accepted */
	uint64_t last_initiation_consumed;
	uint64_t last_rx;                  /* latest authenticated packet from the peer */
	uint64_t suspect_since;            /* the peer stopped answering; 0 = it answers */
	bool unanswered_logged;            /* "no answer to handshakes" said since it last answered */
	ev_timer timer;
	uint64_t timer_at;                 /* the deadline timer is armed for; SESSION_NEVER: none */
	/* Packets held while a handshake runs: copies of just their bytes,
	 * malloc'd when held and freed when sent or dropped. */
	struct peer_staged *staged[PEER_STAGED];
	unsigned n_staged;
	struct secmem_chunk *sec_chunk;    /* where sec lives */
	struct peer_index indices[PEER_INDICES];  /* in the daemon's index table (index.h) */
	/* Runs of gso_hold_seg bytes or more go out datagram by datagram until
	 * gso_hold_until: the kernel refused them as larger than the fragment
	 * size on the way to the endpoint (daemon/secure_tx.c). */
	uint64_t gso_hold_until;
	uint16_t gso_hold_seg;

	/* The inner IP header (tunnel/inner.h): configured or derived. */
	struct ip_addr gre_local, gre_remote;
	uint16_t ip_id;                    /* IPv4 identification of the next inner header */
	uint32_t wg_mtu;                   /* largest inner IP packet; padding stops there */

	bool running;                      /* inside peer_schedule(): it re-arms the timer itself */
	struct secure_peer *next_on_port, *prev_on_port;
	/* The peers of the port with the same local key (secure_port.c). */
	struct port_identity *ident;
	struct secure_peer *next_of_ident, *prev_of_ident;
	bool batch_scheduled;              /* on port->scheduled until the batch ends */
	struct secure_peer *next_scheduled;
};

/* Allocate a peer for t from its config: keys read from their files (key
 * owner d->key_owner), inner addresses set or derived.  Logs what is wrong.
 * 0 with *out set, or -errno. */
int peer_create(struct tunnel *t, struct secure_peer **out);
/* Stop its timer, wipe and free it (NULL is fine). */
void peer_free(struct secure_peer *peer);

/* Recompute the inner addresses and the WireGuard MTU after a change to
 * gre_local, gre_remote or mtu (reload in place). */
void peer_set_inner(struct secure_peer *peer);

/* A receiver index no other handshake or keypair of the daemon uses, added
 * to the daemon's index table for this peer (index.h); 0 when the peer
 * holds PEER_INDICES already or memory is short. */
uint32_t peer_new_index(struct secure_peer *peer);
/* Take out of the index table the peer's indices that neither its pending
 * initiation nor a keypair of it uses any more. */
void peer_indices_gc(struct secure_peer *peer);
/* Drop what peer_stage() held. */
void peer_drop_staged(struct secure_peer *peer);

/* Keypair storage: a free slot of peer->sec->kp, or NULL; release wipes it. */
struct keypair *peer_keypair_alloc(struct secure_peer *peer);
void peer_keypair_release(struct secure_peer *peer, struct keypair *kp);

/* Install the keys of the completed handshake hs (ours as initiator:
 * peer->sec->hs; as responder: the port's scratch) in the session, then
 * wipe hs.  0, or -ENOBUFS / -EINVAL (nothing installed). */
int peer_install_keys(struct secure_peer *peer, struct handshake *hs, uint64_t now,
		      bool we_initiated);

/* An authenticated message came from src: the peer is there now (roaming). */
void peer_set_endpoint(struct secure_peer *peer, const union sockaddr_inet *src);
/* The peer proved itself alive: carrier up, so routes over the link work. */
void peer_alive(struct secure_peer *peer, uint64_t now);

/* Create and send a handshake initiation to the current endpoint. */
void peer_send_initiation(struct secure_peer *peer, uint64_t now);

/* Hold a copy of the IP packet p (GRE in its inner header) until a
 * session exists; false when the queue is full (then it is the caller's to
 * count as a drop). */
bool peer_stage(struct secure_peer *peer, const struct pkt *p);
/* Send what was held, now that a keypair is current. */
void peer_flush_staged(struct secure_peer *peer);

/* Run the session timers and liveness at the current time: send what is
 * due and re-arm the peer's timer. */
void peer_schedule(struct secure_peer *peer);
/* The same, once per receive batch: queued on the peer's port, run by
 * peer_run_scheduled() at the end of the batch. */
void peer_schedule_after_batch(struct secure_peer *peer);
void peer_run_scheduled(struct secure_port *sp);

#endif
