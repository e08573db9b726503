/* daemon/control.h: the control socket (UNIX stream) of gresecd. */
#ifndef GRESEC_DAEMON_CONTROL_H
#define GRESEC_DAEMON_CONTROL_H

#include <stdio.h>
#include <sys/types.h>

struct gresecd;

/* Create the socket at path, root's, mode 0600, in root's run directory
 * (see rundir.h; a directory owned by daemon_uid is taken back, (uid_t)-1
 * for none).  A stale socket left by a crash is replaced; a live daemon's,
 * a symbolic link or anything else is refused.  0 or -errno, logged. */
int control_open(struct gresecd *d, const char *path, uid_t daemon_uid);
void control_close(struct gresecd *d);

#endif
