/* conf/conf.h: the validated configuration of gresecd.
 *
 * conf_load() turns a libconfig file into a struct gresec_config; every
 * problem is reported with file and line, and a config with any problem is
 * never returned half-filled.  The structs are plain data: the daemon owns
 * runtime state elsewhere and compares old and new tunnel_config on reload.
 */
#ifndef GRESEC_CONF_CONF_H
#define GRESEC_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <limits.h>

#include "tunnel/addr.h"

#define CONF_MAX_TUNNELS    65536   /* a sanity bound; the limits that matter are the system's (file descriptors) */
#define CONF_MAX_ADDRESSES  8
#define CONF_MAX_ROUTES     64
#define CONF_KEY_LEN        32
#define CONF_DESC_MAX       128

#define GRESEC_DEFAULT_CONFIG   SYSCONFDIR "/gresec/gresec.conf"
#define GRESEC_DEFAULT_CONTROL  "/run/gresec/control.sock"
#define GRESEC_DEFAULT_PIDFILE  "/run/gresec/gresecd.pid"
#define GRESEC_DEFAULT_PORT     51947 /* UDP port of secure mode (not IANA-assigned) */

enum tunnel_mode { TUNNEL_MODE_PLAIN = 0, TUNNEL_MODE_SECURE = 1 };
enum tunnel_type { TUNNEL_TYPE_GRE = 0, TUNNEL_TYPE_GRETAP = 1 };
/* Who moves a plain tunnel's packets: the kernel's own GRE (ip_gre,
 * ip6_gre) or gresecd in user space; auto: the kernel when it has GRE and
 * the tunnel needs nothing only user space does (daemon/datapath.c). */
enum tunnel_datapath { DATAPATH_AUTO = 0, DATAPATH_KERNEL = 1, DATAPATH_USER = 2 };

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct tunnel_config {
	char name[IFNAMSIZ];               /* interface name and tunnel name */
	char description[CONF_DESC_MAX];
	enum tunnel_mode mode;
	enum tunnel_type type;
	struct ip_addr local;              /* underlay source; AF_UNSPEC: any */
	struct ip_addr remote;             /* underlay peer; AF_UNSPEC only for a secure responder */
	char device[IFNAMSIZ];             /* "" when not bound */
	struct ip_prefix addresses[CONF_MAX_ADDRESSES];
	size_t n_addresses;
	struct ip_addr peer_addresses[CONF_MAX_ADDRESSES]; /* point-to-point peers, at most one per family */
	size_t n_peer_addresses;
	uint32_t mtu;                      /* conf_load fills conf_default_mtu() when unset */
	int ttl;                           /* 1..255, 0 = inherit from the inner packet */
	int tos;                           /* outer TOS / traffic class 0..252 (DSCP << 2), -1 = inherit */
	enum tunnel_datapath datapath;
	bool has_ikey, has_okey;
	uint32_t ikey, okey;
	bool checksum;
	bool sequence;
	struct ip_prefix routes[CONF_MAX_ROUTES];
	size_t n_routes;
	bool clamp_mss;
	bool has_mac;                      /* gretap: mac set (else derived: daemon/tunnel.c) */
	uint8_t mac[6];
	uint32_t keepalive_interval;       /* plain: GRE keepalive period in s, 0 = off */
	uint32_t keepalive_retries;        /* plain: missed keepalives before carrier down */

	/* secure mode */
	char private_key_file[PATH_MAX];
	char preshared_key_file[PATH_MAX]; /* "" = none (all-zero PSK) */
	uint8_t peer_public_key[CONF_KEY_LEN];
	uint16_t port;                     /* UDP listen port */
	uint16_t remote_port;              /* conf_load fills `port` when unset */
	uint32_t persistent_keepalive;     /* seconds, 0 = off */
	struct ip_addr gre_local;          /* WireGuard-layer addresses of the inner GRE header; */
	struct ip_addr gre_remote;         /*   AF_UNSPEC: derived from the keys (crypto/keys.h) */
	uint32_t rekey_after_time;         /* test-only override of timers, seconds; 0 = default */
	uint32_t reject_after_time;
	uint32_t keepalive_timeout;

	int line;                          /* source line of the tunnel's group */
	/* Source lines of settings that checks outside conf_load() (the
	 * system checks of daemon/preflight.c) report on; 0 = absent. */
	struct {
		int name, local, device, private_key_file, preshared_key_file, peer_public_key, mac;
	} lines;
	/* Not from the file: a keyed hash of the key files' contents that the
	 * daemon fills in (all zero until then), so that a reload notices a
	 * rewritten key file; compared by conf_tunnel_equal(). */
	uint8_t key_digest[CONF_KEY_LEN];
};

struct daemon_config {
	char control_socket[PATH_MAX];
	char pid_file[PATH_MAX];
	enum log_level log_level;
	char user[64];                     /* "" = stay root */
	char group[64];
	/* Source lines of these settings (0 = absent), for later checks. */
	struct {
		int control_socket, pid_file, user, group;
	} lines;
};

struct gresec_config {
	char path[PATH_MAX];
	struct daemon_config daemon;
	struct tunnel_config *tunnels;     /* calloc'd array of n_tunnels */
	size_t n_tunnels;
};

/* Receives one formatted problem ("file:line: tunnel \"x\": what: value ...").
 * The default (NULL) prints to stderr. */
typedef void (*conf_report_fn)(void *ctx, const char *msg);

/* Load and validate path.  Returns 0 and fills *out, or -1 after reporting
 * every problem found (then *out is left zeroed and owns nothing).
 * Relative paths in the file (key files, daemon.pid_file,
 * daemon.control_socket) are kept as written. */
int conf_load(const char *path, struct gresec_config *out,
	      conf_report_fn report, void *report_ctx);

/* Same, with relative paths in the file made absolute against base_dir
 * (an absolute directory: the daemon's start directory), so that they
 * keep naming the same files after the daemon's chdir("/").  Only string
 * work: nothing is looked up on the system.  base_dir NULL: as conf_load. */
int conf_load_at(const char *path, const char *base_dir, struct gresec_config *out,
		 conf_report_fn report, void *report_ctx);

/* Same, for an in-memory buffer named `name` in messages (tests, fuzzing). */
int conf_load_string(const char *name, const char *text, struct gresec_config *out,
		     conf_report_fn report, void *report_ctx);
int conf_load_string_at(const char *name, const char *text, const char *base_dir,
			struct gresec_config *out, conf_report_fn report, void *report_ctx);

/* dir + "/" + path into out (size n) when path is relative and dir is set,
 * else path itself.  0, or -1 when it does not fit. */
int conf_path_join(char *out, size_t n, const char *dir, const char *path);

void conf_free(struct gresec_config *cfg);

/* The MTU used when the tunnel sets none: 1500 minus the real overhead. */
uint32_t conf_default_mtu(const struct tunnel_config *t);

/* The point-to-point peer of the tunnel's addresses of one family: the
 * first peer_address of that family on a gre tunnel, else NULL (gretap
 * addresses have none: it is a broadcast link). */
const struct ip_addr *conf_peer_address(const struct tunnel_config *t, int family);

/* true when two tunnel configs are identical (reload keeps the tunnel as is). */
bool conf_tunnel_equal(const struct tunnel_config *a, const struct tunnel_config *b);

/* Names of the settings' values, and the log level's parser (0 or -1). */
const char *conf_mode_name(enum tunnel_mode m);
const char *conf_type_name(enum tunnel_type t);
const char *conf_datapath_name(enum tunnel_datapath d);
int conf_log_level_parse(const char *s, enum log_level *out);
const char *conf_log_level_name(enum log_level l);

/* "02:00:5e:10:00:01" (colons or dashes, case-insensitive): 0 or -1. */
int conf_parse_mac(const char *s, uint8_t out[6]);

#endif
