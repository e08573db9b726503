/* conf/conf.c: libconfig file -> validated struct gresec_config.
 *
 * Three passes: libconfig parses the text (syntax errors stop here), one
 * parse helper per setting checks type and range and quotes the bad value,
 * then cross-field rules run per tunnel and across tunnels.  Every problem is
 * reported, one message each, as "FILE:LINE: tunnel \"NAME\": SETTING: ...".
 *
 * libconfig 1.5 silently truncates integer literals that do not fit in 32
 * bits (4294967296 becomes 0), so the text is first copied with an `L`
 * suffix added to such literals; the range checks then see the real value.
 * @include is refused: the daemon reads exactly one file.
 */
#include "conf/conf.h"
#include "conf/prepass.h"
#include "tunnel/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#define CONF_MAX_FILE_SIZE  (64 * 1024 * 1024)
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

/* ---- messages ---- */

static void default_report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static void problem(struct loader *L, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *L, int line, const char *fmt, ...)
{
	char body[1024];
	char msg[PATH_MAX + sizeof(body) + 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	L->n_errors++;
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s", L->name, line, body);
	else
		snprintf(msg, sizeof(msg), "%s: %s", L->name, body);
	if (L->hold) {
		if (L->n_held == L->cap_held) {
			size_t cap = L->cap_held ? 2 * L->cap_held : 16;
			struct held_problem *grown = realloc(L->held, cap * sizeof(*grown));

			if (!grown)
				goto now;
			L->held = grown;
			L->cap_held = cap;
		}
		L->held[L->n_held].line = line;
		L->held[L->n_held].msg = strdup(msg);
		if (L->held[L->n_held].msg) {
			L->n_held++;
			return;
		}
	}
now:
	L->report(L->report_ctx, msg);
}

static int held_cmp(const void *a, const void *b)
{
	const struct held_problem *x = a, *y = b;

	/* By line; problems of the file as a whole (line 0) first. */
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Report what was held, in the file's order; problems of one line keep
 * the order they were found in (the sort is made stable by hand). */
static void report_held(struct loader *L)
{
	size_t i, j;

	/* Insertion sort: stable, and the list is short and nearly sorted. */
	for (i = 1; i < L->n_held; i++) {
		struct held_problem h = L->held[i];

		for (j = i; j > 0 && held_cmp(&L->held[j - 1], &h) > 0; j--)
			L->held[j] = L->held[j - 1];
		L->held[j] = h;
	}
	for (i = 0; i < L->n_held; i++) {
		L->report(L->report_ctx, L->held[i].msg);
		free(L->held[i].msg);
	}
	free(L->held);
	L->held = NULL;
	L->n_held = L->cap_held = 0;
	L->hold = false;
}

/* A printable, quoted copy of an untrusted string for messages. */
struct qbuf {
	char s[QUOTE_MAX * 4 + 8];
};

static const char *quote(struct qbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	b->s[o++] = '"';
	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			b->s[o++] = '\\';
			b->s[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			b->s[o++] = '\\';
			b->s[o++] = 'x';
			b->s[o++] = hex[c >> 4];
			b->s[o++] = hex[c & 15];
		} else {
			b->s[o++] = (char)c;
		}
	}
	b->s[o++] = '"';
	if (s[i]) {
		memcpy(b->s + o, "...", 3);
		o += 3;
	}
	b->s[o] = '\0';
	return b->s;
}

/* ---- small helpers shared with the CLI ---- */

const char *conf_mode_name(enum tunnel_mode m)
{
	return m == TUNNEL_MODE_SECURE ? "secure" : "plain";
}

const char *conf_type_name(enum tunnel_type t)
{
	return t == TUNNEL_TYPE_GRETAP ? "gretap" : "gre";
}

const char *conf_datapath_name(enum tunnel_datapath d)
{
	return d == DATAPATH_KERNEL ? "kernel" : d == DATAPATH_USER ? "user" : "auto";
}

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERR] = "err",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

int conf_log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *conf_log_level_name(enum log_level l)
{
	if ((unsigned)l < sizeof(log_level_names) / sizeof(log_level_names[0]))
		return log_level_names[l];
	return "?";
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "unspecified";
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool prefix_host_bits_zero(const struct ip_prefix *p, struct ip_prefix *masked)
{
	size_t n = addr_len(p->addr.family), i;
	bool zero = true;

	*masked = *p;
	for (i = 0; i < n; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if (p->addr.u.bytes[i] & (uint8_t)~mask)
			zero = false;
		masked->addr.u.bytes[i] &= mask;
	}
	return zero;
}

static bool addr_is_unicast(const struct ip_addr *a)
{
	if (a->family == AF_INET) {
		uint8_t first = a->u.bytes[0];

		return a->u.v4.s_addr != htonl(INADDR_ANY) && a->u.v4.s_addr != htonl(INADDR_BROADCAST) &&
		       (first & 0xf0) != 0xe0;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->u.v6) && !IN6_IS_ADDR_MULTICAST(&a->u.v6);
}

/* Linux dev_valid_name() plus no control characters, so names print safely. */
static bool ifname_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* ---- MTU ---- */

const struct ip_addr *conf_peer_address(const struct tunnel_config *t, int family)
{
	if (t->type != TUNNEL_TYPE_GRE)
		return NULL;
	for (size_t i = 0; i < t->n_peer_addresses; i++)
		if (t->peer_addresses[i].family == family)
			return &t->peer_addresses[i];
	return NULL;
}

uint32_t conf_default_mtu(const struct tunnel_config *t)
{
	uint32_t gre = GRE_BASE_LEN;
	uint32_t eth = t->type == TUNNEL_TYPE_GRETAP ? ETH_HDR_LEN : 0;
	uint32_t ip;

	if (t->checksum)
		gre += GRE_OPT_LEN;
	if (t->has_ikey || t->has_okey)
		gre += GRE_OPT_LEN;
	if (t->sequence)
		gre += GRE_OPT_LEN;

	if (t->mode == TUNNEL_MODE_PLAIN) {
		ip = t->local.family == AF_INET6 || t->remote.family == AF_INET6 ? IPV6_HDR_LEN :
										  IPV4_HDR_LEN;
		return ETHERNET_MTU - ip - gre - eth;
	}
	/* Secure: the GRE packet rides in an IP packet (gre_local -> gre_remote;
	 * derived addresses are IPv4) inside WireGuard, whose MTU every stock
	 * implementation sets to 1420 (wg-quick, OPNsense, RouterOS): what
	 * fits 1500 bytes over an IPv6 underlay.  Using it on either underlay
	 * gives the same MTU as a stock GRE over WireGuard, so routing
	 * protocols that compare MTUs (OSPF) agree with such a peer.  The
	 * table is in docs/protocol.md. */
	ip = t->gre_local.family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	return WG_DEFAULT_MTU - ip - gre - eth;
}

/* ---- equality for reload ---- */

static bool prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->len == b->len && ip_addr_equal(&a->addr, &b->addr);
}

bool conf_tunnel_equal(const struct tunnel_config *a, const struct tunnel_config *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || strcmp(a->description, b->description) ||
	    a->mode != b->mode || a->type != b->type ||
	    !ip_addr_equal(&a->local, &b->local) || !ip_addr_equal(&a->remote, &b->remote) ||
	    strcmp(a->device, b->device))
		return false;
	if (a->n_addresses != b->n_addresses || a->n_peer_addresses != b->n_peer_addresses ||
	    a->n_routes != b->n_routes)
		return false;
	for (i = 0; i < a->n_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (!prefix_equal(&a->addresses[i], &b->addresses[i]))
			return false;
	for (i = 0; i < a->n_peer_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (!ip_addr_equal(&a->peer_addresses[i], &b->peer_addresses[i]))
			return false;
	for (i = 0; i < a->n_routes && i < CONF_MAX_ROUTES; i++)
		if (!prefix_equal(&a->routes[i], &b->routes[i]))
			return false;
	if (a->mtu != b->mtu || a->ttl != b->ttl || a->tos != b->tos || a->datapath != b->datapath ||
	    a->has_ikey != b->has_ikey || a->has_okey != b->has_okey ||
	    (a->has_ikey && a->ikey != b->ikey) || (a->has_okey && a->okey != b->okey) ||
	    a->checksum != b->checksum || a->sequence != b->sequence || a->clamp_mss != b->clamp_mss ||
	    a->has_mac != b->has_mac || (a->has_mac && memcmp(a->mac, b->mac, sizeof(a->mac)) != 0) ||
	    a->keepalive_interval != b->keepalive_interval || a->keepalive_retries != b->keepalive_retries)
		return false;
	if (strcmp(a->private_key_file, b->private_key_file) ||
	    strcmp(a->preshared_key_file, b->preshared_key_file) ||
	    sodium_memcmp(a->peer_public_key, b->peer_public_key, CONF_KEY_LEN) != 0 ||
	    sodium_memcmp(a->key_digest, b->key_digest, CONF_KEY_LEN) != 0 ||
	    a->port != b->port || a->remote_port != b->remote_port ||
	    a->persistent_keepalive != b->persistent_keepalive ||
	    a->rekey_after_time != b->rekey_after_time || a->reject_after_time != b->reject_after_time ||
	    a->keepalive_timeout != b->keepalive_timeout ||
	    !ip_addr_equal(&a->gre_local, &b->gre_local) ||
	    !ip_addr_equal(&a->gre_remote, &b->gre_remote))
		return false;
	return true;
}

/* ---- typed access to settings ---- */

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "nothing";
	}
}

/* Where a problem is reported: "daemon: ", "tunnel \"x\": " or "". */
struct scope {
	struct loader *L;
	char label[QUOTE_MAX * 4 + 32];
};

static void sproblem(const struct scope *sc, const char *setting, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void sproblem(const struct scope *sc, const char *setting, int line, const char *fmt, ...)
{
	char body[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	problem(sc->L, line, "%s%s: %s", sc->label, setting, body);
}

static int sline(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

static int get_string(const struct scope *sc, const config_setting_t *s, const char *what,
		      const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		sproblem(sc, what, sline(s), "expected a string, got %s",
			 type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_string(s);
	return *out ? 0 : -1;
}

/* Copy a string setting into a fixed buffer; empty values are refused. */
static int get_string_buf(const struct scope *sc, const config_setting_t *s, const char *what,
			  char *buf, size_t size)
{
	const char *v;

	if (get_string(sc, s, what, &v) < 0)
		return -1;
	if (!*v) {
		sproblem(sc, what, sline(s), "must not be empty");
		return -1;
	}
	if (strlen(v) >= size) {
		struct qbuf q;

		sproblem(sc, what, sline(s), "%s is longer than %zu characters", quote(&q, v), size - 1);
		return -1;
	}
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

static int get_bool(const struct scope *sc, const config_setting_t *s, const char *what, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		sproblem(sc, what, sline(s), "expected a boolean (true or false), got %s",
			 type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* The integer's value and its text as written (hex stays hex). */
static int int_value(struct loader *L, const config_setting_t *s, long long *v, char *text, size_t n)
{
	int type = config_setting_type(s);
	bool hex = config_setting_get_format(s) == CONFIG_FORMAT_HEX;
	long long raw;
	size_t i;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return -1;
	raw = config_setting_get_int64(s);
	if (type == CONFIG_TYPE_INT && hex) {
		/* libconfig keeps 0x80000000..0xffffffff as negative ints */
		*v = (long long)(uint32_t)raw;
	} else if (hex && raw < 0) {
		*v = LLONG_MAX;         /* above 2^63: out of every range */
	} else {
		*v = raw;
	}
	if (hex)
		snprintf(text, n, "0x%llx", type == CONFIG_TYPE_INT ? (unsigned long long)(uint32_t)raw
								    : (unsigned long long)raw);
	else
		snprintf(text, n, "%lld", raw);
	if (!hex && (raw == LLONG_MAX || raw == LLONG_MIN)) {
		for (i = 0; i < L->bigs.n; i++) {
			if (!L->bigs.big[i].used && L->bigs.big[i].line == sline(s)) {
				L->bigs.big[i].used = true;
				snprintf(text, n, "%s", L->bigs.big[i].text);
				break;
			}
		}
	}
	return 0;
}

static int get_int(const struct scope *sc, const config_setting_t *s, const char *what,
		   long long min, long long max, long long *out)
{
	char text[64];
	long long v;

	if (int_value(sc->L, s, &v, text, sizeof(text)) < 0) {
		sproblem(sc, what, sline(s), "expected an integer, got %s",
			 type_name(config_setting_type(s)));
		return -1;
	}
	if (v < min || v > max) {
		sproblem(sc, what, sline(s), "%s is out of range %lld..%lld", text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_uint32(const struct scope *sc, const config_setting_t *s, const char *what,
		      long long min, long long max, uint32_t *out)
{
	long long v;

	if (get_int(sc, s, what, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A setting that is a string or a list/array of strings: calls fn per item. */
typedef int (*item_fn)(const struct scope *sc, const char *what, int line, const char *v, void *arg);

static int for_each_string(const struct scope *sc, const config_setting_t *s, const char *what,
			   item_fn fn, void *arg)
{
	int type = config_setting_type(s), i, n, ret = 0;

	if (type == CONFIG_TYPE_STRING)
		return fn(sc, what, sline(s), config_setting_get_string(s), arg);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
		sproblem(sc, what, sline(s), "expected a string or a list of strings, got %s",
			 type_name(type));
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (!e)
			continue;
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			sproblem(sc, what, sline(e), "item %d: expected a string, got %s", i + 1,
				 type_name(config_setting_type(e)));
			ret = -1;
			continue;
		}
		if (fn(sc, what, sline(e), config_setting_get_string(e), arg) < 0)
			ret = -1;
	}
	return ret;
}

/* ---- tunnels ---- */

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

static int parse_ifname(struct tparse *tp, const config_setting_t *s, const char *what,
			char *dst)
{
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (!ifname_valid(v)) {
		sproblem(&tp->sc, what, sline(s),
			 "%s is not a valid interface name (1..%d characters, no '/', ':' or whitespace)",
			 quote(&q, v), IFNAMSIZ - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int t_name(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_ifname(tp, s, what, tp->t->name);
}

static int t_device(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_ifname(tp, s, what, tp->t->device);
}

static int t_description(struct tparse *tp, const config_setting_t *s, const char *what)
{
	const char *v;
	struct qbuf q;
	size_t i;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strlen(v) >= sizeof(tp->t->description)) {
		sproblem(&tp->sc, what, sline(s), "%s is longer than %zu characters", quote(&q, v),
			 sizeof(tp->t->description) - 1);
		return -1;
	}
	for (i = 0; v[i]; i++) {
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f) {
			sproblem(&tp->sc, what, sline(s), "%s contains a control character", quote(&q, v));
			return -1;
		}
	}
	memcpy(tp->t->description, v, strlen(v) + 1);
	return 0;
}

static int t_mode(struct tparse *tp, const config_setting_t *s, const char *what)
{
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "plain") == 0) {
		tp->t->mode = TUNNEL_MODE_PLAIN;
	} else if (strcmp(v, "secure") == 0) {
		tp->t->mode = TUNNEL_MODE_SECURE;
	} else {
		sproblem(&tp->sc, what, sline(s), "%s is not one of \"plain\", \"secure\"", quote(&q, v));
		return -1;
	}
	return 0;
}

static int t_type(struct tparse *tp, const config_setting_t *s, const char *what)
{
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "gre") == 0) {
		tp->t->type = TUNNEL_TYPE_GRE;
	} else if (strcmp(v, "gretap") == 0) {
		tp->t->type = TUNNEL_TYPE_GRETAP;
	} else {
		sproblem(&tp->sc, what, sline(s), "%s is not one of \"gre\", \"gretap\"", quote(&q, v));
		return -1;
	}
	return 0;
}

static int parse_endpoint(struct tparse *tp, const config_setting_t *s, const char *what,
			  struct ip_addr *dst)
{
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (ip_addr_parse(v, dst) < 0) {
		sproblem(&tp->sc, what, sline(s), "%s is not an IPv4 or IPv6 address", quote(&q, v));
		return -1;
	}
	if (!addr_is_unicast(dst)) {
		sproblem(&tp->sc, what, sline(s), "%s is not a unicast address", quote(&q, v));
		memset(dst, 0, sizeof(*dst));
		return -1;
	}
	return 0;
}

static int t_local(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_endpoint(tp, s, what, &tp->t->local);
}

static int t_remote(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_endpoint(tp, s, what, &tp->t->remote);
}

static int t_gre_local(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_endpoint(tp, s, what, &tp->t->gre_local);
}

static int t_gre_remote(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return parse_endpoint(tp, s, what, &tp->t->gre_remote);
}

static int address_item(const struct scope *sc, const char *what, int line, const char *v, void *arg)
{
	struct tunnel_config *t = arg;
	struct ip_prefix p;
	struct qbuf q;
	size_t i;

	if (ip_prefix_parse(v, &p) < 0) {
		sproblem(sc, what, line, "%s is not an address with prefix length (like \"10.0.0.1/30\")",
			 quote(&q, v));
		return -1;
	}
	for (i = 0; i < t->n_addresses; i++) {
		if (ip_addr_equal(&t->addresses[i].addr, &p.addr)) {
			sproblem(sc, what, line, "%s is listed twice", quote(&q, v));
			return -1;
		}
	}
	if (t->n_addresses >= CONF_MAX_ADDRESSES) {
		sproblem(sc, what, line, "%s: more than %d addresses", quote(&q, v), CONF_MAX_ADDRESSES);
		return -1;
	}
	t->addresses[t->n_addresses++] = p;
	return 0;
}

static int t_address(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return for_each_string(&tp->sc, s, what, address_item, tp->t);
}

static int peer_address_item(const struct scope *sc, const char *what, int line, const char *v,
			     void *arg)
{
	struct tunnel_config *t = arg;
	struct ip_addr a;
	struct qbuf q;
	size_t i;

	if (ip_addr_parse(v, &a) < 0) {
		sproblem(sc, what, line, "%s is not an IPv4 or IPv6 address", quote(&q, v));
		return -1;
	}
	for (i = 0; i < t->n_peer_addresses; i++) {
		if (t->peer_addresses[i].family == a.family) {
			sproblem(sc, what, line, "%s: only one %s peer address is allowed", quote(&q, v),
				 family_name(a.family));
			return -1;
		}
	}
	if (t->n_peer_addresses >= CONF_MAX_ADDRESSES)
		return -1;      /* unreachable: at most one per family */
	t->peer_addresses[t->n_peer_addresses++] = a;
	return 0;
}

static int t_peer_address(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return for_each_string(&tp->sc, s, what, peer_address_item, tp->t);
}

static int route_item(const struct scope *sc, const char *what, int line, const char *v, void *arg)
{
	struct tunnel_config *t = arg;
	struct ip_prefix p, masked;
	char abuf[INET6_ADDRSTRLEN];
	struct qbuf q;
	size_t i;

	if (ip_prefix_parse(v, &p) < 0) {
		sproblem(sc, what, line, "%s is not a prefix (like \"192.168.2.0/24\")", quote(&q, v));
		return -1;
	}
	if (!prefix_host_bits_zero(&p, &masked)) {
		sproblem(sc, what, line, "%s has host bits set (did you mean \"%s/%u\"?)", quote(&q, v),
			 ip_addr_str(&masked.addr, abuf, sizeof(abuf)), masked.len);
		return -1;
	}
	for (i = 0; i < t->n_routes; i++) {
		if (prefix_equal(&t->routes[i], &p)) {
			sproblem(sc, what, line, "%s is listed twice", quote(&q, v));
			return -1;
		}
	}
	if (t->n_routes >= CONF_MAX_ROUTES) {
		sproblem(sc, what, line, "%s: more than %d routes", quote(&q, v), CONF_MAX_ROUTES);
		return -1;
	}
	t->routes[t->n_routes++] = p;
	return 0;
}

static int t_routes(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return for_each_string(&tp->sc, s, what, route_item, tp->t);
}

static int t_mtu(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, MTU_MIN, MTU_MAX, &tp->t->mtu);
}

static int t_ttl(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		struct qbuf q;

		if (str && strcmp(str, "inherit") == 0) {
			tp->t->ttl = 0;
			return 0;
		}
		sproblem(&tp->sc, what, sline(s), "%s is neither an integer 1..255 nor \"inherit\"",
			 quote(&q, str ? str : ""));
		return -1;
	}
	if (get_int(&tp->sc, s, what, 1, 255, &v) < 0)
		return -1;
	tp->t->ttl = (int)v;
	return 0;
}

static int t_tos(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		struct qbuf q;

		if (str && strcmp(str, "inherit") == 0) {
			tp->t->tos = -1;
			return 0;
		}
		sproblem(&tp->sc, what, sline(s), "%s is neither an integer 0..252 nor \"inherit\"",
			 quote(&q, str ? str : ""));
		return -1;
	}
	if (get_int(&tp->sc, s, what, 0, 252, &v) < 0)
		return -1;
	if (v & 3) {
		/* The two low bits are ECN, which the tunnel takes from the inner packet. */
		sproblem(&tp->sc, what, sline(s), "%lld sets ECN bits (the two low bits): give DSCP * 4, "
			 "for example %lld", v, v & ~3LL);
		return -1;
	}
	tp->t->tos = (int)v;
	return 0;
}

static int t_datapath(struct tparse *tp, const config_setting_t *s, const char *what)
{
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "auto") == 0) {
		tp->t->datapath = DATAPATH_AUTO;
	} else if (strcmp(v, "kernel") == 0) {
		tp->t->datapath = DATAPATH_KERNEL;
	} else if (strcmp(v, "user") == 0) {
		tp->t->datapath = DATAPATH_USER;
	} else {
		sproblem(&tp->sc, what, sline(s), "%s is not one of \"auto\", \"kernel\", \"user\"",
			 quote(&q, v));
		return -1;
	}
	return 0;
}

int conf_parse_mac(const char *s, uint8_t out[6])
{
	char sep = 0;

	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = *s++;

			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned)(c - 'A' + 10);
			else
				return -1;
		}
		out[i] = (uint8_t)v;
		if (i == 5)
			break;
		if (!sep && (*s == ':' || *s == '-'))
			sep = *s;
		if (*s++ != sep)
			return -1;
	}
	return *s ? -1 : 0;
}

static int t_mac(struct tparse *tp, const config_setting_t *s, const char *what)
{
	static const uint8_t zero[6];
	const char *v;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (conf_parse_mac(v, tp->t->mac) != 0) {
		sproblem(&tp->sc, what, sline(s), "%s is not a MAC address (like \"02:00:5e:10:00:01\")",
			 quote(&q, v));
		return -1;
	}
	if (tp->t->mac[0] & 1) {
		sproblem(&tp->sc, what, sline(s), "%s is a multicast address: an interface needs a unicast "
			 "one (the lowest bit of the first byte clear, like \"02:...\")", quote(&q, v));
		return -1;
	}
	if (memcmp(tp->t->mac, zero, sizeof(zero)) == 0) {
		sproblem(&tp->sc, what, sline(s), "%s is not a usable address", quote(&q, v));
		return -1;
	}
	tp->t->has_mac = true;
	return 0;
}

static int t_key(struct tparse *tp, const config_setting_t *s, const char *what)
{
	uint32_t k;

	if (get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &k) < 0)
		return -1;
	tp->t->ikey = tp->t->okey = k;
	tp->t->has_ikey = tp->t->has_okey = true;
	return 0;
}

static int t_ikey(struct tparse *tp, const config_setting_t *s, const char *what)
{
	if (get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &tp->t->ikey) < 0)
		return -1;
	tp->t->has_ikey = true;
	return 0;
}

static int t_okey(struct tparse *tp, const config_setting_t *s, const char *what)
{
	if (get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &tp->t->okey) < 0)
		return -1;
	tp->t->has_okey = true;
	return 0;
}

static int t_checksum(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_bool(&tp->sc, s, what, &tp->t->checksum);
}

static int t_sequence(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_bool(&tp->sc, s, what, &tp->t->sequence);
}

static int t_clamp_mss(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_bool(&tp->sc, s, what, &tp->t->clamp_mss);
}

static int t_keepalive(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 0, KEEPALIVE_MAX, &tp->t->keepalive_interval);
}

static int t_keepalive_retries(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 1, 255, &tp->t->keepalive_retries);
}

static int t_private_key_file(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_string_buf(&tp->sc, s, what, tp->t->private_key_file,
			      sizeof(tp->t->private_key_file));
}

static int t_preshared_key_file(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_string_buf(&tp->sc, s, what, tp->t->preshared_key_file,
			      sizeof(tp->t->preshared_key_file));
}

static int t_peer_public_key(struct tparse *tp, const config_setting_t *s, const char *what)
{
	uint8_t key[CONF_KEY_LEN + 1];
	const char *v, *end = NULL;
	size_t len = 0;
	struct qbuf q;

	if (get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (sodium_base642bin(key, sizeof(key), v, strlen(v), NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    !end || *end != '\0' || len != CONF_KEY_LEN) {
		sproblem(&tp->sc, what, sline(s), "%s is not a base64-encoded %d-byte key", quote(&q, v),
			 CONF_KEY_LEN);
		return -1;
	}
	if (sodium_is_zero(key, CONF_KEY_LEN)) {
		sproblem(&tp->sc, what, sline(s), "%s is the all-zero key", quote(&q, v));
		return -1;
	}
	memcpy(tp->t->peer_public_key, key, CONF_KEY_LEN);
	return 0;
}

static int t_port(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (get_int(&tp->sc, s, what, 1, 65535, &v) < 0)
		return -1;
	tp->t->port = (uint16_t)v;
	return 0;
}

static int t_remote_port(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (get_int(&tp->sc, s, what, 1, 65535, &v) < 0)
		return -1;
	tp->t->remote_port = (uint16_t)v;
	return 0;
}

static int t_persistent_keepalive(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 0, 65535, &tp->t->persistent_keepalive);
}

/* The three timer overrides exist for tests only (short rekey cycles). */
static int t_rekey_after_time(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->rekey_after_time);
}

static int t_reject_after_time(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->reject_after_time);
}

static int t_keepalive_timeout(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->keepalive_timeout);
}

static const struct {
	const char *name;
	enum scope_mode scope;
	tkey_fn fn;
} tunnel_keys[K__COUNT] = {
	[K_NAME]                 = { "name", ANY_MODE, t_name },
	[K_DESCRIPTION]          = { "description", ANY_MODE, t_description },
	[K_MODE]                 = { "mode", ANY_MODE, t_mode },
	[K_TYPE]                 = { "type", ANY_MODE, t_type },
	[K_LOCAL]                = { "local", ANY_MODE, t_local },
	[K_REMOTE]               = { "remote", ANY_MODE, t_remote },
	[K_DEVICE]               = { "device", ANY_MODE, t_device },
	[K_ADDRESS]              = { "address", ANY_MODE, t_address },
	[K_PEER_ADDRESS]         = { "peer_address", ANY_MODE, t_peer_address },
	[K_MTU]                  = { "mtu", ANY_MODE, t_mtu },
	[K_TTL]                  = { "ttl", ANY_MODE, t_ttl },
	[K_KEY]                  = { "key", ANY_MODE, t_key },
	[K_IKEY]                 = { "ikey", ANY_MODE, t_ikey },
	[K_OKEY]                 = { "okey", ANY_MODE, t_okey },
	[K_CHECKSUM]             = { "checksum", ANY_MODE, t_checksum },
	[K_SEQUENCE]             = { "sequence", ANY_MODE, t_sequence },
	[K_ROUTES]               = { "routes", ANY_MODE, t_routes },
	[K_CLAMP_MSS]            = { "clamp_mss", ANY_MODE, t_clamp_mss },
	[K_KEEPALIVE]            = { "keepalive", PLAIN_ONLY, t_keepalive },
	[K_KEEPALIVE_RETRIES]    = { "keepalive_retries", PLAIN_ONLY, t_keepalive_retries },
	[K_PRIVATE_KEY_FILE]     = { "private_key_file", SECURE_ONLY, t_private_key_file },
	[K_PEER_PUBLIC_KEY]      = { "peer_public_key", SECURE_ONLY, t_peer_public_key },
	[K_PRESHARED_KEY_FILE]   = { "preshared_key_file", SECURE_ONLY, t_preshared_key_file },
	[K_PORT]                 = { "port", SECURE_ONLY, t_port },
	[K_REMOTE_PORT]          = { "remote_port", SECURE_ONLY, t_remote_port },
	[K_PERSISTENT_KEEPALIVE] = { "persistent_keepalive", SECURE_ONLY, t_persistent_keepalive },
	[K_REKEY_AFTER_TIME]     = { "rekey_after_time", SECURE_ONLY, t_rekey_after_time },
	[K_REJECT_AFTER_TIME]    = { "reject_after_time", SECURE_ONLY, t_reject_after_time },
	[K_KEEPALIVE_TIMEOUT]    = { "keepalive_timeout", SECURE_ONLY, t_keepalive_timeout },
	[K_GRE_LOCAL]            = { "gre_local", SECURE_ONLY, t_gre_local },
	[K_GRE_REMOTE]           = { "gre_remote", SECURE_ONLY, t_gre_remote },
	[K_TOS]                  = { "tos", PLAIN_ONLY, t_tos },
	[K_DATAPATH]             = { "datapath", ANY_MODE, t_datapath },
	[K_MAC]                  = { "mac", ANY_MODE, t_mac },
};

static int tkey_lookup(const char *name)
{
	int k;

	for (k = 0; k < K__COUNT; k++)
		if (strcmp(tunnel_keys[k].name, name) == 0)
			return k;
	return -1;
}

static bool has_family(const struct tunnel_config *t, int family)
{
	size_t i;

	for (i = 0; i < t->n_addresses; i++)
		if (t->addresses[i].addr.family == family)
			return true;
	return false;
}

/* Where a tunnel-level problem without its own setting is reported. */
static int kline(const struct tparse *tp, enum tkey k)
{
	return tp->line[k] ? tp->line[k] : tp->t->line;
}

/* A timer override must keep rekey < reject even when only one of the two
 * is set (the other then has its WireGuard default). */
static void check_timers(struct tparse *tp)
{
	const struct tunnel_config *t = tp->t;
	bool rekey_set = tp->ok[K_REKEY_AFTER_TIME], reject_set = tp->ok[K_REJECT_AFTER_TIME];
	uint32_t rekey = rekey_set ? t->rekey_after_time : REKEY_AFTER_TIME_S;
	uint32_t reject = reject_set ? t->reject_after_time : REJECT_AFTER_TIME_S;

	if ((!rekey_set && !reject_set) || reject > rekey)
		return;
	if (reject_set && rekey_set)
		sproblem(&tp->sc, "reject_after_time", tp->line[K_REJECT_AFTER_TIME],
			 "%u must be greater than rekey_after_time %u", reject, rekey);
	else if (reject_set)
		sproblem(&tp->sc, "reject_after_time", tp->line[K_REJECT_AFTER_TIME],
			 "%u must be greater than rekey_after_time (default %u)", reject, rekey);
	else
		sproblem(&tp->sc, "rekey_after_time", tp->line[K_REKEY_AFTER_TIME],
			 "%u must be less than reject_after_time (default %u)", rekey, reject);
}

/* gre_local and gre_remote: the two ends' WireGuard addresses, both or
 * neither (then derived from the keys), one family, two addresses. */
static void check_gre_addresses(struct tparse *tp)
{
	const struct tunnel_config *t = tp->t;
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];

	if (!tp->ok[K_GRE_LOCAL] || !tp->ok[K_GRE_REMOTE]) {
		if (tp->ok[K_GRE_LOCAL] && !tp->line[K_GRE_REMOTE])
			sproblem(&tp->sc, "gre_remote", t->line,
				 "missing (gre_local is set: give the peer's WireGuard address too, or neither)");
		if (tp->ok[K_GRE_REMOTE] && !tp->line[K_GRE_LOCAL])
			sproblem(&tp->sc, "gre_local", t->line,
				 "missing (gre_remote is set: give this end's WireGuard address too, or neither)");
		return;
	}
	if (t->gre_local.family != t->gre_remote.family)
		sproblem(&tp->sc, "gre_remote", tp->line[K_GRE_REMOTE], "\"%s\" is %s but gre_local \"%s\" is %s",
			 ip_addr_str(&t->gre_remote, a1, sizeof(a1)), family_name(t->gre_remote.family),
			 ip_addr_str(&t->gre_local, a2, sizeof(a2)), family_name(t->gre_local.family));
	else if (ip_addr_equal(&t->gre_local, &t->gre_remote))
		sproblem(&tp->sc, "gre_remote", tp->line[K_GRE_REMOTE], "\"%s\" is the same as gre_local",
			 ip_addr_str(&t->gre_remote, a1, sizeof(a1)));
}


/* ---- addresses and routes: what the kernel would take silently ---- */

static unsigned host_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* a lies in prefix p (same family). */
static bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	size_t n = addr_len(p->addr.family), i;

	if (a->family != p->addr.family)
		return false;
	for (i = 0; i < n; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((p->addr.u.bytes[i] ^ a->u.bytes[i]) & mask)
			return false;
	}
	return true;
}

/* "10.0.0.0/30": the prefix of a with its host bits cleared. */
static const char *net_str(const struct ip_addr *a, unsigned len, char *buf, size_t n)
{
	struct ip_prefix p = { .addr = *a, .len = (uint8_t)len }, masked;
	char s[INET6_ADDRSTRLEN];

	prefix_host_bits_zero(&p, &masked);
	snprintf(buf, n, "%s/%u", ip_addr_str(&masked.addr, s, sizeof(s)), len);
	return buf;
}

/* The peer_address of family `family` of a tunnel whose peer addresses
 * parsed (gre links only: gretap has none), or NULL. */
static const struct ip_addr *tp_peer(const struct tparse *tp, int family)
{
	size_t i;

	if (!tp->ok[K_PEER_ADDRESS] || tp->t->type != TUNNEL_TYPE_GRE)
		return NULL;
	for (i = 0; i < tp->t->n_peer_addresses; i++)
		if (tp->t->peer_addresses[i].family == family)
			return &tp->t->peer_addresses[i];
	return NULL;
}

/* Rules the kernel would not refuse but that break the link: a tunnel to
 * itself, a peer address that is ours, a peer outside the address's prefix
 * (Linux then routes the peer's prefix, not the one written), peer
 * addresses on Ethernet links (dropped before), and a route that sends the
 * tunnel's own underlay packets into the tunnel. */
static void check_link_addresses(struct tparse *tp)
{
	struct tunnel_config *t = tp->t;
	const struct scope *sc = &tp->sc;
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN], n1[INET6_ADDRSTRLEN + 8],
	     n2[INET6_ADDRSTRLEN + 8];
	size_t i, j;

	if (tp->ok[K_LOCAL] && tp->ok[K_REMOTE] && ip_addr_equal(&t->local, &t->remote))
		sproblem(sc, "remote", tp->line[K_REMOTE],
			 "\"%s\" is the same as local: the peer must be another host",
			 ip_addr_str(&t->remote, a1, sizeof(a1)));

	if (tp->ok[K_PEER_ADDRESS] && t->n_peer_addresses && t->type == TUNNEL_TYPE_GRETAP) {
		sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
			 "point-to-point peer addresses exist on gre links only; a gretap link is "
			 "Ethernet: give address a prefix that holds the peer (like \"10.0.0.1/30\") "
			 "and leave peer_address out");
		tp->ok[K_PEER_ADDRESS] = false;
	}

	if (tp->ok[K_PEER_ADDRESS] && tp->ok[K_ADDRESS]) {
		for (i = 0; i < t->n_peer_addresses; i++) {
			const struct ip_addr *peer = &t->peer_addresses[i];

			for (j = 0; j < t->n_addresses; j++) {
				const struct ip_prefix *a = &t->addresses[j];

				if (a->addr.family != peer->family)
					continue;
				if (ip_addr_equal(&a->addr, peer)) {
					sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
						 "\"%s\" is also this end's address (address \"%s/%u\"): "
						 "the peer needs an address of its own",
						 ip_addr_str(peer, a1, sizeof(a1)),
						 ip_addr_str(&a->addr, a2, sizeof(a2)), a->len);
					break;
				}
				/* A host-length address with a peer anywhere is the
				 * unnumbered form (ip addr add A/32 peer B): fine. */
				if (a->len < host_len(peer->family) && !prefix_contains(a, peer)) {
					sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
						 "\"%s\" is outside address \"%s/%u\": the kernel would "
						 "route %s (the peer's prefix) into the tunnel, not %s; "
						 "put the peer in the prefix, or use a /%u address for a "
						 "peer outside it",
						 ip_addr_str(peer, a1, sizeof(a1)),
						 ip_addr_str(&a->addr, a2, sizeof(a2)), a->len,
						 net_str(peer, a->len, n1, sizeof(n1)),
						 net_str(&a->addr, a->len, n2, sizeof(n2)),
						 host_len(peer->family));
					break;
				}
			}
		}
	}

	if (tp->ok[K_ROUTES] && tp->ok[K_REMOTE]) {
		for (i = 0; i < t->n_routes; i++) {
			if (!prefix_contains(&t->routes[i], &t->remote))
				continue;
			sproblem(sc, "routes", tp->line[K_ROUTES],
				 "\"%s/%u\" covers the tunnel's own remote \"%s\": packets to the peer "
				 "would be routed into the tunnel itself (a routing loop); route the "
				 "networks behind the peer, not its underlay address",
				 ip_addr_str(&t->routes[i].addr, a1, sizeof(a1)), t->routes[i].len,
				 ip_addr_str(&t->remote, a2, sizeof(a2)));
			break;
		}
	}
}

/* Lines of settings that checks after conf_load() report on. */
static void record_lines(struct tparse *tp)
{
	struct tunnel_config *t = tp->t;

	t->lines.name = tp->line[K_NAME];
	t->lines.local = tp->line[K_LOCAL];
	t->lines.device = tp->line[K_DEVICE];
	t->lines.private_key_file = tp->line[K_PRIVATE_KEY_FILE];
	t->lines.preshared_key_file = tp->line[K_PRESHARED_KEY_FILE];
	t->lines.peer_public_key = tp->line[K_PEER_PUBLIC_KEY];
	t->lines.mac = tp->line[K_MAC];
}

/* datapath = "kernel": what the kernel's GRE (ip_gre, ip6_gre) cannot do.
 * "auto" chooses user space for these instead (daemon/datapath.c). */
static void check_kernel_datapath(struct tparse *tp, bool secure)
{
	const struct tunnel_config *t = tp->t;
	int line = tp->line[K_DATAPATH];

	if (secure) {
		sproblem(&tp->sc, "datapath", line,
			 "\"kernel\" is for plain mode only: secure mode runs in user space "
			 "(use \"auto\" or \"user\")");
		return;
	}
	if (tp->ok[K_CLAMP_MSS] && t->clamp_mss)
		sproblem(&tp->sc, "datapath", line,
			 "\"kernel\" cannot clamp the MSS (clamp_mss on line %d): the kernel's GRE has no "
			 "MSS clamping; use datapath = \"user\", or remove clamp_mss and clamp with "
			 "nftables (docs/nftables/clamp-mss.nft)", tp->line[K_CLAMP_MSS]);
	if (tp->ok[K_KEEPALIVE] && t->keepalive_interval > 0 && tp->ok[K_SEQUENCE] && t->sequence)
		sproblem(&tp->sc, "datapath", line,
			 "\"kernel\" cannot send keepalives with sequence numbers (keepalive on line %d, "
			 "sequence on line %d): the kernel numbers the tunnel's packets itself, and "
			 "keepalives numbered beside it would make the peer drop them; use datapath = "
			 "\"user\", or turn sequence off", tp->line[K_KEEPALIVE], tp->line[K_SEQUENCE]);
}

/* Rules between the settings of one tunnel. */
static void check_tunnel(struct tparse *tp)
{
	struct tunnel_config *t = tp->t;
	const struct scope *sc = &tp->sc;
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
	bool mode_ok = tp->ok[K_MODE];
	bool plain = mode_ok && t->mode == TUNNEL_MODE_PLAIN;
	bool secure = mode_ok && t->mode == TUNNEL_MODE_SECURE;
	size_t i;
	int k;

	if (!tp->line[K_NAME])
		sproblem(sc, "name", t->line, "missing");
	if (!tp->line[K_MODE])
		sproblem(sc, "mode", t->line, "missing (one of \"plain\", \"secure\")");

	for (k = 0; k < K__COUNT; k++) {
		if (!tp->line[k])
			continue;
		if ((tunnel_keys[k].scope == SECURE_ONLY && plain) ||
		    (tunnel_keys[k].scope == PLAIN_ONLY && secure)) {
			sproblem(sc, tunnel_keys[k].name, tp->line[k], "only valid in %s mode",
				 tunnel_keys[k].scope == SECURE_ONLY ? "secure" : "plain");
			tp->ok[k] = false;
		}
	}

	if (plain) {
		if (!tp->line[K_LOCAL])
			sproblem(sc, "local", t->line, "missing (required in plain mode)");
		if (!tp->line[K_REMOTE])
			sproblem(sc, "remote", t->line, "missing (required in plain mode)");
	}
	if (secure) {
		if (!tp->line[K_PRIVATE_KEY_FILE])
			sproblem(sc, "private_key_file", t->line, "missing (required in secure mode)");
		if (!tp->line[K_PEER_PUBLIC_KEY])
			sproblem(sc, "peer_public_key", t->line, "missing (required in secure mode)");
	}
	if (tp->ok[K_LOCAL] && tp->ok[K_REMOTE] && t->local.family != t->remote.family)
		sproblem(sc, "remote", tp->line[K_REMOTE], "\"%s\" is %s but local \"%s\" is %s",
			 ip_addr_str(&t->remote, a1, sizeof(a1)), family_name(t->remote.family),
			 ip_addr_str(&t->local, a2, sizeof(a2)), family_name(t->local.family));

	if (tp->line[K_KEY] && (tp->line[K_IKEY] || tp->line[K_OKEY])) {
		sproblem(sc, "key", tp->line[K_KEY], "cannot be combined with %s",
			 tp->line[K_IKEY] ? "ikey" : "okey");
		tp->ok[K_KEY] = false;
	}

	if (tp->ok[K_PEER_ADDRESS]) {
		for (i = 0; i < t->n_peer_addresses; i++) {
			if (!has_family(t, t->peer_addresses[i].family)) {
				sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
					 "\"%s\" is %s but the tunnel has no %s address",
					 ip_addr_str(&t->peer_addresses[i], a1, sizeof(a1)),
					 family_name(t->peer_addresses[i].family),
					 family_name(t->peer_addresses[i].family));
				tp->ok[K_PEER_ADDRESS] = false;
			}
		}
	}

	if (tp->ok[K_MTU] && tp->ok[K_ADDRESS] && has_family(t, AF_INET6) && t->mtu < MTU_MIN_IPV6)
		sproblem(sc, "mtu", tp->line[K_MTU], "%u is below %d, the minimum for IPv6", t->mtu,
			 MTU_MIN_IPV6);

	if (plain && tp->ok[K_KEEPALIVE] && t->keepalive_interval > 0 &&
	    ((tp->ok[K_LOCAL] && t->local.family != AF_INET) ||
	     (tp->ok[K_REMOTE] && t->remote.family != AF_INET)))
		sproblem(sc, "keepalive", tp->line[K_KEEPALIVE],
			 "GRE keepalives need an IPv4 underlay (local and remote)");

	if (tp->ok[K_DATAPATH] && t->datapath == DATAPATH_KERNEL)
		check_kernel_datapath(tp, secure);
	if (tp->ok[K_MAC] && tp->ok[K_TYPE] && t->type != TUNNEL_TYPE_GRETAP)
		sproblem(sc, "mac", tp->line[K_MAC], "only for type \"gretap\" (a gre link has no MAC address)");
	else if (tp->ok[K_MAC] && !tp->line[K_TYPE])
		sproblem(sc, "mac", tp->line[K_MAC], "only for type \"gretap\" (the type is \"gre\" by default)");
	if (secure)
		check_timers(tp);
	if (secure)
		check_gre_addresses(tp);
	check_link_addresses(tp);
}

/* Defaults, filled once a tunnel is known to be valid. */
static void tunnel_defaults(struct tparse *tp)
{
	struct tunnel_config *t = tp->t;

	if (!tp->line[K_TTL])
		t->ttl = DEFAULT_TTL;
	if (!tp->line[K_KEEPALIVE_RETRIES] && t->mode == TUNNEL_MODE_PLAIN)
		t->keepalive_retries = DEFAULT_KEEPALIVE_RETRIES;
	if (t->mode == TUNNEL_MODE_SECURE) {
		if (!tp->line[K_PORT])
			t->port = GRESEC_DEFAULT_PORT;
		if (!tp->line[K_REMOTE_PORT])
			t->remote_port = t->port;
	}
	if (!tp->line[K_MTU])
		t->mtu = conf_default_mtu(t);
}

static void parse_tunnel(struct loader *L, const config_setting_t *g, size_t index,
			 struct tparse *tp, struct tunnel_config *t)
{
	const config_setting_t *name = config_setting_get_member(g, "name");
	int i, n;

	tp->t = t;
	tp->sc.L = L;
	t->line = sline(g);
	if (name && config_setting_type(name) == CONFIG_TYPE_STRING) {
		struct qbuf q;

		snprintf(tp->sc.label, sizeof(tp->sc.label), "tunnel %s: ",
			 quote(&q, config_setting_get_string(name)));
	} else {
		snprintf(tp->sc.label, sizeof(tp->sc.label), "tunnel #%zu: ", index + 1);
	}

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *sname = s ? config_setting_name(s) : NULL;
		struct qbuf q;
		int k;

		if (!sname)
			continue;
		k = tkey_lookup(sname);
		if (k < 0) {
			problem(L, sline(s), "%sunknown setting %s", tp->sc.label, quote(&q, sname));
			continue;
		}
		tp->line[k] = sline(s) > 0 ? sline(s) : t->line;
		tp->ok[k] = tunnel_keys[k].fn(tp, s, tunnel_keys[k].name) == 0;
	}
	check_tunnel(tp);
	record_lines(tp);
}

/* The UDP port before defaults are filled in. */
static unsigned port_of(const struct tparse *tp)
{
	return tp->line[K_PORT] ? tp->t->port : GRESEC_DEFAULT_PORT;
}

/* ---- rules between tunnels ----
 * Each rule finds, for every tunnel, the first earlier tunnel (in file
 * order) it conflicts with, by sorting: O(n log n) for any number of
 * tunnels, where comparing every pair would take seconds at a few
 * thousand.  A tunnel is reported once per rule, against that tunnel. */

static int ip_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	switch (a->family) {
	case AF_INET: return memcmp(&a->u.v4, &b->u.v4, sizeof(a->u.v4));
	case AF_INET6: return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6));
	default: return 0;
	}
}

/* One sortable item: a tunnel (x = 0) or one of its addresses (x). */
struct rule_item {
	const struct tparse *tp;
	size_t i, x;
	const struct ip_addr *peer;   /* addresses: the unnumbered form's peer, else NULL */
	size_t first_same_peer;       /* addresses: the first tunnel with it and that peer */
};

static int cmp_index(const struct rule_item *a, const struct rule_item *b)
{
	if (a->i != b->i)
		return a->i < b->i ? -1 : 1;
	return a->x < b->x ? -1 : a->x > b->x;
}

static int cmp_name(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	int c = strcmp(a->tp->t->name, b->tp->t->name);

	return c ? c : cmp_index(a, b);
}

static int cmp_plain(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	const struct tunnel_config *ta = a->tp->t, *tb = b->tp->t;
	int c;

	if ((c = ip_cmp(&ta->local, &tb->local)) || (c = ip_cmp(&ta->remote, &tb->remote)))
		return c;
	if (ta->has_ikey != tb->has_ikey)
		return ta->has_ikey ? 1 : -1;
	if (ta->has_ikey && ta->ikey != tb->ikey)
		return ta->ikey < tb->ikey ? -1 : 1;
	return cmp_index(a, b);
}

static int cmp_port(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	unsigned pa = port_of(a->tp), pb = port_of(b->tp);

	return pa != pb ? (pa < pb ? -1 : 1) : cmp_index(a, b);
}

static int cmp_port_key(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	unsigned pa = port_of(a->tp), pb = port_of(b->tp);
	int c;

	if (pa != pb)
		return pa < pb ? -1 : 1;
	c = memcmp(a->tp->t->peer_public_key, b->tp->t->peer_public_key, CONF_KEY_LEN);
	return c ? c : cmp_index(a, b);
}

static const struct ip_prefix *item_addr(const struct rule_item *it)
{
	return &it->tp->t->addresses[it->x];
}

static int cmp_addr(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	int c = ip_cmp(&item_addr(a)->addr, &item_addr(b)->addr);

	return c ? c : cmp_index(a, b);
}

/* Equal addresses, then the unnumbered ones by peer (the others first). */
static int cmp_addr_peer(const void *va, const void *vb)
{
	const struct rule_item *a = va, *b = vb;
	int c = ip_cmp(&item_addr(a)->addr, &item_addr(b)->addr);

	if (c)
		return c;
	if (!a->peer != !b->peer)
		return a->peer ? 1 : -1;
	if (a->peer && (c = ip_cmp(a->peer, b->peer)))
		return c;
	return cmp_index(a, b);
}

/* first[i] = the first earlier tunnel of items sorted by cmp whose key
 * equals item i's (by same), else SIZE_MAX. */
static void first_earlier(struct rule_item *items, size_t m, int (*cmp)(const void *, const void *),
			  bool (*same)(const struct rule_item *, const struct rule_item *), size_t *first)
{
	size_t g = 0;

	qsort(items, m, sizeof(*items), cmp);
	for (size_t k = 0; k < m; k++) {
		if (k && !same(&items[g], &items[k]))
			g = k;
		if (items[g].i < items[k].i && first[items[k].i] == SIZE_MAX)
			first[items[k].i] = items[g].i;
	}
}

static bool same_name(const struct rule_item *a, const struct rule_item *b)
{
	return strcmp(a->tp->t->name, b->tp->t->name) == 0;
}

static bool same_plain(const struct rule_item *a, const struct rule_item *b)
{
	struct rule_item x = *a, y = *b;

	x.i = y.i = 0;
	x.x = y.x = 0;
	return cmp_plain(&x, &y) == 0;
}

static bool same_port_key(const struct rule_item *a, const struct rule_item *b)
{
	return port_of(a->tp) == port_of(b->tp) &&
	       memcmp(a->tp->t->peer_public_key, b->tp->t->peer_public_key, CONF_KEY_LEN) == 0;
}

/* Rules between tunnels; only settings that parsed are compared. */
static void check_tunnels(struct tparse *tps, size_t n)
{
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
	struct rule_item *items = calloc(n ? n : 1, sizeof(*items));
	size_t *dup_name = malloc((n ? n : 1) * sizeof(size_t));
	size_t *dup_plain = malloc((n ? n : 1) * sizeof(size_t));
	size_t *other_local = malloc((n ? n : 1) * sizeof(size_t));
	size_t *dup_key = malloc((n ? n : 1) * sizeof(size_t));
	size_t i, m;

	if (!items || !dup_name || !dup_plain || !other_local || !dup_key) {
		if (n)
			problem(tps[0].sc.L, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		dup_name[i] = dup_plain[i] = other_local[i] = dup_key[i] = SIZE_MAX;

	/* Names. */
	for (i = m = 0; i < n; i++)
		if (tps[i].ok[K_NAME])
			items[m++] = (struct rule_item){ .tp = &tps[i], .i = i };
	first_earlier(items, m, cmp_name, same_name, dup_name);

	/* Plain tunnels that received packets could not tell apart. */
	for (i = m = 0; i < n; i++)
		if (tps[i].ok[K_MODE] && tps[i].t->mode == TUNNEL_MODE_PLAIN && tps[i].ok[K_LOCAL] &&
		    tps[i].ok[K_REMOTE])
			items[m++] = (struct rule_item){ .tp = &tps[i], .i = i };
	first_earlier(items, m, cmp_plain, same_plain, dup_plain);

	/* Secure tunnels sharing a port: one local address, distinct peers.
	 * A tunnel's local is compared with the first of its port whose
	 * local is known. */
	for (i = m = 0; i < n; i++)
		if (tps[i].ok[K_MODE] && tps[i].t->mode == TUNNEL_MODE_SECURE &&
		    (tps[i].ok[K_PORT] || !tps[i].line[K_PORT]))
			items[m++] = (struct rule_item){ .tp = &tps[i], .i = i };
	qsort(items, m, sizeof(*items), cmp_port);
	for (size_t k = 0, ref = SIZE_MAX; k < m; k++) {
		const struct tparse *b = items[k].tp;
		bool lb = b->ok[K_LOCAL] || !b->line[K_LOCAL];

		if (k && port_of(items[k - 1].tp) != port_of(b))
			ref = SIZE_MAX;
		if (!lb)
			continue;
		if (ref == SIZE_MAX)
			ref = k;
		else if (!ip_addr_equal(&items[ref].tp->t->local, &b->t->local))
			other_local[items[k].i] = items[ref].i;
	}
	for (i = m = 0; i < n; i++)
		if (tps[i].ok[K_MODE] && tps[i].t->mode == TUNNEL_MODE_SECURE &&
		    (tps[i].ok[K_PORT] || !tps[i].line[K_PORT]) && tps[i].ok[K_PEER_PUBLIC_KEY])
			items[m++] = (struct rule_item){ .tp = &tps[i], .i = i };
	first_earlier(items, m, cmp_port_key, same_port_key, dup_key);

	for (i = 0; i < n; i++) {
		struct tparse *b = &tps[i];
		struct tunnel_config *tb = b->t, *ta;

		if (dup_name[i] != SIZE_MAX)
			sproblem(&b->sc, "name", b->line[K_NAME],
				 "\"%s\" is already used by the tunnel on line %d",
				 tb->name, tps[dup_name[i]].t->line);
		if (dup_plain[i] != SIZE_MAX) {
			ta = tps[dup_plain[i]].t;
			sproblem(&b->sc, "remote", b->line[K_REMOTE],
				 "local \"%s\", remote \"%s\" and %s are the same as tunnel \"%s\" (line %d); "
				 "received packets could not be told apart",
				 ip_addr_str(&tb->local, a1, sizeof(a1)),
				 ip_addr_str(&tb->remote, a2, sizeof(a2)),
				 tb->has_ikey ? "the key" : "no key", ta->name, ta->line);
		}
		if (other_local[i] != SIZE_MAX) {
			const struct tparse *a = &tps[other_local[i]];

			ta = a->t;
			sproblem(&b->sc, "port", kline(b, K_PORT),
				 "%u is shared with tunnel \"%s\" (line %d) whose local is \"%s\", not \"%s\"; "
				 "tunnels sharing a port need the same local address",
				 port_of(b), ta->name, ta->line,
				 ip_addr_str(&ta->local, a1, sizeof(a1)),
				 ip_addr_str(&tb->local, a2, sizeof(a2)));
		}
		if (dup_key[i] != SIZE_MAX) {
			ta = tps[dup_key[i]].t;
			sproblem(&b->sc, "peer_public_key", b->line[K_PEER_PUBLIC_KEY],
				 "same peer as tunnel \"%s\" (line %d) on port %u; "
				 "handshakes could not be told apart", ta->name, ta->line, port_of(b));
		}
	}
out:
	free(items);
	free(dup_name);
	free(dup_plain);
	free(other_local);
	free(dup_key);
}


/* One address on two tunnels makes two links claim it; the kernel takes
 * it and routes by whichever prefix route wins.  The unnumbered form, a
 * host-length address with a different peer_address on each gre link (a
 * hub's one address towards every spoke), is fine and allowed.  Among the
 * tunnels holding an address, one that does not use the unnumbered form
 * conflicts with every other, an unnumbered one with those of the same
 * peer; each tunnel is reported once, for its first such address, against
 * the first earlier tunnel it conflicts with. */
static void check_tunnels_addresses(struct tparse *tps, size_t n)
{
	char a1[INET6_ADDRSTRLEN];
	struct rule_item *items = NULL;
	size_t *bad_a = NULL, *bad_x = NULL;
	size_t i, m = 0, k, g, first_g;

	for (i = 0; i < n; i++)
		if (tps[i].ok[K_ADDRESS])
			m += tps[i].t->n_addresses;
	if (!m)
		return;
	items = calloc(m, sizeof(*items));
	bad_a = malloc(n * sizeof(*bad_a));
	bad_x = malloc(n * sizeof(*bad_x));
	if (!items || !bad_a || !bad_x) {
		problem(tps[0].sc.L, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		bad_a[i] = bad_x[i] = SIZE_MAX;
	for (i = m = 0; i < n; i++) {
		if (!tps[i].ok[K_ADDRESS])
			continue;
		for (size_t x = 0; x < tps[i].t->n_addresses; x++) {
			const struct ip_prefix *pa = &tps[i].t->addresses[x];

			items[m] = (struct rule_item){ .tp = &tps[i], .i = i, .x = x };
			if (pa->len == host_len(pa->addr.family))
				items[m].peer = tp_peer(&tps[i], pa->addr.family);
			m++;
		}
	}
	/* Unnumbered items: the first tunnel with the same address and peer. */
	qsort(items, m, sizeof(*items), cmp_addr_peer);
	for (k = g = 0; k < m; k++) {
		if (k && (ip_cmp(&item_addr(&items[g])->addr, &item_addr(&items[k])->addr) != 0 ||
			  !items[g].peer || !items[k].peer || ip_cmp(items[g].peer, items[k].peer) != 0))
			g = k;
		items[k].first_same_peer = items[g].i;
	}
	/* Per address in tunnel order: the first tunnel holding it at all,
	 * and the first not in the unnumbered form. */
	qsort(items, m, sizeof(*items), cmp_addr);
	for (k = g = 0, first_g = SIZE_MAX; k < m; k++) {
		size_t a = SIZE_MAX, b = items[k].i;

		if (k && ip_cmp(&item_addr(&items[g])->addr, &item_addr(&items[k])->addr) != 0) {
			g = k;
			first_g = SIZE_MAX;
		}
		if (!items[k].peer) {
			if (items[g].i < b)
				a = items[g].i;
		} else {
			if (first_g < b)
				a = first_g;
			if (items[k].first_same_peer < b && items[k].first_same_peer < a)
				a = items[k].first_same_peer;
		}
		if (!items[k].peer && first_g == SIZE_MAX)
			first_g = b;
		if (a != SIZE_MAX && (bad_x[b] == SIZE_MAX || items[k].x < bad_x[b])) {
			bad_a[b] = a;
			bad_x[b] = items[k].x;
		}
	}
	for (i = 0; i < n; i++) {
		struct tparse *b = &tps[i], *a;
		const struct ip_prefix *pb;

		if (bad_a[i] == SIZE_MAX)
			continue;
		a = &tps[bad_a[i]];
		pb = &b->t->addresses[bad_x[i]];
		sproblem(&b->sc, "address", b->line[K_ADDRESS],
			 "\"%s\" is also an address of tunnel \"%s\" (line %d); one "
			 "address on several links needs the unnumbered form: /%u "
			 "and a different peer_address on each",
			 ip_addr_str(&pb->addr, a1, sizeof(a1)), a->t->name,
			 a->t->line, host_len(pb->addr.family));
	}
out:
	free(items);
	free(bad_a);
	free(bad_x);
}

/* ---- top level ---- */

static void parse_daemon(struct loader *L, const config_setting_t *g, struct daemon_config *d)
{
	struct scope sc = { .L = L, .label = "daemon: " };
	int i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(L, sline(g), "daemon: expected a group { ... }, got %s",
			type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = s ? config_setting_name(s) : NULL;
		struct qbuf q;

		if (!name)
			continue;
		/* Relative paths are made absolute against the loader's base
		 * directory at the end (resolve_paths). */
		if (strcmp(name, "control_socket") == 0) {
			d->lines.control_socket = sline(s);
			get_string_buf(&sc, s, name, d->control_socket,
				       sizeof(((struct sockaddr_un *)0)->sun_path));
		} else if (strcmp(name, "pid_file") == 0) {
			d->lines.pid_file = sline(s);
			get_string_buf(&sc, s, name, d->pid_file, sizeof(d->pid_file));
		} else if (strcmp(name, "log_level") == 0) {
			const char *v;

			if (get_string(&sc, s, name, &v) < 0)
				continue;
			if (conf_log_level_parse(v, &d->log_level) < 0)
				sproblem(&sc, name, sline(s),
					 "%s is not one of \"err\", \"warning\", \"notice\", \"info\", \"debug\"",
					 quote(&q, v));
		} else if (strcmp(name, "user") == 0) {
			d->lines.user = sline(s);
			get_string_buf(&sc, s, name, d->user, sizeof(d->user));
		} else if (strcmp(name, "group") == 0) {
			d->lines.group = sline(s);
			get_string_buf(&sc, s, name, d->group, sizeof(d->group));
		} else {
			problem(L, sline(s), "daemon: unknown setting %s", quote(&q, name));
		}
	}
}

static void parse_root(struct loader *L, config_t *cf, struct gresec_config *out)
{
	const config_setting_t *root = config_root_setting(cf);
	const config_setting_t *tunnels = NULL;
	struct tparse *tps = NULL;
	size_t n = 0, i;
	int k, len;

	snprintf(out->daemon.control_socket, sizeof(out->daemon.control_socket), "%s",
		 GRESEC_DEFAULT_CONTROL);
	snprintf(out->daemon.pid_file, sizeof(out->daemon.pid_file), "%s", GRESEC_DEFAULT_PIDFILE);
	out->daemon.log_level = LOG_LEVEL_INFO;

	len = config_setting_length(root);
	for (k = 0; k < len; k++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)k);
		const char *name = s ? config_setting_name(s) : NULL;
		struct qbuf q;

		if (!name)
			continue;
		if (strcmp(name, "daemon") == 0)
			parse_daemon(L, s, &out->daemon);
		else if (strcmp(name, "tunnels") == 0)
			tunnels = s;
		else
			problem(L, sline(s), "unknown setting %s", quote(&q, name));
	}
	if (!tunnels) {
		/* An empty or cut-off file must not pass for "no tunnels": a
		 * reload of it would tear every tunnel down. */
		problem(L, 0, "tunnels: missing (write \"tunnels = ( );\" for a daemon without tunnels)");
		return;
	}
	if (config_setting_type(tunnels) != CONFIG_TYPE_LIST) {
		problem(L, sline(tunnels), "tunnels: expected a list ( { ... }, ... ), got %s",
			type_name(config_setting_type(tunnels)));
		return;
	}
	len = config_setting_length(tunnels);
	if (len > CONF_MAX_TUNNELS) {
		problem(L, sline(tunnels), "tunnels: %d tunnels, at most %d are supported", len,
			CONF_MAX_TUNNELS);
		return;
	}
	if (len == 0)
		return;
	out->tunnels = calloc((size_t)len, sizeof(*out->tunnels));
	tps = calloc((size_t)len, sizeof(*tps));
	if (!out->tunnels || !tps) {
		problem(L, 0, "out of memory");
		free(tps);
		return;
	}
	for (k = 0; k < len; k++) {
		const config_setting_t *g = config_setting_get_elem(tunnels, (unsigned)k);

		if (!g)
			continue;
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			problem(L, sline(g), "tunnels: item %d: expected a group { ... }, got %s", k + 1,
				type_name(config_setting_type(g)));
			continue;
		}
		parse_tunnel(L, g, (size_t)k, &tps[n], &out->tunnels[n]);
		n++;
	}
	out->n_tunnels = n;
	check_tunnels(tps, n);
	check_tunnels_addresses(tps, n);
	if (L->n_errors == 0)
		for (i = 0; i < n; i++)
			tunnel_defaults(&tps[i]);
	free(tps);
}

int conf_path_join(char *out, size_t n, const char *dir, const char *path)
{
	int len;

	if (!dir || !*dir || path[0] == '/')
		len = snprintf(out, n, "%s", path);
	else
		len = snprintf(out, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* A relative path setting made absolute against the base directory. */
static void resolve_one(struct loader *L, const char *label, const char *setting, int line,
			char *buf, size_t size)
{
	char joined[PATH_MAX + 1];
	struct qbuf q1, q2;

	if (!L->base_dir || !buf[0] || buf[0] == '/')
		return;
	if (conf_path_join(joined, sizeof(joined), L->base_dir, buf) != 0 || strlen(joined) >= size) {
		problem(L, line, "%s%s: %s taken relative to %s is longer than %zu characters", label,
			setting, quote(&q1, buf), quote(&q2, L->base_dir), size - 1);
		return;
	}
	memcpy(buf, joined, strlen(joined) + 1);
}

static void resolve_paths(struct loader *L, struct gresec_config *out)
{
	char label[QUOTE_MAX * 4 + 32];
	struct qbuf q;
	size_t i;

	resolve_one(L, "daemon: ", "control_socket", out->daemon.lines.control_socket,
		    out->daemon.control_socket, sizeof(((struct sockaddr_un *)0)->sun_path));
	resolve_one(L, "daemon: ", "pid_file", out->daemon.lines.pid_file, out->daemon.pid_file,
		    sizeof(out->daemon.pid_file));
	for (i = 0; i < out->n_tunnels; i++) {
		struct tunnel_config *t = &out->tunnels[i];

		snprintf(label, sizeof(label), "tunnel %s: ", quote(&q, t->name));
		resolve_one(L, label, "private_key_file", t->lines.private_key_file,
			    t->private_key_file, sizeof(t->private_key_file));
		resolve_one(L, label, "preshared_key_file", t->lines.preshared_key_file,
			    t->preshared_key_file, sizeof(t->preshared_key_file));
	}
}

int conf_load_string(const char *name, const char *text, struct gresec_config *out,
		     conf_report_fn report, void *report_ctx)
{
	return conf_load_string_at(name, text, NULL, out, report, report_ctx);
}

int conf_load_string_at(const char *name, const char *text, const char *base_dir,
			struct gresec_config *out, conf_report_fn report, void *report_ctx)
{
	struct loader L = {
		.name = name ? name : "(string)",
		.base_dir = base_dir,
		.report = report ? report : default_report,
		.report_ctx = report_ctx,
		.hold = true,
	};
	config_t cf;
	char *wide;
	int line;

	memset(out, 0, sizeof(*out));
	if (!text) {
		problem(&L, 0, "no text");
		report_held(&L);
		return -1;
	}
	if ((line = prepass_include_line(text)) > 0) {
		problem(&L, line, "@include is not supported: keep the configuration in one file");
		report_held(&L);
		return -1;
	}
	wide = prepass_widen(text, &L.bigs);
	if (!wide) {
		problem(&L, 0, "out of memory");
		report_held(&L);
		return -1;
	}

	config_init(&cf);
	if (config_read_string(&cf, wide) != CONFIG_TRUE) {
		const char *etext = config_error_text(&cf) ? config_error_text(&cf) : "unknown error";

		if (strcmp(etext, "syntax error") == 0)
			problem(&L, config_error_line(&cf), "syntax error");
		else
			problem(&L, config_error_line(&cf), "syntax error: %s", etext);
	} else {
		parse_root(&L, &cf, out);
		if (L.n_errors == 0)
			resolve_paths(&L, out);
	}
	config_destroy(&cf);
	free(wide);
	report_held(&L);

	if (L.n_errors) {
		conf_free(out);
		return -1;
	}
	snprintf(out->path, sizeof(out->path), "%s", L.name);
	return 0;
}

int conf_load(const char *path, struct gresec_config *out, conf_report_fn report, void *report_ctx)
{
	return conf_load_at(path, NULL, out, report, report_ctx);
}

int conf_load_at(const char *path, const char *base_dir, struct gresec_config *out,
		 conf_report_fn report, void *report_ctx)
{
	struct loader L = {
		.name = path,
		.report = report ? report : default_report,
		.report_ctx = report_ctx,
	};
	struct stat st;
	char *text = NULL;
	size_t got;
	FILE *f;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "re");
	if (!f) {
		problem(&L, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0) {
		problem(&L, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(&L, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		problem(&L, 0, "larger than %d bytes", CONF_MAX_FILE_SIZE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		problem(&L, 0, "out of memory");
		goto out;
	}
	got = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		problem(&L, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	text[got] = '\0';
	if (memchr(text, '\0', got)) {
		problem(&L, 0, "contains a NUL byte");
		goto out;
	}
	ret = conf_load_string_at(path, text, base_dir, out, report, report_ctx);
out:
	free(text);
	fclose(f);
	return ret;
}

void conf_free(struct gresec_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->tunnels);
	memset(cfg, 0, sizeof(*cfg));
}
