/* daemon/hashtab.h: a small hash table of pointers for the daemon's
 * lookups that must not grow with the number of tunnels (receiver index ->
 * peer, peer key -> peer, GRE source and key -> tunnel, name -> tunnel).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), a power-of-two capacity that doubles past 3/4 full and
 * halves below 1/8.  The table stores (hash, value) pairs and knows
 * nothing of keys: the owner hashes its key with hashtab_hash() (SipHash-2-4
 * under the table's own random key, so a remote party that chooses indices,
 * addresses or GRE keys cannot aim collisions at it), and hashtab_find()
 * compares candidates with the owner's match function.  Values are
 * non-NULL pointers; equal hashes and even equal keys may be inserted
 * (find returns one of them, remove takes out exactly the value given),
 * which is what a reload needs while an old and a new tunnel briefly
 * claim the same key.
 *
 * Pure: no I/O, no logging.  Insert and remove may allocate (growing,
 * shrinking); a failed allocation leaves the table as it was.
 */
#ifndef GRESEC_DAEMON_HASHTAB_H
#define GRESEC_DAEMON_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HASHTAB_KEY_LEN = 16, HASHTAB_MIN_CAP = 16 };

struct hashtab_slot {
	uint64_t hash;
	void *value;           /* NULL: empty */
};

struct hashtab {
	struct hashtab_slot *slots;   /* NULL until the first insert */
	size_t cap;                   /* 0 or a power of two >= HASHTAB_MIN_CAP */
	size_t n;
	uint8_t key[HASHTAB_KEY_LEN];
};

typedef bool (*hashtab_match_fn)(const void *value, const void *key);

/* An empty table with a random hashing key (libsodium must be initialised). */
void hashtab_init(struct hashtab *h);
/* The same with a given key (tests). */
void hashtab_init_key(struct hashtab *h, const uint8_t key[HASHTAB_KEY_LEN]);
void hashtab_free(struct hashtab *h);

/* SipHash-2-4 of data under the table's key. */
uint64_t hashtab_hash(const struct hashtab *h, const void *data, size_t len);

/* 0, or -ENOMEM (nothing changed); -EINVAL for a NULL value. */
int hashtab_insert(struct hashtab *h, uint64_t hash, void *value);
/* Take out value (inserted with hash); false when it is not there. */
bool hashtab_remove(struct hashtab *h, uint64_t hash, const void *value);
/* A value inserted with hash for which match(value, key) holds, or NULL. */
void *hashtab_find(const struct hashtab *h, uint64_t hash, hashtab_match_fn match, const void *key);
static inline size_t hashtab_count(const struct hashtab *h) { return h->n; }

/* Room for n values without growing.  0 or -ENOMEM. */
int hashtab_reserve(struct hashtab *h, size_t n);
/* dst becomes a copy of src (dst's storage is freed first); the fuzz
 * harness's snapshots.  0 or -ENOMEM (dst then empty). */
int hashtab_copy(struct hashtab *dst, const struct hashtab *src);

#endif
