/* daemon/watch.h: rtnetlink notifications, and what the daemon does with
 * them (see watch.c).
 *
 * One multicast socket (links, IPv4 and IPv6 addresses and routes) in
 * the event loop.  Events for the running tunnels' links (looked up by
 * ifindex in a hash table: O(1) per event) queue a check of that tunnel
 * (daemon/lifecycle.c); events for the underlay (a device or a local
 * address that tunnels use or wait for) are matched against the few
 * distinct devices and addresses in use, and against the failed tunnels
 * only.  Everything else costs a parse and a map lookup.
 */
#ifndef GRESEC_DAEMON_WATCH_H
#define GRESEC_DAEMON_WATCH_H

#include <stdbool.h>

struct gresecd;
struct tunnel;

/* An entry of the daemon's ifindex table (tunnels_by_ifindex), held in
 * the tunnel itself: one for its link, one for its ICMP sink.  ifindex 0:
 * not in the table. */
struct watch_ifref {
	int ifindex;
	struct tunnel *t;
};

/* Open the socket and watch it.  Failure is logged, not fatal: the
 * daemon runs without healing (a timer retries). */
int watch_open(struct gresecd *d);
void watch_close(struct gresecd *d);

/* A tunnel came up / goes down: its ifindex (and its ICMP sink's) in the
 * map, its underlay device and local address counted. */
void watch_tunnel_up(struct tunnel *t);
void watch_tunnel_down(struct tunnel *t);
/* The ICMP sink of t was made (ifindex > 0) or removed (its old index). */
void watch_sink(struct tunnel *t, int ifindex, bool made);

/* The tunnel whose link (or ICMP sink) has this index, or NULL. */
struct tunnel *watch_lookup(struct gresecd *d, int ifindex);

/* Every few seconds: running tunnels with an address or route not in
 * place (a route another route held, a repair postponed) are looked at
 * again.  Linear in the tunnels, with nothing to do for healthy ones. */
void watch_sweep(struct gresecd *d);

/* Whether the local address of running tunnel t is gone from the host. */
bool watch_local_missing(const struct tunnel *t);

#endif
