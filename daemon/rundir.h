/* daemon/rundir.h: root's run directory, which holds the pid file and the
 * control socket.
 *
 * The directory stays root's (0755) for the daemon's whole life, also after
 * the drop to daemon.user: a daemon user that could write there could plant
 * links that root later follows (security review, see docs/security.md).
 * Every file in it is reached through a descriptor of the directory, never
 * by following a link, and created with O_EXCL.
 */
#ifndef GRESEC_DAEMON_RUNDIR_H
#define GRESEC_DAEMON_RUNDIR_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* One file of the daemon (the pid file or the control socket) in its run
 * directory. */
struct rundir_file {
	const char *what;            /* "pid file", "control socket": for messages */
	int dirfd;                   /* the run directory (O_DIRECTORY|O_NOFOLLOW), or -1 */
	char path[PATH_MAX];         /* the file's full path, for messages and bind() */
	char dir[PATH_MAX];          /* the run directory's path */
	char name[NAME_MAX + 1];     /* the file's name in it */
	bool made;                   /* dev/ino are of a file this daemon made */
	dev_t dev;
	ino_t ino;
};

/* Open (creating it and missing parents, root's, 0755) the directory that
 * holds path, an absolute path.  The directory must not be a symbolic link
 * and must be root's and not writable by group or others; so must every
 * directory above it (a sticky one such as /tmp may be world-writable).  A
 * directory owned by daemon_uid (older versions handed it to daemon.user)
 * is taken back; pass (uid_t)-1 when there is no daemon user.  0, or -1
 * after logging why, with the path and what to do. */
int rundir_open(struct rundir_file *f, const char *what, const char *path, uid_t daemon_uid);

/* The pid file of an opened rundir_file: a stale one (a regular file whose
 * lock no live process holds) is removed, a symbolic link or anything else
 * is refused and left alone, a locked one means another gresecd runs.  The
 * new file is created with O_EXCL|O_NOFOLLOW, mode 0644, and holds our pid.
 * Returns a read-only descriptor holding its lock (keep it open for life),
 * or -1 after logging why. */
int rundir_pidfile(struct rundir_file *f);

/* Before binding the control socket: a stale socket (nobody accepts on it)
 * is removed; a live one means another gresecd runs (-EADDRINUSE); a
 * symbolic link or anything that is not a socket is refused and left alone
 * (-EEXIST).  0 or -errno, logged. */
int rundir_socket_prepare(struct rundir_file *f);

/* Remember that the file at f's name (just bound, or created) is ours, so
 * that rundir_remove() removes it and nothing that took its place.  0 or
 * -1 after logging. */
int rundir_note_made(struct rundir_file *f);

/* At exit: remove our file if it is still the one we made.  After the drop
 * to daemon.user the daemon may not remove files from root's directory:
 * that is logged (info) and the file is left for the next start, which
 * replaces stale files safely, or the init script's stop. */
void rundir_remove(struct rundir_file *f);

void rundir_close(struct rundir_file *f);

#endif
