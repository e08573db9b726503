/* daemon/gresecd.c: the gresec daemon: options, start-up, the event loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "conf/conf.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/preflight.h"
#include "daemon/privdrop.h"
#include "daemon/rundir.h"
#include "daemon/secure_port.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: gresecd [-f] [-t] [-P] [-d] [-c FILE] [-p PIDFILE] [-s SOCKET]\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"  -f, --foreground      stay in the foreground, log to stderr (the journal\n"
		"                        under systemd); readiness to $NOTIFY_SOCKET\n"
		"  -t, --check           check the configuration and this host, and exit\n"
		"                        (0 usable, 1 not)\n"
		"  -P, --print-paths     print the pid file and control socket in effect and exit\n"
		"  -p, --pid-file FILE   pid file (overrides daemon.pid_file)\n"
		"  -s, --socket SOCKET   control socket (overrides daemon.control_socket)\n"
		"  -d, --debug           debug logging (overrides daemon.log_level)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            this help\n"
		"Relative paths are taken relative to the directory gresecd is started in.\n",
		GRESEC_DEFAULT_CONFIG);
}

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "check", no_argument, NULL, 't' },
	{ "print-paths", no_argument, NULL, 'P' },
	{ "pid-file", required_argument, NULL, 'p' },
	{ "socket", required_argument, NULL, 's' },
	{ "debug", no_argument, NULL, 'd' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_notice("%s: shutting down", signal_name(w->signum));
	notify_send("STOPPING=1\nSTATUS=shutting down (%s)", signal_name(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct gresecd *d = w->data;
	char msg[16384];

	(void)loop; (void)revents;
	gresecd_reload(d, msg, sizeof(msg));
}

static bool any_plain(const struct gresecd *d)
{
	for (const struct tunnel *t = d->tunnels; t; t = t->next)
		if (t->cfg.mode == TUNNEL_MODE_PLAIN)
			return true;
	return false;
}

struct start_findings {
	const struct gresec_config *cfg;
	struct start_error *errors;    /* one per tunnel of cfg */
};

/* A tunnel's problem found at start: that tunnel starts failed (and is
 * retried), the others are set up. */
static void preflight_log(void *ctx, enum preflight_kind kind, const struct tunnel_config *t,
			  const char *setting, const char *msg)
{
	struct start_findings *f = ctx;

	if (kind == PREFLIGHT_ERROR && t && f->errors) {
		struct start_error *e = &f->errors[t - f->cfg->tunnels];
		char head[IFNAMSIZ + 16];
		const char *body;

		snprintf(head, sizeof(head), "tunnel \"%s\": ", t->name);
		body = strstr(msg, head);
		if (!e->msg[0]) {
			snprintf(e->msg, sizeof(e->msg), "%s", body ? body + strlen(head) : msg);
			e->err = strcmp(setting, "device") == 0 ? -ENODEV :
				 strcmp(setting, "name") == 0 ? -EEXIST :
				 strcmp(setting, "local") == 0 ? -EADDRNOTAVAIL : -EINVAL;
		}
	}
	switch (kind) {
	case PREFLIGHT_ERROR: log_err("%s", msg); break;
	case PREFLIGHT_WARNING: log_warn("%s", msg); break;
	case PREFLIGHT_NOTE: log_info("%s", msg); break;
	case PREFLIGHT_UNCHECKED: log_notice("%s", msg); break;
	}
}

/* The checks of -t, before anything is set up, with every reason at
 * once: a problem of the daemon section stops the start; a tunnel's
 * problem (a key file, its device, its name in use) only that tunnel,
 * which starts failed and is retried (d->start_errors). */
static int start_checks(struct gresecd *d, const struct gresec_config *cfg)
{
	struct preflight_opts o = { .at_start = true, .pid_file = d->pid_path, .key_owner = d->key_owner };
	struct start_findings f = { cfg, NULL };
	struct preflight_counts n;
	unsigned failing = 0;

	if (cfg->n_tunnels)
		f.errors = calloc(cfg->n_tunnels, sizeof(*f.errors));
	preflight_run(cfg, &o, preflight_log, &f, &n);
	if (n.daemon_errors) {
		log_err("not starting: %u %s found before setting up any tunnel", n.errors,
			n.errors == 1 ? "problem" : "problems");
		free(f.errors);
		return -1;
	}
	for (size_t i = 0; f.errors && i < cfg->n_tunnels; i++)
		failing += f.errors[i].msg[0] != '\0';
	if (failing)
		log_warn("%u of %zu %s cannot come up now: the others start, and %s retried (gresec show)",
			 failing, cfg->n_tunnels, cfg->n_tunnels == 1 ? "tunnel" : "tunnels",
			 failing == 1 ? "it is" : "they are");
	d->start_errors = f.errors;
	return 0;
}

/* The process started from the shell: relays what the daemon reports
 * during start-up (errors and warnings, log.c) to its stderr, and exits
 * with the daemon's start-up status, which follows a NUL byte.  Without
 * that byte the daemon died before it could say. */
static void __attribute__((noreturn)) parent_wait(int fd)
{
	char buf[1024];
	bool after_nul = false;
	int status = -1;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (after_nul) {
				if (status < 0)
					status = (unsigned char)buf[i];
				after_nul = false;
			} else if (buf[i] == '\0') {
				after_nul = true;
			} else if (status < 0) {
				fputc(buf[i], stderr);
			}
		}
	}
	if (status < 0) {
		fprintf(stderr, "gresecd: the daemon ended during start-up without a status "
				"(see the system log)\n");
		status = 1;
	}
	fflush(stderr);
	_exit(status);
}

/* Classic double-fork daemon.  The parent exits only once the daemon is up
 * or has failed, with its status and its error messages on stderr, so the
 * shell or init script that started it sees why. */
static int daemonize(int *ready_fd)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(pipefd[1]);
		parent_wait(pipefd[0]);
	}
	close(pipefd[0]);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	*ready_fd = pipefd[1];
	return 0;
}

/* End of start-up: the status to the waiting parent (log.c no longer
 * copies messages there). */
static void report_ready(int *ready_fd, char status)
{
	char rec[2] = { '\0', status };

	if (*ready_fd < 0)
		return;
	log_set_start_fd(-1);
	if (write(*ready_fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
		/* the parent is gone: nothing to tell */
	}
	close(*ready_fd);
	*ready_fd = -1;
}

/* dir + path when path is relative; fails (with a message) when it does
 * not fit or there is no directory to resolve against. */
static int absolute(char *out, size_t n, const char *dir, const char *path, const char *what)
{
	if (path[0] != '/' && !dir) {
		fprintf(stderr, "gresecd: %s \"%s\" is relative, but the working directory is unknown\n",
			what, path);
		return -1;
	}
	if (conf_path_join(out, n, dir, path) != 0) {
		fprintf(stderr, "gresecd: %s \"%s\" is too long\n", what, path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gresecd d;
	struct gresec_config cfg;
	const char *config_path = GRESEC_DEFAULT_CONFIG;
	const char *pid_opt = NULL, *sock_opt = NULL, *base;
	bool foreground = false, check_only = false, print_paths = false, debug = false;
	int ready_fd = -1, pid_fd = -1, opt, rc = 1;
	struct rundir_file pid_file = { .dirfd = -1 };
	uid_t daemon_uid = (uid_t)-1;
	char n_str[32];

	while ((opt = getopt_long(argc, argv, "c:ftPp:s:dVh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'f': foreground = true; break;
		case 't': check_only = true; break;
		case 'P': print_paths = true; break;
		case 'p': pid_opt = optarg; break;
		case 's': sock_opt = optarg; break;
		case 'd': debug = true; break;
		case 'V': printf("gresecd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	/* A start-up report to a parent that is gone must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "gresecd: libsodium failed to initialise\n");
		return 1;
	}
	if (check_only)
		return preflight_check_file(config_path, pid_opt, false);

	/* Relative paths (-c, -p, -s and those in the file) are taken from
	 * the start directory, once: the daemon then runs in /, and a reload
	 * must find the same files. */
	memset(&d, 0, sizeof(d));
	base = getcwd(d.start_dir, sizeof(d.start_dir)) ? d.start_dir : NULL;
	if (!base)
		d.start_dir[0] = '\0';
	if (absolute(d.config_path, sizeof(d.config_path), base, config_path, "configuration file") != 0)
		return 1;
	if (conf_load_at(config_path, base, &cfg, NULL, NULL) != 0)
		return 1;
	if (absolute(d.pid_path, sizeof(d.pid_path), base, pid_opt ? pid_opt : cfg.daemon.pid_file,
		     "pid file") != 0 ||
	    absolute(d.control_path, sizeof(d.control_path), base,
		     sock_opt ? sock_opt : cfg.daemon.control_socket, "control socket") != 0) {
		conf_free(&cfg);
		return 1;
	}
	if (print_paths) {
		/* For the init script, which removes them at stop. */
		printf("pid_file %s\ncontrol_socket %s\n", d.pid_path, d.control_path);
		conf_free(&cfg);
		return 0;
	}

	if (!foreground && daemonize(&ready_fd) != 0) {
		fprintf(stderr, "gresecd: cannot daemonize: %s\n", strerror(errno));
		return 1;
	}
	log_open("gresecd", foreground, debug ? LOG_LEVEL_DEBUG : cfg.daemon.log_level);
	log_set_start_fd(ready_fd);
	d.log_level_fixed = debug;
	privdrop_harden();

	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (!d.loop) {
		log_err("cannot initialise the event loop");
		goto out;
	}
	/* The user we drop to is known before the run directory is opened: a
	 * directory older versions handed to it is taken back (rundir.c). */
	if (cfg.daemon.user[0]) {
		unsigned uid, gid;

		if (privdrop_lookup(cfg.daemon.user, cfg.daemon.group, &uid, &gid) != 0)
			goto out;
		daemon_uid = (uid_t)uid;
	}
	/* The pid file is also a lock, so two daemons never fight over one
	 * config; the descriptor (read-only) holds it as long as we live. */
	if (rundir_open(&pid_file, "pid file", d.pid_path, daemon_uid) != 0)
		goto out;
	pid_fd = rundir_pidfile(&pid_file);
	if (pid_fd < 0)
		goto out;
	if (gresecd_init(&d, &cfg) != 0)
		goto out;
	d.key_owner = daemon_uid != (uid_t)-1 ? daemon_uid : geteuid();
	if (control_open(&d, d.control_path, daemon_uid) != 0)
		goto out_shutdown;
	if (start_checks(&d, &cfg) != 0)
		goto out_shutdown;
	if (gresecd_fd_limit(&cfg, NULL, 0) != 0) {
		log_err("not starting: too few file descriptors for the tunnels");
		goto out_shutdown;
	}
	gresecd_key_digests(&d, &cfg);
	/* Tunnels that cannot come up now are failed and retried; only an
	 * invalid configuration (above) stops the start. */
	gresecd_apply_config(&d, &cfg);
	free(d.start_errors);
	d.start_errors = NULL;
	watch_open(&d);
	if (d.cfg.daemon.user[0]) {
		/* The run directory, pid file and socket stay root's: nothing to
		 * hand over.  At exit the daemon user may not remove them; the
		 * next start or the init script's stop does (rundir_remove). */
		if (privdrop_to(d.cfg.daemon.user, d.cfg.daemon.group, any_plain(&d)) != 0) {
			log_err("refusing to run with privileges that could not be dropped");
			goto out_shutdown;
		}
		d.privileges_dropped = true;
	}

	ev_signal_init(&d.sig_term, on_stop, SIGTERM);
	ev_signal_init(&d.sig_int, on_stop, SIGINT);
	ev_signal_init(&d.sig_hup, on_hup, SIGHUP);
	d.sig_hup.data = &d;
	ev_signal_start(d.loop, &d.sig_term);
	ev_signal_start(d.loop, &d.sig_int);
	ev_signal_start(d.loop, &d.sig_hup);

	{
		size_t stale = secure_ports_discard_backlog(&d);

		if (stale)
			log_info("dropped %zu datagrams that arrived during the start (no session "
				 "existed yet; their senders retry)", stale);
	}
	gresecd_tunnels_str(d.cfg.n_tunnels, n_str, sizeof(n_str));
	if (d.n_failed)
		log_notice("gresecd %s started with %s from %s, %u not running (retried)", PACKAGE_VERSION,
			   n_str, d.config_path, d.n_failed);
	else
		log_notice("gresecd %s started with %s from %s", PACKAGE_VERSION, n_str, d.config_path);
	report_ready(&ready_fd, 0);
	notify_send("READY=1\nSTATUS=%s", d.status_sent);
	d.ready = true;
	ev_run(d.loop, 0);
	rc = 0;

out_shutdown:
	gresecd_shutdown(&d);
	/* Opened above, closed here; after the tunnels, which leave the
	 * watcher's tables as they go. */
	watch_close(&d);
	control_close(&d);
out:
	conf_free(&cfg);
	/* Removed while the lock is still held: no other gresecd owns it yet. */
	rundir_remove(&pid_file);
	rundir_close(&pid_file);
	if (pid_fd >= 0)
		close(pid_fd);
	if (rc == 0)
		log_notice("gresecd stopped");
	else if (ready_fd >= 0 || getenv("NOTIFY_SOCKET"))
		notify_send("STATUS=failed to start (see the log)");
	report_ready(&ready_fd, (char)rc);
	log_close();
	return rc;
}
