/* daemon/secure_tx.c: what secure mode sends (see secure_tx.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crypto/keypair.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secure_port.h"
#include "daemon/secure_tx.h"
#include "daemon/tunnel.h"
#include "tunnel/gre.h"
#include "tunnel/inner.h"

/* GSO of a segment size the kernel refused is retried after this long. */
#define GSO_HOLD_NS SESSION_NS_PER_SEC

/* The session's bookkeeping of a send.  A send may want a handshake now or
 * arm a timer (new handshake, persistent keepalive) earlier than the one
 * the peer waits for: then run the timers, except from inside a timer run,
 * which re-arms itself afterwards.  Otherwise nothing to do per burst. */
static void note_sent(struct secure_peer *peer, uint64_t now, bool keepalive)
{
	session_data_sent(&peer->session, now, keepalive);
	if (!peer->running && (peer->session.want_handshake ||
			       session_next_deadline(&peer->session) < peer->timer_at))
		peer_schedule(peer);
}

/* Seal the IP packet in p (empty: a keepalive) with the current keypair.
 * Without one, a packet is held for the handshake this starts. */
static int seal_ip(struct secure_peer *peer, struct pkt *p, uint64_t now)
{
	struct tunnel *t = peer->t;
	struct session_slot *slot = session_want_send(&peer->session, now);
	int r;

	if (!slot) {
		/* The copy happens only while no session exists. */
		if (!p->len || !peer_stage(peer, p))
			t->ctr.drops[DROP_NO_SESSION]++;
		if (!peer->running)
			peer_schedule(peer);
		return -ENOTCONN;
	}
	r = keypair_seal(slot->keypair, p, peer->wg_mtu);
	if (r != KEYPAIR_OK) {
		t->ctr.drops[r == KEYPAIR_ERR_NOROOM ? DROP_BAD_LENGTH : DROP_NO_SESSION]++;
		if (!peer->running)
			peer_schedule(peer);
		return -EINVAL;
	}
	return 0;
}

int secure_seal(struct tunnel *t, struct pkt *p, uint64_t now)
{
	struct secure_peer *peer = t->peer;
	uint8_t ttl = (uint8_t)tunnel_outer_ttl(t, p);

	if (inner_push(p, &peer->gre_local, &peer->gre_remote, ttl, peer->ip_id++) != 0) {
		t->ctr.drops[DROP_BAD_LENGTH]++;
		return -ENOBUFS;
	}
	return seal_ip(peer, p, now);
}

int secure_send_ip(struct secure_peer *peer, struct pkt *p)
{
	struct tunnel *t = peer->t;
	uint64_t now = gresecd_now_ns();
	bool keepalive = p->len == 0, traffic = p->inner_len > 0;
	int r = seal_ip(peer, p, now);

	if (r)
		return r;
	r = t->has_remote ? secure_port_send(peer->port, pkt_data(p), p->len, &t->remote) : -EDESTADDRREQ;
	if (r) {
		t->ctr.drops[DROP_TX_ERROR]++;
		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name, "send to peer: %s",
			      strerror(-r));
		return r;
	}
	/* Link traffic is counted as such; our own packets (echo replies,
	 * reflected GRE keepalives) are the caller's to count. */
	if (traffic)
		tunnel_count_tx(t, &p, 1);
	else if (keepalive)
		t->ctr.keepalives_sent++;
	note_sent(peer, now, keepalive);
	return 0;
}

bool secure_reflect_keepalive(struct tunnel *t, struct pkt *p, uint16_t proto)
{
	struct secure_peer *peer = t->peer;

	if (proto != GRE_PROTO_IPV4 || peer->gre_local.family != AF_INET ||
	    !gre_keepalive_is_request(pkt_data(p), p->len, peer->gre_local.u.v4, peer->gre_remote.u.v4,
				      NULL, NULL))
		return false;
	p->inner_len = 0;
	if (secure_send_ip(peer, p) == 0)
		t->ctr.keepalives_reflected++;
	return true;
}

static void gso_give_up(struct tunnel *t, int err)
{
	t->peer->port->gso_off = true;
	log_tunnel_info(t->cfg.name, "no UDP GSO on this path (%s), sending datagram by datagram",
			strerror(-err));
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
static unsigned send_runs(struct tunnel *t, int fd, struct pkt **pkts, unsigned n, uint64_t now)
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
		sent += tunnel_sendmmsg(t, fd, pkts + i, j - i, &t->remote, NULL, NULL);
		i = j;
	}
	return sent;
}

unsigned secure_transmit(struct tunnel *t, struct pkt **pkts, unsigned n, uint64_t now)
{
	struct secure_peer *peer = t->peer;
	unsigned sent;
	int fd;

	if (!t->has_remote || (fd = secure_port_fd(peer->port, t->remote.sa.sa_family)) < 0) {
		t->ctr.drops[DROP_TX_ERROR] += n;
		return 0;
	}
	sent = send_runs(t, fd, pkts, n, now);
	if (sent)
		note_sent(peer, now, false);
	return sent;
}
