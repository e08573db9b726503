/* daemon/daemon.h: the runtime context of gresecd.
 *
 * One struct gresecd owns everything: the libev loop, the netlink socket,
 * the shared underlay sockets, the tunnels and the control socket.  It is
 * passed explicitly; nothing here is global.
 */
#ifndef GRESEC_DAEMON_DAEMON_H
#define GRESEC_DAEMON_DAEMON_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "daemon/hashtab.h"
#include "daemon/secmem.h"
#include "tunnel/netlink.h"
#include "tunnel/pkt.h"
#include "tunnel/sock.h"

struct tunnel;
struct secure_port;
struct key_file;
struct underlay_ref;

enum { RX_BATCH = 32, TX_BATCH = 128 };

/* A raw GRE socket shared by the plain tunnels with the same family, local
 * address and device; packets are demultiplexed by source and key
 * (daemon/plain.c).  The kernel path's keepalive sockets (keepalive_only)
 * are connected to `remote` and let only keepalives through
 * (sock_open_gre_keepalive); they are demultiplexed by key the same way.
 * Invariants: every plain tunnel of the socket is in by_key under (its
 * remote, its ikey or none), and on the tunnel list of the struct
 * plain_src of its remote, which is in by_src and on sources; a plain_src
 * with no tunnel is freed. */
struct gre_socket {
	struct gresecd *d;
	int fd;
	int family;
	struct ip_addr local;
	char device[IFNAMSIZ];
	bool keepalive_only;
	struct ip_addr remote;       /* keepalive_only: the peer */
	unsigned refs;
	struct hashtab by_key;       /* (remote, key) -> tunnel */
	struct hashtab by_src;       /* remote -> struct plain_src */
	struct plain_src *sources;
	uint64_t unknown_source;     /* packets no tunnel claimed */
	ev_io watcher;
	struct gre_socket *next;
};

struct gresecd {
	struct ev_loop *loop;
	struct gresec_config cfg;
	char config_path[PATH_MAX];    /* absolute: re-read on reload after chdir("/") */
	char start_dir[PATH_MAX];      /* relative paths in the file are taken from here; "" none */
	char control_path[PATH_MAX];   /* "" = from the config */
	char pid_path[PATH_MAX];       /* "" = from the config */
	struct nl_ctx nl;
	struct tunnel *tunnels;        /* every configured tunnel, in the file's order */
	/* Invariant: every tunnel on the list is in tunnels_by_name under its
	 * cfg.name, and nothing else is (daemon.c links and unlinks both). */
	struct hashtab tunnels_by_name;
	bool configured;               /* the first configuration was applied */
	unsigned start_initiations;    /* secure tunnels set up at start (their first initiations are paced) */
	/* Key files read for the key digests, by path: re-read only when
	 * stat() says they changed (daemon.c). */
	struct hashtab key_files;
	struct key_file *key_file_list;
	unsigned key_file_gen;
	struct gre_socket *gre_sockets;
	struct secure_port *secure_ports;
	struct control *control;
	struct fd_batch *closing;      /* shutdown, reload: TUN/TAP descriptors to close together */
	struct secure_index *index;    /* receiver index -> peer, secure mode (index.h) */
	struct secmem secrets;         /* the peers' secrets (peer.c) */

	/* One batch of buffers, allocated once: the data path never allocates. */
	struct pkt *rx_pkts[RX_BATCH];
	union sockaddr_inet rx_src[RX_BATCH];
	uint16_t rx_seg[RX_BATCH];     /* UDP GRO segment size of rx_pkts[i] (0: one datagram) */
	/* Each datagram of a coalesced (UDP GRO) receive buffer is opened (or
	 * copied) into one of these; those kept for tunnel_rx_flush() (GRO
	 * heads) are rx_seg_pkts[0 .. n_rx_seg_held), the rest are free again
	 * at once.  This and rx_pending are daemon/tunnel.c's (the receive
	 * batch: tunnel.h states its invariant). */
	struct pkt *rx_seg_pkts[RX_BATCH];
	unsigned n_rx_seg_held;
	struct pkt *tx_pkts[TX_BATCH]; /* a burst read from a TUN/TAP, sent in one call */
	/* Inner packets of the current receive batch waiting for tunnel_rx_flush(). */
	struct {
		struct tunnel *t;
		struct pkt *p;
		unsigned ready;        /* > 0: p has its virtio header, carries this many segments */
	} rx_pending[RX_BATCH];
	unsigned n_rx_pending;
	unsigned rx_gen;               /* receive batch number (GRO tables) */
	struct pkt *tun_pkt;           /* read buffer for TSO packets from a TUN */
	struct pkt *tx_pkt;            /* scratch for keepalives */

	uid_t key_owner;               /* key files must belong to this user: daemon.user, else us */

	ev_signal sig_term, sig_int, sig_hup;
	ev_timer maint_timer;          /* ICMP sinks once the kernel's GRE appears; checks */
	bool privileges_dropped;

	/* ---- keeping the system as configured (daemon/watch.c, lifecycle.c) ---- */
	struct nl_ctx watch;           /* rtnetlink notifications: links, addresses, routes */
	ev_io watch_io;
	ev_timer watch_timer;          /* reopen the socket after an error */
	struct hashtab tunnels_by_ifindex; /* ifindex -> struct watch_ifref of a running tunnel */
	/* Underlay devices and local addresses running tunnels use, with
	 * their users (few distinct ones: looked through linearly). */
	struct underlay_ref *underlay;
	size_t n_underlay, cap_underlay;
	struct tunnel *checks;         /* tunnels to look at after this burst of events */
	ev_timer check_timer;          /* runs them a moment after the first event */
	struct tunnel *failed;         /* tunnels not running, waiting for their retry */
	unsigned n_failed;
	unsigned n_conflicts;          /* routes not added because another route holds the prefix */
	uint64_t rx_now;               /* the time of the current receive batch */
	bool ready;                    /* READY=1 sent: STATUS updates follow changes */
	bool applying;                 /* inside gresecd_apply_config */
	/* At start only: the tunnels the host checks found a problem with
	 * (index of the configuration), which start failed without a try. */
	struct start_error { int err; char msg[256]; } *start_errors;
	char status_sent[640];         /* the last STATUS= sent */
	bool log_level_fixed;          /* -d: daemon.log_level does not apply */
	int exit_code;
};

/* The daemon's own resources: the rtnetlink socket, the packet buffers,
 * the maintenance timer.  On failure nothing is left allocated.  The
 * control socket and the rtnetlink watcher are gresecd.c's to open and
 * close (control.h, watch.h). */
int gresecd_init(struct gresecd *d, const struct gresec_config *cfg);
/* Every tunnel taken down and freed, then what gresecd_init made. */
void gresecd_shutdown(struct gresecd *d);

/* Bring the running set of tunnels to `next`: keep unchanged ones, update
 * or recreate changed ones, remove and add.  On success d takes next's
 * contents; on failure the running tunnels stay as they were. */
int gresecd_apply_config(struct gresecd *d, struct gresec_config *next);

/* Re-read d->config_path and apply it (SIGHUP, `gresec reload`).  Writes a
 * short result for the control client into msg. */
int gresecd_reload(struct gresecd *d, char *msg, size_t msg_len);

/* Fill each secure tunnel's key_digest in cfg from its key files, so that
 * conf_tunnel_equal() sees a rewritten key file.  The digest is a keyed
 * hash (a random key per process) of the decoded keys; the keys are wiped
 * at once.  A key file that cannot be read keeps the running tunnel's
 * digest (its keys stay in use, said in the log); for a new tunnel the
 * digest stays zero and tunnel creation reports the file. */
void gresecd_key_digests(struct gresecd *d, struct gresec_config *cfg);

/* File descriptors: what cfg needs at most (a TUN/TAP per tunnel, the
 * sockets, GRESECD_FD_RESERVE for the rest), and making sure the limit
 * allows it: the soft RLIMIT_NOFILE is raised to the hard one when short.
 * 0, or -EMFILE with the reason logged and in msg when even the hard
 * limit is too low (checked before anything is set up). */
enum { GRESECD_FD_RESERVE = 64 };
size_t gresecd_fds_needed(const struct gresec_config *cfg);
int gresecd_fd_limit(const struct gresec_config *cfg, char *msg, size_t msg_len);

/* Close a tunnel's TUN/TAP descriptor: at once, or, while
 * gresecd_shutdown() takes every tunnel down or a reload removes some,
 * later with the others in one batch (each close unregisters an
 * interface, and the kernel waits a grace period for each: daemon.c says
 * how the batch is closed). */
void gresecd_close_tun(struct gresecd *d, int fd);

/* A tunnel failed, came up or was lost: STATUS= for systemd, when it
 * changed (the failed tunnels are named). */
void gresecd_status_changed(struct gresecd *d);

/* "1 tunnel", "2 tunnels" */
const char *gresecd_tunnels_str(size_t n, char *buf, size_t len);

/* The daemon's two clocks: monotonic (timers, ages) and wall-clock time
 * (TAI64N timestamps of handshake initiations), in nanoseconds. */
uint64_t gresecd_now_ns(void);
uint64_t gresecd_realtime_ns(void);

/* The configured tunnel of that name, running or not, or NULL
 * (daemon/daemon.c: a hash table of every tunnel on d->tunnels). */
struct tunnel *tunnel_find(struct gresecd *d, const char *name);

#endif
