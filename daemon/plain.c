/* daemon/plain.c: plain GRE over IP protocol 47, as Linux ip_gre and
 * FreeBSD gre(4) speak it.
 *
 * One raw socket per (family, local address, device) is shared by the plain
 * tunnels that use it; received packets are handed to the tunnel whose
 * remote is the source (and, among several, whose key matches), the way the
 * kernel looks up its GRE tunnels.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/plain.h"
#include "daemon/tunnel.h"
#include "tunnel/gre.h"
#include "tunnel/inet.h"
#include "tunnel/wire.h"

/* ---- demultiplexing: by hash, not by scanning the tunnels ---- */

/* The tunnels of a socket with one remote: where a packet whose key no
 * tunnel has is counted (the kernel's ip_gre counts it on the link too),
 * on the first of them: the list is in the order they came up, which at
 * start is the file's, as `gresec show` lists them. */
struct plain_src {
	struct ip_addr addr;
	struct tunnel *tunnels;      /* linked by src_next / src_prev */
	struct tunnel *last;
	struct plain_src *prev, *next;
};

/* What the tables hash: address family and bytes (all by_src hashes),
 * then the key (by_key hashes the whole). */
struct demux_key {
	uint8_t family;
	uint8_t addr[16];
	uint8_t has_key;
	uint8_t pad[2];
	uint32_t key;
};

static void key_of_ip(struct demux_key *k, const struct ip_addr *ip, bool has_key, uint32_t key)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)ip->family;
	memcpy(k->addr, ip->u.bytes, ip->family == AF_INET ? 4 : 16);
	k->has_key = has_key;
	k->key = has_key ? key : 0;
}

static bool key_of_sockaddr(struct demux_key *k, const union sockaddr_inet *sa, bool has_key,
			    uint32_t key)
{
	struct ip_addr ip = { .family = sa->sa.sa_family };

	if (sa->sa.sa_family == AF_INET)
		memcpy(ip.u.bytes, &sa->in.sin_addr, 4);
	else if (sa->sa.sa_family == AF_INET6)
		memcpy(ip.u.bytes, &sa->in6.sin6_addr, 16);
	else
		return false;
	key_of_ip(k, &ip, has_key, key);
	return true;
}

static uint64_t hash_full(const struct hashtab *h, const struct demux_key *k)
{
	return hashtab_hash(h, k, sizeof(*k));
}

/* The source alone: the key fields are left out. */
static uint64_t hash_src(const struct hashtab *h, const struct demux_key *k)
{
	return hashtab_hash(h, k, offsetof(struct demux_key, has_key));
}

static bool tunnel_key_match(const void *value, const void *key)
{
	const struct tunnel *t = value;
	const struct demux_key *k = key;
	struct demux_key tk;

	key_of_ip(&tk, &t->cfg.remote, t->cfg.has_ikey, t->cfg.ikey);
	return memcmp(&tk, k, sizeof(tk)) == 0;
}

static bool src_match(const void *value, const void *key)
{
	const struct plain_src *ps = value;
	const struct demux_key *k = key;
	struct demux_key sk;

	key_of_ip(&sk, &ps->addr, false, 0);
	return sk.family == k->family && memcmp(sk.addr, k->addr, sizeof(sk.addr)) == 0;
}

/* A source with no tunnel left: out of the table and the list, freed. */
static void source_free(struct gre_socket *gs, struct plain_src *ps, const struct demux_key *k)
{
	hashtab_remove(&gs->by_src, hash_src(&gs->by_src, k), ps);
	if (ps->prev)
		ps->prev->next = ps->next;
	else
		gs->sources = ps->next;
	if (ps->next)
		ps->next->prev = ps->prev;
	free(ps);
}

static int demux_add(struct gre_socket *gs, struct tunnel *t)
{
	struct demux_key k;
	struct plain_src *ps;

	key_of_ip(&k, &t->cfg.remote, t->cfg.has_ikey, t->cfg.ikey);
	ps = hashtab_find(&gs->by_src, hash_src(&gs->by_src, &k), src_match, &k);
	if (!ps) {
		if (!(ps = calloc(1, sizeof(*ps))))
			return -ENOMEM;
		ps->addr = t->cfg.remote;
		if (hashtab_insert(&gs->by_src, hash_src(&gs->by_src, &k), ps) != 0) {
			free(ps);
			return -ENOMEM;
		}
		ps->next = gs->sources;
		if (gs->sources)
			gs->sources->prev = ps;
		gs->sources = ps;
	}
	if (hashtab_insert(&gs->by_key, hash_full(&gs->by_key, &k), t) != 0) {
		if (!ps->tunnels)
			source_free(gs, ps, &k);
		return -ENOMEM;
	}
	t->psrc = ps;
	t->src_next = NULL;
	t->src_prev = ps->last;
	if (ps->last)
		ps->last->src_next = t;
	else
		ps->tunnels = t;
	ps->last = t;
	return 0;
}

static void demux_del(struct gre_socket *gs, struct tunnel *t)
{
	struct plain_src *ps = t->psrc;
	struct demux_key k;

	if (!ps)
		return;
	key_of_ip(&k, &t->cfg.remote, t->cfg.has_ikey, t->cfg.ikey);
	hashtab_remove(&gs->by_key, hash_full(&gs->by_key, &k), t);
	if (t->src_prev)
		t->src_prev->src_next = t->src_next;
	else
		ps->tunnels = t->src_next;
	if (t->src_next)
		t->src_next->src_prev = t->src_prev;
	else
		ps->last = t->src_prev;
	t->psrc = NULL;
	t->src_next = t->src_prev = NULL;
	if (!ps->tunnels)
		source_free(gs, ps, &k);
}

/* The key a GRE header carries, for choosing among tunnels that share a
 * peer; the codec validates the header fully afterwards. */
static bool peek_key(const struct pkt *p, uint32_t *key)
{
	const uint8_t *h = p->buf + p->off;
	uint16_t flags;
	size_t off = GRE_BASE_LEN;

	if (p->len < GRE_BASE_LEN)
		return false;
	flags = load_be16(h);
	if (!(flags & GRE_FLAG_K))
		return false;
	if (flags & GRE_FLAG_C)
		off += GRE_OPT_LEN;
	if (p->len < off + GRE_OPT_LEN)
		return false;
	*key = load_be32(h + off);
	return true;
}

/* The tunnel whose remote is the source and whose key the packet carries
 * (or that has none, as the packet); else a tunnel of that source, which
 * counts the key mismatch; else NULL.  Two hash lookups at most. */
static struct tunnel *plain_lookup(struct gre_socket *gs, const union sockaddr_inet *src,
				   const struct pkt *p)
{
	uint32_t key = 0;
	bool has_key = peek_key(p, &key);
	struct demux_key k;
	struct tunnel *t;
	struct plain_src *ps;

	if (!key_of_sockaddr(&k, src, has_key, key))
		return NULL;
	t = hashtab_find(&gs->by_key, hash_full(&gs->by_key, &k), tunnel_key_match, &k);
	if (t)
		return t;
	ps = hashtab_find(&gs->by_src, hash_src(&gs->by_src, &k), src_match, &k);
	return ps ? ps->tunnels : NULL;
}

static void plain_keepalive_input(struct tunnel *t, struct pkt *p);

static void gre_socket_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gre_socket *gs = w->data;
	struct gresecd *d = gs->d;
	int n;

	(void)loop; (void)revents;
	n = sock_recv_batch(gs->fd, d->rx_pkts, d->rx_src, RX_BATCH);
	d->rx_now = gresecd_now_ns();   /* one clock read per batch: the peers' last_rx */
	if (n <= 0) {
		/* Nothing read, or the errno of an ICMP error about one of our
		 * packets (IPv6 sockets take them, tunnel/sock.c): the kernel
		 * has acted on it already ("packet too big" lowers the path MTU
		 * it fragments to).  Empty the error queue, which wakes us too. */
		int errors = sock_drain_errors(gs->fd);

		if (n < 0 && n != -EINTR && errors <= 0)
			log_warn("raw GRE socket: receive: %s", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		struct pkt *p = d->rx_pkts[i];
		struct tunnel *t;

		/* IPv4 raw sockets hand over the outer IP header; IPv6 ones do not. */
		if (gs->family == AF_INET && sock_strip_ipv4_header(p) != 0) {
			gs->unknown_source++;
			continue;
		}
		t = plain_lookup(gs, &d->rx_src[i], p);
		if (!t) {
			gs->unknown_source++;
			/* Count it on a tunnel of this socket too, so `gresec show` tells. */
			if (gs->sources)
				gs->sources->tunnels->ctr.drops[DROP_UNKNOWN_SOURCE]++;
			continue;
		}
		if (gs->keepalive_only)
			plain_keepalive_input(t, p);
		else
			tunnel_gre_input(t, p);
	}
	tunnel_rx_flush(d);
}

struct gre_socket *gre_socket_get(struct gresecd *d, int family, const struct ip_addr *local,
				  const char *device, const struct ip_addr *remote, int *err)
{
	struct gre_socket *gs;

	for (gs = d->gre_sockets; gs; gs = gs->next)
		if (gs->family == family && ip_addr_equal(&gs->local, local) &&
		    strcmp(gs->device, device) == 0 && gs->keepalive_only == (remote != NULL) &&
		    (!remote || ip_addr_equal(&gs->remote, remote))) {
			gs->refs++;
			return gs;
		}
	gs = calloc(1, sizeof(*gs));
	if (!gs) {
		*err = -ENOMEM;
		return NULL;
	}
	gs->fd = remote ? sock_open_gre_keepalive(local, remote, device) :
			  sock_open_gre(family, local, device);
	if (gs->fd < 0) {
		*err = gs->fd;
		free(gs);
		return NULL;
	}
	gs->d = d;
	hashtab_init(&gs->by_key);
	hashtab_init(&gs->by_src);
	gs->family = family;
	gs->local = *local;
	gs->keepalive_only = remote != NULL;
	if (remote)
		gs->remote = *remote;
	snprintf(gs->device, sizeof(gs->device), "%s", device);
	gs->refs = 1;
	ev_io_init(&gs->watcher, gre_socket_read_cb, gs->fd, EV_READ);
	gs->watcher.data = gs;
	ev_io_start(d->loop, &gs->watcher);
	gs->next = d->gre_sockets;
	d->gre_sockets = gs;
	return gs;
}

void gre_socket_put(struct gresecd *d, struct gre_socket *gs)
{
	struct gre_socket **pp;

	if (!gs || --gs->refs > 0)
		return;
	for (pp = &d->gre_sockets; *pp; pp = &(*pp)->next)
		if (*pp == gs) {
			*pp = gs->next;
			break;
		}
	ev_io_stop(d->loop, &gs->watcher);
	close(gs->fd);
	hashtab_free(&gs->by_key);
	hashtab_free(&gs->by_src);
	free(gs);
}

void plain_transmit(struct tunnel *t, struct pkt **pkts, unsigned n)
{
	int ttl[TX_BATCH], tos[TX_BATCH];

	/* per packet: tunnels share the socket */
	for (unsigned i = 0; i < n && i < TX_BATCH; i++) {
		ttl[i] = tunnel_outer_ttl(t, pkts[i]);
		tos[i] = tunnel_outer_tos(t, pkts[i]);
	}
	tunnel_sendmmsg(t, t->gre_sock->fd, pkts, n, &t->remote, ttl, t->cfg.tos ? tos : NULL);
}

/* One packet outside the data path (keepalives); not counted as traffic. */
int plain_send(struct tunnel *t, struct pkt *p)
{
	if (sendto(t->gre_sock->fd, pkt_data(p), p->len, MSG_DONTWAIT, &t->remote.sa,
		   sockaddr_len(&t->remote)) < 0) {
		int err = errno;

		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name, "send to peer: %s",
			      strerror(err));
		return -err;
	}
	return 0;
}

/* ---- Cisco-compatible keepalives ----
 * We send the peer a GRE packet whose inner IPv4 packet is addressed back to
 * us and carries an empty GRE header of protocol 0; the peer decapsulates
 * and routes it back, so it reaches us as GRE with protocol 0.  Replies prove
 * the peer alive; after keepalive_retries missed ones the carrier goes down
 * so routing daemons withdraw their routes at once. */

/* The peer sends (traffic or its own keepalives) but never returned one of
 * ours: most often a Linux peer dropping the returned packet, whose source
 * is its own address.  Said at the 4th, 8th, 16th ... keepalive sent. */
static void plain_keepalive_hint(const struct tunnel *t)
{
	uint64_t sent = t->ctr.keepalives_sent;

	if (t->ctr.keepalives_received || !(t->ctr.rx_packets || t->ctr.keepalives_reflected) ||
	    sent < 4 || (sent & (sent - 1)))
		return;
	log_tunnel_warn(t->cfg.name,
			"the peer sends (%llu packets received) but returned none of our %llu "
			"keepalives: a Linux peer returns them only with net.ipv4.ip_forward=1, "
			"and net.ipv4.conf.<its GRE interface>.accept_local=1 and rp_filter 0 "
			"or 2 on that interface (other peers: keepalive in gresec.conf(5)); or "
			"set keepalive = 0",
			(unsigned long long)(t->ctr.rx_packets + t->ctr.keepalives_reflected),
			(unsigned long long)sent);
}

static void plain_keepalive_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel *t = w->data;
	struct pkt *p = t->d->tx_pkt;

	(void)loop; (void)revents;
	if (t->keepalive_missed >= t->cfg.keepalive_retries)
		tunnel_set_carrier(t, false);
	else
		t->keepalive_missed++;
	/* The reply comes back through our own receive checks, so its inner GRE
	 * header carries our ikey, and a sequence number when we require them
	 * (gre_decap never orders a keepalive; the number is taken from a copy
	 * of our counter, which stays as it is). */
	struct gre_tx inner = t->gre_tx;

	inner.has_key = t->cfg.has_ikey;
	inner.key = t->cfg.ikey;
	pkt_reset(p);
	if (gre_keepalive_build(p, &inner, t->cfg.local.u.v4, t->cfg.remote.u.v4) != 0 ||
	    gre_encap(p, &t->gre_tx, GRE_PROTO_IPV4) != 0)
		return;
	if (plain_send(t, p) == 0) {
		t->ctr.keepalives_sent++;
		plain_keepalive_hint(t);
	}
}

/* The kernel path's keepalive socket: an IPv4 tunnel always has one, so
 * that the peer's keepalives are answered (the kernel itself would drop
 * them: their inner source is one of ours); without it our own keepalives
 * cannot run.  0 or -errno after logging. */
static int plain_kernel_socket(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	int err = 0;

	if (t->gre_sock || c->remote.family != AF_INET)
		return 0;
	t->gre_sock = gre_socket_get(t->d, AF_INET, &c->local, c->device, &c->remote, &err);
	if (t->gre_sock) {
		/* Tunnels to one peer that differ by key share the socket. */
		if ((err = demux_add(t->gre_sock, t)) == 0)
			return 0;
		gre_socket_put(t->d, t->gre_sock);
		t->gre_sock = NULL;
	}
	log_tunnel_rl(&t->rl, c->keepalive_interval ? LOG_LEVEL_ERR : LOG_LEVEL_WARN, c->name,
		      "cannot open the keepalive socket: %s; %s%s", strerror(-err),
		      c->keepalive_interval ? "no keepalives" :
		      "the peer's keepalives go unanswered",
		      err == -EPERM && t->d->privileges_dropped ?
		      " (after the privilege drop CAP_NET_RAW is kept only when a plain tunnel "
		      "exists at start)" : "");
	return err;
}

void plain_keepalive_reset(struct tunnel *t)
{
	if (t->dp->kind == DATAPATH_KERNEL && plain_kernel_socket(t) != 0 &&
	    t->cfg.keepalive_interval) {
		ev_timer_stop(t->d->loop, &t->keepalive_timer);
		return;
	}
	ev_timer_stop(t->d->loop, &t->keepalive_timer);
	if (t->cfg.keepalive_interval == 0 || t->cfg.local.family != AF_INET) {
		tunnel_set_carrier(t, true);
		return;
	}
	ev_timer_init(&t->keepalive_timer, plain_keepalive_timer_cb, 0.1, (double)t->cfg.keepalive_interval);
	t->keepalive_timer.data = t;
	ev_timer_start(t->d->loop, &t->keepalive_timer);
}

void plain_keepalive_reply(struct tunnel *t)
{
	t->last_rx = t->d->rx_now;
	t->ctr.keepalives_received++;
	t->keepalive_missed = 0;
	tunnel_set_carrier(t, true);
}

/* A peer's keepalive: an inner IPv4 GRE packet from us to the peer.  The
 * kernel would drop it as a martian (its source is ours), so send it back
 * the way a Linux or Cisco GRE interface routes it: as GRE to the peer. */
bool plain_reflect_keepalive(struct tunnel *t, struct pkt *p, uint16_t proto)
{
	size_t gre_off, gre_len;

	if (proto != GRE_PROTO_IPV4 || t->cfg.remote.family != AF_INET ||
	    !gre_keepalive_is_request(pkt_data(p), p->len, t->cfg.local.u.v4, t->cfg.remote.u.v4,
				      &gre_off, &gre_len))
		return false;
	if (sendto(t->gre_sock->fd, pkt_data(p) + gre_off, gre_len, MSG_DONTWAIT, &t->remote.sa,
		   sockaddr_len(&t->remote)) < 0)
		t->ctr.drops[DROP_TX_ERROR]++;
	else
		t->ctr.keepalives_reflected++;
	return true;
}

int plain_start(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	int err = 0;

	t->gre_sock = gre_socket_get(t->d, c->remote.family, &c->local, c->device, NULL, &err);
	if (!t->gre_sock) {
		log_tunnel_err(c->name, "cannot open raw GRE socket: %s%s", strerror(-err),
			       err == -EPERM && t->d->privileges_dropped ?
			       " (after the privilege drop CAP_NET_RAW is kept only when a plain "
			       "tunnel exists at start: restart gresecd to add the first plain "
			       "tunnel)" : "");
		return err;
	}
	if ((err = demux_add(t->gre_sock, t)) != 0) {
		log_tunnel_err(c->name, "out of memory");
		gre_socket_put(t->d, t->gre_sock);
		t->gre_sock = NULL;
		return err;
	}
	sockaddr_from_ip(&t->remote, &c->remote, 0);
	t->has_remote = true;
	ev_init(&t->keepalive_timer, plain_keepalive_timer_cb);
	plain_keepalive_reset(t);
	return 0;
}

int plain_kernel_start(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	int err;

	sockaddr_from_ip(&t->remote, &c->remote, 0);
	t->has_remote = true;
	ev_init(&t->keepalive_timer, plain_keepalive_timer_cb);
	err = plain_kernel_socket(t);
	if (err && c->keepalive_interval)
		return err;     /* liveness was asked for and cannot be had */
	plain_keepalive_reset(t);
	return 0;
}

/* Kernel path: what the keepalive socket's filter let through, the GRE
 * packet without its outer IPv4 header.  The kernel decapsulates the same
 * packet too (and counts it); this only answers keepalives.  Its own key
 * and checksum rules apply, not its sequence state. */
static void plain_keepalive_input(struct tunnel *t, struct pkt *p)
{
	struct gre_rx rx = t->gre_rx;
	uint16_t proto = 0;
	size_t ip_len;
	enum gre_result r;

	rx.seq_required = false;
	rx.keepalive_enabled = true;
	r = gre_decap(p, &rx, &proto);
	if (r == GRE_KEEPALIVE) {
		if (t->cfg.keepalive_interval)
			plain_keepalive_reply(t);
		return;
	}
	if (r != GRE_OK || proto != GRE_PROTO_IPV4 ||
	    inet_packet_len(pkt_data(p), p->len, proto, &ip_len) != 0)
		return;
	p->len = ip_len;
	plain_reflect_keepalive(t, p, proto);
}

void plain_stop(struct tunnel *t)
{
	ev_timer_stop(t->d->loop, &t->keepalive_timer);
	if (t->gre_sock)
		demux_del(t->gre_sock, t);
	gre_socket_put(t->d, t->gre_sock);
	t->gre_sock = NULL;
}
