/* daemon/secure.c: secure mode: the UDP ports, the handshake exchange, and
 * sealing/opening of GRE packets (protocol: docs/protocol.md).
 *
 * The cheap checks come first on every datagram: exact length for the type,
 * then MAC1 (and under load MAC2 with a cookie) and the per-source rate
 * limit, and only then any Diffie-Hellman.  Timers live in daemon/session.c
 * (pure); this file turns its actions into packets and one ev_timer per peer.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "crypto/cookie.h"
#include "crypto/handshake.h"
#include "crypto/keypair.h"
#include "crypto/keys.h"
#include "crypto/ratelimiter.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/secure.h"
#include "daemon/session.h"
#include "daemon/tunnel.h"
#include "tunnel/tun.h"
#include "tunnel/wire.h"

enum {
	PEER_KEYPAIRS = SESSION_SLOTS + 1,  /* next, current, previous, one being made */
	PEER_STAGED = 8,                    /* packets held while a handshake runs */
	UNDER_LOAD_HANDSHAKES = 64,         /* handshake messages per second on a port */
	COOKIE_REPLIES_PER_SEC = 2048,      /* cookie replies per second on a port */
};
#define INITIATIONS_MIN_INTERVAL_NS (20ULL * 1000000ULL) /* one accepted per peer per 20 ms */
#define GSO_HOLD_NS SESSION_NS_PER_SEC /* GSO of a size the kernel refused: retried after 1 s */

/* Secrets live in locked, guarded memory (sodium_malloc). */
struct peer_secrets {
	struct handshake_identity id;
	struct handshake hs;
	struct keypair kp[PEER_KEYPAIRS];
	bool kp_used[PEER_KEYPAIRS];
};

struct secure_peer {
	struct tunnel *t;
	struct secure_port *port;
	struct peer_secrets *sec;
	uint8_t peer_public[NOISE_PUBLIC_KEY_LEN];
	struct cookie_checker checker;
	struct cookie_maker maker;
	struct session session;
	uint8_t last_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumed;
	uint64_t last_rx;          /* latest authenticated packet from the peer */
	uint64_t suspect_since;    /* the peer stopped answering; 0 = it answers */
	ev_timer timer;
	struct pkt *staged[PEER_STAGED];
	unsigned n_staged;
	/* Runs of gso_hold_seg bytes or more go out datagram by datagram until
	 * gso_hold_until: the kernel refused them as larger than the fragment
	 * size on the way to the endpoint (see secure_send_runs). */
	uint64_t gso_hold_until;
	uint16_t gso_hold_seg;
	struct secure_peer *next_on_port;
	bool batch_scheduled;      /* on port->scheduled until the batch ends */
	struct secure_peer *next_scheduled;
};

struct secure_port {
	struct gresecd *d;
	uint16_t port;
	struct ip_addr local;      /* AF_UNSPEC: any */
	char device[IFNAMSIZ];
	int fd[2];                 /* IPv4, IPv6; -1 if not open */
	ev_io io[2];
	struct ratelimiter *rl;
	struct handshake *scratch; /* responder's handshake before the peer is known */
	uint64_t load_window_start;
	unsigned load_count;
	unsigned cookie_replies;   /* sent in the current load window */
	bool gso_off;              /* the kernel refused UDP GSO on this port */
	unsigned refs;
	struct secure_peer *peers;
	struct secure_peer *scheduled; /* peers to run timers for after this batch */
	struct secure_port *next;
};

/* ---- helpers ---- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int port_fd_for(const struct secure_port *sp, int family)
{
	return sp->fd[family == AF_INET6 ? 1 : 0];
}

static int send_to_endpoint(struct secure_peer *peer, const uint8_t *buf, size_t len)
{
	struct tunnel *t = peer->t;
	int fd;

	if (!t->has_remote)
		return -EDESTADDRREQ;
	fd = port_fd_for(peer->port, t->remote.sa.sa_family);
	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, MSG_DONTWAIT, &t->remote.sa,
		   t->remote.sa.sa_family == AF_INET6 ? sizeof(t->remote.in6) : sizeof(t->remote.in)) < 0) {
		int err = errno;

		t->ctr.drops[DROP_TX_ERROR]++;
		log_ratelimited(&t->rl, LOG_LEVEL_WARN, "tunnel \"%s\": send to peer: %s", t->cfg.name,
				strerror(err));
		return -err;
	}
	return 0;
}

static uint32_t new_index(struct gresecd *d);

static struct keypair *keypair_alloc(struct secure_peer *peer)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (!peer->sec->kp_used[i]) {
			peer->sec->kp_used[i] = true;
			return &peer->sec->kp[i];
		}
	return NULL;
}

static void keypair_release(struct secure_peer *peer, struct keypair *kp)
{
	for (int i = 0; i < PEER_KEYPAIRS; i++)
		if (&peer->sec->kp[i] == kp) {
			keypair_wipe(kp);
			peer->sec->kp_used[i] = false;
		}
}

static void peer_drain_expired(struct secure_peer *peer)
{
	void *old[SESSION_EXPIRED_MAX];
	size_t n = session_take_expired(&peer->session, old, SESSION_EXPIRED_MAX);

	for (size_t i = 0; i < n; i++)
		keypair_release(peer, old[i]);
}

static void peer_schedule(struct secure_peer *peer);

/* The peer proved itself alive: carrier up, so routes over the link work. */
static void peer_alive(struct secure_peer *peer, uint64_t now)
{
	peer->last_rx = now;
	peer->suspect_since = 0;
	tunnel_set_carrier(peer->t, true);
}

/* ---- receiver indices ----
 * Indices are random so that they say nothing about the daemon's state;
 * lookups scan the peers of the port, which stays cheap for the tunnel
 * counts a daemon carries (a hash table can replace it without changing
 * callers). */
static bool index_in_use(struct gresecd *d, uint32_t idx)
{
	for (struct secure_port *sp = d->secure_ports; sp; sp = sp->next)
		for (struct secure_peer *p = sp->peers; p; p = p->next_on_port) {
			if (p->sec->hs.state != HANDSHAKE_EMPTY && p->sec->hs.local_index == idx)
				return true;
			if (session_slot_by_index(&p->session, idx))
				return true;
		}
	return false;
}

static uint32_t new_index(struct gresecd *d)
{
	uint32_t idx;

	do
		idx = randombytes_random();
	while (idx == 0 || index_in_use(d, idx));
	return idx;
}

/* ---- handshake ---- */

static void peer_send_initiation(struct secure_peer *peer, uint64_t now)
{
	struct tunnel *t = peer->t;
	uint8_t msg[MSG_INITIATION_LEN];
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	if (!t->has_remote)
		return;
	handshake_wipe(&peer->sec->hs);
	handshake_tai64n_now(ts, realtime_ns());
	if (handshake_create_initiation(&peer->sec->hs, &peer->sec->id, peer->peer_public,
					new_index(t->d), ts, msg) != 0) {
		log_ratelimited(&t->rl, LOG_LEVEL_WARN, "tunnel \"%s\": cannot create a handshake initiation",
				t->cfg.name);
		return;
	}
	cookie_add_macs(&peer->maker, msg, sizeof(msg), now);
	session_handshake_initiated(&peer->session, now);
	session_set_jitter(&peer->session, randombytes_uniform((uint32_t)SESSION_JITTER_MAX_NS));
	log_debug("tunnel \"%s\": sending handshake initiation", t->cfg.name);
	send_to_endpoint(peer, msg, sizeof(msg));
}

static void peer_send_keepalive(struct secure_peer *peer, uint64_t now)
{
	struct pkt *p = peer->t->d->tx_pkt;

	pkt_reset(p);
	p->inner_len = 0;
	secure_send(peer->t, p);
	(void)now;
}

static void peer_flush_staged(struct secure_peer *peer)
{
	unsigned n = peer->n_staged;

	peer->n_staged = 0;
	for (unsigned i = 0; i < n; i++)
		secure_send(peer->t, peer->staged[i]);
}

/* Install the keys of a finished handshake in the session. */
static int peer_install_keys(struct secure_peer *peer, uint64_t now, bool we_initiated)
{
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN], recv_key[NOISE_SYMMETRIC_KEY_LEN];
	struct handshake *hs = &peer->sec->hs;
	uint32_t local = hs->local_index, remote = hs->remote_index;
	struct keypair *kp;
	int err;

	peer_drain_expired(peer);
	kp = keypair_alloc(peer);
	if (!kp)
		return -ENOBUFS;
	if (handshake_derive_keys(hs, send_key, recv_key) != 0) {
		keypair_release(peer, kp);
		return -EINVAL;
	}
	keypair_init(kp, send_key, recv_key, local, remote, we_initiated, now);
	sodium_memzero(send_key, sizeof(send_key));
	sodium_memzero(recv_key, sizeof(recv_key));
	handshake_wipe(hs);
	err = session_handshake_complete(&peer->session, now, we_initiated, local, kp);
	if (err < 0) {
		keypair_release(peer, kp);
		return err;
	}
	peer_drain_expired(peer);
	return 0;
}

static bool port_under_load(struct secure_port *sp, uint64_t now)
{
	if (now - sp->load_window_start > 1000000000ULL) {
		sp->load_window_start = now;
		sp->load_count = 0;
		sp->cookie_replies = 0;
	}
	return ++sp->load_count > UNDER_LOAD_HANDSHAKES;
}

static void set_endpoint(struct secure_peer *peer, const union sockaddr_inet *src)
{
	struct tunnel *t = peer->t;

	if (t->has_remote && sockaddr_equal(&t->remote, src))
		return;
	if (t->has_remote) {
		char a[64], b[64];

		sockaddr_format(&t->remote, a, sizeof(a));
		sockaddr_format(src, b, sizeof(b));
		log_info("tunnel \"%s\": peer moved from %s to %s", t->cfg.name, a, b);
	}
	t->remote = *src;
	t->has_remote = true;
	session_set_can_initiate(&peer->session, true);
}

/* The tunnel that counts a problem nobody else can be blamed for. */
static struct tunnel *port_blame(struct secure_port *sp)
{
	return sp->peers ? sp->peers->t : NULL;
}

static void port_count(struct secure_port *sp, enum drop_reason r)
{
	struct tunnel *t = port_blame(sp);

	if (t)
		t->ctr.drops[r]++;
}

static void send_cookie_reply(struct secure_port *sp, struct cookie_checker *cc, const uint8_t *msg,
			      size_t len, uint32_t sender, const union sockaddr_inet *src, uint64_t now)
{
	uint8_t reply[MSG_COOKIE_LEN];
	int fd = port_fd_for(sp, src->sa.sa_family);

	/* A flood of valid-mac1 messages would otherwise cost a reply each and
	 * crowd the data out of the socket; real peers need one cookie per
	 * two minutes, so a small budget serves them all. */
	if (sp->cookie_replies >= COOKIE_REPLIES_PER_SEC) {
		port_count(sp, DROP_RATE_LIMITED);
		return;
	}
	sp->cookie_replies++;
	if (fd < 0 || cookie_create_reply(cc, msg, len, sender, &src->sa, reply, now) != 0)
		return;
	sendto(fd, reply, sizeof(reply), MSG_DONTWAIT, &src->sa,
	       src->sa.sa_family == AF_INET6 ? sizeof(src->in6) : sizeof(src->in));
}

/* After MAC1 passed: under load, a message without a valid cookie (mac2)
 * is answered with one, and proven sources are rate-limited.  True when
 * the Diffie-Hellman work may go ahead.  The source is only proven once
 * mac2 holds; limiting unproven sources would let spoofed floods lock
 * real peers out. */
static bool handshake_admit(struct secure_port *sp, struct cookie_checker *cc, struct tunnel *t,
			    enum cookie_result cr, const struct pkt *pk,
			    const union sockaddr_inet *src, bool under_load, uint64_t now)
{
	const uint8_t *msg = pk->buf + pk->off;

	if (cr == COOKIE_MAC1_OK_NEED_COOKIE) {
		send_cookie_reply(sp, cc, msg, pk->len, load_le32(msg + 4), src, now);
		return false;
	}
	if (under_load && !ratelimiter_allow(sp->rl, &src->sa, now)) {
		t->ctr.drops[DROP_RATE_LIMITED]++;
		return false;
	}
	return true;
}

/* MAC1 against every identity on the port (usually one key per host). */
static struct secure_peer *mac1_identity(struct secure_port *sp, const uint8_t *msg, size_t len,
					 const union sockaddr_inet *src, bool under_load, uint64_t now,
					 enum cookie_result *res)
{
	for (struct secure_peer *p = sp->peers; p; p = p->next_on_port) {
		*res = cookie_validate(&p->checker, msg, len, &src->sa, under_load, now);
		if (*res != COOKIE_MAC1_BAD)
			return p;
	}
	return NULL;
}

static void handle_initiation(struct secure_port *sp, struct pkt *pk, const union sockaddr_inet *src,
			      uint64_t now)
{
	const uint8_t *msg = pkt_data(pk);
	uint8_t peer_static[NOISE_PUBLIC_KEY_LEN], ts[NOISE_TIMESTAMP_LEN];
	uint8_t resp[MSG_RESPONSE_LEN];
	enum cookie_result cr;
	struct secure_peer *ident, *peer = NULL;
	uint32_t sender;
	bool under_load = port_under_load(sp, now);

	ident = mac1_identity(sp, msg, pk->len, src, under_load, now, &cr);
	if (!ident) {
		port_count(sp, DROP_BAD_MAC);
		return;
	}
	if (!handshake_admit(sp, &ident->checker, ident->t, cr, pk, src, under_load, now))
		return;
	/* Only now the Diffie-Hellman work. */
	if (handshake_consume_initiation(sp->scratch, &ident->sec->id, msg, pk->len, peer_static, ts,
					 &sender) != 0) {
		ident->t->ctr.drops[DROP_HANDSHAKE]++;
		log_ratelimited(&ident->t->rl, LOG_LEVEL_INFO,
				"tunnel \"%s\": handshake initiation failed (wrong keys?)", ident->t->cfg.name);
		goto out;
	}
	for (struct secure_peer *p = sp->peers; p; p = p->next_on_port)
		if (sodium_memcmp(p->peer_public, peer_static, sizeof(peer_static)) == 0 &&
		    sodium_memcmp(p->sec->id.static_public, ident->sec->id.static_public,
				  NOISE_PUBLIC_KEY_LEN) == 0) {
			peer = p;
			break;
		}
	if (!peer) {
		ident->t->ctr.drops[DROP_HANDSHAKE]++;
		log_ratelimited(&ident->t->rl, LOG_LEVEL_INFO,
				"handshake initiation from an unknown peer public key refused");
		goto out;
	}
	/* A replayed initiation carries an old timestamp; a flood, a burst of them. */
	if (!handshake_timestamp_is_newer(ts, peer->last_timestamp)) {
		peer->t->ctr.drops[DROP_REPLAY]++;
		goto out;
	}
	if (peer->last_initiation_consumed &&
	    now - peer->last_initiation_consumed < INITIATIONS_MIN_INTERVAL_NS) {
		peer->t->ctr.drops[DROP_RATE_LIMITED]++;
		goto out;
	}
	/* Only a fresh initiation counts from here on: a replayed one must not
	 * move the endpoint or start a handshake. */
	memcpy(peer->last_timestamp, ts, sizeof(ts));
	peer->last_initiation_consumed = now;
	/* Both ends initiated at once (both started together): answering would
	 * wipe our own pending initiation and each side would be left with an
	 * unconfirmed keypair until the next retry.  The end with the larger
	 * public key keeps its initiation; the other answers it. */
	if (peer->sec->hs.state == HANDSHAKE_CREATED_INITIATION &&
	    peer->session.last_initiation != SESSION_NEVER &&
	    now - peer->session.last_initiation < peer->session.t.rekey_timeout &&
	    memcmp(peer->sec->id.static_public, peer->peer_public, NOISE_PUBLIC_KEY_LEN) > 0) {
		/* Ours may have been lost (the peer was not up yet): the peer is up
		 * now, so send a fresh one at once for it to answer. */
		log_debug("tunnel \"%s\": crossing initiations, keeping ours", peer->t->cfg.name);
		set_endpoint(peer, src);
		peer_send_initiation(peer, now);
		goto out;
	}
	handshake_wipe(&peer->sec->hs);
	peer->sec->hs = *sp->scratch;
	if (handshake_create_response(&peer->sec->hs, &peer->sec->id, new_index(sp->d), resp) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		goto out;
	}
	cookie_add_macs(&peer->maker, resp, sizeof(resp), now);
	set_endpoint(peer, src);
	if (peer_install_keys(peer, now, false) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		goto out;
	}
	send_to_endpoint(peer, resp, sizeof(resp));
	peer_alive(peer, now);
	log_debug("tunnel \"%s\": handshake initiation answered", peer->t->cfg.name);
	peer_schedule(peer);
out:
	handshake_wipe(sp->scratch);
	sodium_memzero(peer_static, sizeof(peer_static));
}

static struct secure_peer *peer_by_handshake_index(struct secure_port *sp, uint32_t idx)
{
	for (struct secure_peer *p = sp->peers; p; p = p->next_on_port)
		if (p->sec->hs.state == HANDSHAKE_CREATED_INITIATION && p->sec->hs.local_index == idx)
			return p;
	return NULL;
}

static void handle_response(struct secure_port *sp, struct pkt *pk, const union sockaddr_inet *src,
			    uint64_t now)
{
	const uint8_t *msg = pkt_data(pk);
	struct secure_peer *peer = peer_by_handshake_index(sp, load_le32(msg + 8));
	enum cookie_result cr;
	uint32_t sender;
	bool under_load;

	if (!peer) {
		port_count(sp, DROP_NO_SESSION);
		return;
	}
	under_load = port_under_load(sp, now);
	cr = cookie_validate(&peer->checker, msg, pk->len, &src->sa, under_load, now);
	if (cr == COOKIE_MAC1_BAD) {
		peer->t->ctr.drops[DROP_BAD_MAC]++;
		return;
	}
	if (!handshake_admit(sp, &peer->checker, peer->t, cr, pk, src, under_load, now))
		return;
	if (handshake_consume_response(&peer->sec->hs, msg, pk->len, &sender) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		log_ratelimited(&peer->t->rl, LOG_LEVEL_INFO,
				"tunnel \"%s\": handshake response failed (wrong keys or PSK?)", peer->t->cfg.name);
		return;
	}
	set_endpoint(peer, src);
	if (peer_install_keys(peer, now, true) != 0) {
		peer->t->ctr.drops[DROP_HANDSHAKE]++;
		return;
	}
	peer_alive(peer, now);
	log_info("tunnel \"%s\": session established", peer->t->cfg.name);
	peer_flush_staged(peer);
	peer_schedule(peer);
}

static void handle_cookie(struct secure_port *sp, struct pkt *pk, uint64_t now)
{
	const uint8_t *msg = pkt_data(pk);
	struct secure_peer *peer = peer_by_handshake_index(sp, load_le32(msg + 4));

	if (!peer) {
		port_count(sp, DROP_NO_SESSION);
		return;
	}
	if (cookie_consume_reply(&peer->maker, msg, pk->len, now) != 0)
		peer->t->ctr.drops[DROP_BAD_MAC]++;
}

/* Run the peer's timers once at the end of the receive batch rather than
 * after each of its packets. */
static void peer_schedule_after_batch(struct secure_port *sp, struct secure_peer *peer)
{
	if (peer->batch_scheduled)
		return;
	peer->batch_scheduled = true;
	peer->next_scheduled = sp->scheduled;
	sp->scheduled = peer;
}

static void port_run_scheduled(struct secure_port *sp)
{
	struct secure_peer *peer;

	while ((peer = sp->scheduled)) {
		sp->scheduled = peer->next_scheduled;
		peer->batch_scheduled = false;
		peer_schedule(peer);
	}
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
	for (peer = sp->peers; peer; peer = peer->next_on_port)
		if ((slot = session_slot_by_index(&peer->session, idx)))
			break;
	if (!peer) {
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
	set_endpoint(peer, src);
	peer_alive(peer, now);
	session_data_received(&peer->session, now, slot, pk->len == 0);
	peer_drain_expired(peer);
	if (pk->len)
		tunnel_gre_input(peer->t, pk);
	else
		peer->t->ctr.keepalives_received++;
	if (peer->n_staged)
		peer_flush_staged(peer);
	peer_schedule_after_batch(sp, peer);
}

static void port_handle_datagram(struct secure_port *sp, struct pkt *pk,
				 const union sockaddr_inet *src, uint64_t now)
{
	/* Type and exact length first; nothing else is read before. */
	switch (msg_classify(pkt_data(pk), pk->len)) {
	case MSG_INITIATION:
		handle_initiation(sp, pk, src, now);
		break;
	case MSG_RESPONSE:
		handle_response(sp, pk, src, now);
		break;
	case MSG_COOKIE:
		handle_cookie(sp, pk, now);
		break;
	case MSG_DATA:
		handle_data(sp, pkt_data(pk), pk->len, pk, src, now);
		break;
	case MSG_CLASS_BAD_LENGTH:
		port_count(sp, DROP_BAD_LENGTH);
		break;
	default:
		port_count(sp, DROP_BAD_TYPE);
	}
}

/* A buffer the kernel coalesced (UDP GRO) holds datagrams of seg bytes, the
 * last one possibly shorter.  Each goes to a buffer of its own, because
 * inner GRO grows packets in place: data messages are opened into it, any
 * other message is copied. */
static void port_handle_segments(struct secure_port *sp, struct pkt *pk, size_t seg,
				 const union sockaddr_inet *src, uint64_t now)
{
	struct gresecd *d = sp->d;
	const uint8_t *data = pkt_data(pk);

	for (size_t off = 0; off < pk->len; off += seg) {
		size_t len = pk->len - off < seg ? pk->len - off : seg;
		struct pkt *s = d->rx_seg_pkts[d->n_rx_seg_held];

		pkt_reset(s);
		if (msg_classify(data + off, len) == MSG_DATA) {
			handle_data(sp, data + off, len, s, src, now);
		} else {
			memcpy(pkt_data(s), data + off, len);
			s->len = len;
			port_handle_datagram(sp, s, src, now);
		}
		if (tunnel_rx_holds(d, s))
			d->n_rx_seg_held++;
	}
}

static void port_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct secure_port *sp = w->data;
	struct gresecd *d = sp->d;
	int n;

	(void)loop; (void)revents;
	n = sock_recv_segments(w->fd, d->rx_pkts, d->rx_src, d->rx_seg, RX_BATCH);
	if (n < 0)
		return;
	uint64_t now = gresecd_now_ns();

	for (int i = 0; i < n; i++) {
		struct pkt *pk = d->rx_pkts[i];

		if (d->rx_seg[i] && pk->len > d->rx_seg[i])
			port_handle_segments(sp, pk, d->rx_seg[i], &d->rx_src[i], now);
		else
			port_handle_datagram(sp, pk, &d->rx_src[i], now);
	}
	tunnel_rx_flush(d);
	port_run_scheduled(sp);
}

/* ---- timers ---- */

/* Liveness for routing daemons: when the peer is gone the carrier goes
 * down, so routes over the link are withdrawn at once; while down,
 * handshakes go on so the link comes back as soon as the peer does.
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
		if (t->has_remote && !peer->session.want_handshake &&
		    session_initiation_allowed(&peer->session, now))
			session_request_handshake(&peer->session);
		return t->has_remote ? now + st->rekey_timeout : SESSION_NEVER;
	}
	if (peer->suspect_since)
		return peer->suspect_since + st->rekey_timeout;
	if (silence && peer->last_rx)
		return peer->last_rx + silence;
	return SESSION_NEVER;
}

static void peer_run_actions(struct secure_peer *peer, uint64_t now)
{
	unsigned actions = 0;
	uint64_t deadline = session_tick(&peer->session, now, &actions);
	uint64_t live_deadline;
	double delay;

	live_deadline = peer_liveness(peer, now, actions);
	if (peer->session.want_handshake) {
		unsigned more = 0;
		uint64_t d2 = session_tick(&peer->session, now, &more);

		actions |= more & SESSION_SEND_INITIATION;
		deadline = d2 < deadline ? d2 : deadline;
	}
	if (live_deadline < deadline)
		deadline = live_deadline;

	if (actions & SESSION_WIPE_KEYS) {
		handshake_wipe(&peer->sec->hs);
		log_info("tunnel \"%s\": session keys wiped after inactivity", peer->t->cfg.name);
	}
	peer_drain_expired(peer);
	if (actions & SESSION_HANDSHAKE_GAVE_UP) {
		peer->n_staged = 0;
		log_info("tunnel \"%s\": no handshake answer, giving up for now", peer->t->cfg.name);
	}
	if (actions & SESSION_SEND_INITIATION)
		peer_send_initiation(peer, now);
	if (actions & SESSION_SEND_KEEPALIVE)
		peer_send_keepalive(peer, now);

	ev_timer_stop(peer->t->d->loop, &peer->timer);
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

static void peer_schedule(struct secure_peer *peer)
{
	peer_run_actions(peer, gresecd_now_ns());
}

/* ---- data path ---- */

int secure_seal(struct tunnel *t, struct pkt *p, uint64_t now)
{
	struct secure_peer *peer = t->peer;
	struct session_slot *slot = session_want_send(&peer->session, now);
	bool keepalive = p->len == 0;
	int r;

	if (!slot) {
		/* Hold a few packets for the handshake that this starts; the copy
		 * happens only while no session exists. */
		if (!keepalive && peer->n_staged < PEER_STAGED) {
			struct pkt *s = peer->staged[peer->n_staged++];

			s->off = p->off;
			s->len = p->len;
			s->inner_len = p->inner_len;
			memcpy(s->buf + s->off, p->buf + p->off, p->len);
		} else {
			t->ctr.drops[DROP_NO_SESSION]++;
		}
		peer_schedule(peer);
		return -ENOTCONN;
	}
	r = keypair_seal(slot->keypair, p);
	if (r != KEYPAIR_OK) {
		t->ctr.drops[r == KEYPAIR_ERR_NOROOM ? DROP_BAD_LENGTH : DROP_NO_SESSION]++;
		peer_schedule(peer);
		return -EINVAL;
	}
	return 0;
}

static void gso_give_up(struct tunnel *t, int err)
{
	t->peer->port->gso_off = true;
	log_info("tunnel \"%s\": no UDP GSO on this path (%s), sending datagram by datagram",
		 t->cfg.name, strerror(-err));
}

/* The end of the GSO run that starts at pkts[i]: datagrams of pkts[i]'s
 * size, then possibly one shorter one, within the kernel's limits. */
static unsigned gso_run_end(struct pkt **pkts, unsigned i, unsigned n)
{
	size_t seg = pkts[i]->len, total = seg;
	unsigned j = i + 1;

	while (j < n && j - i < SOCK_GSO_MAX_SEGS && pkts[j]->len == seg &&
	       total + seg <= SOCK_GSO_MAX_BYTES) {
		total += seg;
		j++;
	}
	if (j < n && j - i < SOCK_GSO_MAX_SEGS && pkts[j]->len < seg &&
	    total + pkts[j]->len <= SOCK_GSO_MAX_BYTES)
		j++;
	return j;
}

/* Runs of equal-sized datagrams (what TCP segments become) go out with UDP
 * GSO, one sendmsg per run: one trip through the stack for up to 64
 * datagrams (a receiver with UDP GRO takes them in one buffer); the rest
 * with sendmmsg. */
static unsigned secure_send_runs(struct tunnel *t, int fd, struct pkt **pkts, unsigned n,
				 uint64_t now)
{
	struct secure_peer *peer = t->peer;
	unsigned i = 0, sent = 0;

	while (i < n) {
		unsigned j = gso_run_end(pkts, i, n);
		uint16_t seg = (uint16_t)pkts[i]->len;
		int err;

		if (j - i >= 2 && !peer->port->gso_off &&
		    (seg < peer->gso_hold_seg || now >= peer->gso_hold_until)) {
			err = sock_send_gso(fd, pkts + i, j - i, seg, &t->remote);
			if (err == 0) {
				tunnel_count_tx(t, pkts + i, j - i);
				sent += j - i;
				i = j;
				continue;
			}
			if (err == -EIO || err == -EOPNOTSUPP || err == -ENOPROTOOPT)
				gso_give_up(t, err);
			/* A segment above the kernel's fragment size for this
			 * destination (EMSGSIZE; EINVAL on older kernels): the
			 * device MTU over IPv4, the path MTU over IPv6, which a
			 * "packet too big" lowers until it expires.  The kernel
			 * fragments single datagrams; hold GSO back for this
			 * size a while rather than for good, so one forged ICMP
			 * error cannot turn it off. */
			if (err == -EMSGSIZE || err == -EINVAL) {
				peer->gso_hold_seg = seg;
				peer->gso_hold_until = now + GSO_HOLD_NS;
			}
		}
		/* Datagram by datagram (after any failure: a full socket
		 * gives EAGAIN), counting what is lost. */
		sent += tunnel_sendmmsg(t, fd, pkts + i, j - i, &t->remote, NULL);
		i = j;
	}
	return sent;
}

unsigned secure_transmit(struct tunnel *t, struct pkt **pkts, unsigned n, uint64_t now)
{
	struct secure_peer *peer = t->peer;
	unsigned sent;
	int fd;

	if (!t->has_remote || (fd = port_fd_for(peer->port, t->remote.sa.sa_family)) < 0) {
		t->ctr.drops[DROP_TX_ERROR] += n;
		return 0;
	}
	sent = secure_send_runs(t, fd, pkts, n, now);
	if (sent) {
		session_data_sent(&peer->session, now, n == 1 && pkts[0]->inner_len == 0);
		/* Cheap when nothing is due; keeps rekey and keepalive deadlines current. */
		if (peer->session.want_handshake || !ev_is_active(&peer->timer))
			peer_schedule(peer);
	}
	return sent;
}

int secure_send(struct tunnel *t, struct pkt *p)
{
	uint64_t now = gresecd_now_ns();
	int r = secure_seal(t, p, now);

	if (r)
		return r;
	return secure_transmit(t, &p, 1, now) == 1 ? 0 : -EIO;
}

/* ---- set-up ---- */

static struct secure_port *port_get(struct gresecd *d, const struct tunnel_config *c, int *err)
{
	struct secure_port *sp;
	int families[2] = { AF_INET, AF_INET6 };
	int e;

	for (sp = d->secure_ports; sp; sp = sp->next)
		if (sp->port == c->port) {
			sp->refs++;
			return sp;
		}
	sp = calloc(1, sizeof(*sp));
	if (!sp) {
		*err = -ENOMEM;
		return NULL;
	}
	sp->d = d;
	sp->port = c->port;
	sp->local = c->local;
	snprintf(sp->device, sizeof(sp->device), "%s", c->device);
	sp->rl = calloc(1, sizeof(*sp->rl));
	if (sp->rl)
		ratelimiter_init(sp->rl);
	sp->scratch = sodium_malloc(sizeof(*sp->scratch));
	if (!sp->rl || !sp->scratch) {
		*err = -ENOMEM;
		goto fail;
	}
	memset(sp->scratch, 0, sizeof(*sp->scratch));
	for (int i = 0; i < 2; i++) {
		sp->fd[i] = -1;
		/* With a local address only its family is served; else both. */
		if (c->local.family != AF_UNSPEC && c->local.family != families[i])
			continue;
		sp->fd[i] = sock_open_udp(families[i], &c->local, c->port, c->device);
		if (sp->fd[i] < 0) {
			*err = sp->fd[i];
			sp->fd[i] = -1;
			/* A host without IPv6 still serves IPv4 (and vice versa). */
			if (c->local.family == AF_UNSPEC && (*err == -EAFNOSUPPORT || *err == -EADDRNOTAVAIL))
				continue;
			goto fail;
		}
		/* Runs of datagrams arrive in one buffer where the kernel can;
		 * without it they come one by one, which works as well. */
		if ((e = sock_enable_udp_gro(sp->fd[i])) != 0)
			log_debug("port %u: no UDP GRO (%s)", c->port, strerror(-e));
		ev_io_init(&sp->io[i], port_read_cb, sp->fd[i], EV_READ);
		sp->io[i].data = sp;
		ev_io_start(d->loop, &sp->io[i]);
	}
	if (sp->fd[0] < 0 && sp->fd[1] < 0)
		goto fail;
	sp->refs = 1;
	sp->next = d->secure_ports;
	d->secure_ports = sp;
	return sp;
fail:
	for (int i = 0; i < 2; i++)
		if (sp->fd[i] >= 0) {
			ev_io_stop(d->loop, &sp->io[i]);
			close(sp->fd[i]);
		}
	free(sp->rl);
	sodium_free(sp->scratch);
	free(sp);
	return NULL;
}

static void port_put(struct gresecd *d, struct secure_port *sp)
{
	if (!sp || --sp->refs > 0)
		return;
	for (struct secure_port **pp = &d->secure_ports; *pp; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	for (int i = 0; i < 2; i++)
		if (sp->fd[i] >= 0) {
			ev_io_stop(d->loop, &sp->io[i]);
			close(sp->fd[i]);
		}
	free(sp->rl);
	sodium_free(sp->scratch);
	free(sp);
}

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

static void peer_free(struct secure_peer *peer)
{
	if (!peer)
		return;
	for (unsigned i = 0; i < PEER_STAGED; i++)
		free(peer->staged[i]);
	if (peer->sec) {
		handshake_wipe(&peer->sec->hs);
		for (int i = 0; i < PEER_KEYPAIRS; i++)
			keypair_wipe(&peer->sec->kp[i]);
		sodium_free(peer->sec); /* wipes the rest on free */
	}
	sodium_memzero(&peer->checker, sizeof(peer->checker));
	sodium_memzero(&peer->maker, sizeof(peer->maker));
	free(peer);
}

int secure_start(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	uint8_t priv[NOISE_PUBLIC_KEY_LEN], psk[NOISE_SYMMETRIC_KEY_LEN];
	struct secure_peer *peer;
	struct session_timers st;
	char err_msg[512];
	int err = 0;

	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return -ENOMEM;
	peer->t = t;
	peer->sec = sodium_malloc(sizeof(*peer->sec));
	if (!peer->sec) {
		free(peer);
		return -ENOMEM;
	}
	memset(peer->sec, 0, sizeof(*peer->sec));
	for (unsigned i = 0; i < PEER_STAGED; i++)
		if (!(peer->staged[i] = malloc(sizeof(struct pkt)))) {
			err = -ENOMEM;
			goto fail;
		}

	memset(psk, 0, sizeof(psk));
	if (keys_load_file_owned(c->private_key_file, priv, t->d->key_owner, err_msg, sizeof(err_msg)) != 0) {
		log_err("tunnel \"%s\": private_key_file: %s", c->name, err_msg);
		err = -EACCES;
		goto fail;
	}
	if (c->preshared_key_file[0] &&
	    keys_load_file_owned(c->preshared_key_file, psk, t->d->key_owner, err_msg, sizeof(err_msg)) != 0) {
		log_err("tunnel \"%s\": preshared_key_file: %s", c->name, err_msg);
		sodium_memzero(priv, sizeof(priv));
		err = -EACCES;
		goto fail;
	}
	err = handshake_identity_init(&peer->sec->id, priv, psk);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(psk, sizeof(psk));
	if (err) {
		log_err("tunnel \"%s\": invalid private key", c->name);
		err = -EINVAL;
		goto fail;
	}
	memcpy(peer->peer_public, c->peer_public_key, sizeof(peer->peer_public));
	cookie_checker_init(&peer->checker, peer->sec->id.static_public);
	cookie_maker_init(&peer->maker, peer->peer_public);

	if (c->remote.family != AF_UNSPEC) {
		sockaddr_from_ip(&t->remote, &c->remote, c->remote_port ? c->remote_port : c->port);
		t->has_remote = true;
	}
	st = timers_from_config(c);
	session_init(&peer->session, &st, t->has_remote);
	session_set_jitter(&peer->session, randombytes_uniform((uint32_t)SESSION_JITTER_MAX_NS));

	peer->port = port_get(t->d, c, &err);
	if (!peer->port) {
		log_err("tunnel \"%s\": cannot open UDP port %u: %s", c->name, c->port, strerror(-err));
		goto fail;
	}
	peer->next_on_port = peer->port->peers;
	peer->port->peers = peer;
	t->peer = peer;
	ev_init(&peer->timer, peer_timer_cb);
	peer->timer.data = peer;
	/* The link carries nothing until a handshake proves the peer: carrier
	 * off, so routing daemons do not count on it yet.  Start the handshake
	 * now rather than waiting for traffic. */
	if (tun_set_carrier(t->tun_fd, false) == 0)
		t->carrier = false;
	if (t->has_remote)
		peer_send_initiation(peer, gresecd_now_ns());
	peer_schedule(peer);
	return 0;
fail:
	peer_free(peer);
	return err ? err : -EINVAL;
}

void secure_stop(struct tunnel *t)
{
	struct secure_peer *peer = t->peer;

	if (!peer)
		return;
	ev_timer_stop(t->d->loop, &peer->timer);
	for (struct secure_peer **pp = &peer->port->peers; *pp; pp = &(*pp)->next_on_port)
		if (*pp == peer) {
			*pp = peer->next_on_port;
			break;
		}
	port_put(t->d, peer->port);
	peer_free(peer);
	t->peer = NULL;
}

void secure_update(struct tunnel *t)
{
	struct session_timers st = timers_from_config(&t->cfg);

	t->peer->session.t.persistent_keepalive = st.persistent_keepalive;
	peer_schedule(t->peer);
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
}
