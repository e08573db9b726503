/* daemon/tunnel.c: a tunnel's interface and its mode-independent data path. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/secure.h"
#include "daemon/secure_tx.h"
#include "daemon/tunnel.h"
#include "tunnel/inet.h"
#include "tunnel/gro.h"
#include "tunnel/offload.h"
#include "tunnel/tun.h"
#include "tunnel/wire.h"

enum { TUN_BURST = 64 };

const char *drop_reason_name(enum drop_reason r)
{
	static const char *const names[DROP_REASON_MAX] = {
		[DROP_UNKNOWN_SOURCE] = "unknown_source",
		[DROP_BAD_LENGTH] = "bad_length",
		[DROP_BAD_TYPE] = "bad_type",
		[DROP_BAD_MAC] = "bad_mac",
		[DROP_REPLAY] = "replay",
		[DROP_DECRYPT] = "decrypt",
		[DROP_NO_SESSION] = "no_session",
		[DROP_RATE_LIMITED] = "rate_limited",
		[DROP_HANDSHAKE] = "handshake",
		[DROP_TX_ERROR] = "tx_error",
		[DROP_TUN_ERROR] = "tun_error",
		[DROP_INNER_MALFORMED] = "inner_malformed",
		[DROP_IP_MALFORMED] = "ip_malformed",
		[DROP_IP_FRAGMENT] = "ip_fragment",
		[DROP_IP_NOT_GRE] = "ip_not_gre",
		[DROP_IP_ADDRESS] = "ip_wrong_address",
	};
	return (unsigned)r < DROP_REASON_MAX ? names[r] : "unknown";
}

static void gre_params_from_config(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	uint32_t next_seq = t->gre_tx.next_seq;

	memset(&t->gre_tx, 0, sizeof(t->gre_tx));
	t->gre_tx.csum = c->checksum;
	t->gre_tx.has_key = c->has_okey;
	t->gre_tx.key = c->okey;
	t->gre_tx.seq = c->sequence;
	t->gre_tx.next_seq = next_seq ? next_seq : 1; /* Linux ip_gre numbers from 1 */

	memset(&t->gre_rx, 0, sizeof(t->gre_rx));
	t->gre_rx.csum_required = c->checksum;
	t->gre_rx.has_key = c->has_ikey;
	t->gre_rx.key = c->ikey;
	t->gre_rx.seq_required = c->sequence;
	t->gre_rx.keepalive_enabled = c->keepalive_interval > 0;
}

static const struct ip_addr *peer_for(const struct tunnel_config *c, int family)
{
	if (c->type != TUNNEL_TYPE_GRE)
		return NULL;
	for (size_t i = 0; i < c->n_peer_addresses; i++)
		if (c->peer_addresses[i].family == family)
			return &c->peer_addresses[i];
	return NULL;
}

static const char *prefix_str(const struct ip_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->addr.family, p->addr.u.bytes, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

static int tunnel_add_address(struct tunnel *t, const struct ip_prefix *a)
{
	char buf[64];
	int err = nl_addr_add(&t->d->nl, t->ifindex, a, peer_for(&t->cfg, a->addr.family));

	if (err && err != -EEXIST) {
		log_err("tunnel \"%s\": cannot add address %s: %s", t->cfg.name,
			prefix_str(a, buf, sizeof(buf)), strerror(-err));
		return err;
	}
	return 0;
}

static int tunnel_add_route(struct tunnel *t, const struct ip_prefix *r)
{
	char buf[64];
	int err = nl_route_add(&t->d->nl, t->ifindex, r, 0);

	if (err && err != -EEXIST) {
		log_err("tunnel \"%s\": cannot add route %s: %s", t->cfg.name,
			prefix_str(r, buf, sizeof(buf)), strerror(-err));
		return err;
	}
	return 0;
}

static int tunnel_configure_link(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	int err;

	err = nl_link_set(&t->d->nl, t->ifindex, t->mtu, true);
	if (err) {
		log_err("tunnel \"%s\": cannot set MTU %u and bring %s up: %s", c->name, t->mtu,
			t->ifname, strerror(-err));
		return err;
	}
	/* The kernel gives the link its IPv6 link-local address itself (TUN:
	 * addrgenmode random; TAP: from the MAC), as OSPFv3 needs. */
	for (size_t i = 0; i < c->n_addresses; i++)
		if ((err = tunnel_add_address(t, &c->addresses[i])))
			return err;
	for (size_t i = 0; i < c->n_routes; i++)
		if ((err = tunnel_add_route(t, &c->routes[i])))
			return err;
	return 0;
}

/* With a virtio header (TSO on a TUN) the packet is read 10 bytes early,
 * so that once the header is pulled the IP packet sits at PKT_HEADROOM. */
static ssize_t tunnel_tun_read(struct tunnel *t, struct pkt *p)
{
	size_t start = t->vnet ? PKT_HEADROOM - VNET_HDR_LEN : PKT_HEADROOM;
	ssize_t n = read(t->tun_fd, p->buf + start, sizeof(p->buf) - start - PKT_TAILROOM);

	if (n < 0)
		return -errno;
	p->off = start;
	p->len = (size_t)n;
	return n;
}

ssize_t tunnel_tun_write(struct tunnel *t, struct pkt *p)
{
	if (t->vnet && offload_prepend_vnet_none(p) != 0)
		return -ENOBUFS;
	return tun_write(t->tun_fd, p);
}

/* One packet read from the interface into slot `at` of the burst: split
 * (TSO) into segments that follow it in the burst, encapsulate each, and
 * keep the ready ones at the front.  Returns the new number queued. */
static unsigned tunnel_take_read(struct tunnel *t, unsigned queued, uint64_t now)
{
	struct gresecd *d = t->d;
	struct pkt *read_buf = d->tun_pkt, *spare = d->tx_pkts[queued];
	int k = 1;

	if (t->vnet) {
		k = offload_segment(read_buf, &d->tx_pkts[queued], TX_BATCH - queued);
		if (k == -ENOBUFS && queued) {
			tunnel_transmit(t, d->tx_pkts, queued);
			queued = 0;
			spare = d->tx_pkts[0];
			k = offload_segment(read_buf, &d->tx_pkts[0], TX_BATCH);
		}
		if (k < 0) {
			t->ctr.drops[DROP_INNER_MALFORMED]++;
			log_ratelimited(&t->rl, LOG_LEVEL_DEBUG, "tunnel \"%s\": cannot segment a packet: %s",
					t->cfg.name, strerror(-k));
			return queued;
		}
		/* Done in place: the read buffer joined the burst, its slot's
		 * buffer becomes the next read buffer. */
		if (d->tx_pkts[queued] == read_buf)
			d->tun_pkt = spare;
	}
	unsigned end = queued + (unsigned)k;
	for (unsigned j = queued; j < end; j++)
		if (tunnel_output(t, d->tx_pkts[j], now) == 0) {
			struct pkt *tmp = d->tx_pkts[queued];

			d->tx_pkts[queued++] = d->tx_pkts[j];
			d->tx_pkts[j] = tmp;
		}
	return queued;
}

static void tunnel_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tunnel *t = w->data;
	struct gresecd *d = t->d;
	unsigned queued = 0;
	uint64_t now = gresecd_now_ns();    /* one clock read per burst */

	(void)loop; (void)revents;
	/* Drain a bounded burst per wake-up so one busy tunnel cannot starve the
	 * rest, and hand the burst to the underlay in one system call. */
	for (int i = 0; i < TUN_BURST; i++) {
		struct pkt *p = t->vnet ? d->tun_pkt : d->tx_pkts[queued];
		ssize_t n = tunnel_tun_read(t, p);

		if (n < 0) {
			if (n != -EAGAIN && n != -EINTR)
				log_ratelimited(&t->rl, LOG_LEVEL_WARN, "tunnel \"%s\": read from %s: %s",
						t->cfg.name, t->ifname, strerror((int)-n));
			break;
		}
		if (n == 0)
			continue;
		if (t->vnet)
			queued = tunnel_take_read(t, queued, now);
		else if (tunnel_output(t, p, now) == 0)
			queued++;
		if (queued == TX_BATCH) {
			tunnel_transmit(t, d->tx_pkts, queued);
			queued = 0;
		}
	}
	if (queued)
		tunnel_transmit(t, d->tx_pkts, queued);
}

/* L3 tunnels take TCP segmentation offload from the kernel when it has it. */
static int tunnel_open_device(struct tunnel *t, const struct tunnel_config *cfg)
{
	int fd;

	if (cfg->type == TUNNEL_TYPE_GRE) {
		fd = tun_open_flags(cfg->name, false, IFF_VNET_HDR, t->ifname);
		if (fd >= 0) {
			int err = tun_enable_offload(fd);

			if (err == 0) {
				t->vnet = true;
				return fd;
			}
			log_debug("tunnel \"%s\": no TUN offload (%s), reading packet by packet",
				  cfg->name, strerror(-err));
			close(fd);
		}
	}
	return tun_open(cfg->name, cfg->type == TUNNEL_TYPE_GRETAP, t->ifname);
}

int tunnel_create(struct gresecd *d, const struct tunnel_config *cfg, struct tunnel **out)
{
	struct tunnel *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->d = d;
	t->cfg = *cfg;
	t->tun_fd = -1;
	t->mtu = cfg->mtu ? cfg->mtu : conf_default_mtu(cfg);
	t->carrier = true;
	gre_params_from_config(t);

	t->tun_fd = tunnel_open_device(t, cfg);
	if (t->tun_fd < 0) {
		err = t->tun_fd;
		log_err("tunnel \"%s\": cannot create %s interface: %s%s", cfg->name,
			cfg->type == TUNNEL_TYPE_GRETAP ? "TAP" : "TUN", strerror(-err),
			err == -EEXIST ? " (an interface of another kind has that name)" : "");
		free(t);
		return err;
	}
	t->ifindex = (int)if_nametoindex(t->ifname);
	if (t->ifindex == 0) {
		err = -errno;
		log_err("tunnel \"%s\": interface %s vanished: %s", cfg->name, t->ifname, strerror(errno));
		goto fail;
	}
	/* A secure tunnel's carrier stays off until a handshake proves the
	 * peer (secure_start): turned off before the link goes up, that is
	 * no event for the kernel, where turning it off on an up link makes
	 * it walk its IPv6 routes (a cost that grows with the interfaces). */
	if (cfg->mode == TUNNEL_MODE_SECURE && tun_set_carrier(t->tun_fd, false) == 0)
		t->carrier = false;
	if ((err = tunnel_configure_link(t)))
		goto fail;

	if (cfg->mode == TUNNEL_MODE_PLAIN)
		err = plain_start(t);
	else
		err = secure_start(t);
	if (err)
		goto fail;

	ev_io_init(&t->tun_watcher, tunnel_read_cb, t->tun_fd, EV_READ);
	t->tun_watcher.data = t;
	ev_io_start(d->loop, &t->tun_watcher);

	log_info("tunnel \"%s\": %s %s interface %s up, mtu %u", cfg->name, conf_mode_name(cfg->mode),
		 conf_type_name(cfg->type), t->ifname, t->mtu);
	*out = t;
	return 0;
fail:
	close(t->tun_fd);
	free(t);
	return err;
}

int tunnel_release(struct tunnel *t)
{
	int fd;

	if (!t)
		return -1;
	ev_io_stop(t->d->loop, &t->tun_watcher);
	if (t->cfg.mode == TUNNEL_MODE_PLAIN)
		plain_stop(t);
	else
		secure_stop(t);
	fd = t->tun_fd;
	log_info("tunnel \"%s\": interface %s removed", t->cfg.name, t->ifname);
	free(t);
	return fd;
}

void tunnel_destroy(struct tunnel *t)
{
	int fd = tunnel_release(t);

	/* A non-persistent TUN/TAP disappears with its last fd, and with it every
	 * address and route the daemon put on it. */
	if (fd >= 0)
		close(fd);
}

static bool prefix_in(const struct ip_prefix *p, const struct ip_prefix *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].len == p->len && set[i].addr.family == p->addr.family &&
		    memcmp(set[i].addr.u.bytes, p->addr.u.bytes, sizeof(p->addr.u.bytes)) == 0)
			return true;
	return false;
}

/* Settings that only touch the interface or per-packet options are changed
 * in place so the tunnel (and a secure session) survives the reload. */
int tunnel_update(struct tunnel *t, const struct tunnel_config *cfg)
{
	struct tunnel_config probe = *cfg;
	const struct tunnel_config *old = &t->cfg;
	uint32_t mtu;
	int err;

	/* Whatever is not listed here needs a new interface or session. */
	memcpy(probe.description, old->description, sizeof(probe.description));
	probe.mtu = old->mtu;
	probe.ttl = old->ttl;
	probe.clamp_mss = old->clamp_mss;
	memcpy(probe.addresses, old->addresses, sizeof(probe.addresses));
	probe.n_addresses = old->n_addresses;
	memcpy(probe.peer_addresses, old->peer_addresses, sizeof(probe.peer_addresses));
	probe.n_peer_addresses = old->n_peer_addresses;
	memcpy(probe.routes, old->routes, sizeof(probe.routes));
	probe.n_routes = old->n_routes;
	probe.persistent_keepalive = old->persistent_keepalive;
	probe.gre_local = old->gre_local;
	probe.gre_remote = old->gre_remote;
	probe.keepalive_interval = old->keepalive_interval;
	probe.keepalive_retries = old->keepalive_retries;
	if (!conf_tunnel_equal(&probe, old))
		return -EAGAIN;

	mtu = cfg->mtu ? cfg->mtu : conf_default_mtu(cfg);
	if (mtu != t->mtu) {
		if ((err = nl_link_set(&t->d->nl, t->ifindex, mtu, true))) {
			log_err("tunnel \"%s\": cannot set MTU %u: %s", cfg->name, mtu, strerror(-err));
			return err;
		}
		t->mtu = mtu;
	}
	/* Addresses: drop the ones that went (or whose peer changed), add the new. */
	bool peers_changed = old->n_peer_addresses != cfg->n_peer_addresses ||
		memcmp(old->peer_addresses, cfg->peer_addresses, sizeof(cfg->peer_addresses)) != 0;
	for (size_t i = 0; i < old->n_addresses; i++)
		if (peers_changed || !prefix_in(&old->addresses[i], cfg->addresses, cfg->n_addresses))
			nl_addr_del(&t->d->nl, t->ifindex, &old->addresses[i],
				    peer_for(old, old->addresses[i].addr.family));
	for (size_t i = 0; i < old->n_routes; i++)
		if (!prefix_in(&old->routes[i], cfg->routes, cfg->n_routes))
			nl_route_del(&t->d->nl, t->ifindex, &old->routes[i], 0);

	t->cfg = *cfg;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if ((err = tunnel_add_address(t, &cfg->addresses[i])))
			return err;
	for (size_t i = 0; i < cfg->n_routes; i++)
		if ((err = tunnel_add_route(t, &cfg->routes[i])))
			return err;
	gre_params_from_config(t);
	if (cfg->mode == TUNNEL_MODE_PLAIN)
		plain_keepalive_reset(t);
	else
		secure_update(t);
	log_info("tunnel \"%s\": updated in place", cfg->name);
	return 0;
}

int tunnel_outer_ttl(const struct tunnel *t, const struct pkt *p)
{
	size_t gre = gre_header_len(&t->gre_tx);
	const uint8_t *h = p->buf + p->off + gre;
	size_t inner = p->len > gre ? p->len - gre : 0;

	if (t->cfg.ttl)
		return t->cfg.ttl;
	if (t->cfg.type == TUNNEL_TYPE_GRE && inner >= IPV6_HDR_LEN && (h[0] >> 4) == 6)
		return h[7];
	if (t->cfg.type == TUNNEL_TYPE_GRE && inner >= IPV4_HDR_LEN && (h[0] >> 4) == 4)
		return h[8];
	return 64;
}

void tunnel_set_carrier(struct tunnel *t, bool on)
{
	int err;

	if (t->carrier == on)
		return;
	err = tun_set_carrier(t->tun_fd, on);
	if (err) {
		log_warn("tunnel \"%s\": cannot set carrier %s: %s", t->cfg.name, on ? "on" : "off",
			 strerror(-err));
		return;
	}
	t->carrier = on;
	log_notice("tunnel \"%s\": peer %s, carrier %s", t->cfg.name, on ? "alive" : "lost",
		   on ? "up" : "down");
}

int tunnel_output(struct tunnel *t, struct pkt *p, uint64_t now)
{
	uint16_t proto;

	p->inner_len = p->len;
	if (t->cfg.type == TUNNEL_TYPE_GRETAP) {
		proto = GRE_PROTO_TEB;
	} else {
		switch (p->len ? pkt_data(p)[0] >> 4 : 0) {
		case 4: proto = GRE_PROTO_IPV4; break;
		case 6: proto = GRE_PROTO_IPV6; break;
		default:
			t->ctr.drops[DROP_INNER_MALFORMED]++;
			return -EINVAL;
		}
		if (t->cfg.clamp_mss)
			inet_clamp_mss(pkt_data(p), p->len, proto,
				       inet_mss_for_mtu(t->mtu, proto == GRE_PROTO_IPV4 ? AF_INET : AF_INET6));
	}
	/* Whatever its size: the underlay fragments what does not fit the
	 * path (tunnel/sock.c, set_pmtu_mode). */
	if (gre_encap(p, &t->gre_tx, proto) != 0) {
		t->ctr.drops[DROP_BAD_LENGTH]++;
		return -ENOBUFS;
	}
	if (t->cfg.mode == TUNNEL_MODE_SECURE)
		return secure_seal(t, p, now);
	return 0;
}

void tunnel_transmit(struct tunnel *t, struct pkt **pkts, unsigned n)
{
	if (t->cfg.mode == TUNNEL_MODE_PLAIN)
		plain_transmit(t, pkts, n);
	else
		secure_transmit(t, pkts, n, gresecd_now_ns());
}

void tunnel_count_tx(struct tunnel *t, struct pkt **pkts, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (pkts[k]->inner_len == 0) {
			t->ctr.keepalives_sent++; /* secure mode's empty data message */
			continue;
		}
		t->ctr.tx_packets++;
		t->ctr.tx_bytes += pkts[k]->inner_len;
	}
}

unsigned tunnel_sendmmsg(struct tunnel *t, int fd, struct pkt **pkts, unsigned n,
			 const union sockaddr_inet *dst, const int *ttl)
{
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iov[TX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[TX_BATCH];
	unsigned i, sent = 0;

	if (n > TX_BATCH)
		n = TX_BATCH;
	memset(msgs, 0, n * sizeof(msgs[0]));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = pkt_data(pkts[i]);
		iov[i].iov_len = pkts[i]->len;
		msgs[i].msg_hdr.msg_name = (void *)&dst->sa;
		msgs[i].msg_hdr.msg_namelen = sockaddr_len(dst);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		if (ttl) {
			struct cmsghdr *cm;

			memset(ctl[i].buf, 0, sizeof(ctl[i].buf));
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
			cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = dst->sa.sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
			cm->cmsg_type = dst->sa.sa_family == AF_INET6 ? IPV6_HOPLIMIT : IP_TTL;
			memcpy(CMSG_DATA(cm), &ttl[i], sizeof(int));
		}
	}
	for (i = 0; i < n;) {
		int r = sendmmsg(fd, msgs + i, n - i, MSG_DONTWAIT);

		if (r > 0) {
			tunnel_count_tx(t, pkts + i, (unsigned)r);
			i += (unsigned)r;
			sent += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* sendmmsg stops at the first packet the kernel refuses: count
		 * that one, then go on with the rest. */
		t->ctr.drops[DROP_TX_ERROR]++;
		log_ratelimited(&t->rl, LOG_LEVEL_WARN, "tunnel \"%s\": send to peer: %s",
				t->cfg.name, strerror(errno));
		if (errno == EAGAIN || errno == ENOBUFS) {
			/* The socket is full: the rest of the burst would fail too. */
			t->ctr.drops[DROP_TX_ERROR] += n - i - 1;
			break;
		}
		i++;
	}
	return sent;
}

void tunnel_gre_input(struct tunnel *t, struct pkt *p)
{
	uint16_t proto = 0;
	enum gre_result r = gre_decap(p, &t->gre_rx, &proto);

	if (r == GRE_KEEPALIVE) {
		plain_keepalive_reply(t);
		return;
	}
	if (r != GRE_OK) {
		t->ctr.gre_drops[r]++;
		log_ratelimited(&t->rl, LOG_LEVEL_DEBUG, "tunnel \"%s\": dropped GRE packet: %s",
				t->cfg.name, gre_result_name(r));
		return;
	}
	if (t->cfg.type == TUNNEL_TYPE_GRETAP) {
		if (proto != GRE_PROTO_TEB || p->len < ETH_HDR_LEN) {
			t->ctr.drops[DROP_INNER_MALFORMED]++;
			return;
		}
	} else {
		size_t ip_len;

		if (proto == GRE_PROTO_TEB || inet_packet_len(pkt_data(p), p->len, proto, &ip_len) != 0) {
			t->ctr.drops[DROP_INNER_MALFORMED]++;
			return;
		}
		/* Secure mode pads the GRE packet to 16 bytes; the IP length says where it ends. */
		p->len = ip_len;
		if (t->cfg.mode == TUNNEL_MODE_PLAIN ? plain_reflect_keepalive(t, p, proto) :
						       secure_reflect_keepalive(t, p, proto))
			return;
	}
	if (!t->vnet) {
		if (tunnel_tun_write(t, p) < 0) {
			t->ctr.drops[DROP_TUN_ERROR]++;
			return;
		}
		t->ctr.rx_packets++;
		t->ctr.rx_bytes += p->len;
		return;
	}
	/* TUN with offloads: TCP segments of one flow in this receive batch are
	 * coalesced into one write (GRO); tunnel_rx_flush() writes the batch. */
	struct gresecd *d = t->d;

	if (t->gro_gen != d->rx_gen) {
		gro_init(&t->gro);
		t->gro_gen = d->rx_gen;
	}
	t->ctr.rx_bytes += p->len;
	if (gro_offer(&t->gro, p))
		return;
	d->rx_pending[d->n_rx_pending].t = t;
	d->rx_pending[d->n_rx_pending].p = p;
	/* A batch of coalesced (UDP GRO) buffers can hold more datagrams than
	 * the table: write what is pending and start over. */
	if (++d->n_rx_pending == RX_BATCH)
		tunnel_rx_flush(d);
}

bool tunnel_rx_holds(const struct gresecd *d, const struct pkt *p)
{
	return d->n_rx_pending && d->rx_pending[d->n_rx_pending - 1].p == p;
}

void tunnel_rx_flush(struct gresecd *d)
{
	for (unsigned i = 0; i < d->n_rx_pending; i++) {
		struct tunnel *t = d->rx_pending[i].t;
		struct pkt *p = d->rx_pending[i].p;
		int n = gro_finish(&t->gro, p);

		if (n < 0 || tun_write(t->tun_fd, p) < 0) {
			t->ctr.drops[DROP_TUN_ERROR] += n > 0 ? (uint64_t)n : 1;
			continue;
		}
		t->ctr.rx_packets += (uint64_t)n;
	}
	d->n_rx_pending = 0;
	d->n_rx_seg_held = 0;
	d->rx_gen++;
}
