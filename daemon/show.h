/* daemon/show.h: `gresec show`: the tunnels' state as text for people and as
 * JSON for programs (the format is documented in gresec(8)).  Defined in
 * daemon/show.c; the control socket (daemon/control.c) calls them. */
#ifndef GRESEC_DAEMON_SHOW_H
#define GRESEC_DAEMON_SHOW_H

#include <stdio.h>

struct gresecd;

/* Every tunnel, or only the one named (name NULL: all). */
void show_text(struct gresecd *d, const char *name, FILE *out);
void show_json(struct gresecd *d, const char *name, FILE *out);
/* One line per tunnel (`gresec show --brief`). */
void show_brief(struct gresecd *d, const char *name, FILE *out);

#endif
