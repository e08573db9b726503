/* daemon/datapath.h: the boundary between a tunnel's control plane and
 * its data path.
 *
 * The control plane is the same whoever moves the packets: configuration
 * and reload (daemon.c, tunnel_update), the interface's MTU, addresses and
 * routes (tunnel.c over rtnetlink), liveness (plain: Cisco keepalives in
 * plain.c; secure: the WireGuard handshake and timers in peer.c), status
 * (show.c).  The data path is behind struct datapath_ops, chosen once per
 * tunnel in datapath_open() and never tested anywhere else:
 *
 *   user    gresecd moves the packets: a TUN/TAP interface and the raw GRE
 *           socket (plain, plain.c) or the UDP socket (secure, secure_*.c);
 *           tunnel.c.  On a kernel that has GRE loaded, a plain tunnel also
 *           gets an ICMP sink (kernel_gre.c).
 *   kernel  the kernel's own GRE link (ip_gre, ip6_gre: gre, gretap, ip6gre,
 *           ip6gretap) moves them; gresecd creates and configures it, answers
 *           and sends keepalives beside it on a filtered raw socket and reads
 *           its counters (kernel_gre.c).  Plain mode only for now; docs/design.md
 *           says how a kernel WireGuard path for secure mode fits in.
 */
#ifndef GRESEC_DAEMON_DATAPATH_H
#define GRESEC_DAEMON_DATAPATH_H

#include <stdbool.h>

#include "conf/conf.h"
#include "tunnel/netlink.h"

struct tunnel;
struct tunnel_counters;
struct gresecd;

struct datapath_ops {
	enum tunnel_datapath kind;      /* DATAPATH_USER or DATAPATH_KERNEL */
	const char *name;               /* "user", "kernel" */
	/* Create the interface and set t->ifindex and t->ifname.  0, or
	 * -errno after logging (-EOPNOTSUPP without logging when the kernel
	 * has no such link type, for "auto" to fall back). */
	int (*open)(struct tunnel *t);
	/* Move packets; called once MTU, addresses and routes are set. */
	int (*start)(struct tunnel *t);
	void (*stop)(struct tunnel *t);
	/* Remove the interface (its addresses and routes go with it). */
	void (*close)(struct tunnel *t);
	/* After an in-place reload (t->cfg is the new configuration): apply
	 * what this path keeps outside the interface's MTU, addresses and
	 * routes (the kernel link's TTL and TOS, its alias). */
	int (*update)(struct tunnel *t, const struct tunnel_config *old);
	/* Tell routing daemons whether the peer is there: 0 or -errno. */
	int (*set_carrier)(struct tunnel *t, bool on);
	/* The tunnel's counters as `gresec show` reports them, given the
	 * link as show read it (k; has_stats false when it could not); kernel
	 * path: traffic from the link's statistics. */
	void (*counters)(struct tunnel *t, struct tunnel_counters *c, const struct nl_link_info *k);
};

extern const struct datapath_ops datapath_user;
extern const struct datapath_ops datapath_kernel;

/* Open t's interface on the path its configuration asks for: "kernel",
 * "user", or "auto": the kernel's GRE for a plain tunnel that needs
 * nothing only user space does (clamp_mss; keepalives with sequence
 * numbers), when the kernel has that link type or can load it; user space
 * otherwise.  Sets t->dp and t->dp_reason (logged and shown).  0 or -errno
 * after logging. */
int datapath_open(struct tunnel *t);

/* Why "auto" cannot use the kernel for this configuration (a reason for
 * the log and `gresec show`), or NULL when it can. */
const char *datapath_kernel_unsuitable(const struct tunnel_config *c);

/* Whether a reload to cfg must move t to the other path ("auto" and a
 * change of what only user space can do), which recreates the tunnel. */
bool datapath_must_change(const struct tunnel *t, const struct tunnel_config *cfg);

/* ---- kernel_gre.c: helpers shared with the user path ---- */

/* The alias (IFLA_IFALIAS) every kernel link gresecd makes starts with:
 * a link carrying it that no running gresecd holds was left by a killed
 * one, and is replaced at the next start. */
#define KGRE_ALIAS_MARK "gresec"

/* The kernel module of the link type a plain tunnel would use ("ip_gre" or
 * "ip6_gre"), and whether it is loaded (or built in) right now: then the
 * kernel answers GRE that no kernel tunnel claims with ICMP unreachable. */
const char *kgre_module(const struct tunnel_config *c);
bool kgre_module_loaded(const struct tunnel_config *c);

/* User path, plain mode, on a kernel with GRE loaded: a kernel tunnel with
 * the tunnel's addresses and key, up, no addresses, that drops all it
 * receives, so the kernel claims the tunnel's packets instead of answering
 * them with ICMP port unreachable (gresecd(8), ICMP SINK).  Never fails the
 * tunnel: logs and leaves t->sink_ifindex 0. */
void kgre_sink_open(struct tunnel *t);
void kgre_sink_close(struct tunnel *t);

/* Every few seconds: user-path plain tunnels without a sink get one once
 * the kernel's GRE has been loaded (by anyone). */
void kgre_sink_maintain(struct gresecd *d);

#endif
