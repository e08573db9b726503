/* daemon/daemon.c: the daemon's context: start, reconfigure, stop. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/secure.h"
#include "daemon/tunnel.h"

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
	return 0;
}

static void tunnel_unlink(struct gresecd *d, struct tunnel *t)
{
	for (struct tunnel **pp = &d->tunnels; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

static const struct tunnel_config *config_find(const struct gresec_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_tunnels; i++)
		if (strcmp(cfg->tunnels[i].name, name) == 0)
			return &cfg->tunnels[i];
	return NULL;
}

/* Tunnels are applied one by one; a tunnel that fails to come up is logged
 * and left out, the others carry on (one bad peer must not take down a hub).
 * At start-up (no tunnels yet) any failure is fatal instead. */
int gresecd_apply_config(struct gresecd *d, struct gresec_config *next)
{
	bool starting = d->tunnels == NULL && d->cfg.tunnels == NULL;
	struct tunnel *t, *tn;
	int failures = 0, err;

	/* Removed tunnels first: they may free names and ports for new ones. */
	for (t = d->tunnels; t; t = tn) {
		tn = t->next;
		if (!config_find(next, t->cfg.name)) {
			log_info("tunnel \"%s\": removed from the configuration", t->cfg.name);
			tunnel_unlink(d, t);
			tunnel_destroy(t);
		}
	}
	for (size_t i = 0; i < next->n_tunnels; i++) {
		const struct tunnel_config *c = &next->tunnels[i];

		t = tunnel_find(d, c->name);
		if (t) {
			if (conf_tunnel_equal(&t->cfg, c)) {
				t->cfg.line = c->line;
				continue;
			}
			if (tunnel_update(t, c) == 0)
				continue;
			log_info("tunnel \"%s\": changed, recreating it", c->name);
			tunnel_unlink(d, t);
			tunnel_destroy(t);
		}
		err = tunnel_create(d, c, &t);
		if (err) {
			failures++;
			if (starting)
				break;
			continue;
		}
		t->next = d->tunnels;
		d->tunnels = t;
	}
	conf_free(&d->cfg);
	d->cfg = *next;
	memset(next, 0, sizeof(*next));
	return failures ? -EIO : 0;
}

/* ---- file descriptors ---- */

struct plain_group {
	int family;
	uint8_t local[16];
	char device[IFNAMSIZ];
};

static int plain_group_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct plain_group));
}

/* What cfg needs at most: a TUN/TAP per tunnel, two UDP sockets per
 * secure port (IPv4, IPv6), a raw socket per plain group, and a reserve for
 * the rest (stdio, netlink, epoll, the control socket and its clients,
 * the pid file, key files being read). */
size_t gresecd_fds_needed(const struct gresec_config *cfg)
{
	static uint8_t port_seen[65536 / 8];
	struct plain_group *groups;
	size_t need = GRESECD_FD_RESERVE + cfg->n_tunnels, n_groups = 0;

	memset(port_seen, 0, sizeof(port_seen));
	groups = calloc(cfg->n_tunnels ? cfg->n_tunnels : 1, sizeof(*groups));
	for (size_t i = 0; i < cfg->n_tunnels; i++) {
		const struct tunnel_config *c = &cfg->tunnels[i];

		if (c->mode == TUNNEL_MODE_SECURE) {
			if (!(port_seen[c->port / 8] & (1u << (c->port % 8)))) {
				port_seen[c->port / 8] |= (uint8_t)(1u << (c->port % 8));
				need += 2;
			}
		} else if (groups) {
			struct plain_group *g = &groups[n_groups++];

			g->family = c->remote.family;
			memcpy(g->local, c->local.u.bytes, sizeof(g->local));
			memcpy(g->device, c->device, sizeof(g->device));
		} else {
			need++;
		}
	}
	if (groups && n_groups) {
		qsort(groups, n_groups, sizeof(*groups), plain_group_cmp);
		for (size_t i = 0; i < n_groups; i++)
			if (i == 0 || plain_group_cmp(&groups[i - 1], &groups[i]) != 0)
				need++;
	}
	free(groups);
	return need;
}

int gresecd_fd_limit(const struct gresec_config *cfg, char *msg, size_t msg_len)
{
	size_t need = gresecd_fds_needed(cfg);
	struct rlimit rl;
	char why[512];

	if (msg_len)
		msg[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		snprintf(why, sizeof(why), "%zu tunnels need up to %zu file descriptors, but the hard limit "
			 "of open files (RLIMIT_NOFILE) is %llu: raise it (LimitNOFILE= in the systemd "
			 "unit, ulimit -Hn where gresecd is started)", cfg->n_tunnels, need,
			 (unsigned long long)rl.rlim_max);
		goto refuse;
	}
	{
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			snprintf(why, sizeof(why), "cannot raise the limit of open files from %llu to %llu "
				 "(%zu tunnels need up to %zu): %s", (unsigned long long)was,
				 (unsigned long long)rl.rlim_max, cfg->n_tunnels, need, strerror(errno));
			goto refuse;
		}
		log_info("raised the limit of open files from %llu to %llu: %zu tunnels need up to %zu",
			 (unsigned long long)was, (unsigned long long)rl.rlim_cur, cfg->n_tunnels, need);
	}
	return 0;
refuse:
	log_err("%s", why);
	if (msg_len)
		snprintf(msg, msg_len, "%s", why);
	return -EMFILE;
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
	if (gresecd_fd_limit(&next, msg, msg_len) != 0) {
		size_t used_fd = strlen(msg);

		snprintf(msg + used_fd, msg_len - used_fd, "\nthe running configuration stays in force\n");
		conf_free(&next);
		notify_send("READY=1\nSTATUS=%s; the last reload failed: too few file descriptors",
			    gresecd_tunnels_str(d->cfg.n_tunnels, n_str, sizeof(n_str)));
		return -EMFILE;
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
		used = (size_t)snprintf(msg, msg_len,
					"reloaded with errors: some tunnels could not be set up (see the log)\n");
		if (used < msg_len)
			start_only_changes(&was, &d->cfg.daemon, msg + used, msg_len - used);
		notify_send("READY=1\nSTATUS=%s; the last reload had errors (see the log)", n_str);
		return err;
	}
	used = (size_t)snprintf(msg, msg_len, "reloaded %s: %s\n", d->config_path, n_str);
	if (used < msg_len)
		start_only_changes(&was, &d->cfg.daemon, msg + used, msg_len - used);
	log_notice("reloaded %s: %s", d->config_path, n_str);
	notify_send("READY=1\nSTATUS=%s from %s", n_str, d->config_path);
	return 0;
}

void gresecd_shutdown(struct gresecd *d)
{
	struct tunnel *t, *tn;

	for (t = d->tunnels; t; t = tn) {
		tn = t->next;
		tunnel_destroy(t);
	}
	d->tunnels = NULL;
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
