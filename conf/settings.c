/* conf/settings.c: the settings of a tunnel: the table of names, the mode
 * each belongs to and its handler, one handler per setting (type, range,
 * value), and the defaults of what a tunnel does not set. */
#include "conf/loader.h"
#include "tunnel/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_ifname(struct tparse *tp, const config_setting_t *s, const char *what,
			char *dst)
{
	const char *v;
	struct qbuf q;

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (!conf_ifname_valid(v)) {
		conf_sproblem(&tp->sc, what, conf_sline(s),
			      "%s is not a valid interface name (1..%d characters, no '/', ':' or whitespace)",
			      conf_quote(&q, v), IFNAMSIZ - 1);
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

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strlen(v) >= sizeof(tp->t->description)) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is longer than %zu characters", conf_quote(&q, v),
			      sizeof(tp->t->description) - 1);
		return -1;
	}
	for (i = 0; v[i]; i++) {
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f) {
			conf_sproblem(&tp->sc, what, conf_sline(s), "%s contains a control character", conf_quote(&q, v));
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

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "plain") == 0) {
		tp->t->mode = TUNNEL_MODE_PLAIN;
	} else if (strcmp(v, "secure") == 0) {
		tp->t->mode = TUNNEL_MODE_SECURE;
	} else {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not one of \"plain\", \"secure\"", conf_quote(&q, v));
		return -1;
	}
	return 0;
}

static int t_type(struct tparse *tp, const config_setting_t *s, const char *what)
{
	const char *v;
	struct qbuf q;

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "gre") == 0) {
		tp->t->type = TUNNEL_TYPE_GRE;
	} else if (strcmp(v, "gretap") == 0) {
		tp->t->type = TUNNEL_TYPE_GRETAP;
	} else {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not one of \"gre\", \"gretap\"", conf_quote(&q, v));
		return -1;
	}
	return 0;
}

static int parse_endpoint(struct tparse *tp, const config_setting_t *s, const char *what,
			  struct ip_addr *dst)
{
	const char *v;
	struct qbuf q;

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (ip_addr_parse(v, dst) < 0) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not an IPv4 or IPv6 address", conf_quote(&q, v));
		return -1;
	}
	if (!conf_addr_is_unicast(dst)) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not a unicast address", conf_quote(&q, v));
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
		conf_sproblem(sc, what, line, "%s is not an address with prefix length (like \"10.0.0.1/30\")",
			      conf_quote(&q, v));
		return -1;
	}
	for (i = 0; i < t->n_addresses; i++) {
		if (ip_addr_equal(&t->addresses[i].addr, &p.addr)) {
			conf_sproblem(sc, what, line, "%s is listed twice", conf_quote(&q, v));
			return -1;
		}
	}
	if (t->n_addresses >= CONF_MAX_ADDRESSES) {
		conf_sproblem(sc, what, line, "%s: more than %d addresses", conf_quote(&q, v), CONF_MAX_ADDRESSES);
		return -1;
	}
	t->addresses[t->n_addresses++] = p;
	return 0;
}

static int t_address(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_for_each_string(&tp->sc, s, what, address_item, tp->t);
}

static int peer_address_item(const struct scope *sc, const char *what, int line, const char *v,
			     void *arg)
{
	struct tunnel_config *t = arg;
	struct ip_addr a;
	struct qbuf q;
	size_t i;

	if (ip_addr_parse(v, &a) < 0) {
		conf_sproblem(sc, what, line, "%s is not an IPv4 or IPv6 address", conf_quote(&q, v));
		return -1;
	}
	for (i = 0; i < t->n_peer_addresses; i++) {
		if (t->peer_addresses[i].family == a.family) {
			conf_sproblem(sc, what, line, "%s: only one %s peer address is allowed", conf_quote(&q, v),
				      conf_family_name(a.family));
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
	return conf_for_each_string(&tp->sc, s, what, peer_address_item, tp->t);
}

static int route_item(const struct scope *sc, const char *what, int line, const char *v, void *arg)
{
	struct tunnel_config *t = arg;
	struct ip_prefix p, masked;
	char abuf[INET6_ADDRSTRLEN];
	struct qbuf q;
	size_t i;

	if (ip_prefix_parse(v, &p) < 0) {
		conf_sproblem(sc, what, line, "%s is not a prefix (like \"192.168.2.0/24\")", conf_quote(&q, v));
		return -1;
	}
	if (!conf_prefix_host_bits_zero(&p, &masked)) {
		conf_sproblem(sc, what, line, "%s has host bits set (did you mean \"%s/%u\"?)", conf_quote(&q, v),
			      ip_addr_str(&masked.addr, abuf, sizeof(abuf)), masked.len);
		return -1;
	}
	for (i = 0; i < t->n_routes; i++) {
		if (conf_prefix_equal(&t->routes[i], &p)) {
			conf_sproblem(sc, what, line, "%s is listed twice", conf_quote(&q, v));
			return -1;
		}
	}
	if (t->n_routes >= CONF_MAX_ROUTES) {
		conf_sproblem(sc, what, line, "%s: more than %d routes", conf_quote(&q, v), CONF_MAX_ROUTES);
		return -1;
	}
	t->routes[t->n_routes++] = p;
	return 0;
}

static int t_routes(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_for_each_string(&tp->sc, s, what, route_item, tp->t);
}

static int t_mtu(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, MTU_MIN, MTU_MAX, &tp->t->mtu);
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
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is neither an integer 1..255 nor \"inherit\"",
			      conf_quote(&q, str ? str : ""));
		return -1;
	}
	if (conf_get_int(&tp->sc, s, what, 1, 255, &v) < 0)
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
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is neither an integer 0..252 nor \"inherit\"",
			      conf_quote(&q, str ? str : ""));
		return -1;
	}
	if (conf_get_int(&tp->sc, s, what, 0, 252, &v) < 0)
		return -1;
	if (v & 3) {
		/* The two low bits are ECN, which the tunnel takes from the inner packet. */
		conf_sproblem(&tp->sc, what, conf_sline(s), "%lld sets ECN bits (the two low bits): give DSCP * 4, "
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

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (strcmp(v, "auto") == 0) {
		tp->t->datapath = DATAPATH_AUTO;
	} else if (strcmp(v, "kernel") == 0) {
		tp->t->datapath = DATAPATH_KERNEL;
	} else if (strcmp(v, "user") == 0) {
		tp->t->datapath = DATAPATH_USER;
	} else {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not one of \"auto\", \"kernel\", \"user\"",
			      conf_quote(&q, v));
		return -1;
	}
	return 0;
}

static int t_mac(struct tparse *tp, const config_setting_t *s, const char *what)
{
	static const uint8_t zero[6];
	const char *v;
	struct qbuf q;

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (conf_parse_mac(v, tp->t->mac) != 0) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not a MAC address (like \"02:00:5e:10:00:01\")",
			      conf_quote(&q, v));
		return -1;
	}
	if (tp->t->mac[0] & 1) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is a multicast address: an interface needs a unicast "
			      "one (the lowest bit of the first byte clear, like \"02:...\")", conf_quote(&q, v));
		return -1;
	}
	if (memcmp(tp->t->mac, zero, sizeof(zero)) == 0) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not a usable address", conf_quote(&q, v));
		return -1;
	}
	tp->t->has_mac = true;
	return 0;
}

static int t_key(struct tparse *tp, const config_setting_t *s, const char *what)
{
	uint32_t k;

	if (conf_get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &k) < 0)
		return -1;
	tp->t->ikey = tp->t->okey = k;
	tp->t->has_ikey = tp->t->has_okey = true;
	return 0;
}

static int t_ikey(struct tparse *tp, const config_setting_t *s, const char *what)
{
	if (conf_get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &tp->t->ikey) < 0)
		return -1;
	tp->t->has_ikey = true;
	return 0;
}

static int t_okey(struct tparse *tp, const config_setting_t *s, const char *what)
{
	if (conf_get_uint32(&tp->sc, s, what, 0, UINT32_MAX, &tp->t->okey) < 0)
		return -1;
	tp->t->has_okey = true;
	return 0;
}

static int t_checksum(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_bool(&tp->sc, s, what, &tp->t->checksum);
}

static int t_sequence(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_bool(&tp->sc, s, what, &tp->t->sequence);
}

static int t_clamp_mss(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_bool(&tp->sc, s, what, &tp->t->clamp_mss);
}

static int t_keepalive(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 0, KEEPALIVE_MAX, &tp->t->keepalive_interval);
}

static int t_keepalive_retries(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 1, 255, &tp->t->keepalive_retries);
}

static int t_private_key_file(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_string_buf(&tp->sc, s, what, tp->t->private_key_file,
				   sizeof(tp->t->private_key_file));
}

static int t_preshared_key_file(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_string_buf(&tp->sc, s, what, tp->t->preshared_key_file,
				   sizeof(tp->t->preshared_key_file));
}

static int t_peer_public_key(struct tparse *tp, const config_setting_t *s, const char *what)
{
	uint8_t key[CONF_KEY_LEN + 1];
	const char *v, *end = NULL;
	size_t len = 0;
	struct qbuf q;

	if (conf_get_string(&tp->sc, s, what, &v) < 0)
		return -1;
	if (sodium_base642bin(key, sizeof(key), v, strlen(v), NULL, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    !end || *end != '\0' || len != CONF_KEY_LEN) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is not a base64-encoded %d-byte key", conf_quote(&q, v),
			      CONF_KEY_LEN);
		return -1;
	}
	if (sodium_is_zero(key, CONF_KEY_LEN)) {
		conf_sproblem(&tp->sc, what, conf_sline(s), "%s is the all-zero key", conf_quote(&q, v));
		return -1;
	}
	memcpy(tp->t->peer_public_key, key, CONF_KEY_LEN);
	return 0;
}

static int t_port(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (conf_get_int(&tp->sc, s, what, 1, 65535, &v) < 0)
		return -1;
	tp->t->port = (uint16_t)v;
	return 0;
}

static int t_remote_port(struct tparse *tp, const config_setting_t *s, const char *what)
{
	long long v;

	if (conf_get_int(&tp->sc, s, what, 1, 65535, &v) < 0)
		return -1;
	tp->t->remote_port = (uint16_t)v;
	return 0;
}

static int t_persistent_keepalive(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 0, 65535, &tp->t->persistent_keepalive);
}

/* The three timer overrides exist for tests only (short rekey cycles). */
static int t_rekey_after_time(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->rekey_after_time);
}

static int t_reject_after_time(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->reject_after_time);
}

static int t_keepalive_timeout(struct tparse *tp, const config_setting_t *s, const char *what)
{
	return conf_get_uint32(&tp->sc, s, what, 1, TIMER_OVERRIDE_MAX, &tp->t->keepalive_timeout);
}

const struct tkey_info conf_tunnel_keys[K__COUNT] = {
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
		if (strcmp(conf_tunnel_keys[k].name, name) == 0)
			return k;
	return -1;
}

/* Defaults, filled once a tunnel is known to be valid. */
void conf_tunnel_defaults(struct tparse *tp)
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

void conf_parse_tunnel(struct loader *L, const config_setting_t *g, size_t index,
		       struct tparse *tp, struct tunnel_config *t)
{
	const config_setting_t *name = config_setting_get_member(g, "name");
	int i, n;

	tp->t = t;
	tp->sc.L = L;
	t->line = conf_sline(g);
	if (name && config_setting_type(name) == CONFIG_TYPE_STRING) {
		struct qbuf q;

		snprintf(tp->sc.label, sizeof(tp->sc.label), "tunnel %s: ",
			 conf_quote(&q, config_setting_get_string(name)));
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
			conf_problem(L, conf_sline(s), "%sunknown setting %s", tp->sc.label, conf_quote(&q, sname));
			continue;
		}
		tp->line[k] = conf_sline(s) > 0 ? conf_sline(s) : t->line;
		tp->ok[k] = conf_tunnel_keys[k].fn(tp, s, conf_tunnel_keys[k].name) == 0;
	}
	conf_check_tunnel(tp);
	conf_record_lines(tp);
}
