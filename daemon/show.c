/* daemon/show.c: `gresec show`: the state of the tunnels, for people
 * (text, and one line per tunnel with --brief) and for programs (JSON,
 * documented in gresec(8)).
 *
 * Every configured tunnel is shown, in the file's order, running or not.
 * What the kernel knows is read from the kernel (one RTM_GETLINK per
 * running tunnel: flags, operational state, MTU, MAC, counters), what
 * only gresecd knows (liveness, the session, addresses and routes it put
 * in place or could not, the last error, the next retry) from gresecd:
 * linear in the tunnels. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "crypto/keys.h"
#include "daemon/lifecycle.h"
#include "daemon/show.h"
#include "daemon/daemon.h"
#include "daemon/peer.h"
#include "daemon/secure.h"
#include "daemon/tunnel.h"
#include "daemon/watch.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000   /* linux/if.h, which clashes with net/if.h */
#endif
#ifndef IFF_DORMANT
#define IFF_DORMANT 0x20000
#endif

/* What one tunnel looks like now, gathered once for any output form. */
struct view {
	struct tunnel *t;
	bool up;                       /* TUNNEL_UP */
	bool secure;
	bool has_link;                 /* li read from the kernel */
	struct nl_link_info li;
	struct tunnel_counters ctr;
	struct secure_status ss;
	uint32_t mtu;                  /* the kernel's, else the configured one */
	bool carrier;
	const char *state;             /* JSON "state" (compatible) */
	const char *text_state;        /* for people */
	const char *liveness;          /* "alive", "dead", "unknown", NULL (not running) */
	const char *liveness_why;      /* text: how liveness is known, or why not */
	double last_rx_age;            /* seconds, < 0 never */
	double retry_in;               /* seconds, < 0 none */
	double last_error_age;         /* seconds, < 0 none */
	uint8_t mac[6];
	bool has_mac;
};

static const char *ip_str(const struct ip_addr *a, char *buf, size_t len)
{
	if (a->family == AF_UNSPEC)
		return NULL;
	return inet_ntop(a->family, a->u.bytes, buf, (socklen_t)len);
}

static double age_s(uint64_t then, uint64_t now)
{
	return then && now >= then ? (double)(now - then) / 1e9 : -1;
}

/* Whether the peer's liveness is measured: secure mode always; plain
 * mode with keepalives over IPv4 that can be sent. */
static bool keepalives_on(const struct tunnel *t)
{
	return t->cfg.keepalive_interval && t->cfg.local.family == AF_INET &&
	       (t->dp->kind == DATAPATH_USER || t->gre_sock);
}

static void gather(struct tunnel *t, struct view *v)
{
	uint64_t now = gresecd_now_ns();

	memset(v, 0, sizeof(*v));
	v->t = t;
	v->up = t->state == TUNNEL_UP;
	v->secure = t->cfg.mode == TUNNEL_MODE_SECURE;
	v->ss.state = SECURE_DOWN;
	v->ss.last_handshake_age = -1;
	v->last_rx_age = v->retry_in = v->last_error_age = -1;
	v->mtu = t->mtu;
	if (t->last_error[0])
		v->last_error_age = age_s(t->last_error_at, now);
	if (t->cfg.type == TUNNEL_TYPE_GRETAP) {
		tunnel_mac(&t->cfg, v->mac);
		v->has_mac = true;
	}
	if (!v->up) {
		v->state = v->text_state = "failed";
		v->retry_in = t->retry_at > now ? (double)(t->retry_at - now) / 1e9 : 0;
		return;
	}
	v->has_link = nl_link_get(&t->d->nl, t->ifindex, NULL, &v->li) == 0;
	if (!v->has_link)
		memset(&v->li, 0, sizeof(v->li));
	tunnel_counters(t, &v->ctr, &v->li);
	if (v->has_link) {
		if (v->li.mtu)
			v->mtu = v->li.mtu;
		if (v->li.has_hwaddr && t->cfg.type == TUNNEL_TYPE_GRETAP)
			memcpy(v->mac, v->li.hwaddr, sizeof(v->mac));
		if (t->dp->kind == DATAPATH_KERNEL && v->li.has_stats &&
		    v->li.stats.rx_packets != t->kernel_rx_seen) {
			t->kernel_rx_seen = v->li.stats.rx_packets;
			t->last_rx = now;
		}
	}
	/* The carrier routing daemons see: gresecd's, on a link that is up. */
	v->carrier = t->carrier && (!v->has_link ||
				    ((v->li.flags & IFF_UP) && (v->li.flags & IFF_LOWER_UP) && !v->li.proto_down));
	if (v->secure) {
		secure_status(t, &v->ss);
		if (t->peer)
			v->last_rx_age = age_s(t->peer->last_rx, now);
		v->liveness = t->carrier ? "alive" : "dead";
		v->liveness_why = t->carrier ? "authenticated packets from the peer" :
				  "the peer is silent (no authenticated packet)";
		/* "established" only while the peer is heard: a session key can
		 * outlive the peer by minutes. */
		if (v->ss.state == SECURE_ESTABLISHED && v->carrier)
			v->state = "established";
		else if (v->ss.state == SECURE_HANDSHAKING || t->has_remote)
			v->state = "handshaking";
		else
			v->state = "down";
		v->text_state = v->state;
	} else {
		v->last_rx_age = age_s(t->last_rx, now);
		v->state = v->carrier ? "up" : "down";
		if (keepalives_on(t)) {
			v->liveness = t->carrier ? "alive" : "dead";
			v->liveness_why = t->carrier ? "keepalives answered" : "keepalives unanswered";
			v->text_state = v->state;
		} else {
			v->liveness = "unknown";
			v->liveness_why = t->cfg.keepalive_interval ? "keepalives cannot be sent" :
					  "no keepalives";
			v->text_state = v->carrier ? "unknown liveness" : "down";
		}
	}
	if (t->admin_down)
		v->text_state = "down (set down by the administrator)";
}

static const char *item_state_name(const struct tunnel_item *it)
{
	switch (it->state) {
	case ITEM_INSTALLED: return "installed";
	case ITEM_FAILED: return "failed";
	default: return "pending";
	}
}

static const char *operstate_name(unsigned s)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant", "up" };
	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static void mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- JSON ---- */

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

static void json_opt_age(FILE *out, double s)
{
	if (s >= 0)
		fprintf(out, "%.1f", s);
	else
		fputs("null", out);
}

static void endpoint_str(const struct tunnel *t, char *buf, size_t len)
{
	if (t->state == TUNNEL_UP && t->has_remote)
		sockaddr_format(&t->remote, buf, len);
	else
		buf[0] = '\0';
}

static void kernel_stats_json(const struct view *v, FILE *out)
{
	const struct nl_link_stats *st = &v->li.stats;

	if (!v->up || v->t->dp->kind != DATAPATH_KERNEL || !v->li.has_stats) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"rx_errors\":%llu,\"rx_dropped\":%llu,\"rx_crc_errors\":%llu,"
		"\"rx_fifo_errors\":%llu,\"rx_frame_errors\":%llu,\"rx_length_errors\":%llu,"
		"\"tx_errors\":%llu,\"tx_dropped\":%llu,\"tx_carrier_errors\":%llu,\"collisions\":%llu,"
		"\"operstate\":%u}",
		(unsigned long long)st->rx_errors, (unsigned long long)st->rx_dropped,
		(unsigned long long)st->rx_crc_errors, (unsigned long long)st->rx_fifo_errors,
		(unsigned long long)st->rx_frame_errors, (unsigned long long)st->rx_length_errors,
		(unsigned long long)st->tx_errors, (unsigned long long)st->tx_dropped,
		(unsigned long long)st->tx_carrier_errors, (unsigned long long)st->collisions,
		v->li.operstate);
}

static void link_json(const struct view *v, FILE *out)
{
	static const struct { unsigned flag; const char *name; } flags[] = {
		{ IFF_UP, "UP" }, { IFF_BROADCAST, "BROADCAST" }, { IFF_POINTOPOINT, "POINTOPOINT" },
		{ IFF_MULTICAST, "MULTICAST" }, { IFF_NOARP, "NOARP" }, { IFF_RUNNING, "RUNNING" },
		{ IFF_LOWER_UP, "LOWER_UP" }, { IFF_DORMANT, "DORMANT" },
	};
	char m[32];
	bool first = true;

	if (!v->has_link) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"up\":%s,\"lower_up\":%s,\"operstate\":\"%s\",\"proto_down\":%s,\"mtu\":%u,\"flags\":[",
		v->li.flags & IFF_UP ? "true" : "false", v->li.flags & IFF_LOWER_UP ? "true" : "false",
		operstate_name(v->li.operstate), v->li.proto_down ? "true" : "false", v->li.mtu);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (v->li.flags & flags[i].flag) {
			fprintf(out, "%s\"%s\"", first ? "" : ",", flags[i].name);
			first = false;
		}
	fputs("],\"mac\":", out);
	if (v->li.has_hwaddr) {
		mac_str(v->li.hwaddr, m, sizeof(m));
		json_string(out, m);
	} else {
		fputs("null", out);
	}
	fputc('}', out);
}

static void items_json(const struct view *v, FILE *out)
{
	const struct tunnel *t = v->t;
	const struct tunnel_config *c = &t->cfg;
	char p[64], a[INET6_ADDRSTRLEN], why[96];

	fputs(",\"addresses\":[", out);
	for (size_t i = 0; i < c->n_addresses && i < CONF_MAX_ADDRESSES; i++) {
		const struct tunnel_item *it = &t->addr_st[i];
		const struct ip_addr *peer = conf_peer_address(c, c->addresses[i].addr.family);

		fprintf(out, "%s{\"address\":\"%s\",\"peer\":", i ? "," : "",
			ip_prefix_str(&c->addresses[i], p, sizeof(p)));
		json_opt_string(out, peer ? ip_str(peer, a, sizeof(a)) : NULL);
		fprintf(out, ",\"state\":\"%s\",\"error\":", v->up ? item_state_name(it) : "pending");
		json_opt_string(out, v->up && it->state != ITEM_INSTALLED ? tunnel_item_why(it, why, sizeof(why)) :
				NULL);
		fputc('}', out);
	}
	fputs("],\"routes\":[", out);
	for (size_t i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++) {
		const struct tunnel_item *it = &t->route_st[i];

		fprintf(out, "%s{\"route\":\"%s\",\"state\":\"%s\",\"error\":", i ? "," : "",
			ip_prefix_str(&c->routes[i], p, sizeof(p)), v->up ? item_state_name(it) : "pending");
		json_opt_string(out, v->up && it->state != ITEM_INSTALLED ? tunnel_item_why(it, why, sizeof(why)) :
				NULL);
		fputc('}', out);
	}
	fputc(']', out);
}

static void show_one_json(struct tunnel *t, FILE *out)
{
	struct view view, *v = &view;
	const struct tunnel_counters *c = &v->ctr;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ep[64], m[32], pk[KEYS_BASE64_LEN + 1];
	bool secure;

	gather(t, v);
	secure = v->secure;
	endpoint_str(t, ep, sizeof(ep));
	fputs("{\"name\":", out);
	json_string(out, t->cfg.name);
	fputs(",\"description\":", out);
	json_string(out, t->cfg.description);
	fprintf(out, ",\"mode\":\"%s\",\"type\":\"%s\",\"interface\":", conf_mode_name(t->cfg.mode),
		conf_type_name(t->cfg.type));
	json_string(out, v->up ? t->ifname : t->cfg.name);
	fprintf(out, ",\"ifindex\":%d,\"datapath\":", v->up ? t->ifindex : 0);
	json_opt_string(out, v->up ? t->dp->name : NULL);
	fprintf(out, ",\"datapath_setting\":\"%s\",\"datapath_reason\":", conf_datapath_name(t->cfg.datapath));
	json_opt_string(out, v->up ? t->dp_reason : NULL);
	fputs(",\"icmp_sink\":", out);
	json_opt_string(out, v->up && t->sink_ifindex ? t->sink_name : NULL);
	fputs(",\"kernel_stats\":", out);
	kernel_stats_json(v, out);
	fputs(",\"local\":", out);
	json_opt_string(out, ip_str(&t->cfg.local, a, sizeof(a)));
	fputs(",\"remote\":", out);
	json_opt_string(out, ip_str(&t->cfg.remote, b, sizeof(b)));
	fputs(",\"endpoint\":", out);
	json_opt_string(out, ep[0] ? ep : NULL);
	/* Added fields with nested "state" and "mtu" keys come before the
	 * tunnel's own, so that a consumer that takes the last match of a
	 * key in the text (sed) still finds the tunnel's. */
	fputs(",\"link\":", out);
	link_json(v, out);
	items_json(v, out);
	fprintf(out, ",\"state\":\"%s\",\"carrier\":%s,\"latest_handshake_age\":", v->state,
		v->carrier ? "true" : "false");
	if (secure && v->ss.last_handshake_age >= 0)
		fprintf(out, "%.1f", v->ss.last_handshake_age);
	else
		fputs("null", out);
	fprintf(out, ",\"mtu\":%u,\"ttl\":%d,\"tos\":", v->mtu, t->cfg.ttl);
	if (t->cfg.tos < 0)
		fputs("\"inherit\"", out);
	else
		fprintf(out, "%d", t->cfg.tos);
	fputs(",\"key\":", out);
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
		fprintf(out, ",\"keepalive\":%u,\"port\":%u,\"public_key\":", t->cfg.persistent_keepalive,
			t->cfg.port);
		json_opt_string(out, v->ss.public_key[0] ? v->ss.public_key : NULL);
		keys_to_base64(pk, t->cfg.peer_public_key);
		fputs(",\"peer_public_key\":", out);
		json_string(out, pk);
		fputs(",\"gre_local\":", out);
		json_opt_string(out, v->up ? ip_str(&v->ss.gre_local, a, sizeof(a)) : NULL);
		fputs(",\"gre_remote\":", out);
		json_opt_string(out, v->up ? ip_str(&v->ss.gre_remote, b, sizeof(b)) : NULL);
		fprintf(out, ",\"gre_addresses_derived\":%s,\"echo_replies\":%llu",
			t->cfg.gre_local.family == AF_UNSPEC ? "true" : "false",
			(unsigned long long)c->echo_replies);
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
	fputc('}', out);
	/* Added fields (gresec(8)): what is running, and how it stands. */
	fputs(",\"liveness\":", out);
	json_opt_string(out, v->liveness);
	if (secure) {
		fputs(",\"session\":", out);
		json_opt_string(out, !v->up ? NULL : v->ss.state == SECURE_ESTABLISHED ? "established" :
				v->ss.state == SECURE_HANDSHAKING ? "handshaking" : "down");
	}
	fputs(",\"last_rx_age\":", out);
	json_opt_age(out, v->last_rx_age);
	fprintf(out, ",\"mtu_configured\":%u,\"admin_down\":%s,\"local_assigned\":%s,\"mac\":",
		t->cfg.mtu ? t->cfg.mtu : conf_default_mtu(&t->cfg), t->admin_down ? "true" : "false",
		v->up && watch_local_missing(t) ? "false" : "true");
	if (v->has_mac) {
		mac_str(v->mac, m, sizeof(m));
		json_string(out, m);
	} else {
		fputs("null", out);
	}
	fputs(",\"last_error\":", out);
	json_opt_string(out, t->last_error[0] ? t->last_error : NULL);
	fputs(",\"last_error_age\":", out);
	json_opt_age(out, v->last_error_age);
	fprintf(out, ",\"failures\":%u,\"rebuilds\":%u,\"retry_in\":", t->failures, t->rebuilds);
	json_opt_age(out, v->retry_in);
	fputs(",\"up_for\":", out);
	json_opt_age(out, v->up ? age_s(t->up_since, gresecd_now_ns()) : -1);
	fputc('}', out);
}

void show_json(struct gresecd *d, const char *name, FILE *out)
{
	bool first = true;

	fputs("{\"version\":1,\"tunnels\":[", out);
	/* One tunnel by name: a hash lookup, not a walk of thousands. */
	if (name) {
		struct tunnel *t = tunnel_find(d, name);

		if (t)
			show_one_json(t, out);
		fputs("]}\n", out);
		return;
	}
	for (struct tunnel *t = d->tunnels; t; t = t->next) {
		if (!first)
			fputc(',', out);
		first = false;
		show_one_json(t, out);
	}
	fputs("]}\n", out);
}

/* ---- text ---- */

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

/* "0.4 s", "12 s", "3 min", "2 h", "5 days" */
static const char *ago(double s, char *buf, size_t len)
{
	if (s < 10)
		snprintf(buf, len, "%.1f s", s);
	else if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0f min", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.0f h", s / 3600);
	else
		snprintf(buf, len, "%.0f days", s / 86400);
	return buf;
}

static void items_text(const struct view *v, FILE *out)
{
	const struct tunnel *t = v->t;
	const struct tunnel_config *c = &t->cfg;
	char p[64], a[INET6_ADDRSTRLEN], why[96];

	if (c->n_addresses) {
		fputs("  addresses:", out);
		for (size_t i = 0; i < c->n_addresses && i < CONF_MAX_ADDRESSES; i++) {
			const struct tunnel_item *it = &t->addr_st[i];
			const struct ip_addr *peer = conf_peer_address(c, c->addresses[i].addr.family);

			fprintf(out, "%s %s", i ? "," : "", ip_prefix_str(&c->addresses[i], p, sizeof(p)));
			if (peer)
				fprintf(out, " peer %s", ip_str(peer, a, sizeof(a)));
			if (v->up && it->state != ITEM_INSTALLED)
				fprintf(out, " (%s: %s)", item_state_name(it), tunnel_item_why(it, why, sizeof(why)));
		}
		fputc('\n', out);
	}
	if (c->n_routes) {
		fputs("  routes:", out);
		for (size_t i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++) {
			const struct tunnel_item *it = &t->route_st[i];

			fprintf(out, "%s %s", i ? "," : "", ip_prefix_str(&c->routes[i], p, sizeof(p)));
			if (v->up && it->state != ITEM_INSTALLED)
				fprintf(out, " (%s: %s)", it->state == ITEM_FAILED ? "not installed" : "pending",
					tunnel_item_why(it, why, sizeof(why)));
		}
		fputc('\n', out);
	}
}

static void show_one_text(struct tunnel *t, FILE *out)
{
	struct view view, *v = &view;
	const struct tunnel_counters *c = &v->ctr;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ep[64], rx[32], tx[32], m[32], w[32];
	const char *la, *ra;
	bool any_drop = false;

	gather(t, v);
	endpoint_str(t, ep, sizeof(ep));
	la = ip_str(&t->cfg.local, a, sizeof(a));
	ra = ip_str(&t->cfg.remote, b, sizeof(b));
	fprintf(out, "tunnel: %s%s%s%s\n", t->cfg.name, t->cfg.description[0] ? " (" : "",
		t->cfg.description, t->cfg.description[0] ? ")" : "");
	fprintf(out, "  mode: %s %s, interface %s, mtu %u, state %s\n", conf_mode_name(t->cfg.mode),
		conf_type_name(t->cfg.type), v->up ? t->ifname : t->cfg.name, v->mtu, v->text_state);
	if (!v->up) {
		fprintf(out, "  error: %s", t->last_error[0] ? t->last_error : "not started yet");
		if (v->last_error_age >= 0)
			fprintf(out, " (%s ago, %u %s in a row)", ago(v->last_error_age, w, sizeof(w)),
				t->failures, t->failures == 1 ? "failure" : "failures");
		fputc('\n', out);
		fprintf(out, "  next attempt: in %s (or at once when what it waits for appears, or on "
			"gresec reload)\n", ago(v->retry_in, w, sizeof(w)));
	} else {
		fprintf(out, "  carrier: %s, liveness: %s (%s), last packet from the peer: ",
			v->carrier ? "up" : "down", v->liveness, v->liveness_why);
		if (v->last_rx_age >= 0)
			fprintf(out, "%s ago\n", ago(v->last_rx_age, w, sizeof(w)));
		else
			fputs("never\n", out);
		if (v->has_link) {
			fprintf(out, "  link: %s, %s, operstate %s", v->li.flags & IFF_UP ? "up" : "down",
				v->li.flags & IFF_LOWER_UP ? "lower up" : "no carrier",
				operstate_name(v->li.operstate));
			if (v->mtu != (t->cfg.mtu ? t->cfg.mtu : conf_default_mtu(&t->cfg)))
				fprintf(out, ", mtu %u (configured %u)", v->mtu,
					t->cfg.mtu ? t->cfg.mtu : conf_default_mtu(&t->cfg));
			if (v->has_mac) {
				mac_str(v->mac, m, sizeof(m));
				fprintf(out, ", mac %s%s", m, t->cfg.has_mac ? "" : " (derived)");
			}
			fputc('\n', out);
		}
		fprintf(out, "  data path: %s (%s)\n", t->dp->kind == DATAPATH_KERNEL ? "kernel" : "user space",
			t->dp_reason);
		if (t->sink_ifindex)
			fprintf(out, "  icmp sink: %s (%s is loaded; see gresecd(8))\n", t->sink_name,
				kgre_module(&t->cfg));
	}
	fprintf(out, "  local: %s%s  remote: %s", la ? la : "any",
		v->up && watch_local_missing(t) ? " (not assigned to this host now)" : "",
		ra ? ra : "(roaming)");
	if (v->secure && v->up)
		fprintf(out, "  endpoint: %s", ep[0] ? ep : "(none)");
	fputc('\n', out);
	items_text(v, out);
	if (v->up && t->last_error[0])
		fprintf(out, "  last error (%s ago): %s%s\n", ago(v->last_error_age, w, sizeof(w)), t->last_error,
			t->rebuilds ? "; made again" : "");
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
	if (!v->up)
		return;
	if (v->secure) {
		fprintf(out, "  public key: %s\n  peer public key: %s\n", v->ss.public_key, v->ss.peer_public_key);
		fprintf(out, "  wireguard addresses: %s -> %s%s\n", ip_str(&v->ss.gre_local, a, sizeof(a)),
			ip_str(&v->ss.gre_remote, b, sizeof(b)), v->ss.gre_derived ? " (derived from the keys)" : "");
		fprintf(out, "  session: %s, latest handshake: ", v->ss.state == SECURE_ESTABLISHED ? "established" :
			v->ss.state == SECURE_HANDSHAKING ? "handshaking" : "down");
		if (v->ss.last_handshake_age >= 0)
			fprintf(out, "%.0f seconds ago\n", v->ss.last_handshake_age);
		else
			fputs("never\n", out);
		if (v->ss.persistent_keepalive)
			fprintf(out, "  persistent keepalive: every %u seconds\n", v->ss.persistent_keepalive);
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
	if (t->dp->kind == DATAPATH_KERNEL && v->li.has_stats &&
	    (v->li.stats.rx_errors || v->li.stats.rx_dropped || v->li.stats.tx_errors || v->li.stats.tx_dropped))
		fprintf(out, "  kernel: rx errors %llu (checksum %llu, sequence %llu), rx dropped %llu, "
			"tx errors %llu (no route %llu), tx dropped %llu\n",
			(unsigned long long)v->li.stats.rx_errors, (unsigned long long)v->li.stats.rx_crc_errors,
			(unsigned long long)v->li.stats.rx_fifo_errors, (unsigned long long)v->li.stats.rx_dropped,
			(unsigned long long)v->li.stats.tx_errors, (unsigned long long)v->li.stats.tx_carrier_errors,
			(unsigned long long)v->li.stats.tx_dropped);
}

void show_text(struct gresecd *d, const char *name, FILE *out)
{
	bool first = true;

	if (name) {
		struct tunnel *t = tunnel_find(d, name);

		if (t)
			show_one_text(t, out);
		else
			fputs("no tunnels\n", out);
		return;
	}
	for (struct tunnel *t = d->tunnels; t; t = t->next) {
		if (!first)
			fputc('\n', out);
		first = false;
		show_one_text(t, out);
	}
	if (first)
		fputs("no tunnels\n", out);
}

/* ---- brief: one line per tunnel, like `ip -br link` ----
 *
 *   NAME            STATE          CARRIER  LIVENESS  LAST-RX   MTU    DETAILS
 * without a header; DETAILS: the addresses, then what is wrong. */

static void show_one_brief(struct tunnel *t, FILE *out)
{
	struct view view, *v = &view;
	const struct tunnel_config *c = &t->cfg;
	char rxa[24], p[64], why[96], w[32];
	const char *state;

	gather(t, v);
	if (!v->up) {
		fprintf(out, "%-15s %-14s %-7s %-8s %-8s %-5s retry in %s: %s\n", c->name, "failed", "-", "-",
			"-", "-", ago(v->retry_in, w, sizeof(w)), t->last_error[0] ? t->last_error : "not started");
		return;
	}
	state = t->admin_down ? "admin-down" : v->text_state;
	if (strcmp(state, "unknown liveness") == 0)
		state = "up";          /* the liveness column says the rest */
	if (v->last_rx_age >= 0)
		ago(v->last_rx_age, rxa, sizeof(rxa));
	else
		snprintf(rxa, sizeof(rxa), "never");
	fprintf(out, "%-15s %-14s %-7s %-8s %-8s %-5u", c->name, state, v->carrier ? "UP" : "DOWN",
		v->liveness, rxa, v->mtu);
	for (size_t i = 0; i < c->n_addresses && i < CONF_MAX_ADDRESSES; i++)
		fprintf(out, " %s", ip_prefix_str(&c->addresses[i], p, sizeof(p)));
	for (size_t i = 0; i < c->n_addresses && i < CONF_MAX_ADDRESSES; i++)
		if (t->addr_st[i].state != ITEM_INSTALLED)
			fprintf(out, " [address %s %s: %s]", ip_prefix_str(&c->addresses[i], p, sizeof(p)),
				item_state_name(&t->addr_st[i]), tunnel_item_why(&t->addr_st[i], why, sizeof(why)));
	for (size_t i = 0; i < c->n_routes && i < CONF_MAX_ROUTES; i++)
		if (t->route_st[i].state != ITEM_INSTALLED)
			fprintf(out, " [route %s %s: %s]", ip_prefix_str(&c->routes[i], p, sizeof(p)),
				t->route_st[i].state == ITEM_FAILED ? "not installed" : "pending",
				tunnel_item_why(&t->route_st[i], why, sizeof(why)));
	if (watch_local_missing(t))
		fputs(" [local address not assigned]", out);
	fputc('\n', out);
}

void show_brief(struct gresecd *d, const char *name, FILE *out)
{
	if (name) {
		struct tunnel *t = tunnel_find(d, name);

		if (t)
			show_one_brief(t, out);
		return;
	}
	for (struct tunnel *t = d->tunnels; t; t = t->next)
		show_one_brief(t, out);
}
