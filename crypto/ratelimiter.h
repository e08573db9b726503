/* crypto/ratelimiter.h: per-source token bucket for handshake messages.
 *
 * Like WireGuard's ratelimiter.c: each source may send
 * RATELIMIT_PACKETS_PER_SECOND with bursts of RATELIMIT_BURST.  IPv4
 * sources are keyed by address, IPv6 sources by their /64 (one host
 * usually owns a whole /64); IPv4-mapped IPv6 counts as IPv4.  Ports are
 * ignored.
 *
 * Memory is one fixed table, allocated with the struct: a set-associative
 * hash (keyed SipHash, so sources cannot be aimed at one set) of
 * RATELIMIT_SETS x RATELIMIT_WAYS entries.  An entry idle for
 * RATELIMIT_IDLE_NS has a full bucket again, so it is as good as absent and
 * is reused.  When a set holds only active sources a new source is refused
 * (fail closed, as WireGuard does when its table is full): a flood of
 * spoofed sources can neither grow memory nor reset the buckets of sources
 * already being limited.  Run it after the cookie check under load, where
 * mac2 proves the source address, so spoofed floods do not reach it.
 */
#ifndef GRESEC_CRYPTO_RATELIMITER_H
#define GRESEC_CRYPTO_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	RATELIMIT_PACKETS_PER_SECOND = 20,
	RATELIMIT_BURST   = 5,
	RATELIMIT_WAYS    = 8,
	RATELIMIT_SETS    = 1024,
	RATELIMIT_ENTRIES = RATELIMIT_SETS * RATELIMIT_WAYS,
	RATELIMIT_KEY_LEN = 16,
};

#define RATELIMIT_PACKET_COST_NS (UINT64_C(1000000000) / RATELIMIT_PACKETS_PER_SECOND)
#define RATELIMIT_TOKEN_MAX_NS   (RATELIMIT_PACKET_COST_NS * RATELIMIT_BURST)
#define RATELIMIT_IDLE_NS        RATELIMIT_TOKEN_MAX_NS

struct ratelimit_entry {
	uint8_t key[RATELIMIT_KEY_LEN];  /* v4-mapped IPv4 address or IPv6 /64 */
	uint64_t last_ns;
	uint64_t tokens;                 /* credit in nanoseconds, at most TOKEN_MAX */
	bool used;
};

struct ratelimiter {
	uint8_t hash_key[16];
	struct ratelimit_entry entries[RATELIMIT_ENTRIES];
};

/* Empty table, fresh random hash key (needs sodium_init first). */
void ratelimiter_init(struct ratelimiter *rl);

/* Charge one packet from src (AF_INET or AF_INET6) at now_ns (monotonic).
 * True: within the rate.  False: over it, table set full, or another
 * address family. */
bool ratelimiter_allow(struct ratelimiter *rl, const struct sockaddr *src, uint64_t now_ns);

/* Entries holding a source that is not yet idle at now_ns (for statistics and tests). */
size_t ratelimiter_active(const struct ratelimiter *rl, uint64_t now_ns);

#endif
