/* daemon/tunnel.c: a tunnel's interface and its mode-independent data path. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sodium.h>

#include "daemon/daemon.h"
#include "daemon/lifecycle.h"
#include "daemon/log.h"
#include "daemon/plain.h"
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

void tunnel_gre_params(struct tunnel *t)
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

/* The derived MAC: a hash of what makes the tunnel this end of this
 * tunnel.  The same configuration gives the same MAC at every start (so
 * bridges and neighbours' caches keep it), and the two ends of one tunnel
 * get different ones: local and remote are swapped between them, and in
 * secure mode the peer key differs too (local and remote may be unset
 * there).  Nothing of the host goes in (machine-id, MACs of other
 * interfaces): a replaced or reinstalled host with the same configuration
 * keeps the MAC its neighbours know. */
void tunnel_mac(const struct tunnel_config *c, uint8_t mac[6])
{
	static const char domain[] = "gresec gretap mac v1";
	crypto_generichash_state st;
	uint8_t h[16], fam[2];

	if (c->has_mac) {
		memcpy(mac, c->mac, 6);
		return;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, (const uint8_t *)c->name, strlen(c->name) + 1);
	fam[0] = (uint8_t)c->local.family;
	fam[1] = (uint8_t)c->remote.family;
	crypto_generichash_update(&st, fam, sizeof(fam));
	crypto_generichash_update(&st, c->local.u.bytes, sizeof(c->local.u.bytes));
	crypto_generichash_update(&st, c->remote.u.bytes, sizeof(c->remote.u.bytes));
	if (c->mode == TUNNEL_MODE_SECURE)
		crypto_generichash_update(&st, c->peer_public_key, sizeof(c->peer_public_key));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(mac, h, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);   /* locally administered, unicast */
}

int tunnel_configure_link(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	int err;

	err = nl_link_set(&t->d->nl, t->ifindex, t->mtu, true);
	if (err) {
		log_tunnel_err(c->name, "cannot set MTU %u and bring %s up: %s", t->mtu,
			       t->ifname, strerror(-err));
		return err;
	}
	t->down_by_us = false;
	if (c->type == TUNNEL_TYPE_GRETAP) {
		struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
		uint8_t mac[6];

		tunnel_mac(c, mac);
		a.mac = mac;
		if ((err = nl_link_setattrs(&t->d->nl, t->ifindex, &a)))
			log_tunnel_warn(c->name, "cannot set the MAC address of %s: %s", t->ifname,
					strerror(-err));
	}
	/* The kernel gives the link its IPv6 link-local address itself (TUN:
	 * addrgenmode random; TAP: from the MAC), as OSPFv3 needs.  An
	 * address or route the kernel refuses is recorded, not fatal. */
	tunnel_install_items(t, true, false);
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
			log_tunnel_rl(&t->rl, LOG_LEVEL_DEBUG, t->cfg.name,
				      "cannot segment a packet: %s", strerror(-k));
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
	int fatal = 0;
	uint64_t now = gresecd_now_ns();    /* one clock read per burst */

	(void)loop; (void)revents;
	/* Drain a bounded burst per wake-up so one busy tunnel cannot starve the
	 * rest, and hand the burst to the underlay in one system call. */
	for (int i = 0; i < TUN_BURST; i++) {
		struct pkt *p = t->vnet ? d->tun_pkt : d->tx_pkts[queued];
		ssize_t n = tunnel_tun_read(t, p);

		if (n < 0) {
			if (n != -EAGAIN && n != -EINTR)
				fatal = (int)-n;
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
	/* Any other error stays: the fd would be readable again at once (a
	 * device deleted under us reads EBADFD forever).  Stop watching it
	 * and make the tunnel again; nothing else is touched. */
	if (fatal) {
		ev_io_stop(d->loop, &t->tun_watcher);
		if (fatal == EBADFD)    /* the device went, the fd stays: detached */
			tunnel_lost(t, "interface %s was deleted (not by gresecd)", t->ifname);
		else
			tunnel_lost(t, "read from %s: %s", t->ifname, strerror(fatal));
	}
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
			log_tunnel_debug(cfg->name, "no TUN offload (%s), reading packet by packet",
					 strerror(-err));
			close(fd);
		}
	}
	return tun_open(cfg->name, cfg->type == TUNNEL_TYPE_GRETAP, t->ifname);
}

/* ---- the user-space data path: a TUN/TAP device, and the raw GRE socket
 * (plain.c) or the UDP socket (secure_*.c) ---- */

static int user_open(struct tunnel *t)
{
	const struct tunnel_config *cfg = &t->cfg;
	int err;

	t->tun_fd = tunnel_open_device(t, cfg);
	if (t->tun_fd < 0) {
		err = t->tun_fd;
		log_tunnel_err(cfg->name, "cannot create %s interface: %s%s",
			       cfg->type == TUNNEL_TYPE_GRETAP ? "TAP" : "TUN", strerror(-err),
			       err == -EEXIST ? " (an interface of another kind has that name)" :
			       "");
		return err;
	}
	t->ifindex = (int)if_nametoindex(t->ifname);
	if (t->ifindex == 0) {
		err = -errno;
		log_tunnel_err(cfg->name, "interface %s vanished: %s", t->ifname, strerror(errno));
		close(t->tun_fd);
		t->tun_fd = -1;
		return err;
	}
	/* A secure tunnel's carrier stays off until a handshake proves the
	 * peer (secure_start): turned off before the link goes up, that is
	 * no event for the kernel, where turning it off on an up link makes
	 * it walk its IPv6 routes (a cost that grows with the interfaces). */
	if (cfg->mode == TUNNEL_MODE_SECURE && tun_set_carrier(t->tun_fd, false) == 0)
		t->carrier = false;
	if (cfg->mode == TUNNEL_MODE_PLAIN)
		kgre_sink_open(t);
	return 0;
}

static int user_start(struct tunnel *t)
{
	int err = t->cfg.mode == TUNNEL_MODE_PLAIN ? plain_start(t) : secure_start(t);

	if (err)
		return err;
	ev_io_init(&t->tun_watcher, tunnel_read_cb, t->tun_fd, EV_READ);
	t->tun_watcher.data = t;
	ev_io_start(t->d->loop, &t->tun_watcher);
	return 0;
}

static void user_stop(struct tunnel *t)
{
	ev_io_stop(t->d->loop, &t->tun_watcher);
	if (t->cfg.mode == TUNNEL_MODE_PLAIN)
		plain_stop(t);
	else
		secure_stop(t);
}

/* A non-persistent TUN/TAP disappears with its last fd, and with it every
 * address and route the daemon put on it (at shutdown the descriptors
 * are closed together: gresecd_close_tun). */
static void user_close(struct tunnel *t)
{
	kgre_sink_close(t);
	if (t->tun_fd >= 0)
		gresecd_close_tun(t->d, t->tun_fd);
	t->tun_fd = -1;
}

static int user_update(struct tunnel *t, const struct tunnel_config *old)
{
	(void)t; (void)old;     /* TTL, TOS, keys... are read per packet */
	return 0;
}

static int user_set_carrier(struct tunnel *t, bool on)
{
	return tun_set_carrier(t->tun_fd, on);
}

static void user_counters(struct tunnel *t, struct tunnel_counters *c, const struct nl_link_info *k)
{
	(void)k;
	*c = t->ctr;
}

const struct datapath_ops datapath_user = {
	.kind = DATAPATH_USER,
	.name = "user",
	.open = user_open,
	.start = user_start,
	.stop = user_stop,
	.close = user_close,
	.update = user_update,
	.set_carrier = user_set_carrier,
	.counters = user_counters,
};

void tunnel_counters(struct tunnel *t, struct tunnel_counters *c, const struct nl_link_info *k)
{
	t->dp->counters(t, c, k);
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

int tunnel_outer_tos(const struct tunnel *t, const struct pkt *p)
{
	size_t gre = gre_header_len(&t->gre_tx);
	const uint8_t *h = p->buf + p->off + gre;
	size_t inner = p->len > gre ? p->len - gre : 0;

	if (t->cfg.tos > 0)
		return t->cfg.tos;
	if (t->cfg.tos == 0 || t->cfg.type != TUNNEL_TYPE_GRE)
		return -1;
	/* inherit: the inner packet's DSCP; the ECN bits stay 0, since this
	 * end does not carry the outer ECN back into the inner packet. */
	if (inner >= IPV6_HDR_LEN && (h[0] >> 4) == 6)
		return (((h[0] & 0x0f) << 4) | (h[1] >> 4)) & 0xfc;
	if (inner >= IPV4_HDR_LEN && (h[0] >> 4) == 4)
		return h[1] & 0xfc;
	return -1;
}

void tunnel_set_carrier(struct tunnel *t, bool on)
{
	int err;

	if (t->carrier == on)
		return;
	err = t->dp->set_carrier(t, on);
	if (err) {
		log_tunnel_warn(t->cfg.name, "cannot set carrier %s: %s", on ? "on" : "off",
				strerror(-err));
		return;
	}
	t->carrier = on;
	log_tunnel_notice(t->cfg.name, "peer %s, carrier %s", on ? "alive" : "lost",
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
			 const union sockaddr_inet *dst, const int *ttl, const int *tos)
{
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iov[TX_BATCH];
	union {
		char buf[2 * CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[TX_BATCH];
	bool v6 = dst->sa.sa_family == AF_INET6;
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
		if (ttl || (tos && tos[i] >= 0)) {
			struct cmsghdr *cm;
			size_t used = 0;

			memset(ctl[i].buf, 0, sizeof(ctl[i].buf));
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
			cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
			if (ttl) {
				cm->cmsg_len = CMSG_LEN(sizeof(int));
				cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
				cm->cmsg_type = v6 ? IPV6_HOPLIMIT : IP_TTL;
				memcpy(CMSG_DATA(cm), &ttl[i], sizeof(int));
				used += CMSG_SPACE(sizeof(int));
				cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm);
			}
			if (tos && tos[i] >= 0) {
				cm->cmsg_len = CMSG_LEN(sizeof(int));
				cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
				cm->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
				memcpy(CMSG_DATA(cm), &tos[i], sizeof(int));
				used += CMSG_SPACE(sizeof(int));
			}
			msgs[i].msg_hdr.msg_controllen = used;
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
		log_tunnel_rl(&t->rl, LOG_LEVEL_WARN, t->cfg.name, "send to peer: %s",
			      strerror(errno));
		if (errno == EAGAIN || errno == ENOBUFS) {
			/* The socket is full: the rest of the burst would fail too. */
			t->ctr.drops[DROP_TX_ERROR] += n - i - 1;
			break;
		}
		i++;
	}
	return sent;
}

/* The kernel's GRE GRO (net/ipv4/gre_offload.c) merges a run of the
 * peer's GRE packets that carry TCP segments of one flow before a raw
 * socket sees them, whenever the underlay interface does GRO (most NICs,
 * virtio-net): the raw socket then hands over one GRE packet whose inner
 * packet is a TCP "super packet" of up to 64 KB with the kernel's partial
 * checksum (the pseudo-header sum) and, if the tunnel uses GRE checksums,
 * the GRE checksum of its first segment.  Written as an ordinary packet,
 * every such packet would be dropped by the receiving TCP as a checksum
 * error.  It goes to the TUN as what it is, a TSO packet with a partial
 * checksum, in its turn with what this batch holds (the kernel completes
 * the checksum, or splits it when it forwards it); without offloads (a
 * TAP, an old kernel's TUN) it is split here, in segments that fit the
 * tunnel MTU (GRO leaves no trace of the segment size the peer used). */
static void tunnel_gro_input(struct tunnel *t, struct pkt *p, size_t l2, const struct inet_tcp_gro *g)
{
	struct gresecd *d = t->d;
	size_t hlen = g->ip_hlen + g->tcp_hlen, mss = t->mtu > hlen + 8 ? t->mtu - hlen : 0;
	bool tso = mss && g->payload > mss;
	struct pkt *segs[TX_BATCH];
	uint8_t l2hdr[ETH_HDR_LEN], *h;
	int n;

	if (l2) {
		memcpy(l2hdr, pkt_data(p), l2);
		pkt_pull(p, l2);
	}
	h = pkt_push(p, VNET_HDR_LEN);
	if (!h) {
		t->ctr.drops[DROP_INNER_MALFORMED]++;
		return;
	}
	memset(h, 0, VNET_HDR_LEN);
	h[0] = VNET_F_NEEDS_CSUM;
	if (tso) {
		h[1] = g->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
		if (h[VNET_HDR_LEN + g->ip_hlen + 13] & 0x80)
			h[1] |= VNET_GSO_ECN;    /* CWR: on the first segment only */
		h[2] = (uint8_t)hlen;
		h[3] = (uint8_t)(hlen >> 8);
		h[4] = (uint8_t)mss;
		h[5] = (uint8_t)(mss >> 8);
	}
	h[6] = (uint8_t)g->ip_hlen;                 /* csum_start */
	h[8] = 16;                                  /* csum_offset: the TCP checksum */
	t->ctr.rx_bytes += p->len - VNET_HDR_LEN;
	if (t->vnet && !l2) {
		d->rx_pending[d->n_rx_pending].t = t;
		d->rx_pending[d->n_rx_pending].p = p;
		d->rx_pending[d->n_rx_pending].ready = tso ? (unsigned)((g->payload + mss - 1) / mss) : 1;
		if (++d->n_rx_pending == RX_BATCH)
			tunnel_rx_flush(d);
		return;
	}
	/* offload_segment() may put p itself in segs[0]: a copy of the spare list. */
	memcpy(segs, d->tx_pkts, sizeof(segs));
	n = offload_segment(p, segs, TX_BATCH);
	if (n < 0) {
		t->ctr.drops[DROP_INNER_MALFORMED]++;
		return;
	}
	for (int i = 0; i < n; i++) {
		if (l2) {
			uint8_t *e = pkt_push(segs[i], l2);

			if (!e) {
				t->ctr.drops[DROP_INNER_MALFORMED]++;
				continue;
			}
			memcpy(e, l2hdr, l2);
		}
		if (tun_write(t->tun_fd, segs[i]) < 0)
			t->ctr.drops[DROP_TUN_ERROR]++;
		else
			t->ctr.rx_packets++;
	}
}

/* The TCP packet behind an Ethernet header (gretap), if it is a GRO super
 * packet: its link header length, else 0. */
static size_t tap_gro_super(const struct pkt *p, struct inet_tcp_gro *g)
{
	const uint8_t *f = p->buf + p->off;
	uint16_t type;

	if (p->len < ETH_HDR_LEN)
		return 0;
	type = load_be16(f + 12);
	if ((type == GRE_PROTO_IPV4 || type == GRE_PROTO_IPV6) &&
	    inet_tcp_gro_super(f + ETH_HDR_LEN, p->len - ETH_HDR_LEN, type, g))
		return ETH_HDR_LEN;
	return 0;
}

void tunnel_gre_input(struct tunnel *t, struct pkt *p)
{
	uint16_t proto = 0;
	enum gre_result r = gre_decap(p, &t->gre_rx, &proto);
	bool plain = t->cfg.mode == TUNNEL_MODE_PLAIN, csum_unverified = false;
	struct inet_tcp_gro g;
	size_t l2;

	/* A GRO-merged packet carries its first segment's GRE checksum (the
	 * kernel checked every segment's); it is taken only if what it
	 * carries is such a packet. */
	if (r == GRE_DROP_CSUM_BAD && plain) {
		struct gre_rx rx = t->gre_rx;

		rx.csum_trusted = true;
		if (gre_decap(p, &rx, &proto) == GRE_OK) {
			csum_unverified = true;
			r = GRE_OK;
		}
	}
	if (r == GRE_KEEPALIVE) {
		plain_keepalive_reply(t);
		return;
	}
	if (r != GRE_OK) {
		t->ctr.gre_drops[r]++;
		log_tunnel_rl(&t->rl, LOG_LEVEL_DEBUG, t->cfg.name, "dropped GRE packet: %s",
			      gre_result_name(r));
		return;
	}
	if (plain)
		t->last_rx = t->d->rx_now;   /* a valid GRE packet of the peer's */
	if (t->cfg.type == TUNNEL_TYPE_GRETAP) {
		if (proto != GRE_PROTO_TEB || p->len < ETH_HDR_LEN) {
			t->ctr.drops[DROP_INNER_MALFORMED]++;
			return;
		}
		if (plain && (l2 = tap_gro_super(p, &g))) {
			tunnel_gro_input(t, p, l2, &g);
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
		if (plain && inet_tcp_gro_super(pkt_data(p), p->len, proto, &g)) {
			tunnel_gro_input(t, p, 0, &g);
			return;
		}
		if (!csum_unverified && (plain ? plain_reflect_keepalive(t, p, proto) :
						 secure_reflect_keepalive(t, p, proto)))
			return;
	}
	if (csum_unverified) {
		t->ctr.gre_drops[GRE_DROP_CSUM_BAD]++;
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
	d->rx_pending[d->n_rx_pending].ready = 0;
	/* A batch of coalesced (UDP GRO) buffers can hold more datagrams than
	 * the table: write what is pending and start over. */
	if (++d->n_rx_pending == RX_BATCH)
		tunnel_rx_flush(d);
}

static bool rx_holds(const struct gresecd *d, const struct pkt *p)
{
	return d->n_rx_pending && d->rx_pending[d->n_rx_pending - 1].p == p;
}

struct pkt *tunnel_rx_seg_buffer(struct gresecd *d)
{
	return d->rx_seg_pkts[d->n_rx_seg_held];
}

void tunnel_rx_seg_done(struct gresecd *d, const struct pkt *s)
{
	/* Held only as the newest pending packet: a flush in between (the
	 * list full) emptied both, and s was written. */
	if (rx_holds(d, s))
		d->n_rx_seg_held++;
}

void tunnel_rx_flush(struct gresecd *d)
{
	for (unsigned i = 0; i < d->n_rx_pending; i++) {
		struct tunnel *t = d->rx_pending[i].t;
		struct pkt *p = d->rx_pending[i].p;
		int n = d->rx_pending[i].ready ? (int)d->rx_pending[i].ready : gro_finish(&t->gro, p);

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
