/* conf/validate.c: the rules between the settings of one tunnel and
 * between tunnels, including what the kernel would accept silently and do
 * something else with (an address whose prefix does not hold its peer, a
 * route that covers the tunnel's own remote, the same address twice). */
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
		conf_sproblem(&tp->sc, "reject_after_time", tp->line[K_REJECT_AFTER_TIME],
			      "%u must be greater than rekey_after_time %u", reject, rekey);
	else if (reject_set)
		conf_sproblem(&tp->sc, "reject_after_time", tp->line[K_REJECT_AFTER_TIME],
			      "%u must be greater than rekey_after_time (default %u)", reject, rekey);
	else
		conf_sproblem(&tp->sc, "rekey_after_time", tp->line[K_REKEY_AFTER_TIME],
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
			conf_sproblem(&tp->sc, "gre_remote", t->line,
				      "missing (gre_local is set: give the peer's WireGuard address too, or neither)");
		if (tp->ok[K_GRE_REMOTE] && !tp->line[K_GRE_LOCAL])
			conf_sproblem(&tp->sc, "gre_local", t->line,
				      "missing (gre_remote is set: give this end's WireGuard address too, or neither)");
		return;
	}
	if (t->gre_local.family != t->gre_remote.family)
		conf_sproblem(&tp->sc, "gre_remote", tp->line[K_GRE_REMOTE], "\"%s\" is %s but gre_local \"%s\" is %s",
			      ip_addr_str(&t->gre_remote, a1, sizeof(a1)), conf_family_name(t->gre_remote.family),
			      ip_addr_str(&t->gre_local, a2, sizeof(a2)), conf_family_name(t->gre_local.family));
	else if (ip_addr_equal(&t->gre_local, &t->gre_remote))
		conf_sproblem(&tp->sc, "gre_remote", tp->line[K_GRE_REMOTE], "\"%s\" is the same as gre_local",
			      ip_addr_str(&t->gre_remote, a1, sizeof(a1)));
}


static unsigned host_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* a lies in prefix p (same family). */
static bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	size_t n = conf_addr_len(p->addr.family), i;

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

	conf_prefix_host_bits_zero(&p, &masked);
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
		conf_sproblem(sc, "remote", tp->line[K_REMOTE],
			      "\"%s\" is the same as local: the peer must be another host",
			      ip_addr_str(&t->remote, a1, sizeof(a1)));

	if (tp->ok[K_PEER_ADDRESS] && t->n_peer_addresses && t->type == TUNNEL_TYPE_GRETAP) {
		conf_sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
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
					conf_sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
						      "\"%s\" is also this end's address (address \"%s/%u\"): "
						      "the peer needs an address of its own",
						      ip_addr_str(peer, a1, sizeof(a1)),
						      ip_addr_str(&a->addr, a2, sizeof(a2)), a->len);
					break;
				}
				/* A host-length address with a peer anywhere is the
				 * unnumbered form (ip addr add A/32 peer B): fine. */
				if (a->len < host_len(peer->family) && !prefix_contains(a, peer)) {
					conf_sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
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
			conf_sproblem(sc, "routes", tp->line[K_ROUTES],
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
void conf_record_lines(struct tparse *tp)
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
		conf_sproblem(&tp->sc, "datapath", line,
			      "\"kernel\" is for plain mode only: secure mode runs in user space "
			      "(use \"auto\" or \"user\")");
		return;
	}
	if (tp->ok[K_CLAMP_MSS] && t->clamp_mss)
		conf_sproblem(&tp->sc, "datapath", line,
			      "\"kernel\" cannot clamp the MSS (clamp_mss on line %d): the kernel's GRE has no "
			      "MSS clamping; use datapath = \"user\", or remove clamp_mss and clamp with "
			      "nftables (docs/nftables/clamp-mss.nft)", tp->line[K_CLAMP_MSS]);
	if (tp->ok[K_KEEPALIVE] && t->keepalive_interval > 0 && tp->ok[K_SEQUENCE] && t->sequence)
		conf_sproblem(&tp->sc, "datapath", line,
			      "\"kernel\" cannot send keepalives with sequence numbers (keepalive on line %d, "
			      "sequence on line %d): the kernel numbers the tunnel's packets itself, and "
			      "keepalives numbered beside it would make the peer drop them; use datapath = "
			      "\"user\", or turn sequence off", tp->line[K_KEEPALIVE], tp->line[K_SEQUENCE]);
}

/* Rules between the settings of one tunnel. */
void conf_check_tunnel(struct tparse *tp)
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
		conf_sproblem(sc, "name", t->line, "missing");
	if (!tp->line[K_MODE])
		conf_sproblem(sc, "mode", t->line, "missing (one of \"plain\", \"secure\")");

	for (k = 0; k < K__COUNT; k++) {
		if (!tp->line[k])
			continue;
		if ((conf_tunnel_keys[k].scope == SECURE_ONLY && plain) ||
		    (conf_tunnel_keys[k].scope == PLAIN_ONLY && secure)) {
			conf_sproblem(sc, conf_tunnel_keys[k].name, tp->line[k], "only valid in %s mode",
				      conf_tunnel_keys[k].scope == SECURE_ONLY ? "secure" : "plain");
			tp->ok[k] = false;
		}
	}

	if (plain) {
		if (!tp->line[K_LOCAL])
			conf_sproblem(sc, "local", t->line, "missing (required in plain mode)");
		if (!tp->line[K_REMOTE])
			conf_sproblem(sc, "remote", t->line, "missing (required in plain mode)");
	}
	if (secure) {
		if (!tp->line[K_PRIVATE_KEY_FILE])
			conf_sproblem(sc, "private_key_file", t->line, "missing (required in secure mode)");
		if (!tp->line[K_PEER_PUBLIC_KEY])
			conf_sproblem(sc, "peer_public_key", t->line, "missing (required in secure mode)");
	}
	if (tp->ok[K_LOCAL] && tp->ok[K_REMOTE] && t->local.family != t->remote.family)
		conf_sproblem(sc, "remote", tp->line[K_REMOTE], "\"%s\" is %s but local \"%s\" is %s",
			      ip_addr_str(&t->remote, a1, sizeof(a1)), conf_family_name(t->remote.family),
			      ip_addr_str(&t->local, a2, sizeof(a2)), conf_family_name(t->local.family));

	if (tp->line[K_KEY] && (tp->line[K_IKEY] || tp->line[K_OKEY])) {
		conf_sproblem(sc, "key", tp->line[K_KEY], "cannot be combined with %s",
			      tp->line[K_IKEY] ? "ikey" : "okey");
		tp->ok[K_KEY] = false;
	}

	if (tp->ok[K_PEER_ADDRESS]) {
		for (i = 0; i < t->n_peer_addresses; i++) {
			if (!has_family(t, t->peer_addresses[i].family)) {
				conf_sproblem(sc, "peer_address", tp->line[K_PEER_ADDRESS],
					      "\"%s\" is %s but the tunnel has no %s address",
					      ip_addr_str(&t->peer_addresses[i], a1, sizeof(a1)),
					      conf_family_name(t->peer_addresses[i].family),
					      conf_family_name(t->peer_addresses[i].family));
				tp->ok[K_PEER_ADDRESS] = false;
			}
		}
	}

	if (tp->ok[K_MTU] && tp->ok[K_ADDRESS] && has_family(t, AF_INET6) && t->mtu < MTU_MIN_IPV6)
		conf_sproblem(sc, "mtu", tp->line[K_MTU], "%u is below %d, the minimum for IPv6", t->mtu,
			      MTU_MIN_IPV6);

	if (plain && tp->ok[K_KEEPALIVE] && t->keepalive_interval > 0 &&
	    ((tp->ok[K_LOCAL] && t->local.family != AF_INET) ||
	     (tp->ok[K_REMOTE] && t->remote.family != AF_INET)))
		conf_sproblem(sc, "keepalive", tp->line[K_KEEPALIVE],
			      "GRE keepalives need an IPv4 underlay (local and remote)");

	if (tp->ok[K_DATAPATH] && t->datapath == DATAPATH_KERNEL)
		check_kernel_datapath(tp, secure);
	if (tp->ok[K_MAC] && tp->ok[K_TYPE] && t->type != TUNNEL_TYPE_GRETAP)
		conf_sproblem(sc, "mac", tp->line[K_MAC], "only for type \"gretap\" (a gre link has no MAC address)");
	else if (tp->ok[K_MAC] && !tp->line[K_TYPE])
		conf_sproblem(sc, "mac", tp->line[K_MAC], "only for type \"gretap\" (the type is \"gre\" by default)");
	if (secure)
		check_timers(tp);
	if (secure)
		check_gre_addresses(tp);
	check_link_addresses(tp);
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
void conf_check_tunnels(struct tparse *tps, size_t n)
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
			conf_problem(tps[0].sc.L, 0, "out of memory");
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
			conf_sproblem(&b->sc, "name", b->line[K_NAME],
				      "\"%s\" is already used by the tunnel on line %d",
				      tb->name, tps[dup_name[i]].t->line);
		if (dup_plain[i] != SIZE_MAX) {
			ta = tps[dup_plain[i]].t;
			conf_sproblem(&b->sc, "remote", b->line[K_REMOTE],
				      "local \"%s\", remote \"%s\" and %s are the same as tunnel \"%s\" (line %d); "
				      "received packets could not be told apart",
				      ip_addr_str(&tb->local, a1, sizeof(a1)),
				      ip_addr_str(&tb->remote, a2, sizeof(a2)),
				      tb->has_ikey ? "the key" : "no key", ta->name, ta->line);
		}
		if (other_local[i] != SIZE_MAX) {
			const struct tparse *a = &tps[other_local[i]];

			ta = a->t;
			conf_sproblem(&b->sc, "port", kline(b, K_PORT),
				      "%u is shared with tunnel \"%s\" (line %d) whose local is \"%s\", not \"%s\"; "
				      "tunnels sharing a port need the same local address",
				      port_of(b), ta->name, ta->line,
				      ip_addr_str(&ta->local, a1, sizeof(a1)),
				      ip_addr_str(&tb->local, a2, sizeof(a2)));
		}
		if (dup_key[i] != SIZE_MAX) {
			ta = tps[dup_key[i]].t;
			conf_sproblem(&b->sc, "peer_public_key", b->line[K_PEER_PUBLIC_KEY],
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
void conf_check_tunnels_addresses(struct tparse *tps, size_t n)
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
		conf_problem(tps[0].sc.L, 0, "out of memory");
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
		conf_sproblem(&b->sc, "address", b->line[K_ADDRESS],
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
