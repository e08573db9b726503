/* daemon/secure.c: a secure tunnel's life: start, reload in place, status,
 * stop (protocol: docs/protocol.md; the parts: peer.c, secure_port.c,
 * secure_rx.c, secure_tx.c). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crypto/keys.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secure.h"
#include "daemon/secure_port.h"
#include "daemon/tunnel.h"
#include "tunnel/tun.h"

#define START_INITIATION_GAP 0.0005   /* seconds between initiations at start-up */

int secure_start(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	struct secure_peer *peer;
	int err;

	if ((err = peer_create(t, &peer)) != 0)
		return err;
	peer->port = secure_port_get(t->d, c, &err);
	if (!peer->port) {
		log_tunnel_err(c->name, "cannot open UDP port %u: %s", c->port, strerror(-err));
		peer_free(peer);
		return err;
	}
	if ((err = secure_port_add_peer(peer->port, peer)) != 0) {
		log_tunnel_err(c->name, "cannot join UDP port %u: %s", c->port, strerror(-err));
		secure_port_put(t->d, peer->port);
		peer_free(peer);
		return err;
	}
	t->peer = peer;
	/* The link carries nothing until a handshake proves the peer: carrier
	 * off, so routing daemons do not count on it yet.  Start the handshake
	 * now rather than waiting for traffic. */
	if (tun_set_carrier(t->tun_fd, false) == 0)
		t->carrier = false;
	if (!t->d->configured) {
		/* At start-up the initiation goes out once the event loop
		 * runs: with thousands of tunnels the start takes seconds, and
		 * answers to initiations sent during it would wait in the
		 * socket until after their retransmission had replaced them
		 * (gresecd discards what queued during the start).  Paced, 2000
		 * a second: the loop answers in between, and a burst of
		 * thousands would overflow queues on the way (a veth's backlog
		 * holds 1000 packets). */
		double at = (double)t->d->start_initiations++ * START_INITIATION_GAP;

		if (t->has_remote)
			session_request_handshake(&peer->session);
		ev_timer_set(&peer->timer, at, 0.);
		ev_timer_start(t->d->loop, &peer->timer);
		return 0;
	}
	if (t->has_remote)
		peer_send_initiation(peer, gresecd_now_ns());
	peer_schedule(peer);
	return 0;
}

void secure_stop(struct tunnel *t)
{
	struct secure_peer *peer = t->peer;

	if (!peer)
		return;
	ev_timer_stop(t->d->loop, &peer->timer);
	secure_port_remove_peer(peer->port, peer);
	secure_port_put(t->d, peer->port);
	peer_free(peer);
	t->peer = NULL;
}

void secure_update(struct tunnel *t)
{
	struct secure_peer *peer = t->peer;

	peer->session.t.persistent_keepalive =
		(uint64_t)t->cfg.persistent_keepalive * SESSION_NS_PER_SEC;
	peer_set_inner(peer);
	peer_schedule(peer);
}

void secure_status(const struct tunnel *t, struct secure_status *st)
{
	const struct secure_peer *peer = t->peer;
	uint64_t now = gresecd_now_ns(), last;

	memset(st, 0, sizeof(*st));
	st->last_handshake_age = -1;
	if (!peer)
		return;
	switch (session_state(&peer->session, now)) {
	case SESSION_ESTABLISHED: st->state = SECURE_ESTABLISHED; break;
	case SESSION_HANDSHAKING: st->state = SECURE_HANDSHAKING; break;
	default: st->state = SECURE_DOWN;
	}
	last = session_last_handshake(&peer->session);
	if (last)
		st->last_handshake_age = (double)(now - last) / 1e9;
	keys_to_base64(st->public_key, peer->sec->id.static_public);
	keys_to_base64(st->peer_public_key, peer->peer_public);
	st->port = t->cfg.port;
	st->persistent_keepalive = t->cfg.persistent_keepalive;
	st->gre_local = peer->gre_local;
	st->gre_remote = peer->gre_remote;
	st->gre_derived = t->cfg.gre_local.family == AF_UNSPEC;
}
