/* daemon/secure_port.c: the UDP ports of secure mode (see secure_port.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/secure_port.h"
#include "daemon/secure_rx.h"
#include "daemon/tunnel.h"

int secure_port_fd(const struct secure_port *sp, int family)
{
	return sp->fd[family == AF_INET6 ? 1 : 0];
}

int secure_port_send(struct secure_port *sp, const uint8_t *buf, size_t len,
		     const union sockaddr_inet *dst)
{
	int fd = secure_port_fd(sp, dst->sa.sa_family);

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, MSG_DONTWAIT, &dst->sa, sockaddr_len(dst)) < 0)
		return -errno;
	return 0;
}

static uint64_t key_hash(const struct secure_port *sp, const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	return hashtab_hash(&sp->by_peer_key, key, NOISE_PUBLIC_KEY_LEN);
}

struct key_match {
	const uint8_t *key;
	const struct port_identity *ident;
};

static bool peer_key_match(const void *value, const void *key)
{
	const struct secure_peer *p = value;
	const struct key_match *k = key;

	return p->ident == k->ident && sodium_memcmp(p->peer_public, k->key, NOISE_PUBLIC_KEY_LEN) == 0;
}

struct secure_peer *secure_port_peer_by_key(const struct secure_port *sp,
					    const struct port_identity *ident,
					    const uint8_t peer_static[NOISE_PUBLIC_KEY_LEN])
{
	struct key_match k = { peer_static, ident };

	return hashtab_find(&sp->by_peer_key, key_hash(sp, peer_static), peer_key_match, &k);
}

struct cookie_checker *secure_port_checker(const struct port_identity *ident)
{
	return &ident->peers->sec->checker;
}

struct port_identity *secure_port_mac1(struct secure_port *sp, const uint8_t *msg, size_t len,
				       const struct sockaddr *src, bool under_load, uint64_t now,
				       enum cookie_result *res)
{
	for (struct port_identity *id = sp->identities; id; id = id->next) {
		*res = cookie_validate(secure_port_checker(id), msg, len, src, under_load, now);
		if (*res != COOKIE_MAC1_BAD)
			return id;
	}
	return NULL;
}

int secure_port_add_peer(struct secure_port *sp, struct secure_peer *peer)
{
	const uint8_t *ours = peer->sec->id.static_public;
	struct port_identity *id;

	if (!sp->by_peer_key.cap && !sp->n_peers)
		hashtab_init(&sp->by_peer_key);
	for (id = sp->identities; id; id = id->next)
		if (sodium_memcmp(id->static_public, ours, NOISE_PUBLIC_KEY_LEN) == 0)
			break;
	if (!id) {
		if (!(id = calloc(1, sizeof(*id))))
			return -ENOMEM;
		memcpy(id->static_public, ours, NOISE_PUBLIC_KEY_LEN);
	}
	if (hashtab_insert(&sp->by_peer_key, key_hash(sp, peer->peer_public), peer) != 0) {
		if (!id->n)
			free(id);
		return -ENOMEM;
	}
	if (!id->n) {
		id->next = sp->identities;
		sp->identities = id;
	}
	/* At the end of the identity's list: its checker stays that of the
	 * first peer. */
	peer->ident = id;
	peer->next_of_ident = NULL;
	peer->prev_of_ident = NULL;
	if (id->peers) {
		struct secure_peer *last = id->peers->prev_of_ident;  /* the head keeps the tail */

		last->next_of_ident = peer;
		peer->prev_of_ident = last;
		id->peers->prev_of_ident = peer;
	} else {
		id->peers = peer;
		peer->prev_of_ident = peer;
	}
	id->n++;
	peer->port = sp;
	peer->prev_on_port = NULL;
	peer->next_on_port = sp->peers;
	if (sp->peers)
		sp->peers->prev_on_port = peer;
	sp->peers = peer;
	sp->n_peers++;
	return 0;
}

void secure_port_remove_peer(struct secure_port *sp, struct secure_peer *peer)
{
	struct port_identity *id = peer->ident;

	if (peer->prev_on_port)
		peer->prev_on_port->next_on_port = peer->next_on_port;
	else if (sp->peers == peer)
		sp->peers = peer->next_on_port;
	if (peer->next_on_port)
		peer->next_on_port->prev_on_port = peer->prev_on_port;
	peer->next_on_port = peer->prev_on_port = NULL;
	sp->n_peers--;
	hashtab_remove(&sp->by_peer_key, key_hash(sp, peer->peer_public), peer);
	if (id) {
		/* The list is doubly linked, the head's prev being the tail. */
		if (id->peers == peer) {
			id->peers = peer->next_of_ident;
			if (id->peers)
				id->peers->prev_of_ident = peer->prev_of_ident;
		} else {
			peer->prev_of_ident->next_of_ident = peer->next_of_ident;
			if (peer->next_of_ident)
				peer->next_of_ident->prev_of_ident = peer->prev_of_ident;
			else
				id->peers->prev_of_ident = peer->prev_of_ident;
		}
		if (--id->n == 0) {
			for (struct port_identity **pp = &sp->identities; *pp; pp = &(*pp)->next)
				if (*pp == id) {
					*pp = id->next;
					break;
				}
			free(id);
		}
		peer->ident = NULL;
	}
	for (struct secure_peer **pp = &sp->scheduled; *pp; pp = &(*pp)->next_scheduled)
		if (*pp == peer) {
			*pp = peer->next_scheduled;
			break;
		}
}

/* A buffer the kernel coalesced (UDP GRO) holds datagrams of seg bytes, the
 * last one possibly shorter.  Each goes to a buffer of its own, because
 * inner GRO grows packets in place. */
static void port_split_segments(struct secure_port *sp, struct pkt *pk, size_t seg,
				const union sockaddr_inet *src, uint64_t now)
{
	struct gresecd *d = sp->d;
	const uint8_t *data = pkt_data(pk);

	for (size_t off = 0; off < pk->len; off += seg) {
		size_t len = pk->len - off < seg ? pk->len - off : seg;
		struct pkt *s = tunnel_rx_seg_buffer(d);

		pkt_reset(s);
		secure_rx_segment(sp, data + off, len, s, src, now);
		tunnel_rx_seg_done(d, s);
	}
}

static void port_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct secure_port *sp = w->data;
	struct gresecd *d = sp->d;
	uint64_t now;
	int n;

	(void)loop; (void)revents;
	n = sock_recv_segments(w->fd, d->rx_pkts, d->rx_src, d->rx_seg, RX_BATCH);
	if (n <= 0)
		return;
	now = gresecd_now_ns();
	for (int i = 0; i < n; i++) {
		struct pkt *pk = d->rx_pkts[i];

		if (d->rx_seg[i] && pk->len > d->rx_seg[i])
			port_split_segments(sp, pk, d->rx_seg[i], &d->rx_src[i], now);
		else
			secure_rx_datagram(sp, pk, &d->rx_src[i], now);
	}
	tunnel_rx_flush(d);
	peer_run_scheduled(sp);
}

size_t secure_ports_discard_backlog(struct gresecd *d)
{
	size_t n = 0;

	for (struct secure_port *sp = d->secure_ports; sp; sp = sp->next)
		for (int i = 0; i < 2; i++) {
			int got;

			if (sp->fd[i] < 0)
				continue;
			while ((got = sock_recv_segments(sp->fd[i], d->rx_pkts, d->rx_src, d->rx_seg,
							 RX_BATCH)) > 0)
				n += (size_t)got;
		}
	return n;
}

static void port_close_sockets(struct gresecd *d, struct secure_port *sp)
{
	for (int i = 0; i < 2; i++)
		if (sp->fd[i] >= 0) {
			ev_io_stop(d->loop, &sp->io[i]);
			close(sp->fd[i]);
			sp->fd[i] = -1;
		}
}

static void port_free(struct gresecd *d, struct secure_port *sp)
{
	port_close_sockets(d, sp);
	hashtab_free(&sp->by_peer_key);
	free(sp->rl);
	sodium_free(sp->scratch);
	free(sp);
}

/* With a local address only its family is served; else both, and a host
 * without IPv6 still serves IPv4 (and vice versa). */
static int port_open_sockets(struct secure_port *sp, const struct tunnel_config *c)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	int err = -EAFNOSUPPORT, e;

	for (int i = 0; i < 2; i++) {
		if (c->local.family != AF_UNSPEC && c->local.family != families[i])
			continue;
		sp->fd[i] = sock_open_udp(families[i], &c->local, c->port, c->device);
		if (sp->fd[i] < 0) {
			err = sp->fd[i];
			sp->fd[i] = -1;
			if (c->local.family == AF_UNSPEC && (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL))
				continue;
			return err;
		}
		/* Runs of datagrams arrive in one buffer where the kernel can;
		 * without it they come one by one, which works as well. */
		if ((e = sock_enable_udp_gro(sp->fd[i])) != 0)
			log_debug("port %u: no UDP GRO (%s)", c->port, strerror(-e));
		ev_io_init(&sp->io[i], port_read_cb, sp->fd[i], EV_READ);
		sp->io[i].data = sp;
		ev_io_start(sp->d->loop, &sp->io[i]);
	}
	return sp->fd[0] >= 0 || sp->fd[1] >= 0 ? 0 : err;
}

struct secure_port *secure_port_get(struct gresecd *d, const struct tunnel_config *c, int *err)
{
	struct secure_port *sp;

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
	sp->fd[0] = sp->fd[1] = -1;
	snprintf(sp->device, sizeof(sp->device), "%s", c->device);
	sp->rl = calloc(1, sizeof(*sp->rl));
	sp->scratch = sodium_malloc(sizeof(*sp->scratch));
	if (!sp->rl || !sp->scratch) {
		*err = -ENOMEM;
		goto fail;
	}
	ratelimiter_init(sp->rl);
	memset(sp->scratch, 0, sizeof(*sp->scratch));
	if ((*err = port_open_sockets(sp, c)) != 0)
		goto fail;
	sp->refs = 1;
	sp->next = d->secure_ports;
	d->secure_ports = sp;
	return sp;
fail:
	port_free(d, sp);
	return NULL;
}

void secure_port_put(struct gresecd *d, struct secure_port *sp)
{
	if (!sp || --sp->refs > 0)
		return;
	for (struct secure_port **pp = &d->secure_ports; *pp; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	port_free(d, sp);
}
