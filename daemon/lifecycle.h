/* daemon/lifecycle.h: the life of a tunnel (defined in daemon/lifecycle.c).
 *
 * Every configured tunnel has a struct tunnel, running or not.  One that
 * cannot come up (a key file, a local address not assigned yet, a missing
 * device, its name in use) is TUNNEL_FAILED with its last error and is
 * retried: after 1 s, doubling to 60 s, and at once when rtnetlink says
 * what it waits for appeared (daemon/watch.c) or on a reload.  One that
 * runs is kept as configured: its link, addresses and routes are looked
 * at whenever rtnetlink reports a change to them (tunnel_check). */
#ifndef GRESEC_DAEMON_LIFECYCLE_H
#define GRESEC_DAEMON_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

struct gresecd;
struct tunnel;
struct tunnel_config;
struct tunnel_item;

/* A tunnel for cfg, not started (TUNNEL_FAILED without an error). */
struct tunnel *tunnel_new(struct gresecd *d, const struct tunnel_config *cfg);
/* Try to bring it up now: interface, MTU, addresses, routes, data path.
 * 0, or -errno with the error recorded (last_error) and a retry armed. */
int tunnel_bring_up(struct tunnel *t);
/* Stop and remove its interface (addresses and routes go with it); it
 * stays FAILED with what it has recorded, no retry armed. */
void tunnel_take_down(struct tunnel *t);
/* Take down and free. */
void tunnel_destroy(struct tunnel *t);
/* It stopped working under us (interface deleted, device gone, a fatal
 * error on its fd): take it down, record why, and make it again (at once
 * if it had run a while, else after the back-off). */
void tunnel_lost(struct tunnel *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a failure found before trying (the checks at start): err says
 * what it waits for (-ENODEV device, -EADDRNOTAVAIL local address,
 * -EEXIST its name); a retry is armed. */
void tunnel_fail(struct tunnel *t, int err, const char *msg);
/* A failed tunnel: try again as soon as the event loop runs. */
void tunnel_retry_now(struct tunnel *t);
/* Apply changes that do not need a new interface; -EAGAIN if it must be recreated. */
int tunnel_update(struct tunnel *t, const struct tunnel_config *cfg);

/* Look at the link, addresses and routes of a running tunnel (queued;
 * tunnel_run_checks does it once per burst of rtnetlink events).
 * reinstall: something of ours may have been removed. */
void tunnel_queue_check(struct tunnel *t, bool reinstall);
void tunnel_run_checks(struct gresecd *d);

/* Whether any address or route of a running tunnel is not in place. */
bool tunnel_items_incomplete(const struct tunnel *t);

/* Add the addresses and the routes (routes only when link_up), keeping
 * each one's state; repair: it is a repair, say what was put back.
 * Returns how many that were in place had gone and were put back. */
unsigned tunnel_install_items(struct tunnel *t, bool link_up, bool repair);

/* Why an item is not installed, for people ("the link is down",
 * "another route to it exists (dev eth0)", the kernel's error). */
const char *tunnel_item_why(const struct tunnel_item *it, char *buf, size_t len);

/* "tunnel \"x\": " taken off a log message, for last_error. */
const char *tunnel_strip_name(const struct tunnel *t, const char *msg);

#endif
