/* daemon/privdrop.h: least privilege after set-up. */
#ifndef GRESEC_DAEMON_PRIVDROP_H
#define GRESEC_DAEMON_PRIVDROP_H

#include <stdbool.h>

/* No core dumps (key material) and memory locked where the limit allows. */
void privdrop_harden(void);

/* Switch to user/group keeping CAP_NET_ADMIN (and CAP_NET_RAW when
 * need_raw), then verify that root cannot be regained.  0, or -1 after
 * logging why: the caller must then exit (fail closed). */
int privdrop_to(const char *user, const char *group, bool need_raw);

/* Look up a user and group (group "" = the user's primary group). */
int privdrop_lookup(const char *user, const char *group, unsigned *uid, unsigned *gid);

#endif
