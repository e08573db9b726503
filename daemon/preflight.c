/* daemon/preflight.c: system checks of a configuration (see preflight.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "daemon/datapath.h"
#include "daemon/preflight.h"

struct pf {
	const struct gresec_config *cfg;
	const struct preflight_opts *o;
	preflight_report_fn report;
	void *ctx;
	struct preflight_counts *n;
	struct mnl_socket *nl;        /* NULL: rtnetlink unavailable */
	unsigned nl_seq;
	pid_t running;                /* the gresecd of pid_file, 0 none, -1 unknown */
	uid_t key_owner;
	bool key_owner_known;
};

static const char *const kind_label[] = {
	[PREFLIGHT_ERROR] = "",
	[PREFLIGHT_WARNING] = "warning: ",
	[PREFLIGHT_NOTE] = "note: ",
	[PREFLIGHT_UNCHECKED] = "not checked: ",
};

/* One finding about `setting` of tunnel t (NULL: the daemon section). */
static void say(struct pf *p, enum preflight_kind kind, const struct tunnel_config *t,
		const char *setting, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void say(struct pf *p, enum preflight_kind kind, const struct tunnel_config *t,
		const char *setting, int line, const char *fmt, ...)
{
	char body[1024], where[64 + IFNAMSIZ], msg[PATH_MAX + sizeof(body) + 160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (!line && t)
		line = t->line;
	if (t)
		snprintf(where, sizeof(where), "tunnel \"%s\": ", t->name);
	else
		snprintf(where, sizeof(where), "daemon: ");
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s%s: %s%s", p->cfg->path, line, where, setting,
			 kind_label[kind], body);
	else
		snprintf(msg, sizeof(msg), "%s: %s%s: %s%s", p->cfg->path, where, setting,
			 kind_label[kind], body);
	switch (kind) {
	case PREFLIGHT_ERROR:
		p->n->errors++;
		if (!t)
			p->n->daemon_errors++;
		break;
	case PREFLIGHT_WARNING: p->n->warnings++; break;
	case PREFLIGHT_NOTE: p->n->notes++; break;
	case PREFLIGHT_UNCHECKED: p->n->unchecked++; break;
	}
	p->report(p->ctx, kind, t, setting, msg);
}

/* ---- interfaces, over rtnetlink (read-only requests) ---- */

struct link_info {
	bool exists;
	char kind[32];               /* IFLA_INFO_KIND; "" for devices without one */
	int tun_type;                /* IFF_TUN or IFF_TAP for a tun device, else 0 */
	int tun_persist;             /* 1, 0, -1 unknown */
	char alias[64];              /* IFLA_IFALIAS, "" when none */
};

static int tun_data_cb(const struct nlattr *a, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(a) == IFLA_TUN_TYPE && mnl_attr_validate(a, MNL_TYPE_U8) == 0)
		li->tun_type = mnl_attr_get_u8(a);
	else if (mnl_attr_get_type(a) == IFLA_TUN_PERSIST && mnl_attr_validate(a, MNL_TYPE_U8) == 0)
		li->tun_persist = mnl_attr_get_u8(a);
	return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(a));
	else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, tun_data_cb, li);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, linkinfo_cb, data);
	else if (mnl_attr_get_type(a) == IFLA_IFALIAS && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(li->alias, sizeof(li->alias), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	li->exists = true;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, li);
	/* IFLA_INFO_DATA is parsed with tun's attribute numbers: only trust
	 * them for a tun device. */
	if (strcmp(li->kind, "tun") != 0) {
		li->tun_type = 0;
		li->tun_persist = -1;
	}
	return MNL_CB_OK;
}

/* 0 with *li filled (li->exists false when there is no such interface),
 * or -errno when the kernel could not be asked. */
static int link_lookup(struct pf *p, const char *name, struct link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	unsigned portid;
	int ret;

	memset(li, 0, sizeof(*li));
	li->tun_persist = -1;
	if (!p->nl)
		return -ENOTCONN;
	/* libmnl before 1.0.5 leaves attribute padding as it finds it. */
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)) + MNL_ATTR_HDRLEN +
		       MNL_ALIGN(IFNAMSIZ));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++p->nl_seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mnl_socket_sendto(p->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	portid = mnl_socket_get_portid(p->nl);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(p->nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, p->nl_seq, portid, link_msg_cb, li);
		if (ret < 0)
			return errno == ENODEV ? 0 : -errno;
		if (ret == MNL_CB_STOP || li->exists)
			return 0;
	}
}

/* ---- who holds a TUN/TAP device: /proc/PID/fdinfo "iff:" lines ---- */

struct holder {
	pid_t pid;
	char comm[32];
};

static void read_comm(pid_t pid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool same_netns(int procfd)
{
	struct stat a, b;

	return fstatat(procfd, "ns/net", &a, 0) == 0 && stat("/proc/self/ns/net", &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Whether fd `fdname` of the process at procfd is /dev/net/tun attached to
 * interface name. */
static bool fd_holds(int procfd, const char *fdname, const char *name)
{
	char link[64], path[NAME_MAX + 16], line[256];
	ssize_t n;
	bool found = false;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "fd/%s", fdname);
	n = readlinkat(procfd, path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	if (strcmp(link, "/dev/net/tun") != 0)
		return false;
	snprintf(path, sizeof(path), "fdinfo/%s", fdname);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "iff:", 4) == 0) {
			char *v = line + 4;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			found = strcmp(v, name) == 0;
		}
	}
	fclose(f);
	return found;
}

/* 1 and *h: a process of our network namespace holds the TUN/TAP device
 * `name`; 0: none does (every process could be looked at); -1: none seen,
 * but some processes could not be looked at (not root). */
static int tun_holder(const char *name, struct holder *h)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	bool incomplete = false;

	if (!proc)
		return -1;
	while ((e = readdir(proc))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int procfd;
		DIR *fds;
		struct dirent *fe;
		bool found = false;

		if (*end || pid <= 0)
			continue;
		procfd = openat(dirfd(proc), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			continue;
		int fdd = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fdd < 0) {
			if (errno == EACCES || errno == EPERM)
				incomplete = true;
			close(procfd);
			continue;
		}
		fds = fdopendir(fdd);
		if (!fds) {
			close(fdd);
			close(procfd);
			continue;
		}
		while (!found && (fe = readdir(fds)))
			if (fe->d_name[0] != '.' && fd_holds(procfd, fe->d_name, name))
				found = true;
		closedir(fds);
		if (found && same_netns(procfd)) {
			h->pid = (pid_t)pid;
			read_comm(h->pid, h->comm, sizeof(h->comm));
			close(procfd);
			closedir(proc);
			return 1;
		}
		close(procfd);
	}
	closedir(proc);
	return incomplete ? -1 : 0;
}

/* The live gresecd whose pid the pid file holds: its pid, 0 when there is
 * none, -1 when the pid file could not be read. */
static pid_t pid_file_daemon(const char *pid_file)
{
	char buf[32], comm[32];
	long pid;
	char *end;
	ssize_t n;
	int fd;

	if (!pid_file || !pid_file[0])
		return 0;
	fd = open(pid_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (pid <= 1 || (*end && *end != '\n'))
		return 0;
	read_comm((pid_t)pid, comm, sizeof(comm));
	return strcmp(comm, "gresecd") == 0 ? (pid_t)pid : 0;
}

static bool gresec_kind(const char *kind)
{
	static const char *const kinds[] = { "tun", "gre", "gretap", "ip6gre", "ip6gretap" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static const char *kind_text(const struct link_info *li, char *buf, size_t n)
{
	if (strcmp(li->kind, "tun") == 0)
		snprintf(buf, n, "a %s device", li->tun_type == IFF_TAP ? "TAP" :
				 li->tun_type == IFF_TUN ? "TUN" : "TUN/TAP");
	else if (li->kind[0])
		snprintf(buf, n, "a %s interface", li->kind);
	else
		snprintf(buf, n, "an interface without a link kind (hardware, or loopback)");
	return buf;
}

/* An interface that already has the tunnel's name.  Ours when it is the
 * running gresecd's of this configuration (its pid file names it): the
 * TUN is held by that pid, or, where holders cannot be seen or the
 * device is not a TUN, a live gresecd holds the pid file.  At start
 * nothing is ours yet. */
static void check_name(struct pf *p, const struct tunnel_config *t)
{
	const int line = t->lines.name;
	const bool want_tap = t->type == TUNNEL_TYPE_GRETAP;
	struct link_info li;
	struct holder h = { 0, "" };
	char what[96];
	int err, r;

	err = link_lookup(p, t->name, &li);
	if (err) {
		say(p, PREFLIGHT_UNCHECKED, t, "name", line,
		    "whether an interface \"%s\" exists: rtnetlink: %s", t->name, strerror(-err));
		return;
	}
	if (!li.exists)
		return;
	kind_text(&li, what, sizeof(what));
	if (strcmp(li.kind, "tun") == 0) {
		r = tun_holder(t->name, &h);
		if (r == 1) {
			if (!p->o->at_start && p->running > 0 && h.pid == p->running)
				say(p, PREFLIGHT_NOTE, t, "name", line,
				    "interface \"%s\" is held by the running gresecd of this configuration "
				    "(pid %d): its own", t->name, (int)h.pid);
			else if (!p->o->at_start && strcmp(h.comm, "gresecd") == 0)
				say(p, PREFLIGHT_WARNING, t, "name", line,
				    "interface \"%s\" is %s held by gresecd pid %d, not the one of pid file "
				    "\"%s\": this configuration cannot start while that daemon runs",
				    t->name, what, (int)h.pid, p->o->pid_file ? p->o->pid_file : "");
			else
				say(p, PREFLIGHT_ERROR, t, "name", line,
				    "interface \"%s\" is in use: %s held by %s (pid %d)", t->name, what,
				    h.comm[0] ? h.comm : "a process", (int)h.pid);
			return;
		}
		if (r == 0 || li.tun_persist == 1) {
			/* Nobody holds it: a persistent device made with ip tuntap,
			 * which gresecd takes over when its kind fits. */
			if ((li.tun_type == IFF_TAP) != want_tap)
				say(p, PREFLIGHT_ERROR, t, "name", line,
				    "interface \"%s\" is in use: %s, but type \"%s\" needs a %s device",
				    t->name, what, conf_type_name(t->type), want_tap ? "TAP" : "TUN");
			else if (r == 0)
				say(p, PREFLIGHT_NOTE, t, "name", line,
				    "interface \"%s\" is a persistent %s nobody holds: gresecd will use it "
				    "and leave it in place at teardown", t->name, want_tap ? "TAP" : "TUN");
			else if (!p->o->at_start && p->running > 0)
				say(p, PREFLIGHT_NOTE, t, "name", line,
				    "interface \"%s\" (%s) exists while the gresecd of this "
				    "configuration runs (pid %d): presumably its own", t->name, what,
				    (int)p->running);
			else
				say(p, PREFLIGHT_UNCHECKED, t, "name", line,
				    "interface \"%s\" is a persistent %s; whether a process holds it "
				    "could not be seen (run the check as root)", t->name,
				    want_tap ? "TAP" : "TUN");
			return;
		}
	}
	/* A kernel GRE link of gresec's that no running gresecd of this
	 * configuration holds: left by a killed one; the start replaces it. */
	if (strcmp(li.kind, "tun") != 0 && gresec_kind(li.kind) && p->running <= 0 &&
	    strncmp(li.alias, KGRE_ALIAS_MARK, strlen(KGRE_ALIAS_MARK)) == 0) {
		say(p, PREFLIGHT_NOTE, t, "name", line,
		    "interface \"%s\" (%s) was made by a gresecd that is no longer running: the "
		    "start replaces it", t->name, what);
		return;
	}
	if (gresec_kind(li.kind) && !p->o->at_start && p->running > 0) {
		say(p, PREFLIGHT_NOTE, t, "name", line,
		    "interface \"%s\" (%s) exists while the gresecd of this configuration runs "
		    "(pid %d): presumably its own", t->name, what, (int)p->running);
		return;
	}
	if (strcmp(li.kind, "tun") == 0 && !p->o->at_start) {
		/* Held by someone we may not look at. */
		say(p, PREFLIGHT_WARNING, t, "name", line,
		    "interface \"%s\" exists (%s) and is held by a process this check cannot see%s",
		    t->name, what, p->running < 0 ? " (the pid file could not be read either)" : "");
		say(p, PREFLIGHT_UNCHECKED, t, "name", line,
		    "which process holds interface \"%s\" (run the check as root)", t->name);
		return;
	}
	say(p, PREFLIGHT_ERROR, t, "name", line, "interface \"%s\" is in use: %s%s", t->name, what,
	    p->o->at_start && gresec_kind(li.kind) ? " (another gresecd's, or left by one)" : "");
}

static void check_device(struct pf *p, const struct tunnel_config *t)
{
	struct link_info li;
	int err;

	if (!t->device[0])
		return;
	err = link_lookup(p, t->device, &li);
	if (err)
		say(p, PREFLIGHT_UNCHECKED, t, "device", t->lines.device,
		    "whether \"%s\" exists: rtnetlink: %s", t->device, strerror(-err));
	else if (!li.exists)
		say(p, PREFLIGHT_ERROR, t, "device", t->lines.device,
		    "\"%s\" does not exist", t->device);
	else if (strcmp(t->device, t->name) == 0)
		say(p, PREFLIGHT_ERROR, t, "device", t->lines.device,
		    "\"%s\" is the tunnel's own interface", t->device);
}

/* ---- local addresses ---- */

static bool addr_is_here(const struct ifaddrs *ifs, const struct ip_addr *a)
{
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->family)
			continue;
		if (a->family == AF_INET &&
		    ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr == a->u.v4.s_addr)
			return true;
		if (a->family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr, &a->u.v6,
			   16) == 0)
			return true;
	}
	return false;
}

static void check_local(struct pf *p, const struct tunnel_config *t, const struct ifaddrs *ifs,
			int ifs_err)
{
	char a[INET6_ADDRSTRLEN];

	if (t->local.family == AF_UNSPEC)
		return;
	ip_addr_str(&t->local, a, sizeof(a));
	if (ifs_err)
		say(p, PREFLIGHT_UNCHECKED, t, "local", t->lines.local,
		    "whether \"%s\" is assigned here: %s", a, strerror(ifs_err));
	else if (!addr_is_here(ifs, &t->local))
		say(p, PREFLIGHT_WARNING, t, "local", t->lines.local,
		    "\"%s\" is not assigned to this host (yet): DHCP or PPPoE may assign it later; "
		    "until then the tunnel cannot send from it", a);
}

/* ---- key files ---- */

/* Loads one key file the way the daemon does; 0 with key filled, 1 when it
 * could not be checked, -1 after an error (both reported). */
static int check_key_file(struct pf *p, const struct tunnel_config *t, const char *setting,
			  int line, const char *path, uint8_t key[KEYS_LEN])
{
	char err[PATH_MAX + 128];
	struct stat st;
	int ret;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			say(p, PREFLIGHT_ERROR, t, setting, line, "\"%s\" does not exist", path);
			return -1;
		}
		say(p, PREFLIGHT_UNCHECKED, t, setting, line, "\"%s\": %s (run the check as root)",
		    path, strerror(errno));
		return 1;
	}
	if (S_ISLNK(st.st_mode)) {
		say(p, PREFLIGHT_ERROR, t, setting, line,
		    "\"%s\" is a symbolic link, which gresecd refuses to follow: name the file itself",
		    path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		say(p, PREFLIGHT_ERROR, t, setting, line, "\"%s\" is not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		say(p, PREFLIGHT_ERROR, t, setting, line,
		    "\"%s\": mode %04o is too open, run: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (p->key_owner_known && st.st_uid != p->key_owner) {
		if (!p->cfg->daemon.user[0] && geteuid() != 0 && st.st_uid == 0) {
			/* Right when root starts gresecd; we are not root. */
			say(p, PREFLIGHT_UNCHECKED, t, setting, line,
			    "\"%s\" is root's, as it must be when root starts gresecd; its contents "
			    "(run the check as root)", path);
			return 1;
		}
		/* The daemon's own wording (crypto/keys.c), and whose uid it is. */
		say(p, PREFLIGHT_ERROR, t, setting, line,
		    "\"%s\": owned by uid %u, not by uid %u, run: chown %u %s (%s%s%s)", path,
		    (unsigned)st.st_uid, (unsigned)p->key_owner, (unsigned)p->key_owner, path,
		    p->cfg->daemon.user[0] ? "daemon.user \"" : "the user who starts gresecd",
		    p->cfg->daemon.user, p->cfg->daemon.user[0] ? "\"" : "");
		return -1;
	}
	ret = keys_load_file_owned(path, key, st.st_uid, err, sizeof(err));
	if (ret == -EACCES) {
		say(p, PREFLIGHT_UNCHECKED, t, setting, line,
		    "\"%s\": cannot read it as uid %u (run the check as root)", path,
		    (unsigned)geteuid());
		return 1;
	}
	if (ret != 0) {
		say(p, PREFLIGHT_ERROR, t, setting, line, "%s", err);
		return -1;
	}
	return 0;
}

static void check_keys(struct pf *p, const struct tunnel_config *t)
{
	uint8_t priv[KEYS_LEN], pub[KEYS_LEN], psk[KEYS_LEN];

	if (t->mode != TUNNEL_MODE_SECURE)
		return;
	if (check_key_file(p, t, "private_key_file", t->lines.private_key_file,
			   t->private_key_file, priv) == 0) {
		if (keys_public_from_private(pub, priv) != 0)
			say(p, PREFLIGHT_ERROR, t, "private_key_file", t->lines.private_key_file,
			    "\"%s\": not a usable X25519 private key", t->private_key_file);
		else if (sodium_memcmp(pub, t->peer_public_key, KEYS_LEN) == 0)
			say(p, PREFLIGHT_ERROR, t, "peer_public_key", t->lines.peer_public_key,
			    "is this end's own public key (that of private_key_file \"%s\"): the "
			    "peer's public key is needed", t->private_key_file);
		sodium_memzero(priv, sizeof(priv));
		sodium_memzero(pub, sizeof(pub));
	}
	if (t->preshared_key_file[0] &&
	    check_key_file(p, t, "preshared_key_file", t->lines.preshared_key_file,
			   t->preshared_key_file, psk) == 0)
		sodium_memzero(psk, sizeof(psk));
}

/* ---- daemon section ---- */

static void check_user(struct pf *p)
{
	const struct daemon_config *d = &p->cfg->daemon;

	if (d->user[0]) {
		struct passwd *pw;

		errno = 0;
		pw = getpwnam(d->user);
		if (pw) {
			if (p->o->key_owner == (uid_t)-1) {
				p->key_owner = pw->pw_uid;
				p->key_owner_known = true;
			}
		} else if (errno && errno != ENOENT && errno != ESRCH) {
			say(p, PREFLIGHT_UNCHECKED, NULL, "user", d->lines.user,
			    "\"%s\": cannot look it up: %s", d->user, strerror(errno));
		} else {
			say(p, PREFLIGHT_ERROR, NULL, "user", d->lines.user,
			    "\"%s\" does not exist", d->user);
		}
	}
	if (d->group[0]) {
		errno = 0;
		if (!getgrnam(d->group)) {
			if (errno && errno != ENOENT && errno != ESRCH)
				say(p, PREFLIGHT_UNCHECKED, NULL, "group", d->lines.group,
				    "\"%s\": cannot look it up: %s", d->group, strerror(errno));
			else
				say(p, PREFLIGHT_ERROR, NULL, "group", d->lines.group,
				    "\"%s\" does not exist", d->group);
		}
	}
}

void preflight_run(const struct gresec_config *cfg, const struct preflight_opts *o,
		   preflight_report_fn report, void *ctx, struct preflight_counts *counts)
{
	struct pf p = {
		.cfg = cfg, .o = o, .report = report, .ctx = ctx, .n = counts,
	};
	struct ifaddrs *ifs = NULL;
	int ifs_err = 0;

	memset(counts, 0, sizeof(*counts));
	/* Key files belong to daemon.user (set by check_user once it is
	 * found), else to whoever starts gresecd: the caller. */
	if (o->key_owner != (uid_t)-1 || !cfg->daemon.user[0]) {
		p.key_owner = o->key_owner != (uid_t)-1 ? o->key_owner : geteuid();
		p.key_owner_known = true;
	}
	check_user(&p);

	p.running = pid_file_daemon(o->pid_file);
	if (o->at_start && p.running == getpid())
		p.running = 0;
	p.nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (p.nl && mnl_socket_bind(p.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(p.nl);
		p.nl = NULL;
	}
	if (getifaddrs(&ifs) != 0)
		ifs_err = errno;

	for (size_t i = 0; i < cfg->n_tunnels; i++) {
		const struct tunnel_config *t = &cfg->tunnels[i];

		check_name(&p, t);
		check_device(&p, t);
		check_local(&p, t, ifs, ifs_err);
		check_keys(&p, t);
	}
	if (ifs)
		freeifaddrs(ifs);
	if (p.nl)
		mnl_socket_close(p.nl);
}

/* ---- gresecd -t, gresec check-config ---- */

struct printer {
	char **unchecked;
	size_t n_unchecked;
	const struct tunnel_config *last_failing;
	unsigned tunnels_failing;     /* tunnels with an error */
};

static void print_cb(void *ctx, enum preflight_kind kind, const struct tunnel_config *t,
		     const char *setting, const char *msg)
{
	struct printer *pr = ctx;
	char **grown;

	(void)setting;
	if (kind == PREFLIGHT_ERROR && t && t != pr->last_failing) {
		pr->last_failing = t;     /* a tunnel's findings come together */
		pr->tunnels_failing++;
	}
	switch (kind) {
	case PREFLIGHT_ERROR:
	case PREFLIGHT_WARNING:
		fprintf(stderr, "%s\n", msg);
		break;
	case PREFLIGHT_NOTE:
		printf("%s\n", msg);
		break;
	case PREFLIGHT_UNCHECKED:
		/* listed at the end, where they are not lost among the rest */
		grown = realloc(pr->unchecked, (pr->n_unchecked + 1) * sizeof(*grown));
		if (!grown)
			break;
		pr->unchecked = grown;
		pr->unchecked[pr->n_unchecked] = strdup(msg);
		if (pr->unchecked[pr->n_unchecked])
			pr->n_unchecked++;
		break;
	}
}

static const char *plural(unsigned long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int preflight_check_file(const char *path, const char *pid_file, bool file_only)
{
	struct gresec_config cfg;
	struct preflight_counts n = { 0, 0, 0, 0, 0 };
	struct preflight_opts o = { .at_start = false, .key_owner = (uid_t)-1 };
	struct printer pr = { NULL, 0, NULL, 0 };
	char cwd[PATH_MAX], pid_abs[PATH_MAX];
	const char *base = getcwd(cwd, sizeof(cwd)) ? cwd : NULL;
	int rc = 0;

	if (conf_load_at(path, base, &cfg, NULL, NULL) != 0)
		return 1;
	if (pid_file && conf_path_join(pid_abs, sizeof(pid_abs), base, pid_file) == 0)
		pid_file = pid_abs;
	o.pid_file = pid_file ? pid_file : cfg.daemon.pid_file;
	if (!file_only)
		preflight_run(&cfg, &o, print_cb, &pr, &n);
	fflush(stdout);
	if (n.daemon_errors) {
		fprintf(stderr, "%s: %u %s found by the system checks: the daemon would not start\n",
			path, n.errors, plural(n.errors, "problem", "problems"));
		rc = 1;
	} else if (n.errors) {
		/* The daemon starts without them and retries them (partial start). */
		fprintf(stderr, "%s: %u %s found by the system checks: %u of %zu %s would not come up "
			"now (the daemon would start, run the others and retry %s)\n", path, n.errors,
			plural(n.errors, "problem", "problems"), pr.tunnels_failing, cfg.n_tunnels,
			plural(cfg.n_tunnels, "tunnel", "tunnels"),
			plural(pr.tunnels_failing, "it", "them"));
		rc = 2;
	} else if (cfg.n_tunnels == 0) {
		printf("%s: configuration OK: no tunnels (\"tunnels = ( );\": the daemon runs "
		       "without any until a reload adds some)", path);
	} else {
		printf("%s: configuration OK (%zu %s)", path, cfg.n_tunnels,
		       plural(cfg.n_tunnels, "tunnel", "tunnels"));
	}
	if (!n.errors) {
		if (file_only)
			printf("; system checks skipped");
		else if (n.warnings)
			printf(", %u %s", n.warnings, plural(n.warnings, "warning", "warnings"));
		printf("\n");
	}
	if (pr.n_unchecked) {
		printf("%s: %zu %s could not be made:\n", path, pr.n_unchecked,
		       plural(pr.n_unchecked, "check", "checks"));
		for (size_t i = 0; i < pr.n_unchecked; i++) {
			printf("  %s\n", pr.unchecked[i]);
			free(pr.unchecked[i]);
		}
	}
	free(pr.unchecked);
	conf_free(&cfg);
	fflush(stdout);
	return rc;
}
