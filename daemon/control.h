/* daemon/control.h: the control socket (UNIX stream) of gresecd. */
#ifndef GRESEC_DAEMON_CONTROL_H
#define GRESEC_DAEMON_CONTROL_H

#include <stdio.h>

struct gresecd;

/* Create the socket at path (mode 0600; a stale socket left by a crash is
 * replaced, a live daemon's is not).  0 or -errno. */
int control_open(struct gresecd *d, const char *path);
void control_close(struct gresecd *d);

/* Write the state of one tunnel (name) or all (NULL) to out. */
void show_text(struct gresecd *d, const char *name, FILE *out);
void show_json(struct gresecd *d, const char *name, FILE *out);

#endif
