/* daemon/kernel_gre.c: plain tunnels whose packets the kernel's own GRE
 * moves (ip_gre: gre, gretap; ip6_gre: ip6gre, ip6gretap), and the ICMP
 * sink that keeps that same kernel code quiet about user-path tunnels.
 *
 * Kernel path: gresecd creates the link over rtnetlink with the tunnel's
 * local and remote addresses, keys, checksum and sequence options, TTL,
 * TOS and underlay device; tunnel.c gives it the MTU, addresses and routes
 * as it does a TUN.  No packet of the tunnel passes through gresecd: the
 * kernel encapsulates and decapsulates.  What stays here is the control
 * plane: Cisco keepalives on a raw socket that only keepalives get through
 * (plain.c, tunnel/sock.c), liveness shown on the link (protodown where
 * the link type supports it; ip_gre does not: the link goes down, see
 * kernel_set_carrier), and the link's counters for `gresec show`.
 *
 * A link made by gresecd carries the alias "gresec" (": description"), so
 * that one left behind by a killed gresecd is recognised and replaced.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "daemon/daemon.h"
#include "daemon/datapath.h"
#include "daemon/log.h"
#include "daemon/plain.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

#define ALIAS_MAX 160

#define MODULE_GRE4 "ip_gre"
#define MODULE_GRE6 "ip6_gre"

const char *kgre_module(const struct tunnel_config *c)
{
	return c->remote.family == AF_INET6 ? MODULE_GRE6 : MODULE_GRE4;
}

static bool module_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

bool kgre_module_loaded(const struct tunnel_config *c)
{
	return module_loaded(kgre_module(c));
}

/* The link parameters of tunnel t. */
static int gre_params(const struct tunnel *t, struct nl_gre_params *p)
{
	const struct tunnel_config *c = &t->cfg;

	memset(p, 0, sizeof(*p));
	p->tap = c->type == TUNNEL_TYPE_GRETAP;
	p->local = c->local;
	p->remote = c->remote;
	if (c->device[0]) {
		p->link = if_nametoindex(c->device);
		if (!p->link)
			return -ENODEV;
	}
	p->has_ikey = c->has_ikey;
	p->ikey = c->ikey;
	p->has_okey = c->has_okey;
	p->okey = c->okey;
	p->icsum = p->ocsum = c->checksum;
	p->iseq = p->oseq = c->sequence;
	p->ttl = (uint8_t)c->ttl;
	p->tos = c->tos;
	if (p->tap) {
		p->has_mac = true;
		tunnel_mac(c, p->mac);
	}
	return 0;
}

static bool made_by_gresec(const struct nl_link_info *li)
{
	return strncmp(li->alias, KGRE_ALIAS_MARK, strlen(KGRE_ALIAS_MARK)) == 0;
}

/* Create a link; one of the same name and kind that an earlier gresecd
 * left behind (killed, it could not remove it) is replaced. */
static int create_link(struct tunnel *t, const char *name, uint32_t mtu,
		       const struct nl_gre_params *p, int *ifindex)
{
	struct nl_link_info li;
	int err = nl_gre_link_create(&t->d->nl, name, mtu, p, ifindex);

	if (err == -EEXIST && nl_link_get(&t->d->nl, 0, name, &li) == 0 &&
	    strcmp(li.kind, nl_gre_kind(p)) == 0 && made_by_gresec(&li)) {
		log_tunnel_notice(t->cfg.name,
				  "replacing %s link %s left behind by an earlier gresecd", li.kind,
				  name);
		nl_link_delete(&t->d->nl, li.ifindex);
		err = nl_gre_link_create(&t->d->nl, name, mtu, p, ifindex);
	}
	return err;
}

/* Why a create failed with EEXIST: the name, or another tunnel with the
 * same addresses and key (the kernel allows one). */
static void explain_eexist(struct tunnel *t, const char *name, char *buf, size_t len)
{
	struct nl_link_info li;

	if (nl_link_get(&t->d->nl, 0, name, &li) == 0)
		snprintf(buf, len, "interface %s exists (kind \"%s\"%s)", name, li.kind[0] ? li.kind : "?",
			 made_by_gresec(&li) ? "" : ", not made by gresecd");
	else
		snprintf(buf, len, "a kernel tunnel with the same local and remote addresses, key and "
			 "device exists (ip -d link show type %s)", t->cfg.remote.family == AF_INET6 ?
			 "ip6gre" : "gre");
}

static void set_alias(struct tunnel *t, int ifindex, const char *alias)
{
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	int err;

	a.alias = alias;
	if ((err = nl_link_setattrs(&t->d->nl, ifindex, &a)))
		log_tunnel_warn(t->cfg.name, "cannot set the alias of interface %d: %s", ifindex,
				strerror(-err));
}

static void tunnel_alias(const struct tunnel *t, char *buf, size_t len)
{
	snprintf(buf, len, KGRE_ALIAS_MARK "%s%s", t->cfg.description[0] ? ": " : "", t->cfg.description);
}

/* ---- the kernel data path ---- */

static int kernel_open(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	struct nl_gre_params p;
	char why[160], alias[ALIAS_MAX];
	int err;

	if ((err = gre_params(t, &p))) {
		log_tunnel_err(c->name, "device %s: %s", c->device, strerror(-err));
		return err;
	}
	err = create_link(t, c->name, t->mtu, &p, &t->ifindex);
	if (err == -EOPNOTSUPP)
		return err;     /* no such link type: datapath_open decides */
	if (err) {
		if (err == -EEXIST)
			explain_eexist(t, c->name, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", strerror(-err));
		log_tunnel_err(c->name, "cannot create the kernel's %s link %s: %s",
			       nl_gre_kind(&p), c->name, why);
		return err;
	}
	if (t->ifindex <= 0) {
		log_tunnel_err(c->name, "kernel link %s vanished", c->name);
		return -ENODEV;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", c->name);
	tunnel_alias(t, alias, sizeof(alias));
	set_alias(t, t->ifindex, alias);
	/* Liveness: protodown (carrier off) where the link type takes it;
	 * ip_gre and ip6_gre refuse it, so there the link goes down
	 * (kernel_set_carrier). */
	a.proto_down = 0;
	t->kernel_protodown = nl_link_setattrs(&t->d->nl, t->ifindex, &a) == 0;
	log_tunnel_debug(c->name, "a dead peer will be shown by %s", t->kernel_protodown ?
			 "protodown" : "taking the link down (no protodown on this link type)");
	return 0;
}

static int kernel_start(struct tunnel *t)
{
	return plain_kernel_start(t);
}

static void kernel_stop(struct tunnel *t)
{
	plain_stop(t);
}

static void kernel_close(struct tunnel *t)
{
	int err;

	if (t->ifindex <= 0)
		return;
	err = nl_link_delete(&t->d->nl, t->ifindex);
	if (err && err != -ENODEV)
		log_tunnel_warn(t->cfg.name, "cannot delete kernel link %s: %s", t->ifname,
				strerror(-err));
	t->ifindex = 0;
}

static int kernel_update(struct tunnel *t, const struct tunnel_config *old)
{
	const struct tunnel_config *c = &t->cfg;
	struct nl_gre_params p;
	char alias[ALIAS_MAX];
	int err;

	/* The link's parameters are all sent again (changelink resets what a
	 * request leaves out); only TTL and TOS can differ here. */
	if (c->ttl != old->ttl || c->tos != old->tos) {
		if ((err = gre_params(t, &p)) || (err = nl_gre_link_change(&t->d->nl, t->ifindex, &p))) {
			log_tunnel_err(c->name, "cannot change the TTL/TOS of kernel link %s: %s",
				       t->ifname, strerror(-err));
			return err;
		}
	}
	if (strcmp(c->description, old->description) != 0) {
		tunnel_alias(t, alias, sizeof(alias));
		set_alias(t, t->ifindex, alias);
	}
	return 0;
}

/* A dead peer.  Routing daemons read IFF_LOWER_UP (BIRD: the carrier) or
 * IFF_RUNNING (FRR, systemd-networkd: the operational state).  A GRE link
 * has no carrier to switch (no ndo_change_carrier) and refuses protodown
 * (Linux 6.1: "Protodown not supported by device"); its operational state
 * can go to dormant, which clears IFF_RUNNING but not IFF_LOWER_UP, so
 * BIRD would not notice (tests/e2e/test_liveness.sh measures both).  What
 * every daemon notices is the link going administratively down: the
 * kernel then flushes the routes through it and its IPv6 addresses, which
 * come back with it (tunnel_configure_link), and no longer claims the
 * peer's GRE (each packet is answered with ICMP port unreachable while it
 * is down).  Where a link type takes protodown (carrier off, the link
 * stays up and keeps claiming), that is used instead. */
static int kernel_set_carrier(struct tunnel *t, bool on)
{
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	int err;

	if (t->kernel_protodown) {
		a.proto_down = !on;
		return nl_link_setattrs(&t->d->nl, t->ifindex, &a);
	}
	/* The link down is gresecd's doing here, which the watcher must not
	 * take for the administrator's (lifecycle.c); a link the
	 * administrator set down stays down, whatever the peer does. */
	if (t->admin_down)
		return 0;
	if (!on) {
		t->down_by_us = true;
		if ((err = nl_link_set(&t->d->nl, t->ifindex, 0, false)))
			t->down_by_us = false;
		return err;
	}
	return tunnel_configure_link(t);
}

static void kernel_counters(struct tunnel *t, struct tunnel_counters *c, const struct nl_link_info *k)
{
	*c = t->ctr;    /* keepalives, and what gresecd itself dropped */
	if (!k->has_stats)
		return;
	c->rx_packets = k->stats.rx_packets;
	c->rx_bytes = k->stats.rx_bytes;
	c->tx_packets = k->stats.tx_packets;
	c->tx_bytes = k->stats.tx_bytes;
}

const struct datapath_ops datapath_kernel = {
	.kind = DATAPATH_KERNEL,
	.name = "kernel",
	.open = kernel_open,
	.start = kernel_start,
	.stop = kernel_stop,
	.close = kernel_close,
	.update = kernel_update,
	.set_carrier = kernel_set_carrier,
	.counters = kernel_counters,
};

/* ---- the ICMP sink of user-path tunnels ----
 *
 * With ip_gre (ip6_gre) loaded, the kernel's GRE receive handler runs for
 * every GRE packet after the raw sockets have had their copy, and answers
 * each one that no kernel tunnel claims with ICMP port unreachable: for a
 * user-path tunnel, every packet the peer sends.  Measured on Linux 6.1
 * (tests/vm): neither a raw socket, nor a matching kernel tunnel that is
 * down (the lookup skips links that are not up), nor any socket option
 * stops it; a matching link that is up does.  So the sink is a kernel
 * tunnel with the tunnel's local and remote addresses, key and device,
 * up, without addresses (IPv6 address generation off, NOARP), that never
 * lets a packet through:
 *   - it requires the opposite of the tunnel's checksum setting, so the
 *     kernel's receive code drops every packet the peer sends (counted as
 *     rx_crc_errors on the sink) before decapsulating it;
 *   - a tc ingress drop (clsact, matchall, gact) catches anything else,
 *     such as a misconfigured peer's packets with the other setting.
 * It claims nothing but this tunnel's packets (the kernel allows one link
 * per addresses and key), sends nothing (no address, no route points at
 * it), and goes with the tunnel.  The raw socket still gets every packet
 * first, so the user path is unchanged. */

static void sink_name(const struct tunnel *t, char out[IFNAMSIZ])
{
	const char *n = t->cfg.name;
	uint32_t h = 2166136261u;   /* FNV-1a */

	if (strlen(n) <= IFNAMSIZ - 1 - 3) {
		snprintf(out, IFNAMSIZ, "gs-%s", n);
		return;
	}
	for (const char *q = n; *q; q++)
		h = (h ^ (uint8_t)*q) * 16777619u;
	snprintf(out, IFNAMSIZ, "gs-%.8s%04x", n, (unsigned)(h & 0xffff));
}

void kgre_sink_open(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	struct nl_gre_params p;
	char name[IFNAMSIZ], alias[ALIAS_MAX], why[160];
	int ifindex = 0, err;

	if (c->mode != TUNNEL_MODE_PLAIN || t->dp != &datapath_user || t->sink_ifindex ||
	    t->sink_failed || !kgre_module_loaded(c))
		return;
	sink_name(t, name);
	if ((err = gre_params(t, &p)))
		goto fail;
	p.icsum = !c->checksum;
	p.ocsum = p.iseq = p.oseq = false;
	p.has_okey = false;
	err = create_link(t, name, 0, &p, &ifindex);
	if (err || ifindex <= 0)
		goto fail;
	snprintf(alias, sizeof(alias), KGRE_ALIAS_MARK ": ICMP sink of tunnel %s (see gresecd(8))", c->name);
	a.alias = alias;
	a.flags = IFF_NOARP;
	a.change = IFF_NOARP;
	a.addrgenmode = IN6_ADDR_GEN_MODE_NONE;
	if ((err = nl_link_setattrs(&t->d->nl, ifindex, &a))) {
		nl_link_delete(&t->d->nl, ifindex);
		goto fail;
	}
	if ((err = nl_link_drop_ingress(&t->d->nl, ifindex)))
		log_tunnel_notice(c->name,
				  "ICMP sink %s without its tc ingress drop (%s): the checksum "
				  "rule alone drops what the peer sends", name, strerror(-err));
	a = (struct nl_link_attrs)NL_LINK_ATTRS_NONE;
	a.flags = a.change = IFF_UP;
	if ((err = nl_link_setattrs(&t->d->nl, ifindex, &a))) {
		nl_link_delete(&t->d->nl, ifindex);
		goto fail;
	}
	t->sink_ifindex = ifindex;
	snprintf(t->sink_name, sizeof(t->sink_name), "%s", name);
	watch_sink(t, ifindex, true);
	log_tunnel_info(c->name,
			"%s is loaded: kernel link %s claims this tunnel's GRE and drops it, so "
			"that the kernel does not answer it with ICMP port unreachable",
			kgre_module(c), name);
	return;
fail:
	if (err == -EEXIST)
		explain_eexist(t, name, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-err));
	log_tunnel_warn(c->name, "cannot add the ICMP sink %s: %s; the kernel's %s answers this "
			"tunnel's GRE with ICMP port unreachable", name, why, kgre_module(c));
	t->sink_failed = true;
}

void kgre_sink_close(struct tunnel *t)
{
	if (t->sink_ifindex > 0) {
		watch_sink(t, t->sink_ifindex, false);
		nl_link_delete(&t->d->nl, t->sink_ifindex);
	}
	t->sink_ifindex = 0;
	t->sink_name[0] = '\0';
}

void kgre_sink_maintain(struct gresecd *d)
{
	/* While the kernel has no GRE, two looks, not one per tunnel. */
	if (!module_loaded(MODULE_GRE4) && !module_loaded(MODULE_GRE6))
		return;
	for (struct tunnel *t = d->tunnels; t; t = t->next)
		if (t->state == TUNNEL_UP)
			kgre_sink_open(t);      /* does nothing unless needed */
}
