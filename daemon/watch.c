/* daemon/watch.c: rtnetlink notifications (see watch.h).
 *
 * What each event does:
 *   link of a running tunnel changed   check it (lifecycle.c): gone: made
 *                                      again; set down: left down; set up:
 *                                      addresses and routes put back
 *   link of an ICMP sink deleted       made again by the 10 s maintenance
 *   address of ours removed            check: put back
 *   route of ours removed              check: put back
 *   route removed elsewhere, while a route of ours waits for its prefix:
 *                                      check the tunnels that wait for it
 *   link deleted that is a running tunnel's underlay device:
 *                                      those tunnels are made again (their
 *                                      sockets and kernel links hold the
 *                                      old ifindex) once it is back
 *   link added, address added, link deleted (a name freed):
 *                                      failed tunnels that wait for that
 *                                      device, local address or name are
 *                                      tried at once
 *   local address of running tunnels removed or added:
 *                                      said (log, show), nothing torn down:
 *                                      sockets bound to it work again when
 *                                      it is back
 * Checks are queued and done once after each read burst, so a storm of
 * events costs one check per tunnel.  Our own changes come back as events
 * too: a check finds everything in place and does nothing more.
 *
 * Lost notifications (ENOBUFS: more than the socket buffer at once) are
 * made up for by a resync: one dump each of links, addresses and routes,
 * compared with every running tunnel, and a retry of the failed ones.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "daemon/daemon.h"
#include "daemon/lifecycle.h"
#include "daemon/log.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

enum {
	WATCH_RCVBUF = 8 << 20,      /* bytes: a reload of many tunnels fits */
	WATCH_READS = 64,            /* receives per wake-up */
	WATCH_REOPEN_S = 1,
};

struct underlay_ref {
	bool is_device;
	char device[IFNAMSIZ];
	struct ip_addr local;
	unsigned refs;
};

/* ---- ifindex -> tunnel ----
 * The entries are the tunnels' own watch_ifref (its link's and its ICMP
 * sink's), so the table holds no memory of its own per tunnel and a
 * lookup compares only the index stored with the entry. */

static uint64_t ifindex_hash(const struct gresecd *d, int ifindex)
{
	return hashtab_hash(&d->tunnels_by_ifindex, &ifindex, sizeof(ifindex));
}

static bool ifref_match(const void *value, const void *key)
{
	return ((const struct watch_ifref *)value)->ifindex == *(const int *)key;
}

static struct watch_ifref *ref_find(const struct gresecd *d, int ifindex)
{
	if (ifindex <= 0)
		return NULL;
	return hashtab_find(&d->tunnels_by_ifindex, ifindex_hash(d, ifindex), ifref_match, &ifindex);
}

static void ref_del(struct gresecd *d, struct watch_ifref *r)
{
	if (r->ifindex > 0)
		hashtab_remove(&d->tunnels_by_ifindex, ifindex_hash(d, r->ifindex), r);
	r->ifindex = 0;
}

/* r now stands for ifindex (<= 0: for nothing).  An entry another tunnel
 * still holds for that index is stale (the kernel reuses the indices of
 * deleted links) and is dropped. */
static void ref_put(struct gresecd *d, struct watch_ifref *r, struct tunnel *t, int ifindex)
{
	struct watch_ifref *stale;

	ref_del(d, r);
	if (ifindex <= 0)
		return;
	if ((stale = ref_find(d, ifindex)))
		ref_del(d, stale);
	r->t = t;
	r->ifindex = ifindex;
	if (hashtab_insert(&d->tunnels_by_ifindex, ifindex_hash(d, ifindex), r) != 0) {
		/* Out of memory: events for this link go unnoticed until the
		 * next resync or check finds what they changed. */
		log_tunnel_warn(t->cfg.name, "no memory to watch interface index %d", ifindex);
		r->ifindex = 0;
	}
}

struct tunnel *watch_lookup(struct gresecd *d, int ifindex)
{
	struct watch_ifref *r = ref_find(d, ifindex);

	return r ? r->t : NULL;
}

/* ---- underlay devices and local addresses in use ---- */

static struct underlay_ref *ul_find(struct gresecd *d, bool is_device, const char *device,
				    const struct ip_addr *local)
{
	for (size_t i = 0; i < d->n_underlay; i++) {
		struct underlay_ref *u = &d->underlay[i];

		if (u->is_device != is_device)
			continue;
		if (is_device ? strcmp(u->device, device) == 0 : ip_addr_equal(&u->local, local))
			return u;
	}
	return NULL;
}

static void ul_ref(struct gresecd *d, bool is_device, const char *device, const struct ip_addr *local)
{
	struct underlay_ref *u = ul_find(d, is_device, device, local);

	if (u) {
		u->refs++;
		return;
	}
	if (d->n_underlay == d->cap_underlay) {
		size_t cap = d->cap_underlay ? 2 * d->cap_underlay : 8;
		struct underlay_ref *grown = realloc(d->underlay, cap * sizeof(*grown));

		if (!grown)
			return;
		d->underlay = grown;
		d->cap_underlay = cap;
	}
	u = &d->underlay[d->n_underlay++];
	memset(u, 0, sizeof(*u));
	u->is_device = is_device;
	if (is_device)
		snprintf(u->device, sizeof(u->device), "%s", device);
	else
		u->local = *local;
	u->refs = 1;
}

static void ul_unref(struct gresecd *d, bool is_device, const char *device, const struct ip_addr *local)
{
	struct underlay_ref *u = ul_find(d, is_device, device, local);

	if (!u || --u->refs > 0)
		return;
	*u = d->underlay[--d->n_underlay];
}

void watch_tunnel_up(struct tunnel *t)
{
	struct gresecd *d = t->d;

	ref_put(d, &t->watch_link, t, t->ifindex);
	ref_put(d, &t->watch_sink, t, t->sink_ifindex);
	if (t->cfg.device[0])
		ul_ref(d, true, t->cfg.device, NULL);
	if (t->cfg.local.family != AF_UNSPEC)
		ul_ref(d, false, NULL, &t->cfg.local);
}

void watch_tunnel_down(struct tunnel *t)
{
	struct gresecd *d = t->d;

	ref_del(d, &t->watch_link);
	ref_del(d, &t->watch_sink);
	if (t->cfg.device[0])
		ul_unref(d, true, t->cfg.device, NULL);
	if (t->cfg.local.family != AF_UNSPEC)
		ul_unref(d, false, NULL, &t->cfg.local);
}

void watch_sink(struct tunnel *t, int ifindex, bool made)
{
	if (t->state != TUNNEL_UP)
		return;
	if (made)
		ref_put(t->d, &t->watch_sink, t, ifindex);
	else if (t->watch_sink.ifindex == ifindex)
		ref_del(t->d, &t->watch_sink);
}

bool watch_local_missing(const struct tunnel *t)
{
	return t->local_missing;
}

/* ---- events ---- */

static bool prefix_matches(const struct ip_prefix *p, const struct ip_addr *a, uint8_t len)
{
	size_t alen = a->family == AF_INET ? 4 : 16;
	uint8_t net[16];

	if (p->addr.family != a->family || p->len != len)
		return false;
	memcpy(net, p->addr.u.bytes, alen);
	for (size_t b = 0; b < alen; b++) {
		size_t bits = p->len > b * 8 ? p->len - b * 8 : 0;

		if (bits < 8)
			net[b] &= (uint8_t)(0xff00u >> bits);
	}
	return memcmp(net, a->u.bytes, alen) == 0;
}

static bool addr_is_ours(const struct tunnel *t, const struct nl_addr_info *a)
{
	for (size_t i = 0; i < t->cfg.n_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (t->cfg.addresses[i].len == a->prefixlen &&
		    ip_addr_equal(&t->cfg.addresses[i].addr, &a->local))
			return true;
	return false;
}

/* Failed tunnels that wait for what just appeared: at once. */
static void retry_waiting(struct gresecd *d, const char *device, const char *name,
			  const struct ip_addr *local)
{
	for (struct tunnel *t = d->failed; t; t = t->failed_next) {
		if ((device && t->wait == WAIT_DEVICE && strcmp(t->cfg.device, device) == 0) ||
		    (name && t->wait == WAIT_NAME && strcmp(t->cfg.name, name) == 0) ||
		    (local && t->wait == WAIT_LOCAL && ip_addr_equal(&t->cfg.local, local))) {
			log_tunnel_debug(t->cfg.name, "%s: trying now",
					 device ? "its device appeared" :
					 name ? "its name was freed" : "its local address appeared");
			tunnel_retry_now(t);
		}
	}
}

/* A route of ours waits for a prefix another route holds, and some link
 * went down or away: the kernel drops the IPv4 routes through a link that
 * goes down without a word (no RTM_DELROUTE), so look again. */
static void conflicts_recheck(struct gresecd *d)
{
	for (struct tunnel *t = d->tunnels; t; t = t->next) {
		if (t->state != TUNNEL_UP)
			continue;
		for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
			if (t->route_st[i].state == ITEM_FAILED && t->route_st[i].err == -EEXIST) {
				tunnel_queue_check(t, false);
				break;
			}
	}
}

static void on_link(struct gresecd *d, const struct nlmsghdr *nlh)
{
	struct nl_link_info li;
	struct tunnel *t;

	if (nl_parse_link(nlh, &li) != 0)
		return;
	if (d->n_conflicts && (nlh->nlmsg_type == RTM_DELLINK || !(li.flags & IFF_UP)))
		conflicts_recheck(d);
	t = watch_lookup(d, li.ifindex);
	if (t && li.ifindex == t->sink_ifindex) {
		if (nlh->nlmsg_type == RTM_DELLINK) {
			log_tunnel_info(t->cfg.name, "ICMP sink %s was deleted: it is made again",
					t->sink_name);
			ref_del(d, &t->watch_sink);
			t->sink_ifindex = 0;
			t->sink_name[0] = '\0';
			t->sink_failed = false;
		}
		return;
	}
	if (t) {
		tunnel_queue_check(t, !(li.flags & IFF_UP) || nlh->nlmsg_type == RTM_DELLINK);
		return;
	}
	if (nlh->nlmsg_type == RTM_DELLINK) {
		/* A running tunnel's underlay device: its sockets (SO_BINDTODEVICE)
		 * and kernel link hold this ifindex, which will not come back. */
		if (li.name[0] && ul_find(d, true, li.name, NULL)) {
			for (t = d->tunnels; t; t = t->next)
				if (t->state == TUNNEL_UP && strcmp(t->cfg.device, li.name) == 0) {
					tunnel_lost(t, "its device %s was deleted", li.name);
					t->wait = WAIT_DEVICE;   /* back at once when it is */
				}
		}
		if (d->n_failed && li.name[0])
			retry_waiting(d, NULL, li.name, NULL);
		return;
	}
	if (d->n_failed && li.name[0])
		retry_waiting(d, li.name, NULL, NULL);
}

static void local_missing(struct gresecd *d, const struct ip_addr *a, bool missing)
{
	char s[INET6_ADDRSTRLEN];

	if (!ul_find(d, false, NULL, a))
		return;
	for (struct tunnel *t = d->tunnels; t; t = t->next) {
		if (t->state != TUNNEL_UP || t->local_missing == missing ||
		    !ip_addr_equal(&t->cfg.local, a))
			continue;
		t->local_missing = missing;
		if (missing)
			log_tunnel_warn(t->cfg.name,
					"its local address %s was removed from this host: it "
					"cannot send until the address is back",
					ip_addr_str(a, s, sizeof(s)));
		else
			log_tunnel_notice(t->cfg.name, "its local address %s is back",
					  ip_addr_str(a, s, sizeof(s)));
	}
}

static void on_addr(struct gresecd *d, const struct nlmsghdr *nlh)
{
	struct nl_addr_info a;
	struct tunnel *t;

	if (nl_parse_addr(nlh, &a) != 0)
		return;
	t = watch_lookup(d, a.ifindex);
	if (nlh->nlmsg_type == RTM_DELADDR) {
		if (t && a.ifindex == t->ifindex && addr_is_ours(t, &a))
			tunnel_queue_check(t, true);
		local_missing(d, &a.local, true);
		return;
	}
	local_missing(d, &a.local, false);
	if (d->n_failed)
		retry_waiting(d, NULL, NULL, &a.local);
}

static void on_route(struct gresecd *d, const struct nlmsghdr *nlh)
{
	struct nl_route_info r;
	struct tunnel *t;

	if (nlh->nlmsg_type != RTM_DELROUTE || nl_parse_route(nlh, &r) != 0 || r.table != RT_TABLE_MAIN)
		return;
	t = watch_lookup(d, r.oif);
	if (t && r.oif == t->ifindex) {
		for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
			if (prefix_matches(&t->cfg.routes[i], &r.dst, r.dst_len)) {
				tunnel_queue_check(t, true);
				break;
			}
		return;
	}
	if (!d->n_conflicts)
		return;
	/* Someone's route went: a route of ours may wait for its prefix. */
	for (t = d->tunnels; t; t = t->next) {
		if (t->state != TUNNEL_UP)
			continue;
		for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
			if (t->route_st[i].state == ITEM_FAILED && t->route_st[i].err == -EEXIST &&
			    prefix_matches(&t->cfg.routes[i], &r.dst, r.dst_len)) {
				tunnel_queue_check(t, false);
				break;
			}
	}
}

/* ---- resync after lost notifications ---- */

static int rs_link_cb(const struct nl_link_info *l, void *data)
{
	struct gresecd *d = data;
	struct tunnel *t = watch_lookup(d, l->ifindex);

	if (t && l->ifindex == t->ifindex) {
		t->rs_seen = true;
		if (!(l->flags & IFF_UP))
			t->reinstall = true;
	}
	return 0;
}

static int rs_addr_cb(const struct nl_addr_info *a, void *data)
{
	struct gresecd *d = data;
	struct tunnel *t = watch_lookup(d, a->ifindex);

	if (!t || a->ifindex != t->ifindex)
		return 0;
	for (size_t i = 0; i < t->cfg.n_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (t->cfg.addresses[i].len == a->prefixlen &&
		    ip_addr_equal(&t->cfg.addresses[i].addr, &a->local))
			t->rs_addr |= (uint16_t)(1u << i);
	return 0;
}

static int rs_route_cb(const struct nl_route_info *r, void *data)
{
	struct gresecd *d = data;
	struct tunnel *t = watch_lookup(d, r->oif);

	if (!t || r->oif != t->ifindex)
		return 0;
	for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
		if (prefix_matches(&t->cfg.routes[i], &r->dst, r->dst_len))
			t->rs_route |= 1ULL << i;
	return 0;
}

static void watch_resync(struct gresecd *d)
{
	struct tunnel *t;
	int err;

	for (t = d->tunnels; t; t = t->next) {
		t->rs_seen = false;
		t->rs_addr = 0;
		t->rs_route = 0;
	}
	if ((err = nl_link_dump(&d->nl, rs_link_cb, d)) || (err = nl_addr_dump(&d->nl, rs_addr_cb, d)) ||
	    (err = nl_route_dump(&d->nl, AF_INET, 0, rs_route_cb, d)) ||
	    (err = nl_route_dump(&d->nl, AF_INET6, 0, rs_route_cb, d))) {
		log_warn("rtnetlink: cannot look at the links, addresses and routes: %s; checking each tunnel",
			 strerror(-err));
		for (t = d->tunnels; t; t = t->next)
			tunnel_queue_check(t, true);
		return;
	}
	for (t = d->tunnels; t; t = t->next) {
		bool missing = false;

		if (t->state != TUNNEL_UP) {
			if (t->wait != WAIT_NOTHING)
				tunnel_retry_now(t);
			continue;
		}
		for (size_t i = 0; i < t->cfg.n_addresses && i < CONF_MAX_ADDRESSES; i++)
			if (t->addr_st[i].state == ITEM_INSTALLED && !(t->rs_addr & (1u << i)))
				missing = true;
		for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
			if (t->route_st[i].state == ITEM_INSTALLED && !(t->rs_route & (1ULL << i)))
				missing = true;
		if (!t->rs_seen || missing || t->reinstall || tunnel_items_incomplete(t))
			tunnel_queue_check(t, missing || t->reinstall);
	}
}

/* ---- the socket ---- */

static void watch_read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void reopen_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gresecd *d = w->data;

	(void)loop; (void)revents;
	if (watch_open(d) == 0) {
		log_notice("rtnetlink: watching links, addresses and routes again");
		watch_resync(d);
		tunnel_run_checks(d);
	}
}

static void watch_close_socket(struct gresecd *d)
{
	if (!d->watch.sock)
		return;
	ev_io_stop(d->loop, &d->watch_io);
	nl_close(&d->watch);
}

int watch_open(struct gresecd *d)
{
	int err;

	if (!d->loop)
		return -EINVAL;
	ev_timer_stop(d->loop, &d->watch_timer);
	err = nl_watch_open(&d->watch, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, WATCH_RCVBUF);
	if (err) {
		log_warn("rtnetlink: cannot watch links, addresses and routes: %s; trying again in %d s",
			 strerror(-err), WATCH_REOPEN_S);
		ev_timer_init(&d->watch_timer, reopen_cb, WATCH_REOPEN_S, 0.);
		d->watch_timer.data = d;
		ev_timer_start(d->loop, &d->watch_timer);
		return err;
	}
	ev_io_init(&d->watch_io, watch_read_cb, mnl_socket_get_fd(d->watch.sock), EV_READ);
	d->watch_io.data = d;
	ev_io_start(d->loop, &d->watch_io);
	return 0;
}

void watch_close(struct gresecd *d)
{
	if (d->loop) {
		watch_close_socket(d);
		ev_timer_stop(d->loop, &d->watch_timer);
		ev_timer_stop(d->loop, &d->check_timer);
	}
	free(d->underlay);
	d->underlay = NULL;
	d->n_underlay = d->cap_underlay = 0;
}

static void watch_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gresecd *d = w->data;
	_Alignas(struct nlmsghdr) uint8_t buf[32768];
	bool resync = false;

	(void)loop; (void)revents;
	for (int i = 0; i < WATCH_READS; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* Events were dropped; the socket works on. */
				resync = true;
				continue;
			}
			/* Anything else would make the fd readable forever: close
			 * it, open a new one a second later, and look at all. */
			log_warn("rtnetlink: receive: %s; watching again in %d s", strerror(errno),
				 WATCH_REOPEN_S);
			watch_close_socket(d);
			ev_timer_init(&d->watch_timer, reopen_cb, WATCH_REOPEN_S, 0.);
			d->watch_timer.data = d;
			ev_timer_start(d->loop, &d->watch_timer);
			break;
		}
		len = (int)n;
		for (nlh = (const void *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			switch (nlh->nlmsg_type) {
			case RTM_NEWLINK:
			case RTM_DELLINK:
				on_link(d, nlh);
				break;
			case RTM_NEWADDR:
			case RTM_DELADDR:
				on_addr(d, nlh);
				break;
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				on_route(d, nlh);
				break;
			}
		}
	}
	if (resync) {
		log_notice("rtnetlink: notifications were lost (more at once than the socket holds): "
			   "looking at every tunnel's link, addresses and routes");
		watch_resync(d);
	}
	/* The checks queued run a moment later (lifecycle.c, CHECK_DELAY_S). */
}

void watch_sweep(struct gresecd *d)
{
	for (struct tunnel *t = d->tunnels; t; t = t->next)
		if (t->state == TUNNEL_UP && !t->admin_down && !t->down_by_us &&
		    (t->reinstall || tunnel_items_incomplete(t)))
			tunnel_queue_check(t, false);
	tunnel_run_checks(d);
}
