/* daemon/tunnel.h: one tunnel at run time: its interface, its GRE state,
 * its counters, and (secure mode) its peer.
 */
#ifndef GRESEC_DAEMON_TUNNEL_H
#define GRESEC_DAEMON_TUNNEL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "daemon/datapath.h"
#include "daemon/log.h"
#include "daemon/watch.h"
#include "tunnel/gre.h"
#include "tunnel/gro.h"
#include "tunnel/sock.h"

struct gresecd;
struct gre_socket;
struct plain_src;
struct secure_peer;

/* Drop reasons besides the GRE codec's own (enum gre_result). */
enum drop_reason {
	DROP_UNKNOWN_SOURCE,   /* underlay packet from an address that is not the peer */
	DROP_BAD_LENGTH,       /* outer or inner length does not add up */
	DROP_BAD_TYPE,         /* secure: unknown message type */
	DROP_BAD_MAC,          /* secure: MAC1/MAC2 failed */
	DROP_REPLAY,           /* secure: counter or timestamp already seen */
	DROP_DECRYPT,          /* secure: authentication failed */
	DROP_NO_SESSION,       /* secure: no keypair for the index, or expired */
	DROP_RATE_LIMITED,     /* secure: handshake over the per-source rate */
	DROP_HANDSHAKE,        /* secure: handshake message failed Noise processing */
	DROP_TX_ERROR,         /* underlay send failed */
	DROP_TUN_ERROR,        /* TUN/TAP write failed */
	DROP_INNER_MALFORMED,  /* decapsulated packet is not valid for the link type */
	/* secure: the IP packet a WireGuard message carried (tunnel/inner.h) */
	DROP_IP_MALFORMED,     /* not a well-formed IPv4/IPv6 packet */
	DROP_IP_FRAGMENT,      /* an IP fragment (GRE packets must fit the WireGuard MTU) */
	DROP_IP_NOT_GRE,       /* another protocol, or not to gre_local */
	DROP_IP_ADDRESS,       /* GRE, but not from gre_remote to gre_local */
	DROP_REASON_MAX
};

const char *drop_reason_name(enum drop_reason r);

struct tunnel_counters {
	uint64_t rx_packets, rx_bytes;   /* inner packets written to the interface */
	uint64_t tx_packets, tx_bytes;   /* inner packets sent to the peer */
	uint64_t gre_drops[GRE_RESULT_MAX];
	uint64_t drops[DROP_REASON_MAX];
	uint64_t keepalives_sent, keepalives_received; /* ours, and their answers */
	uint64_t keepalives_reflected;              /* the peer's, sent back */
	uint64_t echo_replies;                      /* secure: pings to gre_local answered */
};

/* Whether a tunnel runs (daemon/lifecycle.c). */
enum tunnel_state {
	TUNNEL_FAILED = 0,   /* not running: last_error says why; retried (retry_at) */
	TUNNEL_UP,           /* its interface exists and its data path runs */
};

/* One address or route of the configuration, as it stands in the kernel.
 * Kept beside the configuration's list, index for index. */
enum item_state {
	ITEM_PENDING = 0,    /* not there yet: the link is down (a route), or not tried */
	ITEM_INSTALLED,
	ITEM_FAILED,         /* the kernel refused it: err */
};

struct tunnel_item {
	uint8_t state;       /* enum item_state */
	uint8_t conflict_type; /* a route that exists already: its RTN_* type */
	int err;             /* -errno of the last attempt (ITEM_FAILED, or ENETDOWN) */
	int conflict_oif;    /* a route that exists already: its link, 0 unknown */
};

struct tunnel {
	struct gresecd *d;
	struct tunnel_config cfg;
	enum tunnel_state state;
	const struct datapath_ops *dp; /* who moves the packets (daemon/datapath.h); NULL while failed */
	char dp_reason[160];         /* why that path: logged and shown */
	int tun_fd;                  /* user path: the TUN/TAP device, else -1 */
	int ifindex;
	char ifname[IFNAMSIZ];
	uint32_t mtu;
	bool carrier;
	bool vnet;                   /* TUN with virtio header: TSO segments to split */
	struct gro_table gro;        /* TCP segments of this receive batch to coalesce */
	unsigned gro_gen;            /* batch the table belongs to (gresecd.rx_gen) */
	ev_io tun_watcher;

	struct gre_tx gre_tx;
	struct gre_rx gre_rx;
	union sockaddr_inet remote;  /* plain: the peer; secure: the current endpoint */
	bool has_remote;

	struct gre_socket *gre_sock; /* plain mode: raw socket (kernel path: keepalives only) */
	/* plain, user path: the tunnels of gre_sock with the same remote (plain.c) */
	struct plain_src *psrc;
	struct tunnel *src_next, *src_prev;
	struct secure_peer *peer;    /* secure mode */

	/* plain-mode GRE keepalives (Cisco-compatible) */
	ev_timer keepalive_timer;
	uint32_t keepalive_missed;

	/* kernel path: the link takes IFLA_PROTO_DOWN for a dead peer (else
	 * it goes administratively down: kernel_gre.c) */
	bool kernel_protodown;
	/* user path, plain, on a kernel with GRE: the ICMP sink (kernel_gre.c) */
	int sink_ifindex;
	char sink_name[IFNAMSIZ];
	bool sink_failed;            /* tried and failed: not again until recreated */

	struct tunnel_counters ctr;
	struct log_ratelimit rl;     /* per-tunnel log limiter for packet-path problems */
	uint64_t last_rx;            /* plain: the latest valid packet from the peer (monotonic ns) */
	uint64_t kernel_rx_seen;     /* kernel path: the link's rx_packets when last looked at */

	/* ---- life (daemon/lifecycle.c) ---- */
	char last_error[256];        /* why it failed or was lost last; "" none */
	uint64_t last_error_at;      /* monotonic ns */
	unsigned failures;           /* attempts that failed in a row */
	unsigned backoff;            /* seconds of the last retry delay (doubles to 60) */
	uint64_t retry_at;           /* monotonic ns of the next attempt while failed */
	ev_timer retry_timer;
	uint64_t up_since;           /* monotonic ns */
	unsigned rebuilds;           /* made again after being lost while it ran */
	struct tunnel_item addr_st[CONF_MAX_ADDRESSES];
	struct tunnel_item route_st[CONF_MAX_ROUTES];
	bool admin_down;             /* someone else set the link down: left down */
	bool down_by_us;             /* kernel path: gresecd set the link down (dead peer) */
	bool reinstall;              /* addresses or routes may be gone: put them back */
	bool check_queued;           /* on d->checks */
	bool local_missing;          /* the underlay local address is not on this host */
	struct watch_ifref watch_link, watch_sink; /* in d->tunnels_by_ifindex (watch.c) */
	bool in_failed;              /* on d->failed */
	enum tunnel_wait {           /* what a failed tunnel waits for (watch.c retries at once) */
		WAIT_NOTHING = 0, WAIT_DEVICE, WAIT_LOCAL, WAIT_NAME,
	} wait;
	unsigned repair_tokens;      /* repairs allowed now (a fight with someone is bounded) */
	uint64_t repair_refill;      /* monotonic ns of the last token refill */
	bool repair_paused_logged;
	struct log_ratelimit rl_heal; /* "put back" messages */
	/* A resync after lost notifications (watch.c): what the dumps found. */
	bool rs_seen;
	uint16_t rs_addr;            /* bit i: cfg.addresses[i] */
	uint64_t rs_route;           /* bit i: cfg.routes[i] */
	struct tunnel *check_next, *check_prev;     /* d->checks */
	struct tunnel *failed_next, *failed_prev;   /* d->failed */
	struct tunnel *next;         /* d->tunnels, in the configuration's order */
};

/* One bit per configured address and route in the masks above (and in
 * lifecycle.c's own-route dump). */
_Static_assert(CONF_MAX_ADDRESSES <= 16, "rs_addr has 16 bits");
_Static_assert(CONF_MAX_ROUTES <= 64, "route bit masks have 64 bits");

/* The GRE header options of t->cfg into t->gre_tx and t->gre_rx. */
void tunnel_gre_params(struct tunnel *t);

/* Deliver a decapsulated GRE packet (p holds the GRE header on).
 * Shared by plain and secure receive. */
void tunnel_gre_input(struct tunnel *t, struct pkt *p);

/* The receive batch (struct gresecd: rx_pending, rx_seg_pkts), owned by
 * daemon/tunnel.c.  Invariant: n_rx_seg_held <= n_rx_pending <= RX_BATCH.
 * tunnel_gre_input() holds packets in rx_pending for coalescing and writes
 * the list as soon as it is full; the segment buffers held are
 * rx_seg_pkts[0 .. n_rx_seg_held), each of them a packet in that list;
 * tunnel_rx_flush() writes the list and frees both. */

/* Write what tunnel_gre_input() held back for coalescing; called at the
 * end of every receive batch. */
void tunnel_rx_flush(struct gresecd *d);

/* A free buffer for one datagram of a coalesced (UDP GRO) receive buffer,
 * and, once that datagram was handled, keep the buffer if
 * tunnel_gre_input() held it (it is free again otherwise). */
struct pkt *tunnel_rx_seg_buffer(struct gresecd *d);
void tunnel_rx_seg_done(struct gresecd *d, const struct pkt *s);

/* Encapsulate (and in secure mode seal) one inner packet read from the
 * interface; 0 when it is ready for tunnel_transmit(), else it was held or
 * dropped and counted. */
int tunnel_output(struct tunnel *t, struct pkt *p, uint64_t now);
/* Write one packet to the interface (adds the virtio header when in use). */
ssize_t tunnel_tun_write(struct tunnel *t, struct pkt *p);
/* Send up to TX_BATCH ready packets to the peer in one system call. */
void tunnel_transmit(struct tunnel *t, struct pkt **pkts, unsigned n);
/* Count n packets handed to the underlay (inner bytes). */
void tunnel_count_tx(struct tunnel *t, struct pkt **pkts, unsigned n);
/* sendmmsg that counts each packet the kernel refuses as a tx_error and
 * goes on with the rest; ttl: per-packet outer TTL, or NULL; tos:
 * per-packet outer TOS or traffic class (-1: the socket's), or NULL.
 * Counts tx; returns packets sent. */
unsigned tunnel_sendmmsg(struct tunnel *t, int fd, struct pkt **pkts, unsigned n,
			 const union sockaddr_inet *dst, const int *ttl, const int *tos);

void tunnel_set_carrier(struct tunnel *t, bool on);

/* The counters `gresec show` reports, given the link as read (kernel
 * path: traffic from its statistics). */
void tunnel_counters(struct tunnel *t, struct tunnel_counters *c, const struct nl_link_info *k);

/* MTU and UP on t->ifindex, then addresses and routes (both paths).
 * Fails only when the link cannot be set up; an address or route that
 * cannot be added is recorded in its item state. */
int tunnel_configure_link(struct tunnel *t);

/* The MAC of a gretap tunnel: the configured one, else one derived from
 * the configuration (stable across restarts, different at the two ends:
 * see gresec.conf(5), mac). */
void tunnel_mac(const struct tunnel_config *c, uint8_t mac[6]);

/* TTL (hop limit) of the header put around a GRE packet p: the tunnel's
 * ttl, or with ttl 0 ("inherit") the inner IP packet's, else 64. */
int tunnel_outer_ttl(const struct tunnel *t, const struct pkt *p);

/* TOS (traffic class) of that header: the tunnel's tos, with "inherit"
 * the inner IP packet's DSCP; -1 for tos 0 (the socket's default, 0). */
int tunnel_outer_tos(const struct tunnel *t, const struct pkt *p);

#endif
