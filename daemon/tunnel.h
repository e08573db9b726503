/* daemon/tunnel.h: one tunnel at run time: its interface, its GRE state,
 * its counters, and (secure mode) its peer.
 */
#ifndef GRESEC_DAEMON_TUNNEL_H
#define GRESEC_DAEMON_TUNNEL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "daemon/log.h"
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

struct tunnel {
	struct gresecd *d;
	struct tunnel_config cfg;
	int tun_fd;
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

	struct gre_socket *gre_sock; /* plain mode */
	/* plain: the tunnels of gre_sock with the same remote (plain.c) */
	struct plain_src *psrc;
	struct tunnel *src_next, *src_prev;
	struct secure_peer *peer;    /* secure mode */

	/* plain-mode GRE keepalives (Cisco-compatible) */
	ev_timer keepalive_timer;
	uint32_t keepalive_missed;

	struct tunnel_counters ctr;
	struct log_ratelimit rl;     /* per-tunnel log limiter for packet-path problems */
	struct tunnel *next;
};

/* Create the interface, configure it and open the data path. */
int tunnel_create(struct gresecd *d, const struct tunnel_config *cfg, struct tunnel **out);
/* Remove what tunnel_create added (addresses and routes go with the interface). */
void tunnel_destroy(struct tunnel *t);
/* The same, except that the TUN/TAP descriptor is returned (or -1), not
 * closed: the interface goes when it is closed (gresecd_close_fds()). */
int tunnel_release(struct tunnel *t);
/* Apply changes that do not need a new interface; -EAGAIN if it must be recreated. */
int tunnel_update(struct tunnel *t, const struct tunnel_config *cfg);

/* The running tunnel of that name, or NULL (daemon/daemon.c: a hash table). */
struct tunnel *tunnel_find(struct gresecd *d, const char *name);

/* Deliver a decapsulated GRE packet (p holds the GRE header on).
 * Shared by plain and secure receive. */
void tunnel_gre_input(struct tunnel *t, struct pkt *p);

/* Write what tunnel_gre_input() held back for coalescing; called at the
 * end of every receive batch. */
void tunnel_rx_flush(struct gresecd *d);

/* Whether p was kept by tunnel_gre_input() for tunnel_rx_flush() (so its
 * buffer is not free until then). */
bool tunnel_rx_holds(const struct gresecd *d, const struct pkt *p);

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
 * goes on with the rest; ttl: per-packet outer TTL, or NULL.  Counts tx;
 * returns packets sent. */
unsigned tunnel_sendmmsg(struct tunnel *t, int fd, struct pkt **pkts, unsigned n,
			 const union sockaddr_inet *dst, const int *ttl);

void tunnel_set_carrier(struct tunnel *t, bool on);

/* TTL (hop limit) of the header put around a GRE packet p: the tunnel's
 * ttl, or with ttl 0 ("inherit") the inner IP packet's, else 64. */
int tunnel_outer_ttl(const struct tunnel *t, const struct pkt *p);

/* Plain mode data path (daemon/plain.c). */
int plain_start(struct tunnel *t);
void plain_stop(struct tunnel *t);
int plain_send(struct tunnel *t, struct pkt *p);
void plain_transmit(struct tunnel *t, struct pkt **pkts, unsigned n);
/* Cisco-compatible GRE keepalives: (re)arm the timer after a config change,
 * note our keepalive coming back, and reflect the peer's. */
void plain_keepalive_reset(struct tunnel *t);
void plain_keepalive_reply(struct tunnel *t);
bool plain_reflect_keepalive(struct tunnel *t, struct pkt *p, uint16_t proto);

#endif
