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

#include "conf/config.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/preflight.h"
#include "daemon/privdrop.h"
#include "daemon/rundir.h"
#include "daemon/tunnel.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: gresecd [-f] [-t] [-P] [-d] [-c FILE] [-p PIDFILE] [-s SOCKET]\n"
		"  -c FILE    configuration file (default %s)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -t         check the configuration and exit (0 valid, 1 invalid)\n"
		"  -P         print the pid file and control socket in effect and exit\n"
		"  -p FILE    pid file (overrides daemon.pid_file)\n"
		"  -s SOCKET  control socket (overrides daemon.control_socket)\n"
		"  -d         debug logging\n"
		"  -V         print the version and exit\n"
		"  -h         this help\n", GRESEC_DEFAULT_CONFIG);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_notice("signal %d: shutting down", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct gresecd *d = w->data;
	char msg[4096];

	(void)loop; (void)revents;
	gresecd_reload(d, msg, sizeof(msg));
}

static bool any_plain(const struct gresec_config *cfg)
{
	for (size_t i = 0; i < cfg->n_tunnels; i++)
		if (cfg->tunnels[i].mode == TUNNEL_MODE_PLAIN)
			return true;
	return false;
}

static void preflight_log(void *ctx, enum preflight_kind kind, const char *msg)
{
	(void)ctx;
	switch (kind) {
	case PREFLIGHT_ERROR: log_err("%s", msg); break;
	case PREFLIGHT_WARNING: log_warn("%s", msg); break;
	case PREFLIGHT_NOTE: log_info("%s", msg); break;
	case PREFLIGHT_UNCHECKED: log_notice("%s", msg); break;
	}
}

/* The checks of -t, before anything is set up: a start that would fail
 * half-way fails here instead, with every reason at once. */
static int start_checks(struct gresecd *d, const struct gresec_config *cfg)
{
	struct preflight_opts o = { .at_start = true, .pid_file = d->pid_path, .key_owner = d->key_owner };
	struct preflight_counts n;

	preflight_run(cfg, &o, preflight_log, NULL, &n);
	if (n.errors) {
		log_err("not starting: %u %s found before setting up any tunnel", n.errors,
			n.errors == 1 ? "problem" : "problems");
		return -1;
	}
	return 0;
}

/* Classic double-fork daemon; the parent exits only once the child is up,
 * with the child's status, so an init script sees start-up failures. */
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
		char status = 1;

		close(pipefd[1]);
		if (read(pipefd[0], &status, 1) != 1)
			status = 1;
		_exit(status);
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

static void report_ready(int *ready_fd, char status)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) != 1) {
		/* the parent is gone: nothing to tell */
	}
	close(*ready_fd);
	*ready_fd = -1;
}

int main(int argc, char **argv)
{
	struct gresecd d;
	struct gresec_config cfg;
	const char *config_path = GRESEC_DEFAULT_CONFIG;
	const char *pid_opt = NULL, *sock_opt = NULL;
	bool foreground = false, check_only = false, print_paths = false, debug = false;
	int ready_fd = -1, pid_fd = -1, opt, rc = 1;
	struct rundir_file pid_file = { .dirfd = -1 };
	uid_t daemon_uid = (uid_t)-1;

	while ((opt = getopt(argc, argv, "c:ftPp:s:dVh")) != -1) {
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
	if (sodium_init() < 0) {
		fprintf(stderr, "gresecd: libsodium failed to initialise\n");
		return 1;
	}
	if (check_only)
		return preflight_check_file(config_path, pid_opt, false);
	if (conf_load(config_path, &cfg, NULL, NULL) != 0)
		return 1;

	memset(&d, 0, sizeof(d));
	snprintf(d.config_path, sizeof(d.config_path), "%s", config_path);
	snprintf(d.pid_path, sizeof(d.pid_path), "%s", pid_opt ? pid_opt : cfg.daemon.pid_file);
	snprintf(d.control_path, sizeof(d.control_path), "%s", sock_opt ? sock_opt : cfg.daemon.control_socket);
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
	privdrop_harden();
	signal(SIGPIPE, SIG_IGN);

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
	if (gresecd_apply_config(&d, &cfg) != 0) {
		log_err("cannot set up the tunnels of %s", config_path);
		goto out_shutdown;
	}
	if (d.cfg.daemon.user[0]) {
		/* The run directory, pid file and socket stay root's: nothing to
		 * hand over.  At exit the daemon user may not remove them; the
		 * next start or the init script's stop does (rundir_remove). */
		if (privdrop_to(d.cfg.daemon.user, d.cfg.daemon.group, any_plain(&d.cfg)) != 0) {
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

	log_notice("gresecd %s started with %zu tunnels from %s", PACKAGE_VERSION, d.cfg.n_tunnels,
		   config_path);
	report_ready(&ready_fd, 0);
	ev_run(d.loop, 0);
	rc = 0;

out_shutdown:
	gresecd_shutdown(&d);
out:
	conf_free(&cfg);
	/* Removed while the lock is still held: no other gresecd owns it yet. */
	rundir_remove(&pid_file);
	rundir_close(&pid_file);
	if (pid_fd >= 0)
		close(pid_fd);
	if (rc == 0)
		log_notice("gresecd stopped");
	report_ready(&ready_fd, (char)rc);
	log_close();
	return rc;
}
