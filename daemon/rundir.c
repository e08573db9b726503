/* daemon/rundir.c: root's run directory, the pid file and the stale
 * control socket, safe against a daemon user that plants links.
 *
 * The rules, and why:
 * - The run directory is reached without following a link as its last
 *   component, and it and every directory above it must be root's and not
 *   writable by anyone else (sticky directories excepted above it): whoever
 *   can write to one of them can swap what root works on.
 * - Files in it are only ever reached relative to the directory's
 *   descriptor, with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and created with
 *   O_EXCL: an existing file is never written, truncated, chowned or
 *   chmodded, only inspected and, when it is a stale file of ours (a
 *   regular pid file without a live lock, a socket without a listener),
 *   unlinked.  Unlinking a name removes a planted hard link, never the file
 *   it shares.
 * - Anything else (a symbolic link, a FIFO, a regular file as the socket)
 *   makes the start fail with a message and is left alone: it was planted
 *   or is someone else's, and the administrator should see it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/rundir.h"

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFSOCK: return "socket";
	case S_IFIFO: return "FIFO";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	default: return "file of unknown type";
	}
}

/* The target of the link name in dirfd, for messages ("?" if unreadable). */
static const char *link_target(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, name, buf, size - 1);

	if (n < 0)
		return "?";
	buf[n] = '\0';
	return buf;
}

/* Trusted owners: root, and the user gresecd runs as (the same, unless it
 * was started without root). */
static bool owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* A directory above the run directory: trusted owner, and nobody else may
 * rename entries in it (not writable by group/others, or sticky). */
static int check_above(const struct rundir_file *f, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		log_err("%s %s: cannot inspect %s: %s", f->what, f->path, path, strerror(errno));
		return -1;
	}
	if (!owner_trusted(st.st_uid)) {
		log_err("%s %s: %s (above the run directory %s) is owned by uid %u: that user could "
			"replace the run directory at any time; make it root's (chown root: %s) or "
			"put the %s elsewhere", f->what, f->path, path, f->dir, (unsigned)st.st_uid,
			path, f->what);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		log_err("%s %s: %s (above the run directory %s) is writable by group or others "
			"(mode %04o): they could replace the run directory; chmod go-w %s, or put "
			"the %s elsewhere", f->what, f->path, path, f->dir,
			(unsigned)(st.st_mode & 07777), path, f->what);
		return -1;
	}
	return 0;
}

/* The run directory itself, opened with O_NOFOLLOW: root's and closed to
 * others, or taken back from the daemon user, or refused. */
static int check_rundir(const struct rundir_file *f, int fd, uid_t daemon_uid)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		log_err("%s %s: cannot inspect the run directory %s: %s", f->what, f->path, f->dir,
			strerror(errno));
		return -1;
	}
	if (st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	/* Taken back, not refused: gresecd before this fix created the
	 * directory and handed it to daemon.user, and under the LSB init script
	 * it outlives the daemon until reboot.  Refusing would break the first
	 * restart after an upgrade (and with it the tunnels, possibly the one
	 * the administrator comes in through).  Taking it back is safe: the
	 * directory was opened without following links, fchown/fchmod act on
	 * that very directory, the owner change comes first so the daemon user
	 * can no longer change the mode, and whatever it left inside is only
	 * ever inspected without following links.  A directory owned by anyone
	 * else, or root's but open to group/others (/tmp, a shared directory),
	 * is not ours to change: refused. */
	if (daemon_uid != (uid_t)-1 && daemon_uid != geteuid() && st.st_uid == daemon_uid) {
		if (fchown(fd, geteuid(), getegid()) != 0 || fchmod(fd, 0755) != 0) {
			log_err("%s %s: cannot take the run directory %s back from uid %u: %s; run: "
				"chown root:root %s && chmod 755 %s", f->what, f->path, f->dir,
				(unsigned)daemon_uid, strerror(errno), f->dir, f->dir);
			return -1;
		}
		log_notice("run directory %s belonged to the daemon user (uid %u), as older "
			   "gresecd versions left it; taking it back: now root's, mode 0755",
			   f->dir, (unsigned)daemon_uid);
		return 0;
	}
	if (st.st_uid != geteuid()) {
		log_err("%s %s: run directory %s is owned by uid %u, not by root: its owner could "
			"plant links there; run: chown root:root %s && chmod 755 %s (or use another "
			"directory)", f->what, f->path, f->dir, (unsigned)st.st_uid, f->dir, f->dir);
		return -1;
	}
	log_err("%s %s: run directory %s is writable by group or others (mode %04o): they could "
		"plant links there; run: chmod 755 %s, or give gresecd a directory of its own "
		"(default /run/gresec)", f->what, f->path, f->dir, (unsigned)(st.st_mode & 07777),
		f->dir);
	return -1;
}

int rundir_open(struct rundir_file *f, const char *what, const char *path, uid_t daemon_uid)
{
	char buf[PATH_MAX], sofar[PATH_MAX] = "";
	char *comps[PATH_MAX / 2];
	size_t n = 0;
	char *slash, *p, *save = NULL;
	int fd;

	memset(f, 0, sizeof(*f));
	f->what = what;
	f->dirfd = -1;
	if (path[0] != '/') {
		log_err("%s %s: not an absolute path; give the full path (e.g. /run/gresec/...)",
			what, path);
		return -1;
	}
	if (strlen(path) >= sizeof(f->path)) {
		log_err("%s %.64s...: path too long", what, path);
		return -1;
	}
	strcpy(f->path, path);
	slash = strrchr(f->path, '/');
	if (strlen(slash + 1) > NAME_MAX || !strcmp(slash + 1, "") || !strcmp(slash + 1, ".") ||
	    !strcmp(slash + 1, "..")) {
		log_err("%s %s: not a file name: give the path of a file", what, path);
		return -1;
	}
	strcpy(f->name, slash + 1);
	snprintf(f->dir, sizeof(f->dir), "%.*s", (int)(slash - f->path), f->path);
	if (!f->dir[0])
		strcpy(f->dir, "/");

	strcpy(buf, f->dir);
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			log_err("%s %s: the path must not contain \"..\"", what, path);
			return -1;
		}
		comps[n++] = p;
	}

	/* Above the run directory, links are followed (Debian's /var/run ->
	 * /run): a link there lives in a directory just checked, so root made
	 * it.  Each directory reached is checked before anything below it is
	 * trusted.  O_PATH: nothing above is read or changed. */
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_err("%s %s: cannot open /: %s", what, path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		int flags = O_DIRECTORY | O_CLOEXEC | (last ? O_RDONLY | O_NOFOLLOW : O_PATH);
		bool made = false;
		int nfd;

		if (check_above(f, fd, sofar[0] ? sofar : "/") != 0)
			goto fail;
		snprintf(sofar + strlen(sofar), sizeof(sofar) - strlen(sofar), "/%s", comps[i]);
		nfd = openat(fd, comps[i], flags);
		if (nfd < 0 && errno == ENOENT) {
			if (mkdirat(fd, comps[i], 0755) == 0)
				made = true;
			else if (errno != EEXIST) {
				log_err("%s %s: cannot create the directory %s: %s", what, path, sofar,
					strerror(errno));
				goto fail;
			}
			/* Ours or not (a race with someone else's mkdir), it is
			 * checked like any other below; read-only, not O_PATH,
			 * for the fchmod of one we made. */
			nfd = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			struct stat st;
			int err = errno;

			if ((err == ELOOP || err == ENOTDIR) &&
			    fstatat(fd, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
				char target[PATH_MAX];

				if (last)
					log_err("%s %s: run directory %s is a symbolic link (to %s): refusing "
						"to follow it, nothing was touched; make it a real directory: "
						"rm %s (gresecd creates it, root's, mode 0755)", what, path,
						sofar, link_target(fd, comps[i], target, sizeof(target)), sofar);
				else
					log_err("%s %s: cannot follow the symbolic link %s: %s", what, path,
						sofar, strerror(err));
			} else if (err == ENOTDIR) {
				log_err("%s %s: %s is not a directory; remove it or choose another path",
					what, path, sofar);
			} else {
				log_err("%s %s: cannot open the directory %s: %s", what, path, sofar,
					strerror(err));
			}
			goto fail;
		}
		close(fd);
		fd = nfd;
		/* umask may have narrowed what mkdirat made: 0755 as documented. */
		if (made && fchmod(fd, 0755) != 0) {
			log_err("%s %s: cannot chmod 755 the new directory %s: %s", what, path, sofar,
				strerror(errno));
			goto fail;
		}
	}
	if (n == 0) {
		/* The file is in / itself: opened again to read it. */
		close(fd);
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			log_err("%s %s: cannot open /: %s", what, path, strerror(errno));
			return -1;
		}
	}
	if (check_rundir(f, fd, daemon_uid) != 0)
		goto fail;
	f->dirfd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Is the name in the run directory still the file st describes? */
static bool still_there(const struct rundir_file *f, const struct stat *st)
{
	struct stat now;

	return fstatat(f->dirfd, f->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

/* An existing pid file: 0 when it was stale and is gone, 1 when it changed
 * while we looked (look again), -1 when the start must fail (logged). */
static int pidfile_clear_stale(struct rundir_file *f)
{
	struct stat st, fst;
	char target[PATH_MAX];
	int fd;

	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 1;
		log_err("pid file %s: cannot inspect it: %s", f->path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		log_err("pid file %s is a symbolic link (to %s), not a file gresecd made: refusing "
			"to start, nothing was followed or changed; find out who planted it, then "
			"remove it as root: rm %s", f->path,
			link_target(f->dirfd, f->name, target, sizeof(target)), f->path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("pid file %s is not a regular file but a %s: refusing to start and leaving "
			"it alone; if nothing needs it, remove it as root: rm %s", f->path,
			file_type(st.st_mode), f->path);
		return -1;
	}
	/* Read-only, no link followed: only its lock is wanted. */
	fd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 1;
		log_err("pid file %s: cannot open the existing one: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[24] = "";
		ssize_t r;

		if (errno != EWOULDBLOCK) {
			log_err("pid file %s: cannot lock it: %s", f->path, strerror(errno));
			close(fd);
			return -1;
		}
		r = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_err("pid file %s is locked: another gresecd is running (pid %s); stop it first, "
			"or give this one its own pid file (-p) and control socket (-s)", f->path,
			pid[0] ? pid : "?");
		close(fd);
		return -1;
	}
	/* Locked by us, so no live gresecd holds it: stale.  Unless another
	 * gresecd starting at the same time replaced it meanwhile. */
	if (!still_there(f, &st)) {
		close(fd);
		return 1;
	}
	if (unlinkat(f->dirfd, f->name, 0) != 0) {
		log_err("pid file %s: cannot remove the stale one: %s", f->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	log_info("pid file %s: removed a stale one (no process held its lock)", f->path);
	return 0;
}

int rundir_pidfile(struct rundir_file *f)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct stat st;
		char buf[32];
		int wfd, rfd, len, r;

		wfd = openat(f->dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (wfd < 0) {
			if (errno != EEXIST) {
				log_err("pid file %s: cannot create it: %s", f->path, strerror(errno));
				return -1;
			}
			r = pidfile_clear_stale(f);
			if (r < 0)
				return -1;
			continue;
		}
		/* Locked through a read-only descriptor, the one kept for life:
		 * after the drop the daemon cannot rewrite what the init
		 * script reads.  The file is ours only if, once locked, it is
		 * still the one at the name (another gresecd starting at the
		 * same time may have taken it for stale). */
		if (fstat(wfd, &st) != 0 || fchmod(wfd, 0644) != 0) {
			log_err("pid file %s: %s", f->path, strerror(errno));
			close(wfd);
			return -1;
		}
		rfd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (rfd >= 0) {
			struct stat rst;

			if (fstat(rfd, &rst) != 0 || rst.st_dev != st.st_dev || rst.st_ino != st.st_ino ||
			    flock(rfd, LOCK_EX | LOCK_NB) != 0 || !still_there(f, &st)) {
				close(rfd);
				rfd = -1;
			}
		}
		if (rfd < 0) {
			close(wfd);
			continue;
		}
		len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (write(wfd, buf, (size_t)len) != len) {
			log_err("pid file %s: cannot write it: %s", f->path, strerror(errno));
			unlinkat(f->dirfd, f->name, 0);
			close(wfd);
			close(rfd);
			return -1;
		}
		close(wfd);
		f->made = true;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		return rfd;
	}
	log_err("pid file %s: another gresecd is starting with it at the same time; try again",
		f->path);
	return -1;
}

/* Does a process accept connections on the socket at f's path?  The name
 * was just seen to be a socket in root's directory (not a link). */
static bool socket_alive(const struct rundir_file *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;
	bool alive;

	if (strlen(f->path) >= sizeof(sun.sun_path))
		return false;
	strcpy(sun.sun_path, f->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return alive;
}

int rundir_socket_prepare(struct rundir_file *f)
{
	char target[PATH_MAX];
	struct stat st;

	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		log_err("control socket %s: cannot inspect it: %s", f->path, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		log_err("control socket %s is a symbolic link (to %s), not a socket gresecd made: "
			"refusing to start, nothing was followed or changed; find out who planted it, "
			"then remove it as root: rm %s", f->path,
			link_target(f->dirfd, f->name, target, sizeof(target)), f->path);
		return -EEXIST;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s is not a socket but a %s: refusing to start and leaving "
			"it alone; if nothing needs it, remove it as root (rm %s) or choose another "
			"path (-s)", f->path, file_type(st.st_mode), f->path);
		return -EEXIST;
	}
	if (socket_alive(f)) {
		log_err("control socket %s: another gresecd is running; stop it first, or give this "
			"one its own control socket (-s)", f->path);
		return -EADDRINUSE;
	}
	if (!still_there(f, &st))
		return rundir_socket_prepare(f);   /* replaced meanwhile (by root): look again */
	if (unlinkat(f->dirfd, f->name, 0) != 0 && errno != ENOENT) {
		int err = errno;

		log_err("control socket %s: cannot remove the stale one: %s", f->path, strerror(err));
		return -err;
	}
	log_info("control socket %s: removed a stale one (nothing accepted on it)", f->path);
	return 0;
}

int rundir_note_made(struct rundir_file *f)
{
	struct stat st;

	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		log_err("%s %s: gone right after it was made: %s", f->what, f->path, strerror(errno));
		return -1;
	}
	f->made = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

void rundir_remove(struct rundir_file *f)
{
	struct stat st;

	if (f->dirfd < 0 || !f->made)
		return;
	f->made = false;
	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			log_warn("cannot remove %s %s: %s", f->what, f->path, strerror(errno));
		return;
	}
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		log_info("%s %s not removed: it is no longer the one this daemon made", f->what, f->path);
		return;
	}
	if (unlinkat(f->dirfd, f->name, 0) == 0)
		return;
	if ((errno == EACCES || errno == EPERM) && geteuid() != 0)
		log_info("%s %s left for the next start or the init script's stop to remove: uid %u "
			 "may not remove files from root's %s", f->what, f->path, (unsigned)geteuid(),
			 f->dir);
	else
		log_warn("cannot remove %s %s: %s", f->what, f->path, strerror(errno));
}

void rundir_close(struct rundir_file *f)
{
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
}
