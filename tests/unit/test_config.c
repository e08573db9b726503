/* tests/unit/test_config.c: conf/ (conf_load and its helpers) against valid and broken files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "crypto/keys.h"

#include "srcdir.h"

#define KEY_A "fDcjAYpZOw5quQo3YoWJAeXR36lLlBqE/EUsFhOt5Vw="
#define KEY_B "WHCAEK2iOi/qyX2XAQiuRd1TcF/X+cPU7UEXhdzFL8s="

/* ---- message collection ---- */

struct msgs {
	char *m[64];
	size_t n;
};

static void collect(void *ctx, const char *msg)
{
	struct msgs *ms = ctx;

	if (ms->n < sizeof(ms->m) / sizeof(ms->m[0]))
		ms->m[ms->n++] = strdup(msg);
}

static void msgs_free(struct msgs *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		free(ms->m[i]);
	ms->n = 0;
}

static bool msgs_has(const struct msgs *ms, const char *needle)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (ms->m[i] && strstr(ms->m[i], needle))
			return true;
	return false;
}

static void msgs_dump(const struct msgs *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		print_message("  got: %s\n", ms->m[i]);
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Loads text that must be valid; fails the test with the messages if not. */
static void load_ok(const char *text, struct gresec_config *cfg)
{
	struct msgs ms = { 0 };
	int ret = conf_load_string("test.conf", text, cfg, collect, &ms);

	if (ret != 0 || ms.n != 0) {
		msgs_dump(&ms);
		print_message("text:\n%s\n", text);
	}
	msgs_free(&ms);
	assert_int_equal(ret, 0);
}

/* A tunnel whose group opens on line 1; `extra` settings start on line 6. */
#define PLAIN(extra) \
	"tunnels = ( {\n" \
	"  name = \"gre1\";\n" \
	"  mode = \"plain\";\n" \
	"  local = \"22.22.22.22\";\n" \
	"  remote = \"33.33.33.33\";\n" \
	extra \
	"} );\n"

#define SECURE(extra) \
	"tunnels = ( {\n" \
	"  name = \"sec1\";\n" \
	"  mode = \"secure\";\n" \
	"  private_key_file = \"/etc/gresec/a.key\";\n" \
	"  peer_public_key = \"" KEY_A "\";\n" \
	extra \
	"} );\n"

/* ---- valid configurations ---- */

static void test_plain_minimal(void **state)
{
	struct gresec_config cfg;
	const struct tunnel_config *t;
	struct ip_addr a;

	(void)state;
	load_ok(PLAIN(""), &cfg);
	assert_string_equal(cfg.path, "test.conf");
	assert_string_equal(cfg.daemon.control_socket, GRESEC_DEFAULT_CONTROL);
	assert_string_equal(cfg.daemon.pid_file, GRESEC_DEFAULT_PIDFILE);
	assert_int_equal(cfg.daemon.log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg.daemon.user, "");
	assert_int_equal(cfg.n_tunnels, 1);
	t = &cfg.tunnels[0];
	assert_string_equal(t->name, "gre1");
	assert_string_equal(t->description, "");
	assert_int_equal(t->mode, TUNNEL_MODE_PLAIN);
	assert_int_equal(t->type, TUNNEL_TYPE_GRE);
	assert_int_equal(ip_addr_parse("22.22.22.22", &a), 0);
	assert_true(ip_addr_equal(&t->local, &a));
	assert_int_equal(ip_addr_parse("33.33.33.33", &a), 0);
	assert_true(ip_addr_equal(&t->remote, &a));
	assert_string_equal(t->device, "");
	assert_int_equal(t->n_addresses, 0);
	assert_int_equal(t->n_peer_addresses, 0);
	assert_int_equal(t->n_routes, 0);
	assert_int_equal(t->mtu, 1476);
	assert_int_equal(t->ttl, 64);
	assert_int_equal(t->tos, 0);
	assert_int_equal(t->datapath, DATAPATH_AUTO);
	assert_false(t->has_ikey);
	assert_false(t->has_okey);
	assert_false(t->checksum);
	assert_false(t->sequence);
	assert_false(t->clamp_mss);
	assert_int_equal(t->keepalive_interval, 0);
	assert_int_equal(t->keepalive_retries, 3);
	assert_int_equal(t->port, 0);
	assert_int_equal(t->line, 1);
	conf_free(&cfg);
	assert_null(cfg.tunnels);
	assert_int_equal(cfg.n_tunnels, 0);
}

static void test_plain_full(void **state)
{
	static const char text[] =
		"# full plain tunnel\n"
		"daemon: {\n"
		"  control_socket = \"/tmp/gresec.sock\";\n"
		"  pid_file = \"/tmp/gresecd.pid\";\n"
		"  log_level = \"debug\";\n"
		"  user = \"gresec\";\n"
		"  group = \"nogroup\";\n"
		"};\n"
		"tunnels = (\n"
		"  {\n"
		"    name = \"gre1\";\n"
		"    description = \"MyGRE Tunnel 12345678901\";  # 99999999999999999999 in a comment\n"
		"    mode = \"plain\"; type = \"gre\";\n"
		"    local = \"2001:db8::1\"; remote = \"2001:db8::2\";\n"
		"    device = \"ens18\";\n"
		"    address = ( \"11.11.1.2/30\", \"fd00::2/64\" );\n"
		"    peer_address = [ \"11.11.1.1\", \"fd00::1\" ];\n"
		"    mtu = 1400; ttl = \"inherit\";\n"
		"    key = 4294967295;\n"
		"    checksum = true; sequence = true; clamp_mss = true;\n"
		"    routes = ( \"192.168.2.0/24\", \"10.0.0.0/8\", \"fd01::/48\" );\n"
		"    keepalive_retries = 5;\n"
		"  }\n"
		");\n";
	struct gresec_config cfg;
	const struct tunnel_config *t;
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	load_ok(text, &cfg);
	assert_string_equal(cfg.daemon.control_socket, "/tmp/gresec.sock");
	assert_string_equal(cfg.daemon.pid_file, "/tmp/gresecd.pid");
	assert_int_equal(cfg.daemon.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg.daemon.user, "gresec");
	assert_string_equal(cfg.daemon.group, "nogroup");
	t = &cfg.tunnels[0];
	assert_string_equal(t->description, "MyGRE Tunnel 12345678901");
	assert_int_equal(t->type, TUNNEL_TYPE_GRE);
	assert_int_equal(t->local.family, AF_INET6);
	assert_string_equal(ip_addr_str(&t->remote, buf, sizeof(buf)), "2001:db8::2");
	assert_string_equal(t->device, "ens18");
	assert_int_equal(t->n_addresses, 2);
	assert_string_equal(ip_addr_str(&t->addresses[0].addr, buf, sizeof(buf)), "11.11.1.2");
	assert_int_equal(t->addresses[0].len, 30);
	assert_int_equal(t->addresses[1].addr.family, AF_INET6);
	assert_int_equal(t->addresses[1].len, 64);
	assert_int_equal(t->n_peer_addresses, 2);
	assert_string_equal(ip_addr_str(&t->peer_addresses[1], buf, sizeof(buf)), "fd00::1");
	assert_int_equal(t->mtu, 1400);
	assert_int_equal(t->ttl, 0);
	assert_true(t->has_ikey && t->has_okey);
	assert_int_equal(t->ikey, 4294967295u);
	assert_int_equal(t->okey, 4294967295u);
	assert_true(t->checksum && t->sequence && t->clamp_mss);
	assert_int_equal(t->n_routes, 3);
	assert_int_equal(t->routes[1].len, 8);
	assert_int_equal(t->routes[2].addr.family, AF_INET6);
	assert_int_equal(t->keepalive_retries, 5);
	assert_int_equal(t->line, 10);
	conf_free(&cfg);
}

static void test_single_string_forms_and_keys(void **state)
{
	struct gresec_config cfg;
	const struct tunnel_config *t;

	(void)state;
	load_ok(PLAIN("  address = \"11.11.1.2/30\";\n"
		      "  peer_address = \"11.11.1.1\";\n"
		      "  routes = \"192.168.2.0/24\";\n"
		      "  ikey = 0xFFFFFFFF; okey = 7L;\n"
		      "  keepalive = 10; ttl = 255;\n"), &cfg);
	t = &cfg.tunnels[0];
	assert_int_equal(t->n_addresses, 1);
	assert_int_equal(t->n_peer_addresses, 1);
	assert_int_equal(t->n_routes, 1);
	assert_true(t->has_ikey && t->has_okey);
	assert_int_equal(t->ikey, 0xffffffffu);
	assert_int_equal(t->okey, 7);
	assert_int_equal(t->keepalive_interval, 10);
	assert_int_equal(t->keepalive_retries, 3);
	assert_int_equal(t->ttl, 255);
	assert_int_equal(t->mtu, 1472); /* key option: 4 more bytes */
	conf_free(&cfg);

	load_ok(PLAIN("  key = 0;\n"), &cfg);
	assert_true(cfg.tunnels[0].has_ikey);
	assert_int_equal(cfg.tunnels[0].ikey, 0);
	conf_free(&cfg);
}

static void test_secure_minimal(void **state)
{
	struct gresec_config cfg;
	const struct tunnel_config *t;
	static const uint8_t key_a0[4] = { 0x7c, 0x37, 0x23, 0x01 };

	(void)state;
	load_ok(SECURE(""), &cfg);
	t = &cfg.tunnels[0];
	assert_int_equal(t->mode, TUNNEL_MODE_SECURE);
	assert_string_equal(t->private_key_file, "/etc/gresec/a.key");
	assert_string_equal(t->preshared_key_file, "");
	assert_memory_equal(t->peer_public_key, key_a0, sizeof(key_a0));
	assert_int_equal(t->local.family, AF_UNSPEC);
	assert_int_equal(t->remote.family, AF_UNSPEC);
	assert_int_equal(t->port, GRESEC_DEFAULT_PORT);
	assert_int_equal(t->remote_port, GRESEC_DEFAULT_PORT);
	assert_int_equal(t->persistent_keepalive, 0);
	assert_int_equal(t->rekey_after_time, 0);
	assert_int_equal(t->keepalive_retries, 0);
	assert_int_equal(t->mtu, 1396); /* WireGuard MTU 1420 - IPv4 20 - GRE 4 */
	assert_int_equal(t->gre_local.family, AF_UNSPEC); /* derived from the keys */
	assert_int_equal(t->ttl, 64);
	conf_free(&cfg);
}

static void test_secure_full(void **state)
{
	struct gresec_config cfg;
	const struct tunnel_config *t;

	(void)state;
	load_ok(SECURE("  local = \"198.51.100.10\"; remote = \"203.0.113.20\";\n"
		       "  preshared_key_file = \"/etc/gresec/psk\";\n"
		       "  port = 1000; remote_port = 2000; persistent_keepalive = 25;\n"
		       "  rekey_after_time = 5; reject_after_time = 9; keepalive_timeout = 2;\n"
		       "  address = \"10.0.0.1/31\"; type = \"gretap\";\n"), &cfg);
	t = &cfg.tunnels[0];
	assert_string_equal(t->preshared_key_file, "/etc/gresec/psk");
	assert_int_equal(t->port, 1000);
	assert_int_equal(t->remote_port, 2000);
	assert_int_equal(t->persistent_keepalive, 25);
	assert_int_equal(t->rekey_after_time, 5);
	assert_int_equal(t->reject_after_time, 9);
	assert_int_equal(t->keepalive_timeout, 2);
	assert_int_equal(t->mtu, 1382); /* gretap: 1420 - 20 - 4 - 14 */
	conf_free(&cfg);

	/* remote_port defaults to port */
	load_ok(SECURE("  port = 4242;\n"), &cfg);
	assert_int_equal(cfg.tunnels[0].remote_port, 4242);
	conf_free(&cfg);
}

static void test_several_tunnels(void **state)
{
	static const char text[] =
		"tunnels = (\n"
		"  { name = \"a\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; },\n"
		"  { name = \"b\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; key = 1; },\n"
		"  { name = \"c\"; mode = \"secure\"; private_key_file = \"k\"; peer_public_key = \"" KEY_A "\"; },\n"
		"  { name = \"d\"; mode = \"secure\"; private_key_file = \"k\"; peer_public_key = \"" KEY_B "\"; },\n"
		"  { name = \"e\"; mode = \"secure\"; local = \"1.1.1.1\"; port = 2; private_key_file = \"k\";\n"
		"    peer_public_key = \"" KEY_A "\"; }\n"
		");\n";
	struct gresec_config cfg;

	(void)state;
	load_ok(text, &cfg);
	assert_int_equal(cfg.n_tunnels, 5);
	assert_string_equal(cfg.tunnels[4].name, "e");
	assert_int_equal(cfg.tunnels[4].line, 6);
	conf_free(&cfg);

	/* "no tunnels" must be said: an empty list is fine, a missing one is not */
	load_ok("daemon: { log_level = \"err\"; };\ntunnels = ( );\n", &cfg);
	assert_int_equal(cfg.n_tunnels, 0);
	assert_null(cfg.tunnels);
	assert_int_equal(cfg.daemon.log_level, LOG_LEVEL_ERR);
	conf_free(&cfg);
}


/* What the address checks allow: the unnumbered form, a hub's one address
 * towards several peers, routes that leave the remote alone, no tunnels. */
static void test_address_rules_allow(void **state)
{
	static const char hub[] =
		"tunnels = (\n"
		"  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\";\n"
		"    address = ( \"10.0.0.1/32\", \"fd00::1/128\" ); peer_address = ( \"10.9.0.1\", \"fd09::1\" ); },\n"
		"  { name = \"gre2\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"3.3.3.3\";\n"
		"    address = ( \"10.0.0.1/32\", \"fd00::1/128\" ); peer_address = ( \"10.9.0.2\", \"fd09::2\" ); }\n"
		");\n";
	struct gresec_config cfg;

	(void)state;
	load_ok(PLAIN("  address = \"10.0.0.1/32\";\n  peer_address = \"10.9.9.9\";\n"), &cfg);
	conf_free(&cfg);
	load_ok(PLAIN("  address = \"10.0.0.0/31\";\n  peer_address = \"10.0.0.1\";\n"), &cfg);
	conf_free(&cfg);
	load_ok(hub, &cfg);
	assert_int_equal(cfg.n_tunnels, 2);
	conf_free(&cfg);
	/* 33.33.33.33 (remote) is in 0.0.0.0/1 but not in 128.0.0.0/1 */
	load_ok(PLAIN("  routes = ( \"128.0.0.0/1\", \"::/0\" );\n"), &cfg);
	conf_free(&cfg);
	/* a responder (no remote) has nothing to loop */
	load_ok(SECURE("  routes = \"0.0.0.0/0\";\n"), &cfg);
	conf_free(&cfg);
	/* gretap addresses without peers */
	load_ok(PLAIN("  type = \"gretap\";\n  address = \"10.0.0.1/24\";\n"), &cfg);
	conf_free(&cfg);
	load_ok("tunnels = ( );\n", &cfg);
	assert_int_equal(cfg.n_tunnels, 0);
	conf_free(&cfg);
}

/* Relative paths: taken relative to the base directory when one is given
 * (the daemon's start directory), kept as written otherwise. */
static void test_relative_paths(void **state)
{
	static const char text[] =
		"daemon: { pid_file = \"run/x.pid\"; control_socket = \"x.sock\"; };\n"
		"tunnels = ( {\n"
		"  name = \"sec1\"; mode = \"secure\";\n"
		"  private_key_file = \"keys/a.key\";\n"
		"  preshared_key_file = \"/etc/gresec/psk\";\n"
		"  peer_public_key = \"" KEY_A "\";\n"
		"} );\n";
	char long_base[200];
	struct gresec_config cfg;
	struct msgs ms = { 0 };
	char out[16];

	(void)state;
	assert_int_equal(conf_load_string_at("test.conf", text, "/srv/site", &cfg, collect, &ms), 0);
	assert_int_equal(ms.n, 0);
	assert_string_equal(cfg.daemon.pid_file, "/srv/site/run/x.pid");
	assert_string_equal(cfg.daemon.control_socket, "/srv/site/x.sock");
	assert_string_equal(cfg.tunnels[0].private_key_file, "/srv/site/keys/a.key");
	assert_string_equal(cfg.tunnels[0].preshared_key_file, "/etc/gresec/psk");
	assert_int_equal(cfg.tunnels[0].lines.private_key_file, 4);
	assert_int_equal(cfg.tunnels[0].lines.name, 3);
	assert_int_equal(cfg.daemon.lines.pid_file, 1);
	conf_free(&cfg);

	/* a trailing slash on the base is not doubled */
	assert_int_equal(conf_load_string_at("test.conf", text, "/", &cfg, collect, &ms), 0);
	assert_string_equal(cfg.daemon.pid_file, "/run/x.pid");
	conf_free(&cfg);

	assert_int_equal(conf_load_string("test.conf", text, &cfg, collect, &ms), 0);
	assert_string_equal(cfg.daemon.pid_file, "run/x.pid");
	assert_string_equal(cfg.tunnels[0].private_key_file, "keys/a.key");
	conf_free(&cfg);

	/* the socket path must still fit sun_path once made absolute */
	memset(long_base, 'd', sizeof(long_base) - 1);
	long_base[0] = '/';
	long_base[sizeof(long_base) - 1] = '\0';
	assert_int_equal(conf_load_string_at("test.conf", text, long_base, &cfg, collect, &ms), -1);
	if (ms.n != 1)
		msgs_dump(&ms);
	assert_int_equal(ms.n, 1);
	assert_true(msgs_has(&ms, "test.conf:1: daemon: control_socket: \"x.sock\" taken relative to \"/ddd"));
	assert_true(msgs_has(&ms, "is longer than 107 characters"));
	msgs_free(&ms);

	assert_int_equal(conf_path_join(out, sizeof(out), "/a", "b"), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(conf_path_join(out, sizeof(out), "/a", "/b"), 0);
	assert_string_equal(out, "/b");
	assert_int_equal(conf_path_join(out, sizeof(out), NULL, "b"), 0);
	assert_string_equal(out, "b");
	assert_int_equal(conf_path_join(out, sizeof(out), "/aaaaaaaaaaaaaaaaaa", "b"), -1);
}

/* datapath and tos: every value, and what "auto" and "user" allow that
 * "kernel" does not. */
static void test_mac(void **state)
{
	static const uint8_t want[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd };
	struct gresec_config cfg, cfg2;

	(void)state;
	load_ok(PLAIN("  type = \"gretap\"; mac = \"02:00:5e:10:AB:cd\";\n"), &cfg);
	assert_true(cfg.tunnels[0].has_mac);
	assert_memory_equal(cfg.tunnels[0].mac, want, 6);
	load_ok(PLAIN("  type = \"gretap\"; mac = \"02-00-5e-10-ab-cd\";\n"), &cfg2);
	assert_memory_equal(cfg2.tunnels[0].mac, want, 6);
	assert_true(conf_tunnel_equal(&cfg.tunnels[0], &cfg2.tunnels[0]));
	conf_free(&cfg2);
	load_ok(PLAIN("  type = \"gretap\"; mac = \"02:00:5e:10:ab:ce\";\n"), &cfg2);
	assert_false(conf_tunnel_equal(&cfg.tunnels[0], &cfg2.tunnels[0]));
	conf_free(&cfg2);
	load_ok(PLAIN("  type = \"gretap\";\n"), &cfg2);
	assert_false(cfg2.tunnels[0].has_mac);
	assert_false(conf_tunnel_equal(&cfg.tunnels[0], &cfg2.tunnels[0]));
	conf_free(&cfg2);
	conf_free(&cfg);
	load_ok(SECURE("  type = \"gretap\"; mac = \"0a:00:00:00:00:01\";\n"), &cfg);
	assert_true(cfg.tunnels[0].has_mac);
	conf_free(&cfg);
}

static void test_datapath_tos(void **state)
{
	struct gresec_config cfg;

	(void)state;
	load_ok(PLAIN("  datapath = \"kernel\"; tos = 184;\n"), &cfg);
	assert_int_equal(cfg.tunnels[0].datapath, DATAPATH_KERNEL);
	assert_int_equal(cfg.tunnels[0].tos, 184);
	assert_string_equal(conf_datapath_name(cfg.tunnels[0].datapath), "kernel");
	conf_free(&cfg);
	load_ok(PLAIN("  datapath = \"user\"; tos = \"inherit\"; clamp_mss = true;\n"
		      "  keepalive = 5; sequence = true;\n"), &cfg);
	assert_int_equal(cfg.tunnels[0].datapath, DATAPATH_USER);
	assert_int_equal(cfg.tunnels[0].tos, -1);
	assert_string_equal(conf_datapath_name(cfg.tunnels[0].datapath), "user");
	conf_free(&cfg);
	/* auto: allowed with anything; the daemon picks user space for these */
	load_ok(PLAIN("  datapath = \"auto\"; clamp_mss = true; keepalive = 5; sequence = true;\n"), &cfg);
	assert_int_equal(cfg.tunnels[0].datapath, DATAPATH_AUTO);
	assert_string_equal(conf_datapath_name(cfg.tunnels[0].datapath), "auto");
	conf_free(&cfg);
	/* kernel: keepalives without sequence numbers, sequence without keepalives */
	load_ok(PLAIN("  datapath = \"kernel\"; keepalive = 5; checksum = true; key = 7;\n"), &cfg);
	conf_free(&cfg);
	load_ok(PLAIN("  datapath = \"kernel\"; sequence = true; clamp_mss = false;\n"), &cfg);
	conf_free(&cfg);
	load_ok(SECURE("  datapath = \"user\";\n"), &cfg);
	assert_int_equal(cfg.tunnels[0].datapath, DATAPATH_USER);
	conf_free(&cfg);
	load_ok(SECURE("  datapath = \"auto\";\n"), &cfg);
	conf_free(&cfg);
}

/* ---- broken configurations: one message each, exact text and line ---- */

struct broken {
	const char *text;
	const char *expect;
};

static const struct broken broken_table[] = {
	{ PLAIN("  type = \"gretap\"; mac = \"03:00:00:00:00:01\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: \"03:00:00:00:00:01\" is a multicast address" },
	{ PLAIN("  type = \"gretap\"; mac = \"02:00:00:00:00\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: \"02:00:00:00:00\" is not a MAC address" },
	{ PLAIN("  type = \"gretap\"; mac = \"02:00:00:00:00:01:02\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: \"02:00:00:00:00:01:02\" is not a MAC address" },
	{ PLAIN("  type = \"gretap\"; mac = \"02:00-00:00:00:01\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: \"02:00-00:00:00:01\" is not a MAC address" },
	{ PLAIN("  type = \"gretap\"; mac = \"00:00:00:00:00:00\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: \"00:00:00:00:00:00\" is not a usable address" },
	{ PLAIN("  type = \"gretap\"; mac = 5;\n"), "test.conf:6: tunnel \"gre1\": mac: expected a string" },
	{ PLAIN("  type = \"gre\"; mac = \"02:00:00:00:00:01\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: only for type \"gretap\"" },
	{ PLAIN("  mac = \"02:00:00:00:00:01\";\n"),
	  "test.conf:6: tunnel \"gre1\": mac: only for type \"gretap\" (the type is \"gre\" by default)" },
	{ PLAIN("  key = 4294967296;\n"),
	  "test.conf:6: tunnel \"gre1\": key: 4294967296 is out of range 0..4294967295" },
	{ PLAIN("  key = -1;\n"), "test.conf:6: tunnel \"gre1\": key: -1 is out of range 0..4294967295" },
	{ PLAIN("  key = 99999999999999999999999;\n"),
	  "test.conf:6: tunnel \"gre1\": key: 99999999999999999999999 is out of range 0..4294967295" },
	{ PLAIN("  ikey = 0x100000000;\n"), "test.conf:6: tunnel \"gre1\": ikey: 0x100000000 is out of range" },
	{ PLAIN("  okey = 42.0;\n"), "test.conf:6: tunnel \"gre1\": okey: expected an integer, got a float" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"fast\";\n} );\n",
	  "test.conf:3: tunnel \"gre1\": mode: \"fast\" is not one of \"plain\", \"secure\"" },
	{ PLAIN("  adress = \"10.0.0.1/30\";\n"), "test.conf:6: tunnel \"gre1\": unknown setting \"adress\"" },
	{ PLAIN("  mtu = \"1400\";\n"), "test.conf:6: tunnel \"gre1\": mtu: expected an integer, got a string" },
	{ PLAIN("  mtu = 67;\n"), "test.conf:6: tunnel \"gre1\": mtu: 67 is out of range 68..65535" },
	{ PLAIN("  address = \"fd00::1/64\";\n  mtu = 1000;\n"),
	  "test.conf:7: tunnel \"gre1\": mtu: 1000 is below 1280, the minimum for IPv6" },
	{ PLAIN("  ttl = 0;\n"), "test.conf:6: tunnel \"gre1\": ttl: 0 is out of range 1..255" },
	{ PLAIN("  ttl = \"always\";\n"),
	  "test.conf:6: tunnel \"gre1\": ttl: \"always\" is neither an integer 1..255 nor \"inherit\"" },
	{ PLAIN("  key = 1;\n  ikey = 2;\n"), "test.conf:6: tunnel \"gre1\": key: cannot be combined with ikey" },
	{ PLAIN("  datapath = \"fast\";\n"),
	  "test.conf:6: tunnel \"gre1\": datapath: \"fast\" is not one of \"auto\", \"kernel\", \"user\"" },
	{ PLAIN("  datapath = true;\n"), "test.conf:6: tunnel \"gre1\": datapath: expected a string, got a boolean" },
	{ PLAIN("  datapath = \"kernel\";\n  clamp_mss = true;\n"),
	  "test.conf:6: tunnel \"gre1\": datapath: \"kernel\" cannot clamp the MSS (clamp_mss on line 7): "
	  "the kernel's GRE has no MSS clamping; use datapath = \"user\", or remove clamp_mss and clamp "
	  "with nftables (docs/nftables/clamp-mss.nft)" },
	{ PLAIN("  keepalive = 10;\n  datapath = \"kernel\";\n  sequence = true;\n"),
	  "test.conf:7: tunnel \"gre1\": datapath: \"kernel\" cannot send keepalives with sequence numbers "
	  "(keepalive on line 6, sequence on line 8)" },
	{ SECURE("  datapath = \"kernel\";\n"),
	  "test.conf:6: tunnel \"sec1\": datapath: \"kernel\" is for plain mode only: secure mode runs in "
	  "user space (use \"auto\" or \"user\")" },
	{ PLAIN("  tos = 1;\n"),
	  "test.conf:6: tunnel \"gre1\": tos: 1 sets ECN bits (the two low bits): give DSCP * 4, for example 0" },
	{ PLAIN("  tos = 186;\n"), "test.conf:6: tunnel \"gre1\": tos: 186 sets ECN bits (the two low bits): "
	  "give DSCP * 4, for example 184" },
	{ PLAIN("  tos = 256;\n"), "test.conf:6: tunnel \"gre1\": tos: 256 is out of range 0..252" },
	{ PLAIN("  tos = \"copy\";\n"),
	  "test.conf:6: tunnel \"gre1\": tos: \"copy\" is neither an integer 0..252 nor \"inherit\"" },
	{ SECURE("  tos = 0;\n"), "test.conf:6: tunnel \"sec1\": tos: only valid in plain mode" },
	{ PLAIN("  checksum = 1;\n"),
	  "test.conf:6: tunnel \"gre1\": checksum: expected a boolean (true or false), got an integer" },
	{ PLAIN("  routes = ( \"10.0.0.0/8\",\n    \"192.168.2.1/24\" );\n"),
	  "test.conf:7: tunnel \"gre1\": routes: \"192.168.2.1/24\" has host bits set (did you mean \"192.168.2.0/24\"?)" },
	{ PLAIN("  routes = \"192.168.2.0\";\n"),
	  "test.conf:6: tunnel \"gre1\": routes: \"192.168.2.0\" is not a prefix" },
	{ PLAIN("  address = \"11.11.1.2/33\";\n"),
	  "test.conf:6: tunnel \"gre1\": address: \"11.11.1.2/33\" is not an address with prefix length" },
	{ PLAIN("  address = ( \"11.11.1.2/30\", 5 );\n"),
	  "test.conf:6: tunnel \"gre1\": address: item 2: expected a string, got an integer" },
	{ PLAIN("  address = 5;\n"),
	  "test.conf:6: tunnel \"gre1\": address: expected a string or a list of strings, got an integer" },
	{ PLAIN("  address = \"11.11.1.2/30\";\n  peer_address = \"fd00::1\";\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"fd00::1\" is IPv6 but the tunnel has no IPv6 address" },
	{ PLAIN("  address = \"11.11.1.2/30\";\n  peer_address = ( \"11.11.1.1\", \"11.11.1.3\" );\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"11.11.1.3\": only one IPv4 peer address is allowed" },
	{ PLAIN("  port = 51947;\n"), "test.conf:6: tunnel \"gre1\": port: only valid in secure mode" },
	{ PLAIN("  peer_public_key = \"" KEY_A "\";\n"),
	  "test.conf:6: tunnel \"gre1\": peer_public_key: only valid in secure mode" },
	{ SECURE("  keepalive = 10;\n"), "test.conf:6: tunnel \"sec1\": keepalive: only valid in plain mode" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  local = \"2001:db8::1\";\n"
	  "  remote = \"2001:db8::2\";\n  keepalive = 10;\n} );\n",
	  "test.conf:6: tunnel \"gre1\": keepalive: GRE keepalives need an IPv4 underlay" },
	{ PLAIN("  keepalive_retries = 0;\n"),
	  "test.conf:6: tunnel \"gre1\": keepalive_retries: 0 is out of range 1..255" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  remote = \"33.33.33.33\";\n} );\n",
	  "test.conf:1: tunnel \"gre1\": local: missing (required in plain mode)" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  local = \"22.22.22.22\";\n"
	  "  remote = \"fd00::2\";\n} );\n",
	  "test.conf:5: tunnel \"gre1\": remote: \"fd00::2\" is IPv6 but local \"22.22.22.22\" is IPv4" },
	{ PLAIN("  remote = \"1.1.1.1\";\n"), "test.conf:6: syntax error: duplicate setting name" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  local = \"22.22.22\";\n"
	  "  remote = \"33.33.33.33\";\n} );\n",
	  "test.conf:4: tunnel \"gre1\": local: \"22.22.22\" is not an IPv4 or IPv6 address" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  local = \"22.22.22.22\";\n"
	  "  remote = \"224.0.0.5\";\n} );\n",
	  "test.conf:5: tunnel \"gre1\": remote: \"224.0.0.5\" is not a unicast address" },
	{ "tunnels = ( {\n  name = \"sec1\";\n  mode = \"secure\";\n  private_key_file = \"/k\";\n} );\n",
	  "test.conf:1: tunnel \"sec1\": peer_public_key: missing (required in secure mode)" },
	{ "tunnels = ( {\n  name = \"sec1\";\n  mode = \"secure\";\n  peer_public_key = \"" KEY_A "\";\n} );\n",
	  "test.conf:1: tunnel \"sec1\": private_key_file: missing (required in secure mode)" },
	{ "tunnels = ( {\n  name = \"sec1\";\n  mode = \"secure\";\n  private_key_file = \"/k\";\n"
	  "  peer_public_key = \"AAAA\";\n} );\n",
	  "test.conf:5: tunnel \"sec1\": peer_public_key: \"AAAA\" is not a base64-encoded 32-byte key" },
	{ "tunnels = ( {\n  name = \"sec1\";\n  mode = \"secure\";\n  private_key_file = \"/k\";\n"
	  "  peer_public_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\";\n} );\n",
	  "test.conf:5: tunnel \"sec1\": peer_public_key: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" is the all-zero key" },
	{ "tunnels = ( {\n  name = \"sec1\";\n  mode = \"secure\";\n  private_key_file = \"\";\n"
	  "  peer_public_key = \"" KEY_A "\";\n} );\n",
	  "test.conf:4: tunnel \"sec1\": private_key_file: must not be empty" },
	{ SECURE("  port = 0;\n"), "test.conf:6: tunnel \"sec1\": port: 0 is out of range 1..65535" },
	{ SECURE("  persistent_keepalive = 70000;\n"),
	  "test.conf:6: tunnel \"sec1\": persistent_keepalive: 70000 is out of range 0..65535" },
	{ SECURE("  rekey_after_time = 10;\n  reject_after_time = 10;\n"),
	  "test.conf:7: tunnel \"sec1\": reject_after_time: 10 must be greater than rekey_after_time 10" },
	/* Only one set: compared with the other's default (120 / 180 s). */
	{ SECURE("  rekey_after_time = 200;\n"),
	  "test.conf:6: tunnel \"sec1\": rekey_after_time: 200 must be less than reject_after_time (default 180)" },
	{ SECURE("  reject_after_time = 100;\n"),
	  "test.conf:6: tunnel \"sec1\": reject_after_time: 100 must be greater than rekey_after_time (default 120)" },
	{ SECURE("  gre_local = \"10.99.0.1\";\n"),
	  "test.conf:1: tunnel \"sec1\": gre_remote: missing (gre_local is set: give the peer's WireGuard address too, or neither)" },
	{ SECURE("  gre_remote = \"10.99.0.2\";\n"),
	  "test.conf:1: tunnel \"sec1\": gre_local: missing (gre_remote is set: give this end's WireGuard address too, or neither)" },
	{ SECURE("  gre_local = \"10.99.0.1\";\n  gre_remote = \"fd99::2\";\n"),
	  "test.conf:7: tunnel \"sec1\": gre_remote: \"fd99::2\" is IPv6 but gre_local \"10.99.0.1\" is IPv4" },
	{ SECURE("  gre_local = \"10.99.0.1\";\n  gre_remote = \"10.99.0.1\";\n"),
	  "test.conf:7: tunnel \"sec1\": gre_remote: \"10.99.0.1\" is the same as gre_local" },
	{ SECURE("  gre_local = \"224.0.0.5\";\n  gre_remote = \"10.99.0.2\";\n"),
	  "test.conf:6: tunnel \"sec1\": gre_local: \"224.0.0.5\" is not a unicast address" },
	{ PLAIN("  gre_local = \"10.99.0.1\";\n"),
	  "gre_local: only valid in secure mode" },
	{ "tunnels = ( {\n  name = \"abcdefghijklmnop\";\n  mode = \"plain\";\n  local = \"1.1.1.1\";\n"
	  "  remote = \"2.2.2.2\";\n} );\n",
	  "test.conf:2: tunnel \"abcdefghijklmnop\": name: \"abcdefghijklmnop\" is not a valid interface name" },
	{ "tunnels = ( {\n  name = \"gre/1\";\n  mode = \"plain\";\n  local = \"1.1.1.1\";\n"
	  "  remote = \"2.2.2.2\";\n} );\n",
	  "test.conf:2: tunnel \"gre/1\": name: \"gre/1\" is not a valid interface name" },
	{ PLAIN("  device = \"eth 0\";\n"),
	  "test.conf:6: tunnel \"gre1\": device: \"eth 0\" is not a valid interface name" },
	{ "tunnels = ( {\n  mode = \"plain\";\n  local = \"1.1.1.1\";\n  remote = \"2.2.2.2\";\n} );\n",
	  "test.conf:1: tunnel #1: name: missing" },
	{ "tunnels = ( {\n  name = \"gre1\";\n  local = \"1.1.1.1\";\n  remote = \"2.2.2.2\";\n} );\n",
	  "test.conf:1: tunnel \"gre1\": mode: missing" },
	{ PLAIN("  type = \"tap\";\n"),
	  "test.conf:6: tunnel \"gre1\": type: \"tap\" is not one of \"gre\", \"gretap\"" },
	{ PLAIN("  description = \"bad\\nline\";\n"),
	  "test.conf:6: tunnel \"gre1\": description: \"bad\\x0aline\" contains a control character" },
	{ "tunnels = (\n"
	  "  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; key = 5; },\n"
	  "  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; key = 6; }\n"
	  ");\n",
	  "test.conf:3: tunnel \"gre1\": name: \"gre1\" is already used by the tunnel on line 2" },
	{ "tunnels = (\n"
	  "  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; },\n"
	  "  { name = \"gre2\"; mode = \"plain\";\n"
	  "    local = \"1.1.1.1\"; remote = \"2.2.2.2\"; }\n"
	  ");\n",
	  "test.conf:4: tunnel \"gre2\": remote: local \"1.1.1.1\", remote \"2.2.2.2\" and no key are the same as tunnel \"gre1\" (line 2)" },
	{ "tunnels = (\n"
	  "  { name = \"s1\"; mode = \"secure\"; private_key_file = \"k\"; peer_public_key = \"" KEY_A "\"; },\n"
	  "  { name = \"s2\"; mode = \"secure\"; private_key_file = \"k\"; peer_public_key = \"" KEY_B "\";\n"
	  "    local = \"10.0.0.1\"; port = 51947; }\n"
	  ");\n",
	  "test.conf:4: tunnel \"s2\": port: 51947 is shared with tunnel \"s1\" (line 2) whose local is \"any\", not \"10.0.0.1\"" },
	{ "tunnels = (\n"
	  "  { name = \"s1\"; mode = \"secure\"; private_key_file = \"k\"; peer_public_key = \"" KEY_A "\"; },\n"
	  "  { name = \"s2\"; mode = \"secure\"; private_key_file = \"k\";\n"
	  "    peer_public_key = \"" KEY_A "\"; }\n"
	  ");\n",
	  "test.conf:4: tunnel \"s2\": peer_public_key: same peer as tunnel \"s1\" (line 2) on port 51947" },
	{ "daemon: {\n  log_level = \"verbose\";\n};\ntunnels = ( );\n",
	  "test.conf:2: daemon: log_level: \"verbose\" is not one of \"err\", \"warning\", \"notice\", \"info\", \"debug\"" },
	{ "daemon: {\n  log_levle = \"info\";\n};\ntunnels = ( );\n",
	  "test.conf:2: daemon: unknown setting \"log_levle\"" },
	{ "tunnels = ( );\ndaemon: {\n  control_socket = \"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\";\n};\n",
	  "test.conf:3: daemon: control_socket: \"/run/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\"... is longer than 107 characters" },
	{ "daemon: {\n  user = 0;\n};\ntunnels = ( );\n",
	  "test.conf:2: daemon: user: expected a string, got an integer" },
	{ "daemon = 1;\ntunnels = ( );\n", "test.conf:1: daemon: expected a group { ... }, got an integer" },
	{ "tunnel = ();\ntunnels = ( );\n", "test.conf:1: unknown setting \"tunnel\"" },
	{ "tunnels = { name = \"x\"; };\n", "test.conf:1: tunnels: expected a list ( { ... }, ... ), got a group" },
	{ "tunnels = ( \"gre1\" );\n", "test.conf:1: tunnels: item 1: expected a group { ... }, got a string" },
	{ "daemon: {\n  log_level = ;\n};\n", "test.conf:2: syntax error" },
	/* No tunnels list: an empty or cut-off file is not "no tunnels". */
	{ "", "test.conf: tunnels: missing (write \"tunnels = ( );\" for a daemon without tunnels)" },
	{ "# only a comment\n", "test.conf: tunnels: missing" },
	{ "daemon: {\n  log_level = \"info\";\n};\n", "test.conf: tunnels: missing" },
	/* What the kernel would take silently but breaks the link. */
	{ "tunnels = ( {\n  name = \"gre1\";\n  mode = \"plain\";\n  local = \"22.22.22.22\";\n"
	  "  remote = \"22.22.22.22\";\n} );\n",
	  "test.conf:5: tunnel \"gre1\": remote: \"22.22.22.22\" is the same as local: the peer must be another host" },
	{ PLAIN("  address = \"11.11.1.2/30\";\n  peer_address = \"11.11.1.2\";\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"11.11.1.2\" is also this end's address "
	  "(address \"11.11.1.2/30\"): the peer needs an address of its own" },
	{ PLAIN("  address = ( \"11.11.1.2/30\", \"fd00::2/64\" );\n  peer_address = ( \"11.11.1.1\", \"fd00::2\" );\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"fd00::2\" is also this end's address (address \"fd00::2/64\")" },
	{ PLAIN("  address = \"11.11.1.2/30\";\n  peer_address = \"11.11.2.1\";\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"11.11.2.1\" is outside address \"11.11.1.2/30\": "
	  "the kernel would route 11.11.2.0/30 (the peer's prefix) into the tunnel, not 11.11.1.0/30; "
	  "put the peer in the prefix, or use a /32 address for a peer outside it" },
	{ PLAIN("  address = \"fd00:1::2/64\";\n  peer_address = \"fd00:2::1\";\n"),
	  "test.conf:7: tunnel \"gre1\": peer_address: \"fd00:2::1\" is outside address \"fd00:1::2/64\": "
	  "the kernel would route fd00:2::/64 (the peer's prefix) into the tunnel, not fd00:1::/64; "
	  "put the peer in the prefix, or use a /128 address" },
	{ PLAIN("  type = \"gretap\";\n  address = \"11.11.1.2/30\";\n  peer_address = \"11.11.1.1\";\n"),
	  "test.conf:8: tunnel \"gre1\": peer_address: point-to-point peer addresses exist on gre links only; "
	  "a gretap link is Ethernet: give address a prefix that holds the peer (like \"10.0.0.1/30\") "
	  "and leave peer_address out" },
	{ PLAIN("  routes = ( \"192.168.2.0/24\", \"0.0.0.0/0\" );\n"),
	  "test.conf:6: tunnel \"gre1\": routes: \"0.0.0.0/0\" covers the tunnel's own remote \"33.33.33.33\": "
	  "packets to the peer would be routed into the tunnel itself (a routing loop); route the "
	  "networks behind the peer, not its underlay address" },
	{ SECURE("  remote = \"203.0.113.20\";\n  routes = \"203.0.113.0/24\";\n"),
	  "test.conf:7: tunnel \"sec1\": routes: \"203.0.113.0/24\" covers the tunnel's own remote \"203.0.113.20\"" },
	{ "tunnels = (\n"
	  "  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\";\n"
	  "    address = \"10.0.0.1/30\"; },\n"
	  "  { name = \"gre2\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"3.3.3.3\";\n"
	  "    address = ( \"10.0.1.1/30\", \"10.0.0.1/24\" ); }\n"
	  ");\n",
	  "test.conf:5: tunnel \"gre2\": address: \"10.0.0.1\" is also an address of tunnel \"gre1\" (line 2); "
	  "one address on several links needs the unnumbered form: /32 and a different peer_address on each" },
	{ "tunnels = (\n"
	  "  { name = \"gre1\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\";\n"
	  "    address = \"10.0.0.1/32\"; peer_address = \"10.9.0.1\"; },\n"
	  "  { name = \"gre2\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"3.3.3.3\";\n"
	  "    address = \"10.0.0.1/32\"; peer_address = \"10.9.0.1\"; }\n"
	  ");\n",
	  "test.conf:5: tunnel \"gre2\": address: \"10.0.0.1\" is also an address of tunnel \"gre1\" (line 2)" },
	{ "# hi\n@include \"/etc/passwd\"\n", "test.conf:2: @include is not supported" },
};

/* A hub's file: n secure tunnels on one port (one address towards every
 * spoke, the unnumbered form) and n plain ones from one peer told apart by
 * their keys; extra is appended inside the list. */
static char *hub_text(size_t n, const char *extra)
{
	size_t cap = n * 2 * 320 + 4096, used = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	used += (size_t)snprintf(buf + used, cap - used, "tunnels = (\n");
	for (size_t k = 0; k < n; k++) {
		uint8_t key[CONF_KEY_LEN] = { 0 };
		char b64[64];

		key[0] = (uint8_t)k;
		key[1] = (uint8_t)(k >> 8);
		key[31] = 0x55;
		keys_to_base64(b64, key);
		used += (size_t)snprintf(buf + used, cap - used,
			"  { name = \"s%zu\"; mode = \"secure\"; private_key_file = \"k\"; port = 51947;\n"
			"    peer_public_key = \"%s\"; address = \"10.255.0.1/32\"; peer_address = \"10.%zu.%zu.2\"; },\n"
			"  { name = \"p%zu\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; key = %zu; },\n",
			k, b64, 1 + k / 256, k % 256, k, k + 1);
	}
	used += (size_t)snprintf(buf + used, cap - used, "%s  { name = \"last\"; mode = \"plain\"; "
				 "local = \"1.1.1.1\"; remote = \"9.9.9.9\"; }\n);\n", extra);
	assert_true(used < cap);
	return buf;
}

/* The rules between tunnels at a hub's scale: sorted, not pairwise; each
 * conflict is reported once, against the first earlier tunnel. */
static void test_many_tunnels(void **state)
{
	static const struct {
		const char *extra, *expect, *expect2;
	} cases[] = {
		{ "", NULL, NULL },
		{ "  { name = \"s7\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"3.3.3.3\"; },\n",
		  "tunnel \"s7\": name: \"s7\" is already used by the tunnel on line 23", NULL },
		{ "  { name = \"dup\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"2.2.2.2\"; key = 1000; },\n",
		  "tunnel \"dup\": remote: local \"1.1.1.1\", remote \"2.2.2.2\" and the key are the same as "
		  "tunnel \"p999\" (line 3001)", NULL },
		{ "  { name = \"x\"; mode = \"secure\"; private_key_file = \"k\"; port = 51947;\n"
		  "    peer_public_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAFU=\"; },\n",
		  "tunnel \"x\": peer_public_key: same peer as tunnel \"s0\" (line 2) on port 51947", NULL },
		{ "  { name = \"y\"; mode = \"secure\"; private_key_file = \"k\"; port = 51947; local = \"1.1.1.1\";\n"
		  "    peer_public_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGY=\"; },\n",
		  "tunnel \"y\": port: 51947 is shared with tunnel \"s0\" (line 2) whose local is \"any\", not \"1.1.1.1\"",
		  NULL },
		/* unnumbered, but towards a peer another tunnel has */
		{ "  { name = \"z\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"4.4.4.4\";\n"
		  "    address = \"10.255.0.1/32\"; peer_address = \"10.2.0.2\"; },\n",
		  "tunnel \"z\": address: \"10.255.0.1\" is also an address of tunnel \"s256\" (line 770)", NULL },
		/* not unnumbered: against the first; an unnumbered one after it against it */
		{ "  { name = \"g\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"4.4.4.4\";\n"
		  "    address = \"10.255.0.1/24\"; },\n"
		  "  { name = \"u\"; mode = \"plain\"; local = \"1.1.1.1\"; remote = \"5.5.5.5\";\n"
		  "    address = \"10.255.0.1/32\"; peer_address = \"10.99.0.2\"; },\n",
		  "tunnel \"g\": address: \"10.255.0.1\" is also an address of tunnel \"s0\" (line 2)",
		  "tunnel \"u\": address: \"10.255.0.1\" is also an address of tunnel \"g\" (line 3002)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = hub_text(1000, cases[i].extra);
		struct gresec_config cfg;
		struct msgs ms = { 0 };
		size_t want = cases[i].expect ? (cases[i].expect2 ? 2 : 1) : 0;
		int ret = conf_load_string("test.conf", text, &cfg, collect, &ms);

		if (ms.n != want || (want && ret != -1) || (!want && ret != 0) ||
		    (cases[i].expect && !msgs_has(&ms, cases[i].expect)) ||
		    (cases[i].expect2 && !msgs_has(&ms, cases[i].expect2))) {
			print_message("case %zu: ret %d, %zu messages, expected %zu\n", i, ret, ms.n, want);
			msgs_dump(&ms);
			fail();
		}
		if (!want) {
			assert_int_equal(cfg.n_tunnels, 2001);
			conf_free(&cfg);
		}
		msgs_free(&ms);
		free(text);
	}
}

static void test_broken_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(broken_table) / sizeof(broken_table[0]); i++) {
		struct gresec_config cfg;
		struct msgs ms = { 0 };
		int ret;

		memset(&cfg, 0xa5, sizeof(cfg));
		ret = conf_load_string("test.conf", broken_table[i].text, &cfg, collect, &ms);
		if (ret != -1 || ms.n != 1 || !msgs_has(&ms, broken_table[i].expect)) {
			print_message("case %zu: ret %d, %zu messages, expected exactly one with:\n  %s\n",
				      i, ret, ms.n, broken_table[i].expect);
			msgs_dump(&ms);
			fail();
		}
		assert_true(is_zero(&cfg, sizeof(cfg)));
		msgs_free(&ms);
	}
}

static void test_all_problems_reported(void **state)
{
	static const char text[] =
		"tunnels = (\n"
		"  {\n"
		"    name = \"gre1\";\n"
		"    mode = \"plain\";\n"
		"    local = \"22.22.22.22\";\n"
		"    remote = \"33.33.33.33\";\n"
		"    mtu = 20;\n"
		"    adress = \"10.0.0.1/30\";\n"
		"  },\n"
		"  {\n"
		"    name = \"sec1\";\n"
		"    mode = \"secure\";\n"
		"    private_key_file = \"/k\";\n"
		"    peer_public_key = \"" KEY_A "\";\n"
		"    keepalive = 5;\n"
		"  }\n"
		");\n";
	struct gresec_config cfg;
	struct msgs ms = { 0 };

	(void)state;
	assert_int_equal(conf_load_string("test.conf", text, &cfg, collect, &ms), -1);
	if (ms.n != 3)
		msgs_dump(&ms);
	assert_int_equal(ms.n, 3);
	assert_true(msgs_has(&ms, "test.conf:7: tunnel \"gre1\": mtu: 20 is out of range 68..65535"));
	assert_true(msgs_has(&ms, "test.conf:8: tunnel \"gre1\": unknown setting \"adress\""));
	assert_true(msgs_has(&ms, "test.conf:15: tunnel \"sec1\": keepalive: only valid in plain mode"));
	assert_null(cfg.tunnels);
	msgs_free(&ms);
}

/* Problems come in the file's order, whichever check found them: the
 * checks between tunnels run after every tunnel's own checks. */
static void test_problems_in_line_order(void **state)
{
	static const char text[] =
		"tunnels = (\n"
		" { name = \"a1\"; mode = \"plain\"; local = \"10.0.0.1\"; remote = \"10.0.0.2\"; mtu = 99999; },\n"
		" { name = \"a2\"; mode = \"plain\"; local = \"10.0.0.1\"; remote = \"10.0.0.2\"; },\n"
		" { name = \"a1\"; mode = \"plain\"; local = \"10.0.0.1\"; remote = \"10.0.0.3\"; ttl = 999; },\n"
		" { name = \"a4\"; mode = \"plain\"; local = \"10.0.0.1\"; remote = \"10.0.0.4\"; bogus = 1; }\n"
		");\n";
	static const char *const want[] = {
		"test.conf:2: tunnel \"a1\": mtu: 99999",
		"test.conf:3: tunnel \"a2\": remote: local \"10.0.0.1\", remote \"10.0.0.2\"",
		"test.conf:4: tunnel \"a1\": ttl: 999",
		"test.conf:4: tunnel \"a1\": name: \"a1\" is already used",
		"test.conf:5: tunnel \"a4\": unknown setting \"bogus\"",
	};
	struct gresec_config cfg;
	struct msgs ms = { 0 };

	(void)state;
	assert_int_equal(conf_load_string("test.conf", text, &cfg, collect, &ms), -1);
	if (ms.n != sizeof(want) / sizeof(want[0]))
		msgs_dump(&ms);
	assert_int_equal(ms.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < ms.n; i++) {
		if (strncmp(ms.m[i], want[i], strlen(want[i])) != 0) {
			msgs_dump(&ms);
			fail_msg("message %zu: want \"%s...\"", i, want[i]);
		}
	}
	msgs_free(&ms);
}

/* Write text to a fresh temp file; returns its path in buf. */
static void temp_file(char *buf, size_t len, const char *text)
{
	int fd;

	snprintf(buf, len, "/tmp/gresec-test-config-XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void test_real_file(void **state)
{
	char path[64], expect[128];
	struct gresec_config cfg;
	struct msgs ms = { 0 };

	(void)state;
	temp_file(path, sizeof(path), PLAIN("  mtu = 1400;\n"));
	assert_int_equal(conf_load(path, &cfg, collect, &ms), 0);
	assert_int_equal(ms.n, 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.tunnels[0].mtu, 1400);
	conf_free(&cfg);
	assert_int_equal(unlink(path), 0);

	temp_file(path, sizeof(path), PLAIN("  key = 4294967296;\n"));
	assert_int_equal(conf_load(path, &cfg, collect, &ms), -1);
	snprintf(expect, sizeof(expect), "%s:6: tunnel \"gre1\": key: 4294967296 is out of range", path);
	assert_int_equal(ms.n, 1);
	assert_true(strncmp(ms.m[0], expect, strlen(expect)) == 0);
	msgs_free(&ms);
	assert_int_equal(unlink(path), 0);

	temp_file(path, sizeof(path), "tunnels = (\n  { name = ; }\n);\n");
	assert_int_equal(conf_load(path, &cfg, collect, &ms), -1);
	snprintf(expect, sizeof(expect), "%s:2: syntax error", path);
	assert_int_equal(ms.n, 1);
	assert_true(strncmp(ms.m[0], expect, strlen(expect)) == 0);
	msgs_free(&ms);
	assert_int_equal(unlink(path), 0);

	/* the file is gone now */
	assert_int_equal(conf_load(path, &cfg, collect, &ms), -1);
	assert_int_equal(ms.n, 1);
	snprintf(expect, sizeof(expect), "%s: cannot open: ", path);
	assert_true(strncmp(ms.m[0], expect, strlen(expect)) == 0);
	assert_true(is_zero(&cfg, sizeof(cfg)));
	msgs_free(&ms);

	assert_int_equal(conf_load("/tmp", &cfg, collect, &ms), -1);
	assert_true(msgs_has(&ms, "/tmp: not a regular file"));
	msgs_free(&ms);
}

static void test_examples(void **state)
{
	char dir[4096];
	DIR *d;
	struct dirent *e;
	int loaded = 0;
	bool seen_secure = false, seen_gretap = false;

	(void)state;
	assert_non_null(srcdir_path(dir, sizeof(dir), "conf/examples"));
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s (top_srcdir: the tree)", dir);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[4096];
		struct gresec_config cfg;
		struct msgs ms = { 0 };
		size_t i;
		int ret;

		if (n < 5 || strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ret = conf_load(path, &cfg, collect, &ms);
		if (ret != 0)
			msgs_dump(&ms);
		assert_int_equal(ret, 0);
		assert_true(cfg.n_tunnels > 0);
		for (i = 0; i < cfg.n_tunnels; i++) {
			seen_secure |= cfg.tunnels[i].mode == TUNNEL_MODE_SECURE;
			seen_gretap |= cfg.tunnels[i].type == TUNNEL_TYPE_GRETAP;
			assert_true(cfg.tunnels[i].mtu >= 1280);
		}
		if (strcmp(e->d_name, "plain-gre.conf") == 0) {
			assert_string_equal(cfg.tunnels[0].name, "gre1");
			assert_int_equal(cfg.tunnels[0].mtu, conf_default_mtu(&cfg.tunnels[0]));
		}
		conf_free(&cfg);
		msgs_free(&ms);
		loaded++;
	}
	closedir(d);
	assert_true(loaded >= 3);
	assert_true(seen_secure);
	assert_true(seen_gretap);
}

/* ---- MTU ---- */

static struct tunnel_config mtu_tunnel(enum tunnel_mode mode, enum tunnel_type type, int family,
				       bool csum, bool key, bool seq)
{
	struct tunnel_config t;

	memset(&t, 0, sizeof(t));
	t.mode = mode;
	t.type = type;
	t.local.family = family;
	t.remote.family = family;
	t.checksum = csum;
	t.has_ikey = t.has_okey = key;
	t.sequence = seq;
	return t;
}

static void test_default_mtu(void **state)
{
	/* family: the underlay's; inner: gre_local's (secure; AF_UNSPEC =
	 * derived, IPv4) */
	static const struct {
		enum tunnel_mode mode;
		enum tunnel_type type;
		int family, inner;
		bool csum, key, seq;
		uint32_t mtu;
	} table[] = {
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRE, AF_INET, 0, false, false, false, 1476 },
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRE, AF_INET, 0, false, true, false, 1472 },
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRE, AF_INET, 0, true, true, true, 1464 },
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRE, AF_INET6, 0, false, false, false, 1456 },
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRETAP, AF_INET, 0, false, false, false, 1462 },
		{ TUNNEL_MODE_PLAIN, TUNNEL_TYPE_GRETAP, AF_INET6, 0, true, true, true, 1430 },
		/* secure: 1420 (WireGuard MTU) - inner IP - GRE - Ethernet */
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_INET, AF_UNSPEC, false, false, false, 1396 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_INET, AF_UNSPEC, false, true, false, 1392 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_INET6, AF_UNSPEC, false, false, false, 1396 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_UNSPEC, AF_UNSPEC, false, false, false, 1396 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_INET, AF_INET, false, false, false, 1396 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRE, AF_INET, AF_INET6, false, false, false, 1376 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRETAP, AF_INET, AF_UNSPEC, false, false, false, 1382 },
		{ TUNNEL_MODE_SECURE, TUNNEL_TYPE_GRETAP, AF_INET6, AF_INET6, true, true, true, 1350 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct tunnel_config t = mtu_tunnel(table[i].mode, table[i].type, table[i].family,
						    table[i].csum, table[i].key, table[i].seq);

		t.gre_local.family = t.gre_remote.family = table[i].inner;
		if (conf_default_mtu(&t) != table[i].mtu)
			print_message("case %zu: got %u\n", i, conf_default_mtu(&t));
		assert_int_equal(conf_default_mtu(&t), table[i].mtu);
	}

	/* Secure: an MTU-sized packet makes an inner IP packet of exactly the
	 * WireGuard MTU, whose datagram (padding stops at the MTU) fits 1500
	 * bytes over either underlay. */
	for (i = 0; i < 2 * 2 * 2 * 8; i++) {
		int inner = (i & 1) ? AF_INET6 : AF_INET;
		enum tunnel_type type = (i & 2) ? TUNNEL_TYPE_GRETAP : TUNNEL_TYPE_GRE;
		bool csum = i & 8, key = i & 16, seq = i & 32;
		struct tunnel_config t = mtu_tunnel(TUNNEL_MODE_SECURE, type, AF_INET, csum, key, seq);
		uint32_t gre = 4 + 4 * (csum + key + seq), eth = type == TUNNEL_TYPE_GRETAP ? 14 : 0;
		uint32_t ip = inner == AF_INET ? 20 : 40;

		t.gre_local.family = t.gre_remote.family = inner;
		assert_int_equal(conf_default_mtu(&t) + gre + eth + ip, 1420);
		assert_true(40 + 8 + 16 + 1420 + 16 <= 1500);
	}
}

/* ---- equality ---- */

static void test_tunnel_equal(void **state)
{
	struct gresec_config cfg;
	struct tunnel_config a, b;

	(void)state;
	load_ok(SECURE("  local = \"10.0.0.1\"; address = ( \"10.1.0.1/30\", \"fd00::1/64\" );\n"
		       "  routes = ( \"10.2.0.0/16\" ); peer_address = \"10.1.0.2\";\n"), &cfg);
	a = cfg.tunnels[0];
	conf_free(&cfg);

	b = a;
	assert_true(conf_tunnel_equal(&a, &b));
	b.line = 99;
	assert_true(conf_tunnel_equal(&a, &b));
	/* bytes past the used entries do not count */
	memset(&b.routes[1], 0x5a, sizeof(b.routes[1]));
	memset(&b.addresses[2], 0x5a, sizeof(b.addresses[2]));
	assert_true(conf_tunnel_equal(&a, &b));

#define DIFFERS(stmt) do { b = a; stmt; assert_false(conf_tunnel_equal(&a, &b)); } while (0)
	DIFFERS(b.name[0] = 'x');
	DIFFERS(strcpy(b.description, "d"));
	DIFFERS(b.mode = TUNNEL_MODE_PLAIN);
	DIFFERS(b.type = TUNNEL_TYPE_GRETAP);
	DIFFERS(b.local.u.bytes[3] ^= 1);
	DIFFERS(b.remote.family = AF_INET);
	DIFFERS(strcpy(b.device, "eth0"));
	DIFFERS(b.addresses[1].len = 65);
	DIFFERS(b.addresses[0].addr.u.bytes[0] ^= 1);
	DIFFERS(b.n_addresses = 1);
	DIFFERS(b.peer_addresses[0].u.bytes[3] ^= 1);
	DIFFERS(b.n_peer_addresses = 0);
	DIFFERS(b.routes[0].len = 17);
	DIFFERS(b.n_routes = 0);
	DIFFERS(b.mtu++);
	DIFFERS(b.ttl = 0);
	DIFFERS(b.tos = -1);
	DIFFERS(b.datapath = DATAPATH_KERNEL);
	DIFFERS(b.datapath = DATAPATH_USER);
	DIFFERS(b.has_ikey = true);
	DIFFERS((b.has_okey = true, b.okey = 5));
	DIFFERS(b.checksum = true);
	DIFFERS(b.sequence = true);
	DIFFERS(b.clamp_mss = true);
	DIFFERS(b.keepalive_interval = 1);
	DIFFERS(b.keepalive_retries = 1);
	DIFFERS(strcpy(b.private_key_file, "/other"));
	DIFFERS(strcpy(b.preshared_key_file, "/psk"));
	DIFFERS(b.peer_public_key[31] ^= 1);
	DIFFERS(b.port++);
	DIFFERS(b.remote_port++);
	DIFFERS(b.persistent_keepalive = 25);
	DIFFERS(b.rekey_after_time = 1);
	DIFFERS(b.reject_after_time = 1);
	DIFFERS(b.keepalive_timeout = 1);
	DIFFERS(b.key_digest[CONF_KEY_LEN - 1] ^= 1);
#undef DIFFERS
}

/* ---- parse helpers ---- */

static void test_parse_helpers(void **state)
{
	static const char *const good_addr[] = { "1.2.3.4", "255.255.255.255", "::1", "fd00::1",
						 "::ffff:1.2.3.4", "2001:db8:0:0:0:0:0:1" };
	static const char *const bad_addr[] = { "", "1.2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4x",
						"1.2.3.256", "1.2.3.4/32", "fd00::1%eth0", "::g", "localhost" };
	static const char *const bad_prefix[] = { "10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0/33",
						  "fd00::/129", "10.0.0.0/ 8", "10.0.0.0/8x", "10.0.0.0/-1",
						  "10.0.0.0/+8", "10.0.0/8", "10.0.0.0/8/8", "10.0.0.0/1000" };
	struct ip_addr a;
	struct ip_prefix p;
	enum log_level l;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_addr) / sizeof(good_addr[0]); i++)
		assert_int_equal(ip_addr_parse(good_addr[i], &a), 0);
	for (i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		if (ip_addr_parse(bad_addr[i], &a) != -1)
			print_message("accepted \"%s\"\n", bad_addr[i]);
		assert_int_equal(ip_addr_parse(bad_addr[i], &a), -1);
		assert_int_equal(a.family, AF_UNSPEC);
	}
	assert_int_equal(ip_addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(ntohl(a.u.v4.s_addr), 0xc0000201);
	assert_int_equal(ip_addr_parse("fd00::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.u.bytes[0], 0xfd);
	assert_int_equal(a.u.bytes[15], 1);
	assert_string_equal(ip_addr_str(&a, buf, sizeof(buf)), "fd00::1");

	assert_int_equal(ip_prefix_parse("10.1.2.3/8", &p), 0);
	assert_int_equal(p.len, 8);
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.addr.u.bytes[3], 3); /* host bits kept */
	assert_int_equal(ip_prefix_parse("0.0.0.0/0", &p), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(ip_prefix_parse("10.0.0.0/32", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(ip_prefix_parse("::/0", &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(ip_prefix_parse("fd00::/128", &p), 0);
	assert_int_equal(p.len, 128);
	for (i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++) {
		if (ip_prefix_parse(bad_prefix[i], &p) != -1)
			print_message("accepted \"%s\"\n", bad_prefix[i]);
		assert_int_equal(ip_prefix_parse(bad_prefix[i], &p), -1);
	}

	assert_int_equal(conf_log_level_parse("warning", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(conf_log_level_parse("notice", &l), 0);
	assert_int_equal(l, LOG_LEVEL_NOTICE);
	assert_int_equal(conf_log_level_parse("warn", &l), -1);
	assert_int_equal(conf_log_level_parse("INFO", &l), -1);
	assert_string_equal(conf_log_level_name(LOG_LEVEL_DEBUG), "debug");
	assert_string_equal(conf_log_level_name(LOG_LEVEL_ERR), "err");
	assert_string_equal(conf_mode_name(TUNNEL_MODE_SECURE), "secure");
	assert_string_equal(conf_mode_name(TUNNEL_MODE_PLAIN), "plain");
	assert_string_equal(conf_type_name(TUNNEL_TYPE_GRETAP), "gretap");
	assert_string_equal(conf_type_name(TUNNEL_TYPE_GRE), "gre");
}

/* Literals are widened without touching strings, comments or floats. */
static void test_literal_widening(void **state)
{
	struct gresec_config cfg;
	struct msgs ms = { 0 };

	(void)state;
	load_ok("/* 99999999999999999999 */ // 4294967296\n"
		PLAIN("  description = \"4294967296 \\\"12345678901\\\"\";\n  okey = 2147483648;\n"
		      "  ikey = 4294967295L;\n"), &cfg);
	assert_string_equal(cfg.tunnels[0].description, "4294967296 \"12345678901\"");
	assert_int_equal(cfg.tunnels[0].okey, 2147483648u);
	assert_int_equal(cfg.tunnels[0].ikey, 4294967295u);
	conf_free(&cfg);

	/* a float with many digits stays a float (and is refused as such) */
	assert_int_equal(conf_load_string("test.conf", PLAIN("  mtu = 1.23456789012e3;\n"), &cfg,
					  collect, &ms), -1);
	assert_int_equal(ms.n, 1);
	assert_true(msgs_has(&ms, "mtu: expected an integer, got a float"));
	msgs_free(&ms);

	assert_int_equal(conf_load_string("test.conf", PLAIN("  mtu = -99999999999999999999;\n"), &cfg,
					  collect, &ms), -1);
	assert_int_equal(ms.n, 1);
	assert_true(msgs_has(&ms, "test.conf:6: tunnel \"gre1\": mtu: -99999999999999999999 is out of range 68..65535"));
	msgs_free(&ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_minimal),
		cmocka_unit_test(test_plain_full),
		cmocka_unit_test(test_single_string_forms_and_keys),
		cmocka_unit_test(test_secure_minimal),
		cmocka_unit_test(test_secure_full),
		cmocka_unit_test(test_several_tunnels),
		cmocka_unit_test(test_address_rules_allow),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_broken_table),
		cmocka_unit_test(test_many_tunnels),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_problems_in_line_order),
		cmocka_unit_test(test_real_file),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_default_mtu),
		cmocka_unit_test(test_tunnel_equal),
		cmocka_unit_test(test_datapath_tos),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test(test_literal_widening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
