/* conf/conf.c: libconfig file -> validated struct gresec_config.
 *
 * Loading, in order: the text pass (conf/prepass.c: @include refused,
 * integer literals libconfig 1.5 would truncate widened), libconfig's
 * parse (syntax errors stop here), one handler per setting that checks
 * type, range and value and quotes what is wrong (conf/settings.c, with
 * the typed getters of conf/getters.c), then the rules between the
 * settings of a tunnel and between tunnels (conf/validate.c).  Every
 * problem is reported, one message each, as "FILE:LINE: tunnel \"NAME\":
 * SETTING: ..." in the order of the file's lines (conf/report.c).  Here:
 * the daemon's settings, the top level, paths, and the public helpers of
 * conf.h.
 */
#include "conf/conf.h"
#include "conf/loader.h"
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

/* ---- small helpers, shared with the CLI and the other files of conf/ ---- */

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

const char *conf_family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "unspecified";
}

size_t conf_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool conf_prefix_host_bits_zero(const struct ip_prefix *p, struct ip_prefix *masked)
{
	size_t n = conf_addr_len(p->addr.family), i;
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

bool conf_addr_is_unicast(const struct ip_addr *a)
{
	if (a->family == AF_INET) {
		uint8_t first = a->u.bytes[0];

		return a->u.v4.s_addr != htonl(INADDR_ANY) && a->u.v4.s_addr != htonl(INADDR_BROADCAST) &&
		       (first & 0xf0) != 0xe0;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->u.v6) && !IN6_IS_ADDR_MULTICAST(&a->u.v6);
}

/* Linux dev_valid_name() plus no control characters, so names print safely. */
bool conf_ifname_valid(const char *s)
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

bool conf_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
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
		if (!conf_prefix_equal(&a->addresses[i], &b->addresses[i]))
			return false;
	for (i = 0; i < a->n_peer_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (!ip_addr_equal(&a->peer_addresses[i], &b->peer_addresses[i]))
			return false;
	for (i = 0; i < a->n_routes && i < CONF_MAX_ROUTES; i++)
		if (!conf_prefix_equal(&a->routes[i], &b->routes[i]))
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

/* ---- top level ---- */

static void parse_daemon(struct loader *L, const config_setting_t *g, struct daemon_config *d)
{
	struct scope sc = { .L = L, .label = "daemon: " };
	int i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_problem(L, conf_sline(g), "daemon: expected a group { ... }, got %s",
			     conf_value_type_name(config_setting_type(g)));
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
			d->lines.control_socket = conf_sline(s);
			conf_get_string_buf(&sc, s, name, d->control_socket,
					    sizeof(((struct sockaddr_un *)0)->sun_path));
		} else if (strcmp(name, "pid_file") == 0) {
			d->lines.pid_file = conf_sline(s);
			conf_get_string_buf(&sc, s, name, d->pid_file, sizeof(d->pid_file));
		} else if (strcmp(name, "log_level") == 0) {
			const char *v;

			if (conf_get_string(&sc, s, name, &v) < 0)
				continue;
			if (conf_log_level_parse(v, &d->log_level) < 0)
				conf_sproblem(&sc, name, conf_sline(s),
					      "%s is not one of \"err\", \"warning\", \"notice\", \"info\", \"debug\"",
					      conf_quote(&q, v));
		} else if (strcmp(name, "user") == 0) {
			d->lines.user = conf_sline(s);
			conf_get_string_buf(&sc, s, name, d->user, sizeof(d->user));
		} else if (strcmp(name, "group") == 0) {
			d->lines.group = conf_sline(s);
			conf_get_string_buf(&sc, s, name, d->group, sizeof(d->group));
		} else {
			conf_problem(L, conf_sline(s), "daemon: unknown setting %s", conf_quote(&q, name));
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
			conf_problem(L, conf_sline(s), "unknown setting %s", conf_quote(&q, name));
	}
	if (!tunnels) {
		/* An empty or cut-off file must not pass for "no tunnels": a
		 * reload of it would tear every tunnel down. */
		conf_problem(L, 0, "tunnels: missing (write \"tunnels = ( );\" for a daemon without tunnels)");
		return;
	}
	if (config_setting_type(tunnels) != CONFIG_TYPE_LIST) {
		conf_problem(L, conf_sline(tunnels), "tunnels: expected a list ( { ... }, ... ), got %s",
			     conf_value_type_name(config_setting_type(tunnels)));
		return;
	}
	len = config_setting_length(tunnels);
	if (len > CONF_MAX_TUNNELS) {
		conf_problem(L, conf_sline(tunnels), "tunnels: %d tunnels, at most %d are supported", len,
			     CONF_MAX_TUNNELS);
		return;
	}
	if (len == 0)
		return;
	out->tunnels = calloc((size_t)len, sizeof(*out->tunnels));
	tps = calloc((size_t)len, sizeof(*tps));
	if (!out->tunnels || !tps) {
		conf_problem(L, 0, "out of memory");
		free(tps);
		return;
	}
	for (k = 0; k < len; k++) {
		const config_setting_t *g = config_setting_get_elem(tunnels, (unsigned)k);

		if (!g)
			continue;
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_problem(L, conf_sline(g), "tunnels: item %d: expected a group { ... }, got %s", k + 1,
				     conf_value_type_name(config_setting_type(g)));
			continue;
		}
		conf_parse_tunnel(L, g, (size_t)k, &tps[n], &out->tunnels[n]);
		n++;
	}
	out->n_tunnels = n;
	conf_check_tunnels(tps, n);
	conf_check_tunnels_addresses(tps, n);
	if (L->n_errors == 0)
		for (i = 0; i < n; i++)
			conf_tunnel_defaults(&tps[i]);
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
		conf_problem(L, line, "%s%s: %s taken relative to %s is longer than %zu characters", label,
			     setting, conf_quote(&q1, buf), conf_quote(&q2, L->base_dir), size - 1);
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

		snprintf(label, sizeof(label), "tunnel %s: ", conf_quote(&q, t->name));
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
		.report = report ? report : conf_default_report,
		.report_ctx = report_ctx,
		.hold = true,
	};
	config_t cf;
	char *wide;
	int line;

	memset(out, 0, sizeof(*out));
	if (!text) {
		conf_problem(&L, 0, "no text");
		conf_report_held(&L);
		return -1;
	}
	if ((line = prepass_include_line(text)) > 0) {
		conf_problem(&L, line, "@include is not supported: keep the configuration in one file");
		conf_report_held(&L);
		return -1;
	}
	wide = prepass_widen(text, &L.bigs);
	if (!wide) {
		conf_problem(&L, 0, "out of memory");
		conf_report_held(&L);
		return -1;
	}

	config_init(&cf);
	if (config_read_string(&cf, wide) != CONFIG_TRUE) {
		const char *etext = config_error_text(&cf) ? config_error_text(&cf) : "unknown error";

		if (strcmp(etext, "syntax error") == 0)
			conf_problem(&L, config_error_line(&cf), "syntax error");
		else
			conf_problem(&L, config_error_line(&cf), "syntax error: %s", etext);
	} else {
		parse_root(&L, &cf, out);
		if (L.n_errors == 0)
			resolve_paths(&L, out);
	}
	config_destroy(&cf);
	free(wide);
	conf_report_held(&L);

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
		.report = report ? report : conf_default_report,
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
		conf_problem(&L, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0) {
		conf_problem(&L, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_problem(&L, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		conf_problem(&L, 0, "larger than %d bytes", CONF_MAX_FILE_SIZE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		conf_problem(&L, 0, "out of memory");
		goto out;
	}
	got = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		conf_problem(&L, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	text[got] = '\0';
	if (memchr(text, '\0', got)) {
		conf_problem(&L, 0, "contains a NUL byte");
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
