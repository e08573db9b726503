/* daemon/daemon.c: the daemon's context: start, reconfigure, stop. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "daemon/daemon.h"
#include "daemon/datapath.h"
#include "daemon/index.h"
#include "daemon/lifecycle.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/plain.h"
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

/* The packet buffers of the data path, allocated once; free_packets
 * takes any subset (a failed allocation half way included). */
static void free_packets(struct gresecd *d)
{
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

static int alloc_packets(struct gresecd *d)
{
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

int gresecd_init(struct gresecd *d, const struct gresec_config *cfg)
{
	int err;

	(void)cfg;
	if ((err = nl_open(&d->nl))) {
		log_err("cannot open rtnetlink socket: %s", strerror(-err));
		return err;
	}
	if ((err = alloc_packets(d))) {
		log_err("cannot allocate the packet buffers: %s", strerror(-err));
		free_packets(d);
		nl_close(&d->nl);
		return err;
	}
	hashtab_init(&d->tunnels_by_ifindex);   /* allocates at the first insert */
	if (d->loop) {
		ev_timer_init(&d->maint_timer, maint_cb, 10., 10.);
		d->maint_timer.data = d;
		ev_timer_start(d->loop, &d->maint_timer);
	}
	return 0;
}

/* ---- closing many interfaces at once (shutdown, reload) ----
 * Closing a TUN/TAP descriptor unregisters its interface, and the kernel
 * waits for an RCU grace period inside each close (15-20 ms here): one
 * after the other, 2048 tunnels took 40 s to stop, 4096 over a minute,
 * close to systemd's stop timeout.  So at shutdown, and for the tunnels a
 * reload removes, the descriptors are collected (gresecd_close_tun) and
 * closed from up to 32 threads at once, so that the grace periods
 * overlap: 2048 tunnels stop in 3 s.  gresecd is otherwise
 * single-threaded (libev), and these threads are kept harmless: they
 * exist only inside close_together(), after the tunnels were stopped and
 * nothing watches the descriptors any more; each calls close() on its own
 * share of an array nothing else touches (no logging, no allocation, no
 * daemon state); signals are blocked in them, so any signal still goes to
 * the main thread; all are joined before close_together() returns, so a
 * reload adds its new tunnels only once the removed ones' names are free.
 * If a thread cannot be made, its share is closed in the main thread. */

enum { CLOSE_THREADS = 32, CLOSE_PER_THREAD_MIN = 4 };

struct fd_batch {
	int *fds;
	size_t n, cap;
};

struct close_job {
	const int *fds;
	size_t n, step;
};

static void *close_worker(void *arg)
{
	const struct close_job *j = arg;

	for (size_t i = 0; i < j->n; i += j->step)
		close(j->fds[i]);
	return NULL;
}

static void close_fds(const int *fds, size_t n)
{
	pthread_t th[CLOSE_THREADS];
	struct close_job jobs[CLOSE_THREADS];
	size_t k = n / CLOSE_PER_THREAD_MIN, started = 0;
	sigset_t all, old;

	if (k > CLOSE_THREADS)
		k = CLOSE_THREADS;
	if (k < 2) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);    /* inherited by the threads */
	for (size_t i = 0; i < k; i++) {
		jobs[i] = (struct close_job){ fds + i, n - i, k };
		if (pthread_create(&th[i], NULL, close_worker, &jobs[i]) != 0)
			break;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = started; i < k; i++)
		close_worker(&jobs[i]);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* Collect the TUN/TAP descriptors tunnels give up from now on ... */
static void close_begin(struct gresecd *d, struct fd_batch *b)
{
	*b = (struct fd_batch){ 0 };
	d->closing = b;
}

/* ... and close them, together. */
static void close_together(struct gresecd *d, struct fd_batch *b)
{
	d->closing = NULL;
	close_fds(b->fds, b->n);
	free(b->fds);
	*b = (struct fd_batch){ 0 };
}

void gresecd_close_tun(struct gresecd *d, int fd)
{
	struct fd_batch *b = d->closing;

	if (fd < 0)
		return;
	if (b && b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		int *fds = realloc(b->fds, cap * sizeof(*fds));

		if (fds) {
			b->fds = fds;
			b->cap = cap;
		}
	}
	if (!b || b->n == b->cap) {
		close(fd);
		return;
	}
	b->fds[b->n++] = fd;
}

/* ---- tunnels by name ---- */

static bool tunnel_name_match(const void *value, const void *key)
{
	return strcmp(((const struct tunnel *)value)->cfg.name, key) == 0;
}

static uint64_t name_hash(const struct hashtab *h, const char *name)
{
	return hashtab_hash(h, name, strlen(name));
}

struct tunnel *tunnel_find(struct gresecd *d, const char *name)
{
	return hashtab_find(&d->tunnels_by_name, name_hash(&d->tunnels_by_name, name),
			    tunnel_name_match, name);
}

static void tunnel_forget(struct gresecd *d, struct tunnel *t)
{
	hashtab_remove(&d->tunnels_by_name, name_hash(&d->tunnels_by_name, t->cfg.name), t);
}

static bool config_name_match(const void *value, const void *key)
{
	return strcmp(((const struct tunnel_config *)value)->name, key) == 0;
}

/* Tunnels are applied one by one, in the file's order; one that cannot
 * come up is recorded as failed and retried (lifecycle.c), the others
 * carry on, at start as on a reload: one bad peer must not take down a
 * hub, and a local address DHCP has not assigned yet must not stop the
 * daemon.  A failed tunnel is tried again at once by every reload.
 *
 * Apart from what changed, the work is proportional to the number of
 * tunnels: names are matched through hash tables (every configured
 * tunnel's, and one made here of next's), and the list is rebuilt once
 * at the end in the file's order.  The tunnels keep their own copy of
 * their settings (t->cfg), so next's tunnel array is freed once applied. */
int gresecd_apply_config(struct gresecd *d, struct gresec_config *next)
{
	struct tunnel **order, *t, *tn, **pp;
	struct hashtab next_names;
	struct fd_batch gone;
	unsigned failed = 0;

	if (!d->tunnels_by_name.cap && !d->tunnels)
		hashtab_init(&d->tunnels_by_name);
	hashtab_init(&next_names);
	order = calloc(next->n_tunnels ? next->n_tunnels : 1, sizeof(*order));
	if (!order || hashtab_reserve(&next_names, next->n_tunnels) != 0 ||
	    hashtab_reserve(&d->tunnels_by_name, next->n_tunnels) != 0) {
		log_err("cannot apply the configuration: out of memory; the running configuration "
			"stays in force");
		free(order);
		hashtab_free(&next_names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < next->n_tunnels; i++)
		hashtab_insert(&next_names, name_hash(&next_names, next->tunnels[i].name), &next->tunnels[i]);

	/* Removed tunnels first: they may free names and ports for new ones. */
	close_begin(d, &gone);
	for (pp = &d->tunnels, t = d->tunnels; t; t = tn) {
		tn = t->next;
		if (hashtab_find(&next_names, name_hash(&next_names, t->cfg.name), config_name_match,
				 t->cfg.name)) {
			pp = &t->next;
			continue;
		}
		log_tunnel_info(t->cfg.name, "removed from the configuration");
		*pp = tn;
		tunnel_forget(d, t);
		tunnel_destroy(t);
	}
	close_together(d, &gone);
	hashtab_free(&next_names);
	d->applying = true;
	for (size_t i = 0; i < next->n_tunnels; i++) {
		const struct tunnel_config *c = &next->tunnels[i];

		t = tunnel_find(d, c->name);
		if (t && t->state != TUNNEL_UP) {
			if (!conf_tunnel_equal(&t->cfg, c))
				t->backoff = 0;
			t->cfg = *c;
			if (t->failures)
				log_tunnel_info(c->name, "not running (%s): trying again",
						t->last_error);
			tunnel_bring_up(t);
		} else if (t) {
			if (conf_tunnel_equal(&t->cfg, c)) {
				t->cfg.line = c->line;
				t->cfg.lines = c->lines;
				if (t->reinstall || tunnel_items_incomplete(t))
					tunnel_queue_check(t, false);
			} else if (tunnel_update(t, c) != 0) {
				log_tunnel_info(c->name, "changed, recreating it");
				tunnel_take_down(t);
				log_tunnel_info(c->name, "interface %s removed", t->ifname);
				t->cfg = *c;
				t->failures = t->backoff = t->rebuilds = 0;
				t->last_error[0] = '\0';
				tunnel_bring_up(t);
			}
		} else {
			t = tunnel_new(d, c);
			if (t && hashtab_insert(&d->tunnels_by_name, name_hash(&d->tunnels_by_name, c->name), t)) {
				tunnel_destroy(t);
				t = NULL;
			}
			if (!t) {
				log_tunnel_err(c->name, "out of memory");
				continue;
			}
			t->next = d->tunnels;   /* relinked in order below */
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
	free(d->cfg.tunnels);
	d->cfg.tunnels = NULL;
	memset(next, 0, sizeof(*next));
	d->configured = true;
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

	/* Inside gresecd_apply_config(), which calls this once at its end:
	 * not once per tunnel brought up, each a walk of the list while some
	 * are failed (quadratic on a hub's start). */
	if (d->applying)
		return;
	status_text(d, st, sizeof(st));
	if (!d->ready) {
		/* READY=1 (or the reload's) carries it */
		snprintf(d->status_sent, sizeof(d->status_sent), "%s", st);
		return;
	}
	if (strcmp(st, d->status_sent) == 0)
		return;
	snprintf(d->status_sent, sizeof(d->status_sent), "%s", st);
	notify_send("STATUS=%s", st);
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

/* ---- key files: a reload notices rewritten ones ----
 * A tunnel's digest is a keyed hash of its key files' digests, each a
 * keyed hash of the decoded key (a random key per process).  A file is read
 * again only when stat() says it may have changed (device, inode, size,
 * modification and change times: a rewrite, a rename over it, a chmod or
 * chown all change one of them), and once per reload however many tunnels
 * name it: a hub's 4096 tunnels with one private key cost one stat(). */

struct key_file {
	char *path;
	struct stat st;
	bool ok;
	unsigned gen;                   /* the last reload that looked at it */
	uint8_t digest[CONF_KEY_LEN];
	struct key_file *next;
};

static uint8_t digest_key[crypto_generichash_KEYBYTES];
static bool digest_key_made;

static bool key_file_match(const void *value, const void *key)
{
	return strcmp(((const struct key_file *)value)->path, key) == 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_mode == b->st_mode && a->st_uid == b->st_uid;
}

/* The digest of the key in path, read again only when it changed. */
static const uint8_t *key_file_digest(struct gresecd *d, const char *path)
{
	uint64_t h = hashtab_hash(&d->key_files, path, strlen(path));
	struct key_file *kf = hashtab_find(&d->key_files, h, key_file_match, path);
	uint8_t key[KEYS_LEN];
	char err[PATH_MAX + 128];
	struct stat st;

	if (!kf) {
		kf = calloc(1, sizeof(*kf));
		if (!kf || !(kf->path = strdup(path)) || hashtab_insert(&d->key_files, h, kf) != 0) {
			if (kf)
				free(kf->path);
			free(kf);
			return NULL;
		}
		kf->next = d->key_file_list;
		d->key_file_list = kf;
	} else if (kf->gen == d->key_file_gen) {
		return kf->ok ? kf->digest : NULL;
	}
	kf->gen = d->key_file_gen;
	if (lstat(path, &st) != 0) {
		kf->ok = false;
		return NULL;
	}
	if (kf->ok && same_file_state(&st, &kf->st))
		return kf->digest;
	kf->ok = false;
	if (keys_load_file_owned(path, key, d->key_owner, err, sizeof(err)) != 0)
		return NULL;
	crypto_generichash(kf->digest, sizeof(kf->digest), key, sizeof(key), digest_key,
			   sizeof(digest_key));
	sodium_memzero(key, sizeof(key));
	kf->st = st;
	kf->ok = true;
	return kf->digest;
}

/* Files no tunnel named in this round are forgotten. */
static void key_files_sweep(struct gresecd *d)
{
	for (struct key_file **pp = &d->key_file_list; *pp;) {
		struct key_file *kf = *pp;

		if (kf->gen == d->key_file_gen) {
			pp = &kf->next;
			continue;
		}
		*pp = kf->next;
		hashtab_remove(&d->key_files, hashtab_hash(&d->key_files, kf->path, strlen(kf->path)), kf);
		free(kf->path);
		sodium_memzero(kf, sizeof(*kf));
		free(kf);
	}
}

static void key_files_free(struct gresecd *d)
{
	d->key_file_gen++;
	key_files_sweep(d);
	hashtab_free(&d->key_files);
}

void gresecd_key_digests(struct gresecd *d, struct gresec_config *cfg)
{
	if (!digest_key_made) {
		randombytes_buf(digest_key, sizeof(digest_key));
		digest_key_made = true;
	}
	if (!d->key_files.cap && !d->key_file_list)
		hashtab_init(&d->key_files);
	d->key_file_gen++;
	for (size_t i = 0; i < cfg->n_tunnels; i++) {
		struct tunnel_config *c = &cfg->tunnels[i];
		const struct tunnel *running;
		const uint8_t *priv, *psk = NULL;
		crypto_generichash_state st;

		if (c->mode != TUNNEL_MODE_SECURE)
			continue;
		priv = key_file_digest(d, c->private_key_file);
		if (c->preshared_key_file[0])
			psk = key_file_digest(d, c->preshared_key_file);
		if (priv && (psk || !c->preshared_key_file[0])) {
			crypto_generichash_init(&st, digest_key, sizeof(digest_key), sizeof(c->key_digest));
			crypto_generichash_update(&st, priv, CONF_KEY_LEN);
			if (psk)
				crypto_generichash_update(&st, psk, CONF_KEY_LEN);
			crypto_generichash_final(&st, c->key_digest, sizeof(c->key_digest));
			sodium_memzero(&st, sizeof(st));
		} else {
			memset(c->key_digest, 0, sizeof(c->key_digest));
			running = tunnel_find(d, c->name);
			if (running && running->cfg.mode == TUNNEL_MODE_SECURE &&
			    !strcmp(running->cfg.private_key_file, c->private_key_file) &&
			    !strcmp(running->cfg.preshared_key_file, c->preshared_key_file)) {
				memcpy(c->key_digest, running->cfg.key_digest, sizeof(c->key_digest));
				log_tunnel_warn(c->name,
						"its key files cannot be read now: the keys in use "
						"stay");
			}
		}
	}
	key_files_sweep(d);
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
	struct fd_batch gone;

	d->ready = false;
	close_begin(d, &gone);
	for (t = d->tunnels; t; t = tn) {
		tn = t->next;
		tunnel_destroy(t);
	}
	close_together(d, &gone);
	d->tunnels = NULL;
	hashtab_free(&d->tunnels_by_name);
	key_files_free(d);
	secure_index_free(d);
	hashtab_free(&d->tunnels_by_ifindex);
	if (d->loop)
		ev_timer_stop(d->loop, &d->maint_timer);
	conf_free(&d->cfg);
	free_packets(d);
	nl_close(&d->nl);
}
