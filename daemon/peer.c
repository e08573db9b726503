/* daemon/peer.c: a secure tunnel's WireGuard peer (see peer.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secmem.h"
#include "daemon/secure_port.h"
#include "daemon/secure_tx.h"
#include "daemon/tunnel.h"
#include "tunnel/gre.h"
#include "tunnel/inner.h"

static uint64_t new_jitter(void)
{
	return randombytes_uniform((uint32_t)SESSION_JITTER_MAX_NS + 1);
}

static void peer_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* A packet held while a handshake runs: its bytes and where they sat. */
struct peer_staged {
	size_t off, len, inner_len;
	uint8_t data[];
};

/* ---- set-up ---- */

static struct session_timers timers_from_config(const struct tunnel_config *c)
{
	struct session_timers st = session_timers_default();

	if (c->rekey_after_time)
		st.rekey_after_time = (uint64_t)c->rekey_after_time * SESSION_NS_PER_SEC;
	if (c->reject_after_time) {
		st.reject_after_time = (uint64_t)c->reject_after_time * SESSION_NS_PER_SEC;
		st.wipe_after = 3 * st.reject_after_time;
	}
	if (c->keepalive_timeout)
		st.keepalive_timeout = (uint64_t)c->keepalive_timeout * SESSION_NS_PER_SEC;
	st.persistent_keepalive = (uint64_t)c->persistent_keepalive * SESSION_NS_PER_SEC;
	return st;
}

static int load_identity(struct secure_peer *peer)
{
	const struct tunnel_config *c = &peer->t->cfg;
	uid_t owner = peer->t->d->key_owner;
	uint8_t priv[NOISE_PUBLIC_KEY_LEN], psk[NOISE_SYMMETRIC_KEY_LEN];
	char err_msg[512];
	int err = 0;

	memset(psk, 0, sizeof(psk));
	if (keys_load_file_owned(c->private_key_file, priv, owner, err_msg, sizeof(err_msg)) != 0) {
		log_tunnel_err(c->name, "private_key_file: %s", err_msg);
		return -EACCES;
	}
	if (c->preshared_key_file[0] &&
	    keys_load_file_owned(c->preshared_key_file, psk, owner, err_msg, sizeof(err_msg)) != 0) {
		log_tunnel_err(c->name, "preshared_key_file: %s", err_msg);
		err = -EACCES;
	}
	if (!err && handshake_identity_init(&peer->sec->id, priv, psk) != 0) {
		log_tunnel_err(c->name, "private_key_file %s: not a usable X25519 private key",
			       c->private_key_file);
		err = -EINVAL;
	}
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(psk, sizeof(psk));
	return err;
}

void peer_set_inner(struct secure_peer *peer)
{
	const struct tunnel_config *c = &peer->t->cfg;
	uint32_t eth = c->type == TUNNEL_TYPE_GRETAP ? ETH_HDR_LEN : 0;

	if (c->gre_local.family != AF_UNSPEC) {
		peer->gre_local = c->gre_local;
		peer->gre_remote = c->gre_remote;
	} else {
		/* peer_create() refused equal keys, so this cannot fail. */
		memset(&peer->gre_local, 0, sizeof(peer->gre_local));
		memset(&peer->gre_remote, 0, sizeof(peer->gre_remote));
		peer->gre_local.family = peer->gre_remote.family = AF_INET;
		keys_derive_link_addresses(peer->sec->id.static_public, peer->peer_public,
					   peer->gre_local.u.bytes, peer->gre_remote.u.bytes);
	}
	/* WireGuard pads up to its interface MTU: ours is the largest inner IP
	 * packet the tunnel MTU lets through. */
	peer->wg_mtu = peer->t->mtu + eth + (uint32_t)gre_header_len(&peer->t->gre_tx) +
		       (uint32_t)inner_header_len(peer->gre_local.family);
}

int peer_create(struct tunnel *t, struct secure_peer **out)
{
	const struct tunnel_config *c = &t->cfg;
	struct secure_peer *peer;
	struct session_timers st;
	int err;

	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->t = t;
	if (!t->d->secrets.obj_size)
		secmem_init(&t->d->secrets, sizeof(*peer->sec));
	peer->sec = secmem_alloc(&t->d->secrets, &peer->sec_chunk);
	if (!peer->sec) {
		free(peer);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < PEER_INDICES; i++)
		peer->indices[i].peer = peer;
	ev_init(&peer->timer, peer_timer_cb);
	peer->timer.data = peer;
	peer->timer_at = SESSION_NEVER;
	if ((err = load_identity(peer)) != 0)
		goto fail;
	memcpy(peer->peer_public, c->peer_public_key, sizeof(peer->peer_public));
	if (sodium_memcmp(peer->peer_public, peer->sec->id.static_public, NOISE_PUBLIC_KEY_LEN) == 0) {
		log_tunnel_err(c->name,
			       "peer_public_key is this end's own public key (the peer's is "
			       "needed)");
		err = -EINVAL;
		goto fail;
	}
	cookie_checker_init(&peer->sec->checker, peer->sec->id.static_public);
	cookie_maker_init(&peer->sec->maker, peer->peer_public);
	peer_set_inner(peer);
	peer->ip_id = (uint16_t)randombytes_random();

	if (c->remote.family != AF_UNSPEC) {
		sockaddr_from_ip(&t->remote, &c->remote, c->remote_port ? c->remote_port : c->port);
		t->has_remote = true;
	}
	st = timers_from_config(c);
	session_init(&peer->session, &st, t->has_remote);
	session_set_jitter(&peer->session, new_jitter());
	*out = peer;
	return 0;
fail:
	peer_free(peer);
	return err;
}

void peer_free(struct secure_peer *peer)
{
	if (!peer)
		return;
	if (peer->t && ev_is_active(&peer->timer))
		ev_timer_stop(peer->t->d->loop, &peer->timer);
	peer_drop_staged(peer);
	for (unsigned i = 0; i < PEER_INDICES; i++)
		secure_index_del(peer->t->d, &peer->indices[i]);
	secmem_free(&peer->t->d->secrets, peer->sec_chunk, peer->sec);
	free(peer);
}

/* ---- receiver indices ----
 * In the daemon's index table (daemon/index.c), through the peer's own
 * entries; lookups are one hash, whatever the number of peers. */

/* Whether the peer still uses idx: its pending initiation, or a keypair
 * it holds (in a session slot or waiting to be wiped). */
static bool index_held(const struct secure_peer *peer, uint32_t idx)
{
	const struct peer_secrets *sec = peer->sec;

	if (sec->hs.state != HANDSHAKE_EMPTY && sec->hs.local_index == idx)
		return true;
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (sec->kp_used[i] && sec->kp[i].local_index == idx)
			return true;
	return false;
}

/* Called where no index is on its way to a handshake or keypair (not
 * between peer_new_index() and the install it is for). */
void peer_indices_gc(struct secure_peer *peer)
{
	for (unsigned i = 0; i < PEER_INDICES; i++)
		if (peer->indices[i].idx && !index_held(peer, peer->indices[i].idx))
			secure_index_del(peer->t->d, &peer->indices[i]);
}

uint32_t peer_new_index(struct secure_peer *peer)
{
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < PEER_INDICES; i++)
			if (!peer->indices[i].idx)
				return secure_index_add(peer->t->d, &peer->indices[i]) == 0 ?
				       peer->indices[i].idx : 0;
		peer_indices_gc(peer);
	}
	return 0;
}

/* ---- keypairs ---- */

struct keypair *peer_keypair_alloc(struct secure_peer *peer)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (!peer->sec->kp_used[i]) {
			peer->sec->kp_used[i] = true;
			return &peer->sec->kp[i];
		}
	return NULL;
}

void peer_keypair_release(struct secure_peer *peer, struct keypair *kp)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (&peer->sec->kp[i] == kp) {
			keypair_wipe(kp);
			peer->sec->kp_used[i] = false;
		}
}

static void drain_expired(struct secure_peer *peer)
{
	void *old[SESSION_EXPIRED_MAX];
	size_t n = session_take_expired(&peer->session, old, SESSION_EXPIRED_MAX);

	for (size_t i = 0; i < n; i++)
		peer_keypair_release(peer, old[i]);
}

int peer_install_keys(struct secure_peer *peer, struct handshake *hs, uint64_t now,
		      bool we_initiated)
{
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN], recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint32_t local = hs->local_index, remote = hs->remote_index;
	struct keypair *kp;
	int err;

	drain_expired(peer);
	kp = peer_keypair_alloc(peer);
	if (!kp) {
		handshake_wipe(hs);
		err = -ENOBUFS;
		goto out;
	}
	if (handshake_derive_keys(hs, send_key, recv_key) != 0) { /* wipes hs */
		peer_keypair_release(peer, kp);
		err = -EINVAL;
		goto out;
	}
	keypair_init(kp, send_key, recv_key, local, remote, we_initiated, now);
	sodium_memzero(send_key, sizeof(send_key));
	sodium_memzero(recv_key, sizeof(recv_key));
	err = session_handshake_complete(&peer->session, now, we_initiated, local, kp);
	if (err < 0) {
		peer_keypair_release(peer, kp);
		goto out;
	}
	drain_expired(peer);
	err = 0;
out:
	peer_indices_gc(peer);
	return err;
}

/* ---- endpoint and liveness ---- */

void peer_set_endpoint(struct secure_peer *peer, const union sockaddr_inet *src)
{
	struct tunnel *t = peer->t;

	if (t->has_remote && sockaddr_equal(&t->remote, src))
		return;
	if (t->has_remote) {
		char a[SOCKADDR_STRLEN], b[SOCKADDR_STRLEN];

		log_tunnel_info(t->cfg.name, "peer moved from %s to %s",
				sockaddr_format(&t->remote, a, sizeof(a)),
				sockaddr_format(src, b, sizeof(b)));
	}
	t->remote = *src;
	t->has_remote = true;
	session_set_can_initiate(&peer->session, true);
}

void peer_alive(struct secure_peer *peer, uint64_t now)
{
	peer->unanswered_logged = false;
	peer->last_rx = now;
	peer->suspect_since = 0;
	tunnel_set_carrier(peer->t, true);
}

/* ---- handshake initiation ---- */

void peer_send_initiation(struct secure_peer *peer, uint64_t now)
{
	struct tunnel *t = peer->t;
	uint8_t msg[MSG_INITIATION_LEN];
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	int err;

	uint32_t idx;

	if (!t->has_remote)
		return;
	/* A pending initiation this one replaces gives its index back. */
	handshake_wipe(&peer->sec->hs);
	peer_indices_gc(peer);
	idx = peer_new_index(peer);
	handshake_tai64n_now(ts, gresecd_realtime_ns());
	if (!idx || handshake_create_initiation(&peer->sec->hs, &peer->sec->id, peer->peer_public,
						idx, ts, msg) != 0) {
		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name,
			      "cannot create a handshake initiation");
		return;
	}
	cookie_add_macs(&peer->sec->maker, msg, sizeof(msg), now);
	session_handshake_initiated(&peer->session, now);
	session_set_jitter(&peer->session, new_jitter());
	log_tunnel_debug(t->cfg.name, "sending handshake initiation");
	err = secure_port_send(peer->port, msg, sizeof(msg), &t->remote);
	if (err) {
		t->ctr.drops[DROP_TX_ERROR]++;
		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name, "send handshake initiation: %s",
			      strerror(-err));
	}
}

/* ---- packets held while a handshake runs ---- */

bool peer_stage(struct secure_peer *peer, const struct pkt *p)
{
	struct peer_staged *s;

	if (peer->n_staged >= PEER_STAGED || p->len > PKT_MAX_PAYLOAD)
		return false;
	s = malloc(sizeof(*s) + p->len);
	if (!s)
		return false;
	s->off = p->off;
	s->len = p->len;
	s->inner_len = p->inner_len;
	memcpy(s->data, p->buf + p->off, p->len);
	peer->staged[peer->n_staged++] = s;
	return true;
}

void peer_drop_staged(struct secure_peer *peer)
{
	for (unsigned i = 0; i < peer->n_staged; i++) {
		free(peer->staged[i]);
		peer->staged[i] = NULL;
	}
	peer->n_staged = 0;
}

/* Each goes out from the daemon's scratch buffer; sending may hold it
 * again (no session after all), which takes a new copy. */
void peer_flush_staged(struct secure_peer *peer)
{
	struct peer_staged *held[PEER_STAGED];
	struct pkt *p = peer->t->d->tx_pkt;
	unsigned n = peer->n_staged;

	memcpy(held, peer->staged, n * sizeof(held[0]));
	peer->n_staged = 0;
	for (unsigned i = 0; i < n; i++) {
		struct peer_staged *s = held[i];

		p->off = s->off;
		p->len = s->len;
		p->inner_len = s->inner_len;
		memcpy(p->buf + p->off, s->data, s->len);
		free(s);
		secure_send_ip(peer, p);
	}
}

/* ---- timers ---- */

/* Liveness for routing daemons: when the peer is gone the carrier goes
 * down, so routes over the link are withdrawn at once; while down,
 * handshakes go on (with WireGuard's jitter) so the link comes back as
 * soon as the peer does.
 *   - with persistent_keepalive P: nothing authentic heard for 3 P;
 *   - else: we sent and heard nothing back for keepalive + rekey timeout
 *     (the session's new-handshake timer), and that handshake went
 *     unanswered for one more rekey timeout.
 * Returns the next deadline it needs. */
static uint64_t peer_liveness(struct secure_peer *peer, uint64_t now, unsigned actions)
{
	const struct session_timers *st = &peer->session.t;
	uint64_t silence = 3 * st->persistent_keepalive;
	struct tunnel *t = peer->t;

	if ((actions & SESSION_NEW_HANDSHAKE) && !peer->suspect_since)
		peer->suspect_since = now;
	if (t->carrier && silence && peer->last_rx && now - peer->last_rx >= silence)
		tunnel_set_carrier(t, false);
	if (t->carrier && peer->suspect_since && now - peer->suspect_since >= st->rekey_timeout)
		tunnel_set_carrier(t, false);
	if (!t->carrier) {
		if (!t->has_remote)
			return SESSION_NEVER;
		if (!peer->session.want_handshake && session_initiation_allowed(&peer->session, now))
			session_request_handshake(&peer->session);
		/* The session serves the request within its rate limit; come
		 * back one jittered rekey timeout after the last initiation. */
		return (peer->session.last_initiation == SESSION_NEVER ? now : peer->session.last_initiation) +
		       st->rekey_timeout + peer->session.jitter;
	}
	if (peer->suspect_since)
		return peer->suspect_since + st->rekey_timeout;
	if (silence && peer->last_rx)
		return peer->last_rx + silence;
	return SESSION_NEVER;
}

static void peer_do_actions(struct secure_peer *peer, uint64_t now, unsigned actions)
{
	if (actions & SESSION_WIPE_KEYS) {
		handshake_wipe(&peer->sec->hs);
		log_tunnel_info(peer->t->cfg.name, "session keys wiped after inactivity");
	}
	drain_expired(peer);
	peer_indices_gc(peer);
	if (actions & SESSION_HANDSHAKE_GAVE_UP) {
		char ep[SOCKADDR_STRLEN], ours[KEYS_BASE64_LEN + 1];

		peer_drop_staged(peer);
		keys_to_base64(ours, peer->sec->id.static_public);
		/* Once until the peer answers again: retries go on every rekey
		 * timeout while the link is down, and would say it every 95 s. */
		log_tunnel(peer->unanswered_logged ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
			   peer->t->cfg.name,
			   "no answer to handshake initiations sent to %s for %u s: is "
			   "the peer up, does it let UDP in, and does it have our public key %s?",
			   peer->t->has_remote ? sockaddr_format(&peer->t->remote, ep, sizeof(ep)) :
			   "(none)",
			   (unsigned)(peer->session.t.rekey_attempt_time / SESSION_NS_PER_SEC),
			   ours);
		peer->unanswered_logged = true;
	}
	if (actions & SESSION_SEND_INITIATION)
		peer_send_initiation(peer, now);
	if (actions & SESSION_SEND_KEEPALIVE) {
		struct pkt *p = peer->t->d->tx_pkt;

		pkt_reset(p);
		p->inner_len = 0;
		secure_send_ip(peer, p);
	}
}

/* Tick the session and liveness, act, and tick again until nothing is due
 * (sending changes deadlines), then arm the timer at the earliest one. */
static void peer_run_actions(struct secure_peer *peer, uint64_t now)
{
	uint64_t deadline = SESSION_NEVER;
	double delay;

	peer->running = true;
	for (int round = 0; round < 3; round++) {
		unsigned actions = 0, more = 0;
		uint64_t live;

		deadline = session_tick(&peer->session, now, &actions);
		live = peer_liveness(peer, now, actions);
		if (peer->session.want_handshake) {
			uint64_t d2 = session_tick(&peer->session, now, &more);

			actions |= more & SESSION_SEND_INITIATION;
			deadline = d2 < deadline ? d2 : deadline;
		}
		deadline = live < deadline ? live : deadline;
		if (!actions)
			break;
		peer_do_actions(peer, now, actions);
	}
	peer->running = false;

	ev_timer_stop(peer->t->d->loop, &peer->timer);
	peer->timer_at = deadline;
	if (deadline == SESSION_NEVER)
		return;
	delay = deadline > now ? (double)(deadline - now) / 1e9 : 0.;
	ev_timer_set(&peer->timer, delay, 0.);
	ev_timer_start(peer->t->d->loop, &peer->timer);
}

static void peer_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)revents;
	peer_run_actions(w->data, gresecd_now_ns());
}

void peer_schedule(struct secure_peer *peer)
{
	peer_run_actions(peer, gresecd_now_ns());
}

void peer_schedule_after_batch(struct secure_peer *peer)
{
	struct secure_port *sp = peer->port;

	if (peer->batch_scheduled)
		return;
	peer->batch_scheduled = true;
	peer->next_scheduled = sp->scheduled;
	sp->scheduled = peer;
}

void peer_run_scheduled(struct secure_port *sp)
{
	struct secure_peer *peer;

	while ((peer = sp->scheduled)) {
		sp->scheduled = peer->next_scheduled;
		peer->batch_scheduled = false;
		peer_schedule(peer);
	}
}
