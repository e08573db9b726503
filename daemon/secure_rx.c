/* daemon/secure_rx.c: what secure mode does with each received datagram
 * (see secure_rx.h; protocol: docs/protocol.md). */
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "crypto/keys.h"
#include "crypto/ratelimiter.h"
#include "daemon/daemon.h"
#include "daemon/index.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secure_port.h"
#include "daemon/secure_rx.h"
#include "daemon/secure_tx.h"
#include "daemon/tunnel.h"
#include "tunnel/inner.h"
#include "tunnel/wire.h"

enum {
	/* mac1-valid handshake messages per second on a port above which it
	 * is under load, plus two per peer of the port (port_load_threshold):
	 * mac2 (a cookie) is then required. */
	UNDER_LOAD_HANDSHAKES = 64,
	/* Cookie replies per second on a port: a flood of valid-mac1
	 * messages would otherwise cost a reply each and crowd the data out
	 * of the socket; real peers need one cookie per two minutes. */
	COOKIE_REPLIES_PER_SEC = 2048,
};
#define LOAD_WINDOW_NS UINT64_C(1000000000)

/* ---- load of the handshake path ---- */

/* The threshold grows with the peers of the port: every peer may complete
 * a handshake in each direction within a second (a hub and its spokes
 * restarting together) before cookies are demanded, and a hub's rekeys
 * (one per peer every two minutes) stay far below it.  The bound on
 * Diffie-Hellman work a flood can cause grows with it: docs/security.md. */
static unsigned port_load_threshold(const struct secure_port *sp)
{
	return UNDER_LOAD_HANDSHAKES + 2 * sp->n_peers;
}

/* Under load while this window has seen that many mac1-valid
 * handshake messages, and for a second after (WireGuard's last_under_load).
 * Messages whose mac1 fails cost one keyed hash and never count, so
 * garbage cannot put a port under load. */
static bool port_under_load(struct secure_port *sp, uint64_t now)
{
	if (now - sp->load_window_start >= LOAD_WINDOW_NS) {
		sp->load_window_start = now;
		sp->load_count = 0;
		sp->cookie_replies = 0;
	}
	return sp->load_count >= port_load_threshold(sp) || now < sp->under_load_until;
}

static void port_note_handshake(struct secure_port *sp, uint64_t now)
{
	if (++sp->load_count >= port_load_threshold(sp))
		sp->under_load_until = now + LOAD_WINDOW_NS;
}

/* The tunnel that counts a problem nobody else can be blamed for. */
static void port_count(struct secure_port *sp, enum drop_reason r)
{
	if (sp->peers)
		sp->peers->t->ctr.drops[r]++;
}

static void send_cookie_reply(struct secure_port *sp, struct cookie_checker *cc, const uint8_t *msg,
			      size_t len, const union sockaddr_inet *src, uint64_t now)
{
	uint8_t reply[MSG_COOKIE_LEN];

	if (sp->cookie_replies >= COOKIE_REPLIES_PER_SEC) {
		port_count(sp, DROP_RATE_LIMITED);
		return;
	}
	sp->cookie_replies++;
	/* The sender index of both handshake messages is at offset 4. */
	if (cookie_create_reply(cc, msg, len, load_le32(msg + 4), &src->sa, reply, now) == 0)
		secure_port_send(sp, reply, sizeof(reply), src);
}

/* After mac1 passed: under load, a message without a valid cookie (mac2)
 * is answered with one, and proven sources are rate-limited.  True when
 * the Diffie-Hellman work may go ahead.  The source is only proven once
 * mac2 holds; limiting unproven sources would let spoofed floods lock
 * real peers out (WireGuard's cookie.c does the same). */
static bool handshake_admit(struct secure_port *sp, struct secure_peer *peer,
			    enum cookie_result cr, const uint8_t *msg, size_t len,
			    const union sockaddr_inet *src, bool under_load, uint64_t now)
{
	if (cr == COOKIE_MAC1_OK_NEED_COOKIE) {
		send_cookie_reply(sp, secure_port_checker(peer->ident), msg, len, src, now);
		return false;
	}
	if (under_load && !ratelimiter_allow(sp->rl, &src->sa, now)) {
		peer->t->ctr.drops[DROP_RATE_LIMITED]++;
		return false;
	}
	return true;
}

/* ---- handshake initiation ---- */

/* A fresh initiation (WireGuard's noise.c): its timestamp must be newer than
 * the last one accepted, and at most one per 20 ms is taken. */
static bool initiation_fresh(struct secure_peer *peer, const uint8_t ts[NOISE_TIMESTAMP_LEN],
			     uint64_t now)
{
	if (!handshake_timestamp_is_newer(ts, peer->last_timestamp)) {
		peer->t->ctr.drops[DROP_REPLAY]++;
		return false;
	}
	if (peer->last_initiation_consumed &&
	    now - peer->last_initiation_consumed < PEER_INITIATION_MIN_INTERVAL_NS) {
		peer->t->ctr.drops[DROP_RATE_LIMITED]++;
		return false;
	}
	memcpy(peer->last_timestamp, ts, NOISE_TIMESTAMP_LEN);
	peer->last_initiation_consumed = now;
	return true;
}

/* The response is built in the port's scratch handshake, never in the
 * peer's own: an initiation of ours that is pending (both ends started
 * together) stays valid, so the peer's response to it completes a second
 * keypair and neither end waits for a retry.  A stock WireGuard peer,
 * which keeps only one handshake, completes through ours. */
static void handle_initiation(struct secure_port *sp, const uint8_t *msg, size_t len,
			      const union sockaddr_inet *src, uint64_t now)
{
	uint8_t peer_static[NOISE_PUBLIC_KEY_LEN], ts[NOISE_TIMESTAMP_LEN];
	uint8_t resp[MSG_RESPONSE_LEN];
	struct handshake *hs = sp->scratch;
	struct port_identity *id;
	struct secure_peer *ident, *peer;
	enum cookie_result cr;
	bool under_load = port_under_load(sp, now);
	uint32_t sender, idx;
	int err;

	/* mac1 once per distinct local key of the port. */
	id = secure_port_mac1(sp, msg, len, &src->sa, under_load, now, &cr);
	if (!id) {
		port_count(sp, DROP_BAD_MAC);
		return;
	}
	ident = id->peers;   /* its private key; counts what fails before a peer is known */
	port_note_handshake(sp, now);
	if (!handshake_admit(sp, ident, cr, msg, len, src, under_load, now))
		return;
	/* Only now the Diffie-Hellman work. */
	if (handshake_consume_initiation(hs, &ident->sec->id, msg, len, peer_static, ts, &sender) != 0) {
		ident->t->ctr.drops[DROP_HANDSHAKE]++;
		log_tunnel_rl(&ident->t->rl, LOG_LEVEL_INFO, ident->t->cfg.name,
			      "handshake initiation failed (wrong keys?)");
		goto out;
	}
	peer = secure_port_peer_by_key(sp, id, peer_static);
	if (!peer) {
		char key[KEYS_BASE64_LEN + 1], from[SOCKADDR_STRLEN];

		/* Name what was offered, so the operator can compare it with
		 * `gresec pubkey` on the peer and with peer_public_key here. */
		ident->t->ctr.drops[DROP_HANDSHAKE]++;
		keys_to_base64(key, peer_static);
		log_tunnel_rl(&ident->t->rl, LOG_LEVEL_WARN, ident->t->cfg.name,
			      "handshake initiation from %s with public key %s refused: "
			      "no tunnel on port %u has it as peer_public_key",
			      sockaddr_format(src, from, sizeof(from)), key, sp->port);
		goto out;
	}
	/* A replayed initiation must not move the endpoint or start a handshake. */
	if (!initiation_fresh(peer, ts, now))
		goto out;
	idx = peer_new_index(peer);
	if (!idx || handshake_create_response(hs, &peer->sec->id, idx, resp) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		peer_indices_gc(peer);
		goto out;
	}
	cookie_add_macs(&peer->sec->maker, resp, sizeof(resp), now);
	peer_set_endpoint(peer, src);
	if (peer_install_keys(peer, hs, now, false) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		goto out;
	}
	if ((err = secure_port_send(sp, resp, sizeof(resp), src)) != 0) {
		peer->t->ctr.drops[DROP_TX_ERROR]++;
		log_tunnel_rl(&peer->t->rl, LOG_LEVEL_WARN, peer->t->cfg.name,
			      "send handshake response: %s", strerror(-err));
	}
	peer_alive(peer, now);
	log_tunnel_debug(peer->t->cfg.name, "handshake initiation answered");
	peer_schedule_after_batch(peer);
out:
	handshake_wipe(hs);
	sodium_memzero(peer_static, sizeof(peer_static));
	sodium_memzero(ts, sizeof(ts));
}

/* ---- handshake response and cookie reply ---- */

/* The peer of this port that idx belongs to (the daemon's index table:
 * one hash), or NULL. */
static struct secure_peer *peer_by_index(struct secure_port *sp, uint32_t idx)
{
	struct secure_peer *p = secure_index_peer(sp->d, idx);

	return p && p->port == sp ? p : NULL;
}

static struct secure_peer *peer_by_initiation(struct secure_port *sp, uint32_t idx)
{
	struct secure_peer *p = peer_by_index(sp, idx);

	if (p && p->sec->hs.state == HANDSHAKE_CREATED_INITIATION && p->sec->hs.local_index == idx)
		return p;
	return NULL;
}

static void handle_response(struct secure_port *sp, const uint8_t *msg, size_t len,
			    const union sockaddr_inet *src, uint64_t now)
{
	struct secure_peer *peer = peer_by_initiation(sp, load_le32(msg + 8));
	enum cookie_result cr;
	uint32_t sender;
	bool under_load;

	if (!peer) {
		port_count(sp, DROP_NO_SESSION);
		return;
	}
	under_load = port_under_load(sp, now);
	cr = cookie_validate(secure_port_checker(peer->ident), msg, len, &src->sa, under_load, now);
	if (cr == COOKIE_MAC1_BAD) {
		peer->t->ctr.drops[DROP_BAD_MAC]++;
		return;
	}
	port_note_handshake(sp, now);
	if (!handshake_admit(sp, peer, cr, msg, len, src, under_load, now))
		return;
	if (handshake_consume_response(&peer->sec->hs, msg, len, &sender) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		log_tunnel_rl(&peer->t->rl, LOG_LEVEL_INFO, peer->t->cfg.name,
			      "handshake response failed (wrong keys or PSK?)");
		return;
	}
	peer_set_endpoint(peer, src);
	if (peer_install_keys(peer, &peer->sec->hs, now, true) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		return;
	}
	peer_alive(peer, now);
	log_tunnel_info(peer->t->cfg.name, "session established");
	peer_flush_staged(peer);
	peer_schedule_after_batch(peer);
}

/* A cookie reply names the sender index of the message it answers: our
 * pending initiation, or the response we sent, whose index is now that of
 * the keypair it made (WireGuard looks up both tables too). */
static struct secure_peer *peer_by_sent_index(struct secure_port *sp, uint32_t idx)
{
	struct secure_peer *p = peer_by_index(sp, idx);

	if (p && ((p->sec->hs.state == HANDSHAKE_CREATED_INITIATION && p->sec->hs.local_index == idx) ||
		  session_slot_by_index(&p->session, idx)))
		return p;
	return NULL;
}

static void handle_cookie(struct secure_port *sp, const uint8_t *msg, size_t len, uint64_t now)
{
	struct secure_peer *peer = peer_by_sent_index(sp, load_le32(msg + 4));

	if (!peer) {
		port_count(sp, DROP_NO_SESSION);
		return;
	}
	if (cookie_consume_reply(&peer->sec->maker, msg, len, now) != 0)
		peer->t->ctr.drops[DROP_BAD_MAC]++;
	else
		log_tunnel_debug(peer->t->cfg.name, "cookie received: the peer is under load");
}

/* ---- transport data ---- */

/* What rides inside: GRE from gre_remote to gre_local goes to the tunnel,
 * an echo request to gre_local is answered, the rest is counted. */
static void rx_inner(struct secure_peer *peer, struct pkt *pk)
{
	struct tunnel *t = peer->t;
	size_t hdr_len = 0, pkt_len = 0;
	enum drop_reason why;
	int n;

	switch (inner_classify(pkt_data(pk), pk->len, &peer->gre_local, &peer->gre_remote, &hdr_len,
			       &pkt_len)) {
	case INNER_GRE:
		pk->len = pkt_len;
		pkt_pull(pk, hdr_len);
		tunnel_gre_input(t, pk);
		return;
	case INNER_ECHO:
		n = inner_echo_reply(pkt_data(pk), hdr_len, pkt_len);
		if (n > 0) {
			pk->len = (size_t)n;
			pk->inner_len = 0;      /* ours, not traffic of the link */
			if (secure_send_ip(peer, pk) == 0)
				t->ctr.echo_replies++;
		}
		return;
	case INNER_FRAGMENT:
		/* A stock peer fragments when its GRE MTU exceeds what its
		 * WireGuard MTU carries: say what to change. */
		t->ctr.drops[DROP_IP_FRAGMENT]++;
		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name,
			      "the peer sends fragmented GRE packets (dropped): its GRE MTU is too "
			      "large for its WireGuard MTU; set both ends' tunnel MTU to %u",
			      t->mtu);
		return;
	case INNER_NOT_GRE:
		why = DROP_IP_NOT_GRE;
		break;
	case INNER_WRONG_ADDRESS:
		why = DROP_IP_ADDRESS;
		break;
	default:
		why = DROP_IP_MALFORMED;
	}
	t->ctr.drops[why]++;
	log_tunnel_rl(&t->rl, LOG_LEVEL_DEBUG, t->cfg.name, "dropped a packet from the peer: %s",
		      drop_reason_name(why));
}

/* The data message of len bytes at msg is opened into pk: in place when
 * msg is pkt_data(pk), else into pk just reset (a datagram of a coalesced
 * buffer: decrypting it is its copy). */
static void handle_data(struct secure_port *sp, const uint8_t *msg, size_t len, struct pkt *pk,
			const union sockaddr_inet *src, uint64_t now)
{
	bool in_place = msg == pkt_data(pk);
	struct secure_peer *peer;
	struct session_slot *slot = NULL;
	uint32_t idx;
	uint64_t counter;
	int r;

	if (keypair_peek_receiver(msg, len, &idx) != KEYPAIR_OK) {
		port_count(sp, DROP_BAD_LENGTH);
		return;
	}
	peer = peer_by_index(sp, idx);
	if (peer)
		slot = session_slot_by_index(&peer->session, idx);
	if (!slot) {
		port_count(sp, DROP_NO_SESSION);
		return;
	}
	if (!session_slot_rx_ok(&peer->session, slot, now)) {
		peer->t->ctr.drops[DROP_NO_SESSION]++;
		return;
	}
	r = keypair_open_to(slot->keypair, msg, len,
			    in_place ? pkt_data(pk) + DATA_HDR_LEN : pkt_data(pk), &counter);
	switch (r) {
	case KEYPAIR_OK:
		break;
	case KEYPAIR_ERR_REPLAY:
		peer->t->ctr.drops[DROP_REPLAY]++;
		return;
	case KEYPAIR_ERR_DECRYPT:
		peer->t->ctr.drops[DROP_DECRYPT]++;
		return;
	case KEYPAIR_ERR_EXPIRED:
		peer->t->ctr.drops[DROP_NO_SESSION]++;
		return;
	default:
		peer->t->ctr.drops[DROP_BAD_LENGTH]++;
		return;
	}
	if (in_place)
		pkt_pull(pk, DATA_HDR_LEN);
	pk->len = len - DATA_HDR_LEN - NOISE_AUTHTAG_LEN;
	/* Authenticated: the peer is where this came from (roaming). */
	peer_set_endpoint(peer, src);
	peer_alive(peer, now);
	session_data_received(&peer->session, now, slot, pk->len == 0);
	if (pk->len)
		rx_inner(peer, pk);
	else
		peer->t->ctr.keepalives_received++;
	if (peer->n_staged)
		peer_flush_staged(peer);
	peer_schedule_after_batch(peer);
}

/* ---- dispatch ---- */

void secure_rx_datagram(struct secure_port *sp, struct pkt *pk, const union sockaddr_inet *src,
			uint64_t now)
{
	const uint8_t *msg = pkt_data(pk);

	/* Type and exact length first; nothing else is read before. */
	switch (msg_classify(msg, pk->len)) {
	case MSG_INITIATION:
		handle_initiation(sp, msg, pk->len, src, now);
		break;
	case MSG_RESPONSE:
		handle_response(sp, msg, pk->len, src, now);
		break;
	case MSG_COOKIE:
		handle_cookie(sp, msg, pk->len, now);
		break;
	case MSG_DATA:
		handle_data(sp, msg, pk->len, pk, src, now);
		break;
	case MSG_CLASS_BAD_LENGTH:
		port_count(sp, DROP_BAD_LENGTH);
		break;
	default:
		port_count(sp, DROP_BAD_TYPE);
	}
}

void secure_rx_segment(struct secure_port *sp, const uint8_t *msg, size_t len, struct pkt *pk,
		       const union sockaddr_inet *src, uint64_t now)
{
	if (msg_classify(msg, len) == MSG_DATA) {
		handle_data(sp, msg, len, pk, src, now);
		return;
	}
	memcpy(pkt_data(pk), msg, len);
	pk->len = len;
	secure_rx_datagram(sp, pk, src, now);
}
