/* crypto/ratelimiter.c: per-source token bucket (see ratelimiter.h). */
#include "crypto/ratelimiter.h"

#include <assert.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

static_assert(crypto_shorthash_KEYBYTES == 16, "SipHash key");

/* Key: ::ffff:a.b.c.d for IPv4 (and v4-mapped IPv6), the /64 for IPv6. */
static bool source_key(uint8_t key[RATELIMIT_KEY_LEN], const struct sockaddr *src)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(key, 0, RATELIMIT_KEY_LEN);
	switch (src->sa_family) {
	case AF_INET:
		memcpy(&sin, src, sizeof(sin));
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin.sin_addr, 4);
		return true;
	case AF_INET6:
		memcpy(&sin6, src, sizeof(sin6));
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr))
			memcpy(key, &sin6.sin6_addr, 16);
		else
			memcpy(key, &sin6.sin6_addr, 8);
		return true;
	default:
		return false;
	}
}

void ratelimiter_init(struct ratelimiter *rl)
{
	memset(rl, 0, sizeof(*rl));
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
}

static bool idle(const struct ratelimit_entry *e, uint64_t now_ns)
{
	return !e->used || (now_ns >= e->last_ns && now_ns - e->last_ns >= RATELIMIT_IDLE_NS);
}

bool ratelimiter_allow(struct ratelimiter *rl, const struct sockaddr *src, uint64_t now_ns)
{
	uint8_t key[RATELIMIT_KEY_LEN], h[crypto_shorthash_BYTES];
	struct ratelimit_entry *set, *e, *slot = NULL;
	uint64_t hash, elapsed;
	size_t i;

	if (!source_key(key, src))
		return false;
	crypto_shorthash(h, key, sizeof(key), rl->hash_key);
	memcpy(&hash, h, sizeof(hash));
	set = rl->entries + (size_t)(hash % RATELIMIT_SETS) * RATELIMIT_WAYS;

	for (i = 0; i < RATELIMIT_WAYS; i++) {
		e = &set[i];
		if (e->used && memcmp(e->key, key, sizeof(key)) == 0)
			goto found;
		if (!slot && idle(e, now_ns))
			slot = e;
	}
	if (!slot)
		return false;   /* set full of active sources: fail closed */
	memcpy(slot->key, key, sizeof(key));
	slot->used = true;
	slot->last_ns = now_ns;
	slot->tokens = RATELIMIT_TOKEN_MAX_NS - RATELIMIT_PACKET_COST_NS;
	return true;

found:
	/* A clock going backwards refills nothing. */
	elapsed = now_ns > e->last_ns ? now_ns - e->last_ns : 0;
	if (elapsed > RATELIMIT_TOKEN_MAX_NS)
		elapsed = RATELIMIT_TOKEN_MAX_NS;
	e->tokens += elapsed;
	if (e->tokens > RATELIMIT_TOKEN_MAX_NS)
		e->tokens = RATELIMIT_TOKEN_MAX_NS;
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	if (e->tokens < RATELIMIT_PACKET_COST_NS)
		return false;
	e->tokens -= RATELIMIT_PACKET_COST_NS;
	return true;
}

size_t ratelimiter_active(const struct ratelimiter *rl, uint64_t now_ns)
{
	size_t i, n = 0;

	for (i = 0; i < RATELIMIT_ENTRIES; i++)
		if (!idle(&rl->entries[i], now_ns))
			n++;
	return n;
}
