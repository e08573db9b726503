/* daemon/daemon.c: the daemon's context: start, reconfigure, stop. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/datapath.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/secure.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

uint64_t gresecd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t gresecd_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Kernel path: the link's receive counter moving is the peer's traffic
 * (gresecd sees none of it), so "last packet from the peer" is when it
 * last grew, to the resolution of these looks (and of `gresec show`). */
static int rx_seen_cb(const struct nl_link_info *l, void *data)
{
	struct gresecd *d = data;
	struct tunnel *t = watch_lookup(d, l->ifindex);

	if (t && t->ifindex == l->ifindex && t->dp && t->dp->kind == DATAPATH_KERNEL && l->has_stats &&
	    l->stats.rx_packets != t->kernel_rx_seen) {
		t->kernel_rx_seen = l->stats.rx_packets;
		t->last_rx = gresecd_now_ns();
	}
	return 0;
}

/* Every 10 s: the kernel's GRE may be loaded at any time (by anyone's `ip
 * tunnel add`): from then on user-path tunnels need their ICMP sink;
 * tunnels with an address or route not in place are looked at again; the
 * kernel path's receive counters are read. */
static void maint_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gresecd *d = w->data;
	bool kernel = false;

	(void)loop; (void)revents;
	kgre_sink_maintain(d);
	watch_sweep(d);
	for (struct tunnel *t = d->tunnels; t && !kernel; t = t->next)
		kernel = t->state == TUNNEL_UP && t->dp->kind == DATAPATH_KERNEL;
	if (kernel)
		nl_link_dump(&d->nl, rx_seen_cb, d);
}

int gresecd_init(struct gresecd *d, const struct gresec_config *cfg)
{
	int err;

	(void)cfg;
	if ((err = nl_open(&d->nl))) {
		log_err("cannot open rtnetlink socket: %s", strerror(-err));
		return err;
	}
	/* The packet buffers of the data path, allocated once. */
	for (int i = 0; i < RX_BATCH; i++) {
		d->rx_pkts[i] = malloc(sizeof(struct pkt));
		d->rx_seg_pkts[i] = malloc(sizeof(struct pkt));
		if (!d->rx_pkts[i] || !d->rx_seg_pkts[i])
			return -ENOMEM;
		pkt_reset(d->rx_pkts[i]);
		pkt_reset(d->rx_seg_pkts[i]);
	}
	for (int i = 0; i < TX_BATCH; i++) {
		d->tx_pkts[i] = malloc(sizeof(struct pkt));
		if (!d->tx_pkts[i])
			return -ENOMEM;
		pkt_reset(d->tx_pkts[i]);
	}
	d->tx_pkt = malloc(sizeof(struct pkt));
	d->tun_pkt = malloc(sizeof(struct pkt));
	if (!d->tx_pkt || !d->tun_pkt)
		return -ENOMEM;
	pkt_reset(d->tx_pkt);
	if (d->loop) {
		ev_timer_init(&d->maint_timer, maint_cb, 10., 10.);
		d->maint_timer.data = d;
		ev_timer_start(d->loop, &d->maint_timer);
	}
	return 0;
}

static const struct tunnel_config *config_find(const struct gresec_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_tunnels; i++)
		if (strcmp(cfg->tunnels[i].name, name) == 0)
			return &cfg->tunnels[i];
	return NULL;
}

/* Tunnels are applied one by one, in the file's order; one that cannot
 * come up is recorded as failed and retried (lifecycle.c), the others
 * carry on, at start as on a reload: one bad peer must not take down a
 * hub, and a local address DHCP has not assigned yet must not stop the
 * daemon.  A failed tunnel is tried again at once by every reload. */
int gresecd_apply_config(struct gresecd *d, struct gresec_config *next)
{
	struct tunnel **order, *t, *tn, **pp;
	unsigned failed = 0;

	order = calloc(next->n_tunnels ? next->n_tunnels : 1, sizeof(*order));
	if (!order) {
		log_err("reload: out of memory, the running configuration stays in force");
		return -ENOMEM;
	}
	/* Removed tunnels first: they may free names and ports for new ones. */
	for (pp = &d->tunnels, t = d->tunnels; t; t = tn) {
		tn = t->next;
		if (config_find(next, t->cfg.name)) {
			pp = &t->next;
			continue;
		}
		log_info("tunnel \"%s\": removed from the configuration", t->cfg.name);
		*pp = tn;
		tunnel_destroy(t);
	}
	d->applying = true;
	for (size_t i = 0; i < next->n_tunnels; i++) {
		const struct tunnel_config *c = &next->tunnels[i];

		t = tunnel_find(d, c->name);
		if (t && t->state != TUNNEL_UP) {
			if (!conf_tunnel_equal(&t->cfg, c))
				t->backoff = 0;
			t->cfg = *c;
			if (t->failures)
				log_info("tunnel \"%s\": not running (%s): trying again", c->name, t->last_error);
			tunnel_bring_up(t);
		} else if (t) {
			if (conf_tunnel_equal(&t->cfg, c)) {
				t->cfg.line = c->line;
				t->cfg.lines = c->lines;
				if (t->reinstall || tunnel_items_incomplete(t))
					tunnel_queue_check(t, false);
			} else if (tunnel_update(t, c) != 0) {
				log_info("tunnel \"%s\": changed, recreating it", c->name);
				tunnel_take_down(t);
				log_info("tunnel \"%s\": interface %s removed", c->name, t->ifname);
				t->cfg = *c;
				t->failures = t->backoff = t->rebuilds = 0;
				t->last_error[0] = '\0';
				tunnel_bring_up(t);
			}
		} else {
			t = tunnel_new(d, c);
			if (!t) {
				log_err("tunnel \"%s\": out of memory", c->name);
				continue;
			}
			t->next = d->tunnels;   /* found by tunnel_find until relinked */
			d->tunnels = t;
			if (d->start_errors && d->start_errors[i].msg[0])
				tunnel_fail(t, d->start_errors[i].err, d->start_errors[i].msg);
			else
				tunnel_bring_up(t);
		}
		order[i] = t;
		if (t->state != TUNNEL_UP)
			failed++;
	}
	/* The list in the file's order (`gresec show`, reload reports). */
	d->tunnels = NULL;
	for (size_t i = next->n_tunnels; i-- > 0;)
		if (order[i]) {
			order[i]->next = d->tunnels;
			d->tunnels = order[i];
		}
	free(order);
	conf_free(&d->cfg);
	d->cfg = *next;
	memset(next, 0, sizeof(*next));
	d->applying = false;
	tunnel_run_checks(d);
	gresecd_status_changed(d);
	return failed ? -EIO : 0;
}

/* "3 tunnels from FILE", and the tunnels not running with why. */
static void status_text(struct gresecd *d, char *buf, size_t len)
{
	char n_str[32];
	size_t used;
	int n;

	n = snprintf(buf, len, "%s from %s", gresecd_tunnels_str(d->cfg.n_tunnels, n_str, sizeof(n_str)),
		     d->config_path);
	used = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
	if (!d->n_failed)
		return;
	n = snprintf(buf + used, len - used, "; %u not running:", d->n_failed);
	used += n > 0 && (size_t)n < len - used ? (size_t)n : len - used - 1;
	for (struct tunnel *t = d->tunnels; t && used < len - 1; t = t->next) {
		if (t->state == TUNNEL_UP)
			continue;
		n = snprintf(buf + used, len - used, " %s (%s)", t->cfg.name,
			     t->last_error[0] ? t->last_error : "not started");
		used += n > 0 && (size_t)n < len - used ? (size_t)n : len - used - 1;
	}
}

void gresecd_status_changed(struct gresecd *d)
{
	char st[sizeof(d->status_sent)];

	status_text(d, st, sizeof(st));
	if (!d->ready || d->applying) {
		/* READY=1 (or the reload's) carries it */
		snprintf(d->status_sent, sizeof(d->status_sent), "%s", st);
		return;
	}
	if (strcmp(st, d->status_sent) == 0)
		return;
	snprintf(d->status_sent, sizeof(d->status_sent), "%s", st);
	notify_send("STATUS=%s", st);
}

const char *gresecd_tunnels_str(size_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%zu %s", n, n == 1 ? "tunnel" : "tunnels");
	return buf;
}

/* ---- key files: a reload notices rewritten ones ---- */

static uint8_t digest_key[crypto_generichash_KEYBYTES];
static bool digest_key_made;

static int digest_key_file(const char *path, uid_t owner, crypto_generichash_state *st)
{
	uint8_t key[KEYS_LEN];
	char err[PATH_MAX + 128];

	if (keys_load_file_owned(path, key, owner, err, sizeof(err)) != 0)
		return -1;
	crypto_generichash_update(st, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return 0;
}

void gresecd_key_digests(struct gresecd *d, struct gresec_config *cfg)
{
	if (!digest_key_made) {
		randombytes_buf(digest_key, sizeof(digest_key));
		digest_key_made = true;
	}
	for (size_t i = 0; i < cfg->n_tunnels; i++) {
		struct tunnel_config *c = &cfg->tunnels[i];
		const struct tunnel *running;
		crypto_generichash_state st;
		bool ok;

		if (c->mode != TUNNEL_MODE_SECURE)
			continue;
		crypto_generichash_init(&st, digest_key, sizeof(digest_key), sizeof(c->key_digest));
		ok = digest_key_file(c->private_key_file, d->key_owner, &st) == 0 &&
		     (!c->preshared_key_file[0] ||
		      digest_key_file(c->preshared_key_file, d->key_owner, &st) == 0);
		if (ok) {
			crypto_generichash_final(&st, c->key_digest, sizeof(c->key_digest));
		} else {
			memset(c->key_digest, 0, sizeof(c->key_digest));
			running = tunnel_find(d, c->name);
			if (running && running->cfg.mode == TUNNEL_MODE_SECURE &&
			    !strcmp(running->cfg.private_key_file, c->private_key_file) &&
			    !strcmp(running->cfg.preshared_key_file, c->preshared_key_file)) {
				memcpy(c->key_digest, running->cfg.key_digest, sizeof(c->key_digest));
				log_warn("tunnel \"%s\": its key files cannot be read now: the keys in use stay",
					 c->name);
			}
		}
		sodium_memzero(&st, sizeof(st));
	}
}

struct reload_report {
	char *buf;
	size_t len, used;
};

static void reload_report_cb(void *ctx, const char *msg)
{
	struct reload_report *r = ctx;
	int n;

	log_err("%s", msg);
	if (r->used >= r->len)
		return;
	n = snprintf(r->buf + r->used, r->len - r->used, "%s\n", msg);
	if (n > 0)
		r->used += (size_t)n < r->len - r->used ? (size_t)n : r->len - r->used - 1;
}

/* Settings read at start only: say that a reload did not apply them. */
static size_t start_only_changes(const struct daemon_config *was, const struct daemon_config *now,
				 char *msg, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "control_socket", offsetof(struct daemon_config, control_socket) },
		{ "pid_file", offsetof(struct daemon_config, pid_file) },
		{ "user", offsetof(struct daemon_config, user) },
		{ "group", offsetof(struct daemon_config, group) },
	};
	size_t used = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *a = (const char *)was + fields[i].off, *b = (const char *)now + fields[i].off;
		int n;

		if (strcmp(a, b) == 0)
			continue;
		log_notice("reload: daemon.%s changed; it is read at start only: restart gresecd to apply it",
			   fields[i].name);
		n = snprintf(msg + used, len - used,
			     "daemon.%s changed: it takes effect at the next start\n", fields[i].name);
		if (n > 0 && (size_t)n < len - used)
			used += (size_t)n;
	}
	return used;
}

int gresecd_reload(struct gresecd *d, char *msg, size_t msg_len)
{
	struct gresec_config next;
	struct reload_report rep = { msg, msg_len, 0 };
	struct daemon_config was = d->cfg.daemon;
	char n_str[32];
	size_t used;
	int err;

	msg[0] = '\0';
	notify_reloading("reloading the configuration");
	log_notice("reloading %s", d->config_path);
	if (conf_load_at(d->config_path, d->start_dir[0] ? d->start_dir : NULL, &next,
			 reload_report_cb, &rep) != 0) {
		log_err("reload: %s is invalid, the running configuration stays in force", d->config_path);
		snprintf(msg + rep.used, msg_len - rep.used,
			 "configuration invalid; the running configuration stays in force\n");
		notify_send("READY=1\nSTATUS=%s; the last reload failed: configuration invalid",
			    gresecd_tunnels_str(d->cfg.n_tunnels, n_str, sizeof(n_str)));
		return -EINVAL;
	}
	gresecd_key_digests(d, &next);
	err = gresecd_apply_config(d, &next);
	conf_free(&next);
	if (!d->log_level_fixed && log_get_level() != d->cfg.daemon.log_level) {
		enum log_level was_level = log_get_level(), now = d->cfg.daemon.log_level;

		/* said at the more verbose of the two, then applied */
		log_set_level(now > was_level ? now : was_level);
		log_notice("log level %s, was %s", conf_log_level_name(now),
			   conf_log_level_name(was_level));
		log_set_level(now);
	}
	gresecd_tunnels_str(d->cfg.n_tunnels, n_str, sizeof(n_str));
	if (err) {
		unsigned shown = 0, missing = 0;
		int n;

		/* Which tunnels do not run and why, in the file's order. */
		n = snprintf(msg, msg_len, "reloaded %s with errors: %u of %s not running (each is retried; "
			     "gresec show lists them):\n", d->config_path, d->n_failed, n_str);
		used = n > 0 && (size_t)n < msg_len ? (size_t)n : msg_len - 1;
		for (struct tunnel *t = d->tunnels; t; t = t->next) {
			if (t->state == TUNNEL_UP)
				continue;
			n = snprintf(msg + used, msg_len - used, "  tunnel \"%s\" (line %d): %s\n", t->cfg.name,
				     t->cfg.line, t->last_error[0] ? t->last_error : "not started");
			if (n < 0 || (size_t)n >= msg_len - used - 64) {
				missing++;
				continue;
			}
			used += (size_t)n;
			shown++;
		}
		if (missing) {
			n = snprintf(msg + used, msg_len - used, "  and %u more (gresec show)\n", missing);
			if (n > 0 && (size_t)n < msg_len - used)
				used += (size_t)n;
		}
		(void)shown;
		if (used < msg_len)
			start_only_changes(&was, &d->cfg.daemon, msg + used, msg_len - used);
		log_notice("reloaded %s: %s, %u not running", d->config_path, n_str, d->n_failed);
		notify_send("READY=1\nSTATUS=%s; the last reload had errors (gresec show)", d->status_sent);
		return err;
	}
	used = (size_t)snprintf(msg, msg_len, "reloaded %s: %s\n", d->config_path, n_str);
	if (used < msg_len)
		start_only_changes(&was, &d->cfg.daemon, msg + used, msg_len - used);
	log_notice("reloaded %s: %s", d->config_path, n_str);
	notify_send("READY=1\nSTATUS=%s", d->status_sent[0] ? d->status_sent : n_str);
	return 0;
}

void gresecd_shutdown(struct gresecd *d)
{
	struct tunnel *t, *tn;

	d->ready = false;
	for (t = d->tunnels; t; t = tn) {
		tn = t->next;
		tunnel_destroy(t);
	}
	d->tunnels = NULL;
	watch_close(d);
	if (d->loop)
		ev_timer_stop(d->loop, &d->maint_timer);
	control_close(d);
	conf_free(&d->cfg);
	nl_close(&d->nl);
	for (int i = 0; i < RX_BATCH; i++) {
		free(d->rx_pkts[i]);
		d->rx_pkts[i] = NULL;
		free(d->rx_seg_pkts[i]);
		d->rx_seg_pkts[i] = NULL;
	}
	for (int i = 0; i < TX_BATCH; i++) {
		free(d->tx_pkts[i]);
		d->tx_pkts[i] = NULL;
	}
	free(d->tx_pkt);
	d->tx_pkt = NULL;
	free(d->tun_pkt);
	d->tun_pkt = NULL;
}
