/* daemon/lifecycle.c: a tunnel's life: brought up, failed and retried,
 * lost and made again, and kept as configured while it runs.
 *
 * States (enum tunnel_state): a configured tunnel is UP or FAILED.  A
 * FAILED one has its last error and a retry timer: 1 s after the first
 * failure, doubling to 60 s; rtnetlink events for what it waits for (its
 * local address, its device, its name freed) and reloads retry it at
 * once (daemon/watch.c, daemon.c).  An UP one that stops working under
 * us (its interface deleted, its underlay device deleted, a fatal error
 * on its TUN/TAP) is "lost": taken down and made again, at once if it
 * had run for a minute, else after the back-off, so something that keeps
 * deleting it cannot make gresecd spin.
 *
 * While UP, tunnel_check() compares the link with the configuration
 * whenever rtnetlink reports a change to it (a burst of events gives one
 * check): the link gone: lost; set down by someone else: left down (the
 * administrator's will), its routes shown as pending; set up again, or an
 * address or route of ours removed: put back (logged, rate-limited; at
 * most 10 repairs, then one per 6 s, so a fight with another program is
 * slow and visible).  Re-adding is idempotent (NLM_F_EXCL, EEXIST for
 * what is there), so our own changes, which come back as events too,
 * cost a look and nothing more.
 *
 * A route whose prefix another route already holds (a second default
 * route, the same route on two tunnels) is not taken over: it is shown
 * as failed with the holder, logged once, and added when the holder
 * goes (gresecd(8), SELF-HEALING says why).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/rtnetlink.h>

#include "daemon/daemon.h"
#include "daemon/datapath.h"
#include "daemon/lifecycle.h"
#include "daemon/log.h"
#include "daemon/plain.h"
#include "daemon/secure.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

enum {
	BACKOFF_MAX_S = 60,
	STABLE_S = 60,          /* up this long: a loss is rebuilt at once */
	REPAIR_BURST = 10,
	REPAIR_REFILL_S = 6,
};

/* Checks run this long after the first event that asked for one: a burst
 * of events (an `ip addr flush`, which deletes, looks again and deletes
 * what it finds, for up to ten rounds) is over by then, so gresecd puts
 * things back once instead of fighting the command. */
#define CHECK_DELAY_S 0.2

#define NS_PER_S 1000000000ULL

const char *tunnel_strip_name(const struct tunnel *t, const char *msg)
{
	char head[IFNAMSIZ + 16];
	size_t n;

	n = (size_t)snprintf(head, sizeof(head), "tunnel \"%s\": ", t->cfg.name);
	return strncmp(msg, head, n) == 0 ? msg + n : msg;
}

/* ---- the failed list ---- */

/* Both lists are doubly linked: a tunnel leaves either in O(1) (a hub
 * whose underlay device comes back brings thousands up at once). */
static void failed_add(struct tunnel *t)
{
	if (t->in_failed)
		return;
	t->in_failed = true;
	t->failed_prev = NULL;
	t->failed_next = t->d->failed;
	if (t->failed_next)
		t->failed_next->failed_prev = t;
	t->d->failed = t;
	t->d->n_failed++;
}

static void failed_remove(struct tunnel *t)
{
	if (!t->in_failed)
		return;
	if (t->failed_prev)
		t->failed_prev->failed_next = t->failed_next;
	else
		t->d->failed = t->failed_next;
	if (t->failed_next)
		t->failed_next->failed_prev = t->failed_prev;
	t->in_failed = false;
	t->failed_next = t->failed_prev = NULL;
	t->d->n_failed--;
}

static void check_remove(struct tunnel *t)
{
	if (!t->check_queued)
		return;
	if (t->check_prev)
		t->check_prev->check_next = t->check_next;
	else
		t->d->checks = t->check_next;
	if (t->check_next)
		t->check_next->check_prev = t->check_prev;
	t->check_queued = false;
	t->check_next = t->check_prev = NULL;
}

static void conflicts_recount(struct tunnel *t, int delta_sign)
{
	for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
		if (t->route_st[i].state == ITEM_FAILED && t->route_st[i].err == -EEXIST) {
			if (delta_sign > 0)
				t->d->n_conflicts++;
			else if (t->d->n_conflicts)
				t->d->n_conflicts--;
		}
}

/* ---- retries ---- */

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tunnel *t = w->data;

	(void)loop; (void)revents;
	if (t->state == TUNNEL_FAILED)
		tunnel_bring_up(t);
}

static void arm_retry(struct tunnel *t, unsigned delay)
{
	struct gresecd *d = t->d;

	t->retry_at = gresecd_now_ns() + (uint64_t)delay * NS_PER_S;
	if (!d->loop)
		return;
	ev_timer_stop(d->loop, &t->retry_timer);
	ev_timer_set(&t->retry_timer, (double)delay, 0.);
	ev_timer_start(d->loop, &t->retry_timer);
}

/* The next delay: 1, 2, 4 ... 60 s. */
static unsigned next_backoff(struct tunnel *t)
{
	t->backoff = t->backoff ? t->backoff * 2 : 1;
	if (t->backoff > BACKOFF_MAX_S)
		t->backoff = BACKOFF_MAX_S;
	return t->backoff;
}

void tunnel_retry_now(struct tunnel *t)
{
	if (t->state != TUNNEL_FAILED)
		return;
	arm_retry(t, 0);
}

static void set_error(struct tunnel *t, const char *msg)
{
	snprintf(t->last_error, sizeof(t->last_error), "%s", tunnel_strip_name(t, msg));
	t->last_error_at = gresecd_now_ns();
}

static void record_failure(struct tunnel *t, int err, const char *msg)
{
	set_error(t, msg);
	t->wait = err == -ENODEV ? WAIT_DEVICE : err == -EADDRNOTAVAIL ? WAIT_LOCAL :
		  err == -EEXIST || err == -EBUSY ? WAIT_NAME : WAIT_NOTHING;
	t->failures++;
	failed_add(t);
	arm_retry(t, next_backoff(t));
}

void tunnel_fail(struct tunnel *t, int err, const char *msg)
{
	if (t->state == TUNNEL_UP)
		return;
	record_failure(t, err, msg);
	gresecd_status_changed(t->d);
}

/* ---- up and down ---- */

struct tunnel *tunnel_new(struct gresecd *d, const struct tunnel_config *cfg)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->d = d;
	t->cfg = *cfg;
	t->state = TUNNEL_FAILED;
	t->tun_fd = -1;
	t->mtu = cfg->mtu ? cfg->mtu : conf_default_mtu(cfg);
	t->repair_tokens = REPAIR_BURST;
	ev_init(&t->retry_timer, retry_cb);
	t->retry_timer.data = t;
	return t;
}

/* What the tunnel needs of the host before anything is made: its
 * underlay device and its local address.  Waiting for either is normal
 * at boot (DHCP, PPPoE); watch.c retries at once when they appear. */
static int underlay_ready(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	char a[INET6_ADDRSTRLEN];
	union sockaddr_inet sa;
	int fd, err = 0;

	if (c->device[0] && if_nametoindex(c->device) == 0) {
		log_tunnel_err(c->name,
			       "device \"%s\" does not exist (yet): the tunnel comes up when it "
			       "appears", c->device);
		return -ENODEV;
	}
	if (c->local.family == AF_UNSPEC || sockaddr_from_ip(&sa, &c->local, 0) != 0)
		return 0;
	/* Whether the address is ours: a bind says, in O(1), without a dump. */
	fd = socket(c->local.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (bind(fd, &sa.sa, sockaddr_len(&sa)) != 0 && errno == EADDRNOTAVAIL)
		err = -EADDRNOTAVAIL;
	close(fd);
	if (err)
		log_tunnel_err(c->name,
			       "local address %s is not assigned to this host (yet): the tunnel "
			       "comes up when it is", ip_addr_str(&c->local, a, sizeof(a)));
	return err;
}

static void reset_runtime(struct tunnel *t)
{
	t->tun_fd = -1;
	t->ifindex = 0;
	t->ifname[0] = '\0';
	t->carrier = true;
	t->vnet = false;
	t->gre_sock = NULL;
	t->peer = NULL;
	t->has_remote = false;
	t->keepalive_missed = 0;
	t->kernel_protodown = false;
	t->sink_ifindex = 0;
	t->sink_name[0] = '\0';
	t->sink_failed = false;
	t->admin_down = false;
	t->down_by_us = false;
	t->reinstall = false;
	t->local_missing = false;
	t->last_rx = 0;
	t->kernel_rx_seen = 0;
	memset(&t->ctr, 0, sizeof(t->ctr));
	memset(t->addr_st, 0, sizeof(t->addr_st));
	memset(t->route_st, 0, sizeof(t->route_st));
	t->mtu = t->cfg.mtu ? t->cfg.mtu : conf_default_mtu(&t->cfg);
}

static int bring_up(struct tunnel *t)
{
	int err;

	reset_runtime(t);
	tunnel_gre_params(t);
	if ((err = underlay_ready(t)))
		return err;
	if ((err = datapath_open(t))) {
		t->dp = NULL;
		return err;
	}
	if ((err = tunnel_configure_link(t)) || (err = t->dp->start(t))) {
		t->dp->close(t);
		t->dp = NULL;
		return err;
	}
	return 0;
}

int tunnel_bring_up(struct tunnel *t)
{
	struct gresecd *d = t->d;
	struct log_capture cap;
	const char *msg;
	bool repeat;
	unsigned delay;
	int err;

	if (t->state == TUNNEL_UP)
		return 0;
	if (d->loop)
		ev_timer_stop(d->loop, &t->retry_timer);
	log_capture_begin(&cap);
	err = bring_up(t);
	log_capture_end(&cap);
	if (err == 0) {
		log_capture_replay(&cap, LOG_LEVEL_ERR);   /* the warnings of a good start */
		t->state = TUNNEL_UP;
		t->up_since = gresecd_now_ns();
		t->retry_at = 0;
		failed_remove(t);
		watch_tunnel_up(t);
		log_tunnel_info(t->cfg.name, "%s %s interface %s up, mtu %u, %s data path (%s)%s",
				conf_mode_name(t->cfg.mode), conf_type_name(t->cfg.type), t->ifname,
				t->mtu,
				t->dp->kind == DATAPATH_KERNEL ? "kernel" : "user-space",
				t->dp_reason,
				t->failures ? " after failing" : "");
		if (t->failures || t->rebuilds)
			log_tunnel_notice(t->cfg.name, "up again%s",
					  t->failures ? "" : " (made again)");
		t->failures = 0;
		gresecd_status_changed(d);
		return 0;
	}
	msg = log_capture_first(&cap);
	if (!msg)
		msg = strerror(-err);
	repeat = t->failures > 0 && strcmp(tunnel_strip_name(t, msg), t->last_error) == 0;
	/* A retry that fails as the last one did says so at debug level only. */
	log_capture_replay(&cap, repeat ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	record_failure(t, err, msg);
	delay = t->backoff;
	log_tunnel(repeat ? LOG_LEVEL_DEBUG : LOG_LEVEL_NOTICE, t->cfg.name,
		   "not running; next attempt in %u s (attempt %u)", delay,
		   t->failures);
	gresecd_status_changed(d);
	return err;
}

void tunnel_take_down(struct tunnel *t)
{
	if (t->state != TUNNEL_UP)
		return;
	watch_tunnel_down(t);
	check_remove(t);
	conflicts_recount(t, -1);
	t->dp->stop(t);
	t->dp->close(t);
	t->dp = NULL;
	t->state = TUNNEL_FAILED;
	t->ifindex = 0;
	t->tun_fd = -1;
	failed_add(t);
}

void tunnel_destroy(struct tunnel *t)
{
	if (!t)
		return;
	if (t->state == TUNNEL_UP) {
		tunnel_take_down(t);
		log_tunnel_info(t->cfg.name, "interface %s removed", t->ifname);
	}
	if (t->d->loop)
		ev_timer_stop(t->d->loop, &t->retry_timer);
	check_remove(t);
	failed_remove(t);
	free(t);
}

void tunnel_lost(struct tunnel *t, const char *fmt, ...)
{
	char why[200], msg[256];
	uint64_t now = gresecd_now_ns();
	unsigned delay;
	va_list ap;

	if (t->state != TUNNEL_UP)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tunnel_take_down(t);
	t->rebuilds++;
	t->wait = WAIT_NOTHING;     /* its own back-off, whatever events say */
	/* A tunnel that ran a while is made again at once; one lost again
	 * soon after it was made waits longer each time. */
	if (now - t->up_since >= (uint64_t)STABLE_S * NS_PER_S) {
		t->backoff = 0;
		delay = 0;
	} else {
		delay = next_backoff(t);
	}
	snprintf(msg, sizeof(msg), "%s", why);
	set_error(t, msg);
	log_tunnel_warn(t->cfg.name, "%s: making it again%s%.0u%s", why,
			delay ? " in " : "", delay, delay ? " s" : "");
	arm_retry(t, delay);
	gresecd_status_changed(t->d);
}

/* ---- addresses and routes ---- */

bool tunnel_items_incomplete(const struct tunnel *t)
{
	for (size_t i = 0; i < t->cfg.n_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (t->addr_st[i].state != ITEM_INSTALLED)
			return true;
	for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
		if (t->route_st[i].state != ITEM_INSTALLED)
			return true;
	return false;
}

/* The routes of one family through our link, looked up once per install
 * when a route comes back EEXIST (ours, or someone else's?). */
struct own_routes {
	const struct tunnel *t;
	uint64_t found;                /* bit i: cfg.routes[i] is there through our link */
};

static int own_route_cb(const struct nl_route_info *r, void *data)
{
	struct own_routes *o = data;
	const struct tunnel_config *c = &o->t->cfg;
	size_t alen = r->dst.family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++) {
		const struct ip_prefix *p = &c->routes[i];
		uint8_t net[16];

		if (p->addr.family != r->dst.family || p->len != r->dst_len)
			continue;
		memcpy(net, p->addr.u.bytes, alen);
		for (size_t b = 0; b < alen; b++) {
			size_t bits = p->len > b * 8 ? p->len - b * 8 : 0;

			if (bits < 8)
				net[b] &= (uint8_t)(0xff00u >> bits);
		}
		if (memcmp(net, r->dst.u.bytes, alen) == 0)
			o->found |= 1ULL << i;
	}
	return 0;
}

/* Who holds the prefix p (a route add said EEXIST and it is not ours). */
static void describe_conflict(struct tunnel *t, const struct ip_prefix *p, struct tunnel_item *it)
{
	struct nl_route_info r;

	it->conflict_oif = 0;
	it->conflict_type = RTN_UNICAST;
	if (nl_route_lookup(&t->d->nl, &p->addr, &r) != 0 || r.dst_len != p->len)
		return;
	it->conflict_oif = r.multipath ? 0 : r.oif;
	it->conflict_type = r.type;
}

const char *tunnel_item_why(const struct tunnel_item *it, char *buf, size_t len)
{
	char dev[IFNAMSIZ];

	if (it->state == ITEM_PENDING) {
		snprintf(buf, len, it->err == -ENETDOWN ? "the link is down" : "not added yet");
	} else if (it->state == ITEM_FAILED && it->err == -EEXIST) {
		if (it->conflict_oif && if_indextoname((unsigned)it->conflict_oif, dev))
			snprintf(buf, len, "another route to it exists (dev %s)", dev);
		else if (it->conflict_type == RTN_BLACKHOLE || it->conflict_type == RTN_UNREACHABLE ||
			 it->conflict_type == RTN_PROHIBIT)
			snprintf(buf, len, "another route to it exists (%s)",
				 it->conflict_type == RTN_BLACKHOLE ? "blackhole" :
				 it->conflict_type == RTN_UNREACHABLE ? "unreachable" : "prohibit");
		else
			snprintf(buf, len, "another route to it exists");
	} else if (it->state == ITEM_FAILED) {
		snprintf(buf, len, "%s", strerror(-it->err));
	} else {
		buf[0] = '\0';
	}
	return buf;
}

/* Repairs are bounded: 10 at once, then one every 6 s, so a fight with
 * another program that keeps removing what gresecd puts back is slow and
 * said once.  Only a check that finds something gone spends one. */
static bool repair_allowed(struct tunnel *t)
{
	uint64_t now = gresecd_now_ns();

	if (t->repair_refill == 0)
		t->repair_refill = now;
	while (t->repair_tokens < REPAIR_BURST && now - t->repair_refill >= REPAIR_REFILL_S * NS_PER_S) {
		t->repair_tokens++;
		t->repair_refill += REPAIR_REFILL_S * NS_PER_S;
	}
	if (t->repair_tokens >= REPAIR_BURST) {
		t->repair_refill = now;
		t->repair_paused_logged = false;
	}
	if (t->repair_tokens > 0)
		return true;
	if (!t->repair_paused_logged)
		log_tunnel_warn(t->cfg.name,
				"something keeps removing its addresses or routes: gresecd puts "
				"them back at most every %d s now", REPAIR_REFILL_S);
	t->repair_paused_logged = true;
	return false;
}

unsigned tunnel_install_items(struct tunnel *t, bool link_up, bool repair)
{
	unsigned repaired = 0;
	const struct tunnel_config *c = &t->cfg;
	struct own_routes own[2] = { { t, 0 }, { t, 0 } };
	bool own_done[2] = { false, false };
	char p[64], why[96];
	int err;

	for (size_t i = 0; i < c->n_addresses && i < CONF_MAX_ADDRESSES; i++) {
		struct tunnel_item *it = &t->addr_st[i], was = *it;

		err = nl_addr_add(&t->d->nl, t->ifindex, &c->addresses[i],
				  conf_peer_address(c, c->addresses[i].addr.family));
		if (err == 0 || err == -EEXIST) {
			it->state = ITEM_INSTALLED;
			it->err = 0;
			if (err == 0 && was.state == ITEM_INSTALLED)
				repaired++;
			if (repair && err == 0)
				log_tunnel_rl(&t->rl_heal, LOG_LEVEL_NOTICE, c->name,
					      "address %s was removed from %s: put back",
					      ip_prefix_str(&c->addresses[i], p, sizeof(p)),
					      t->ifname);
		} else {
			it->state = ITEM_FAILED;
			it->err = err;
			if (was.state != ITEM_FAILED || was.err != err)
				log_tunnel_warn(c->name, "cannot add address %s to %s: %s",
						ip_prefix_str(&c->addresses[i], p, sizeof(p)),
						t->ifname, strerror(-err));
		}
	}
	for (size_t i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++) {
		const struct ip_prefix *r = &c->routes[i];
		struct tunnel_item *it = &t->route_st[i], was = *it;
		int fam = r->addr.family == AF_INET6 ? 1 : 0;

		if (!link_up) {
			it->state = ITEM_PENDING;
			it->err = -ENETDOWN;
			continue;
		}
		err = nl_route_add(&t->d->nl, t->ifindex, r, 0);
		if (err == -EEXIST) {
			if (!own_done[fam]) {
				nl_route_dump(&t->d->nl, r->addr.family, t->ifindex, own_route_cb, &own[fam]);
				own_done[fam] = true;
			}
			if (i < CONF_MAX_ROUTES && (own[fam].found & (1ULL << i)))
				err = 1;        /* ours, there already */
		}
		if (err == 0 || err == 1) {
			it->state = ITEM_INSTALLED;
			it->err = 0;
			it->conflict_oif = 0;
			if (was.state == ITEM_FAILED && was.err == -EEXIST) {
				if (t->d->n_conflicts)
					t->d->n_conflicts--;
				log_tunnel_notice(c->name, "route %s installed (the route that "
						  "held it is gone)", ip_prefix_str(r, p, sizeof(p)));
			} else if (err == 0 && was.state == ITEM_INSTALLED) {
				repaired++;
				if (repair)
					log_tunnel_rl(&t->rl_heal, LOG_LEVEL_NOTICE, c->name,
						      "route %s via %s was removed: put back",
						      ip_prefix_str(r, p, sizeof(p)), t->ifname);
			}
			continue;
		}
		if (err == -ENETDOWN) {
			it->state = ITEM_PENDING;
			it->err = err;
			continue;
		}
		it->state = ITEM_FAILED;
		it->err = err;
		if (err == -EEXIST)
			describe_conflict(t, r, it);
		if (err == -EEXIST && !(was.state == ITEM_FAILED && was.err == -EEXIST))
			t->d->n_conflicts++;
		else if (err != -EEXIST && was.state == ITEM_FAILED && was.err == -EEXIST && t->d->n_conflicts)
			t->d->n_conflicts--;
		if (was.state != ITEM_FAILED || was.err != err || was.conflict_oif != it->conflict_oif)
			log_tunnel_warn(c->name, "route %s via %s not installed: %s%s",
					ip_prefix_str(r, p, sizeof(p)), t->ifname,
					tunnel_item_why(it, why, sizeof(why)),
					err == -EEXIST ? "; gresecd leaves it alone and adds its "
					"own when that one goes" : "");
	}
	return repaired;
}

/* ---- checks ---- */

static void check_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)revents;
	tunnel_run_checks(w->data);
}

void tunnel_queue_check(struct tunnel *t, bool reinstall)
{
	struct gresecd *d = t->d;

	if (t->state != TUNNEL_UP)
		return;
	if (reinstall)
		t->reinstall = true;
	if (t->check_queued)
		return;
	t->check_queued = true;
	t->check_prev = NULL;
	t->check_next = d->checks;
	if (d->checks)
		d->checks->check_prev = t;
	d->checks = t;
	/* Not restarted by later events: a storm cannot put checks off. */
	if (d->loop && !ev_is_active(&d->check_timer)) {
		ev_timer_init(&d->check_timer, check_timer_cb, CHECK_DELAY_S, 0.);
		d->check_timer.data = d;
		ev_timer_start(d->loop, &d->check_timer);
	}
}

/* Compare the running tunnel's link with its configuration. */
static void tunnel_check(struct tunnel *t)
{
	struct nl_link_info li;
	bool from_down;
	int err;

	if (t->state != TUNNEL_UP)
		return;
	err = nl_link_get(&t->d->nl, t->ifindex, NULL, &li);
	if (err == -ENODEV) {
		tunnel_lost(t, "interface %s was deleted (not by gresecd)", t->ifname);
		return;
	}
	if (err)
		return;        /* asked again at the next event or sweep */
	if (!(li.flags & IFF_UP)) {
		if (!t->down_by_us && !t->admin_down) {
			t->admin_down = true;
			log_tunnel_notice(t->cfg.name,
					  "interface %s was set down (not by gresecd): left down; "
					  "its addresses and routes come back when it is set up",
					  t->ifname);
		}
		for (size_t i = 0; i < t->cfg.n_routes && i < CONF_MAX_ROUTES; i++)
			if (t->route_st[i].state == ITEM_INSTALLED) {
				t->route_st[i].state = ITEM_PENDING;
				t->route_st[i].err = -ENETDOWN;
			}
		t->reinstall = true;   /* the kernel drops the routes of a link that goes down */
		return;
	}
	from_down = t->down_by_us || t->admin_down;
	if (t->down_by_us) {
		/* Kernel path, dead peer: someone set it up again; theirs to decide. */
		t->down_by_us = false;
		log_tunnel_info(t->cfg.name, "interface %s was set up while its peer is silent",
				t->ifname);
		t->reinstall = true;
	}
	if (t->admin_down) {
		t->admin_down = false;
		log_tunnel_notice(t->cfg.name,
				  "interface %s is up again: restoring its addresses and routes",
				  t->ifname);
		t->reinstall = true;
	}
	if (li.mtu && li.mtu != t->mtu)
		t->reinstall = true;
	if (!t->reinstall && !tunnel_items_incomplete(t))
		return;
	if (!repair_allowed(t))
		return;        /* the maintenance sweep comes back */
	if (li.mtu && li.mtu != t->mtu) {
		if (t->repair_tokens)
			t->repair_tokens--;
		if ((err = nl_link_mtu(&t->d->nl, t->ifindex, t->mtu)) == 0)
			log_tunnel_rl(&t->rl_heal, LOG_LEVEL_NOTICE, t->cfg.name,
				      "the MTU of %s was changed to %u: set back to %u", t->ifname,
				      li.mtu, t->mtu);
		else
			log_tunnel_rl(&t->rl_heal, LOG_LEVEL_WARN, t->cfg.name,
				      "cannot set the MTU of %s back to %u: %s", t->ifname, t->mtu,
				      strerror(-err));
	}
	/* After a down and up the kernel removed them itself: not a repair. */
	if (tunnel_install_items(t, true, !from_down) && !from_down && t->repair_tokens)
		t->repair_tokens--;
	t->reinstall = false;
}

void tunnel_run_checks(struct gresecd *d)
{
	struct tunnel *t;

	if (d->loop)
		ev_timer_stop(d->loop, &d->check_timer);
	/* A check may lose a tunnel (which takes it off the list). */
	while ((t = d->checks)) {
		check_remove(t);
		tunnel_check(t);
	}
}

/* ---- reload in place ---- */

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
	struct tunnel_config old_cfg = t->cfg;
	const struct tunnel_config *old = &old_cfg;
	uint32_t mtu;
	int err;

	if (t->state != TUNNEL_UP)
		return -EAGAIN;
	/* Whatever is not listed here needs a new interface or session. */
	memcpy(probe.description, old->description, sizeof(probe.description));
	probe.mtu = old->mtu;
	probe.ttl = old->ttl;
	probe.tos = old->tos;
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
	probe.has_mac = old->has_mac;
	memcpy(probe.mac, old->mac, sizeof(probe.mac));
	probe.line = old->line;
	probe.lines = old->lines;
	if (!conf_tunnel_equal(&probe, old) || datapath_must_change(t, cfg))
		return -EAGAIN;

	mtu = cfg->mtu ? cfg->mtu : conf_default_mtu(cfg);
	if (mtu != t->mtu) {
		/* The flags stay as they are: a kernel link whose peer is
		 * silent is down until it answers (kernel_gre.c). */
		if ((err = nl_link_mtu(&t->d->nl, t->ifindex, mtu))) {
			log_tunnel_err(cfg->name, "cannot set MTU %u: %s", mtu, strerror(-err));
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
				    conf_peer_address(old, old->addresses[i].addr.family));
	for (size_t i = 0; i < old->n_routes; i++)
		if (!prefix_in(&old->routes[i], cfg->routes, cfg->n_routes))
			nl_route_del(&t->d->nl, t->ifindex, &old->routes[i], 0);

	conflicts_recount(t, -1);
	t->cfg = *cfg;
	memset(t->addr_st, 0, sizeof(t->addr_st));
	memset(t->route_st, 0, sizeof(t->route_st));
	tunnel_install_items(t, !t->admin_down && !t->down_by_us, false);
	if (cfg->type == TUNNEL_TYPE_GRETAP && (cfg->has_mac != old->has_mac ||
						memcmp(cfg->mac, old->mac, sizeof(cfg->mac)) != 0)) {
		struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
		uint8_t mac[6];

		tunnel_mac(cfg, mac);
		a.mac = mac;
		if ((err = nl_link_setattrs(&t->d->nl, t->ifindex, &a)))
			log_tunnel_warn(cfg->name, "cannot set the MAC address of %s: %s",
					t->ifname,
					strerror(-err));
	}
	tunnel_gre_params(t);
	if ((err = t->dp->update(t, old)))
		return err;
	if (cfg->mode == TUNNEL_MODE_PLAIN)
		plain_keepalive_reset(t);
	else
		secure_update(t);
	log_tunnel_info(cfg->name, "updated in place");
	return 0;
}
