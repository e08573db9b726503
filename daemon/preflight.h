/* daemon/preflight.h: what can be checked about a configuration on this
 * host without changing anything.
 *
 * conf_load() only reads the file; these checks look at the system: the
 * key files (exist, regular, not a link, owner, mode, format, and that our
 * public key is not the peer's), daemon.user and daemon.group, the
 * underlay device, interfaces already holding a tunnel's name (and what
 * kind they are), and whether the local addresses are assigned here.
 * Nothing is created, bound or written.  `gresecd -t`, `gresec
 * check-config` and the daemon's start run them; a running gresecd is
 * never contacted.
 *
 * It lives in daemon/ (not conf/, whose parsing stays pure, design.md)
 * because it reads key files through crypto/keys.c and asks the kernel
 * through rtnetlink and /proc, which only daemon/ may do.
 */
#ifndef GRESEC_DAEMON_PREFLIGHT_H
#define GRESEC_DAEMON_PREFLIGHT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "conf/conf.h"

enum preflight_kind {
	PREFLIGHT_ERROR,      /* the daemon would not start (or not run) the tunnel */
	PREFLIGHT_WARNING,    /* may be fine now or later, worth a look */
	PREFLIGHT_NOTE,       /* found something that is fine, said once */
	PREFLIGHT_UNCHECKED,  /* could not be checked (permissions) */
};

struct preflight_opts {
	/* The daemon itself, before it sets up anything: an interface with a
	 * tunnel's name is then never its own. */
	bool at_start;
	/* The pid file in effect: a live gresecd named there is this
	 * configuration's running daemon, whose interfaces legitimately hold
	 * the tunnels' names.  NULL: none. */
	const char *pid_file;
	/* Key files must belong to this user (daemon.user, else whoever
	 * starts gresecd); (uid_t)-1: daemon.user if set, else the caller. */
	uid_t key_owner;
};

struct preflight_counts {
	unsigned errors, warnings, notes, unchecked;
	/* Of the errors, those of the daemon section (user, group): the
	 * daemon would not start.  The others are a tunnel's: the daemon
	 * starts, and that tunnel fails and is retried (gresecd(8)). */
	unsigned daemon_errors;
};

/* One finding, formatted "FILE:LINE: tunnel \"x\": setting: ..." (warnings
 * with "warning: ", notes "note: " and unchecked ones "not checked: "
 * after the setting), about `setting` of tunnel t (NULL: the daemon
 * section). */
typedef void (*preflight_report_fn)(void *ctx, enum preflight_kind kind,
				    const struct tunnel_config *t, const char *setting, const char *msg);

void preflight_run(const struct gresec_config *cfg, const struct preflight_opts *o,
		   preflight_report_fn report, void *ctx, struct preflight_counts *counts);

/* `gresecd -t` and `gresec check-config`: load path with relative paths
 * taken from the working directory, print its problems, run the system
 * checks (unless file_only) and a summary: errors and warnings on stderr,
 * notes, the summary and the checks that could not be made on stdout.
 * pid_file overrides daemon.pid_file (gresecd -p).  Returns the exit
 * status: 0 usable (warnings allowed), 1 not (the file is invalid, or
 * the daemon section has a problem: the daemon would not start), 2 the
 * daemon would start but some tunnels could not come up on this host now
 * (they would be retried). */
int preflight_check_file(const char *path, const char *pid_file, bool file_only);

#endif
