/* conf/loader.h: what the files of conf/ share while a configuration is
 * loaded (conf.c: loading and the public helpers; report.c: problems;
 * getters.c: typed settings; settings.c: a tunnel's settings; validate.c:
 * the rules between settings and between tunnels).  Internal to conf/:
 * the rest of gresec includes conf/conf.h only.
 */
#ifndef GRESEC_CONF_LOADER_H
#define GRESEC_CONF_LOADER_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "conf/prepass.h"

#define QUOTE_MAX           64    /* bytes of a bad value quoted in a message */

enum {
	DEFAULT_TTL = 64,
	DEFAULT_KEEPALIVE_RETRIES = 3,
	MTU_MIN = 68,
	MTU_MIN_IPV6 = 1280,
	MTU_MAX = 65535,
	ETHERNET_MTU = 1500,
	KEEPALIVE_MAX = 32767,          /* Cisco's range for "keepalive <period>" */
	TIMER_OVERRIDE_MAX = 86400,
};

/* A problem held back until the whole file has been checked (held). */
struct held_problem {
	int line;
	char *msg;
};

struct loader {
	const char *name;
	const char *base_dir;          /* relative paths are made absolute against it; NULL: kept */
	conf_report_fn report;
	void *report_ctx;
	unsigned n_errors;
	struct prepass_bigs bigs;      /* literals outside 64 bits, to quote (prepass.h) */
	/* While the file is checked, problems are held here and reported
	 * sorted by line at the end: the checks run setting by setting, then
	 * between tunnels, and the reader wants them in the file's order. */
	bool hold;
	struct held_problem *held;
	size_t n_held, cap_held;
};

/* A printable, quoted copy of an untrusted string for messages. */
struct qbuf {
	char s[QUOTE_MAX * 4 + 8];
};

/* Where a problem is reported: "daemon: ", "tunnel \"x\": " or "". */
struct scope {
	struct loader *L;
	char label[QUOTE_MAX * 4 + 32];
};

/* A setting that is a string or a list/array of strings: calls fn per item. */
typedef int (*item_fn)(const struct scope *sc, const char *what, int line, const char *v, void *arg);

enum scope_mode { ANY_MODE, PLAIN_ONLY, SECURE_ONLY };

enum tkey {
	K_NAME, K_DESCRIPTION, K_MODE, K_TYPE, K_LOCAL, K_REMOTE, K_DEVICE, K_ADDRESS,
	K_PEER_ADDRESS, K_MTU, K_TTL, K_KEY, K_IKEY, K_OKEY, K_CHECKSUM, K_SEQUENCE, K_ROUTES,
	K_CLAMP_MSS, K_KEEPALIVE, K_KEEPALIVE_RETRIES, K_PRIVATE_KEY_FILE, K_PEER_PUBLIC_KEY,
	K_PRESHARED_KEY_FILE, K_PORT, K_REMOTE_PORT, K_PERSISTENT_KEEPALIVE, K_REKEY_AFTER_TIME,
	K_REJECT_AFTER_TIME, K_KEEPALIVE_TIMEOUT, K_GRE_LOCAL, K_GRE_REMOTE, K_TOS, K_DATAPATH,
	K_MAC,
	K__COUNT
};

/* Parse state of one tunnel: where each setting was, and whether it parsed. */
struct tparse {
	struct scope sc;
	struct tunnel_config *t;
	int line[K__COUNT];     /* 0 = absent */
	bool ok[K__COUNT];
};

typedef int (*tkey_fn)(struct tparse *tp, const config_setting_t *s, const char *what);

/* The settings a tunnel may have (conf/settings.c). */
struct tkey_info {
	const char *name;
	enum scope_mode scope;
	tkey_fn fn;
};
extern const struct tkey_info conf_tunnel_keys[K__COUNT];

/* ---- report.c ---- */

void conf_default_report(void *ctx, const char *msg);
void conf_problem(struct loader *L, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conf_report_held(struct loader *L);
const char *conf_quote(struct qbuf *b, const char *s);

/* ---- getters.c ---- */

const char *conf_value_type_name(int type);
void conf_sproblem(const struct scope *sc, const char *setting, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int conf_sline(const config_setting_t *s);
int conf_get_string(const struct scope *sc, const config_setting_t *s, const char *what,
		    const char **out);
int conf_get_string_buf(const struct scope *sc, const config_setting_t *s, const char *what,
			char *buf, size_t size);
int conf_get_bool(const struct scope *sc, const config_setting_t *s, const char *what, bool *out);
int conf_get_int(const struct scope *sc, const config_setting_t *s, const char *what,
		 long long min, long long max, long long *out);
int conf_get_uint32(const struct scope *sc, const config_setting_t *s, const char *what,
		    long long min, long long max, uint32_t *out);
int conf_for_each_string(const struct scope *sc, const config_setting_t *s, const char *what,
			 item_fn fn, void *arg);

/* ---- settings.c ---- */

void conf_tunnel_defaults(struct tparse *tp);
void conf_parse_tunnel(struct loader *L, const config_setting_t *g, size_t index,
		       struct tparse *tp, struct tunnel_config *t);

/* ---- validate.c ---- */

void conf_record_lines(struct tparse *tp);
void conf_check_tunnel(struct tparse *tp);
void conf_check_tunnels(struct tparse *tps, size_t n);
void conf_check_tunnels_addresses(struct tparse *tps, size_t n);

/* ---- conf.c: helpers the others use ---- */

const char *conf_family_name(int family);
size_t conf_addr_len(int family);
bool conf_prefix_host_bits_zero(const struct ip_prefix *p, struct ip_prefix *masked);
bool conf_addr_is_unicast(const struct ip_addr *a);
bool conf_ifname_valid(const char *s);
bool conf_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);

#endif
