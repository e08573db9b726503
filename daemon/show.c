/* daemon/show.c: `gresec show`: the state of the tunnels, for people
 * (text) and for programs (JSON, documented in gresec(8)). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/secure.h"
#include "daemon/tunnel.h"

static const char *ip_str(const struct ip_addr *a, char *buf, size_t len)
{
	if (a->family == AF_UNSPEC)
		return NULL;
	return inet_ntop(a->family, a->u.bytes, buf, (socklen_t)len);
}

static const char *state_name(const struct tunnel *t, const struct secure_status *ss)
{
	if (t->cfg.mode == TUNNEL_MODE_SECURE) {
		switch (ss->state) {
		case SECURE_ESTABLISHED: return "established";
		case SECURE_HANDSHAKING: return "handshaking";
		default: return "down";
		}
	}
	return t->carrier ? "up" : "down";
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void json_opt_string(FILE *out, const char *s)
{
	if (s)
		json_string(out, s);
	else
		fputs("null", out);
}

static void endpoint_str(const struct tunnel *t, char *buf, size_t len)
{
	if (t->has_remote)
		sockaddr_format(&t->remote, buf, len);
	else
		buf[0] = '\0';
}

static void show_one_json(const struct tunnel *t, FILE *out)
{
	const struct tunnel_counters *c = &t->ctr;
	struct secure_status ss = { .state = SECURE_DOWN, .last_handshake_age = -1 };
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ep[64];
	bool secure = t->cfg.mode == TUNNEL_MODE_SECURE;

	if (secure)
		secure_status(t, &ss);
	endpoint_str(t, ep, sizeof(ep));
	fputs("{\"name\":", out);
	json_string(out, t->cfg.name);
	fputs(",\"description\":", out);
	json_string(out, t->cfg.description);
	fprintf(out, ",\"mode\":\"%s\",\"type\":\"%s\",\"interface\":", conf_mode_name(t->cfg.mode),
		conf_type_name(t->cfg.type));
	json_string(out, t->ifname);
	fprintf(out, ",\"ifindex\":%d,\"local\":", t->ifindex);
	json_opt_string(out, ip_str(&t->cfg.local, a, sizeof(a)));
	fputs(",\"remote\":", out);
	json_opt_string(out, ip_str(&t->cfg.remote, b, sizeof(b)));
	fputs(",\"endpoint\":", out);
	json_opt_string(out, ep[0] ? ep : NULL);
	fprintf(out, ",\"state\":\"%s\",\"carrier\":%s,\"latest_handshake_age\":", state_name(t, &ss),
		t->carrier ? "true" : "false");
	if (secure && ss.last_handshake_age >= 0)
		fprintf(out, "%.1f", ss.last_handshake_age);
	else
		fputs("null", out);
	fprintf(out, ",\"mtu\":%u,\"key\":", t->mtu);
	if (t->cfg.has_ikey || t->cfg.has_okey) {
		fputs("{\"ikey\":", out);
		if (t->cfg.has_ikey)
			fprintf(out, "%u", t->cfg.ikey);
		else
			fputs("null", out);
		fputs(",\"okey\":", out);
		if (t->cfg.has_okey)
			fprintf(out, "%u}", t->cfg.okey);
		else
			fputs("null}", out);
	} else {
		fputs("null", out);
	}
	fprintf(out, ",\"checksum\":%s,\"sequence\":%s", t->cfg.checksum ? "true" : "false",
		t->cfg.sequence ? "true" : "false");
	if (secure) {
		fprintf(out, ",\"keepalive\":%u,\"port\":%u,\"public_key\":\"%s\",\"peer_public_key\":\"%s\"",
			ss.persistent_keepalive, ss.port, ss.public_key, ss.peer_public_key);
		fputs(",\"gre_local\":", out);
		json_opt_string(out, ip_str(&ss.gre_local, a, sizeof(a)));
		fputs(",\"gre_remote\":", out);
		json_opt_string(out, ip_str(&ss.gre_remote, b, sizeof(b)));
		fprintf(out, ",\"gre_addresses_derived\":%s,\"echo_replies\":%llu",
			ss.gre_derived ? "true" : "false", (unsigned long long)c->echo_replies);
	} else
		fprintf(out, ",\"keepalive\":%u,\"keepalive_retries\":%u", t->cfg.keepalive_interval,
			t->cfg.keepalive_retries);
	fprintf(out, ",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,\"tx_bytes\":%llu",
		(unsigned long long)c->rx_packets, (unsigned long long)c->rx_bytes,
		(unsigned long long)c->tx_packets, (unsigned long long)c->tx_bytes);
	fprintf(out, ",\"keepalives_sent\":%llu,\"keepalives_received\":%llu,\"keepalives_reflected\":%llu,\"drops\":{",
		(unsigned long long)c->keepalives_sent, (unsigned long long)c->keepalives_received,
		(unsigned long long)c->keepalives_reflected);
	for (int i = 1; i < GRE_RESULT_MAX; i++)
		if (i != GRE_KEEPALIVE) /* an answer to our keepalive, not a drop */
			fprintf(out, "%s\"%s\":%llu", i > 1 ? "," : "", gre_result_name((enum gre_result)i),
				(unsigned long long)c->gre_drops[i]);
	for (int i = 0; i < DROP_REASON_MAX; i++)
		fprintf(out, ",\"%s\":%llu", drop_reason_name((enum drop_reason)i),
			(unsigned long long)c->drops[i]);
	fputs("}}", out);
}

void show_json(struct gresecd *d, const char *name, FILE *out)
{
	bool first = true;

	fputs("{\"version\":1,\"tunnels\":[", out);
	if (name) {
		const struct tunnel *t = tunnel_find(d, name);

		if (t)
			show_one_json(t, out);
		fputs("]}\n", out);
		return;
	}
	for (const struct tunnel *t = d->tunnels; t; t = t->next) {
		if (name && strcmp(name, t->cfg.name) != 0)
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		show_one_json(t, out);
	}
	fputs("]}\n", out);
}

static void human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", v, units[u]);
}

static void show_one_text(const struct tunnel *t, FILE *out)
{
	const struct tunnel_counters *c = &t->ctr;
	struct secure_status ss = { .state = SECURE_DOWN, .last_handshake_age = -1 };
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ep[64], rx[32], tx[32];
	const char *la, *ra;
	bool secure = t->cfg.mode == TUNNEL_MODE_SECURE;
	bool any_drop = false;

	if (secure)
		secure_status(t, &ss);
	endpoint_str(t, ep, sizeof(ep));
	la = ip_str(&t->cfg.local, a, sizeof(a));
	ra = ip_str(&t->cfg.remote, b, sizeof(b));
	fprintf(out, "tunnel: %s%s%s%s\n", t->cfg.name, t->cfg.description[0] ? " (" : "",
		t->cfg.description, t->cfg.description[0] ? ")" : "");
	fprintf(out, "  mode: %s %s, interface %s, mtu %u, state %s\n", conf_mode_name(t->cfg.mode),
		conf_type_name(t->cfg.type), t->ifname, t->mtu, state_name(t, &ss));
	fprintf(out, "  local: %s  remote: %s", la ? la : "any", ra ? ra : "(roaming)");
	if (secure)
		fprintf(out, "  endpoint: %s", ep[0] ? ep : "(none)");
	fputc('\n', out);
	if (t->cfg.has_ikey || t->cfg.has_okey || t->cfg.checksum || t->cfg.sequence) {
		fputs("  gre:", out);
		if (t->cfg.has_ikey)
			fprintf(out, " ikey %u", t->cfg.ikey);
		if (t->cfg.has_okey)
			fprintf(out, " okey %u", t->cfg.okey);
		if (t->cfg.checksum)
			fputs(" checksum", out);
		if (t->cfg.sequence)
			fputs(" sequence", out);
		fputc('\n', out);
	}
	if (secure) {
		fprintf(out, "  public key: %s\n  peer public key: %s\n", ss.public_key, ss.peer_public_key);
		fprintf(out, "  wireguard addresses: %s -> %s%s\n", ip_str(&ss.gre_local, a, sizeof(a)),
			ip_str(&ss.gre_remote, b, sizeof(b)), ss.gre_derived ? " (derived from the keys)" : "");
		if (ss.last_handshake_age >= 0)
			fprintf(out, "  latest handshake: %.0f seconds ago\n", ss.last_handshake_age);
		else
			fputs("  latest handshake: never\n", out);
		if (ss.persistent_keepalive)
			fprintf(out, "  persistent keepalive: every %u seconds\n", ss.persistent_keepalive);
	} else if (t->cfg.keepalive_interval) {
		fprintf(out, "  keepalive: every %u s, %u retries; sent %llu, answered %llu\n",
			t->cfg.keepalive_interval, t->cfg.keepalive_retries,
			(unsigned long long)c->keepalives_sent, (unsigned long long)c->keepalives_received);
	}
	human_bytes(c->rx_bytes, rx, sizeof(rx));
	human_bytes(c->tx_bytes, tx, sizeof(tx));
	fprintf(out, "  transfer: %s received (%llu packets), %s sent (%llu packets)\n", rx,
		(unsigned long long)c->rx_packets, tx, (unsigned long long)c->tx_packets);
	for (int i = 1; i < GRE_RESULT_MAX; i++)
		if (c->gre_drops[i]) {
			fprintf(out, "%s %s %llu", any_drop ? "," : "  drops:", gre_result_name((enum gre_result)i),
				(unsigned long long)c->gre_drops[i]);
			any_drop = true;
		}
	for (int i = 0; i < DROP_REASON_MAX; i++)
		if (c->drops[i]) {
			fprintf(out, "%s %s %llu", any_drop ? "," : "  drops:", drop_reason_name((enum drop_reason)i),
				(unsigned long long)c->drops[i]);
			any_drop = true;
		}
	if (any_drop)
		fputc('\n', out);
}

void show_text(struct gresecd *d, const char *name, FILE *out)
{
	bool first = true;

	if (name) {
		const struct tunnel *t = tunnel_find(d, name);

		if (t)
			show_one_text(t, out);
		else
			fputs("no tunnels\n", out);
		return;
	}
	for (const struct tunnel *t = d->tunnels; t; t = t->next) {
		if (name && strcmp(name, t->cfg.name) != 0)
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		show_one_text(t, out);
	}
	if (first)
		fputs("no tunnels\n", out);
}
