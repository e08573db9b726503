/* daemon/hashtab.c: open-addressing hash table of pointers (see hashtab.h).
 *
 * Invariant: every value sits at its home slot (hash & (cap - 1)) or after
 * it, with no empty slot between home and value (linear probing).  Removal
 * keeps it by shifting later members of the run back into the hole
 * (backward shift) instead of leaving tombstones, so lookups never slow
 * down with churn.  Load stays at most 3/4, so every probe ends at an
 * empty slot.
 */
#include "daemon/hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

void hashtab_init_key(struct hashtab *h, const uint8_t key[HASHTAB_KEY_LEN])
{
	memset(h, 0, sizeof(*h));
	memcpy(h->key, key, HASHTAB_KEY_LEN);
}

void hashtab_init(struct hashtab *h)
{
	uint8_t key[HASHTAB_KEY_LEN];

	randombytes_buf(key, sizeof(key));
	hashtab_init_key(h, key);
	sodium_memzero(key, sizeof(key));
}

void hashtab_free(struct hashtab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->n = 0;
}

uint64_t hashtab_hash(const struct hashtab *h, const void *data, size_t len)
{
	uint8_t out[crypto_shorthash_siphash24_BYTES];
	uint64_t v;

	crypto_shorthash_siphash24(out, data, len, h->key);
	memcpy(&v, out, sizeof(v));
	return v;
}

/* Put (hash, value) into slots of capacity cap (a free slot exists). */
static void place(struct hashtab_slot *slots, size_t cap, uint64_t hash, void *value)
{
	size_t i = (size_t)hash & (cap - 1);

	while (slots[i].value)
		i = (i + 1) & (cap - 1);
	slots[i].hash = hash;
	slots[i].value = value;
}

static int rehash(struct hashtab *h, size_t cap)
{
	struct hashtab_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].value)
			place(slots, cap, h->slots[i].hash, h->slots[i].value);
	free(h->slots);
	h->slots = slots;
	h->cap = cap;
	return 0;
}

static size_t cap_for(size_t n)
{
	size_t cap = HASHTAB_MIN_CAP;

	while (n > cap / 4 * 3)
		cap *= 2;
	return cap;
}

int hashtab_reserve(struct hashtab *h, size_t n)
{
	size_t cap = cap_for(n);

	return cap > h->cap ? rehash(h, cap) : 0;
}

int hashtab_insert(struct hashtab *h, uint64_t hash, void *value)
{
	int err;

	if (!value)
		return -EINVAL;
	if ((err = hashtab_reserve(h, h->n + 1)) != 0)
		return err;
	place(h->slots, h->cap, hash, value);
	h->n++;
	return 0;
}

void *hashtab_find(const struct hashtab *h, uint64_t hash, hashtab_match_fn match, const void *key)
{
	if (!h->cap)
		return NULL;
	for (size_t i = (size_t)hash & (h->cap - 1); h->slots[i].value; i = (i + 1) & (h->cap - 1))
		if (h->slots[i].hash == hash && match(h->slots[i].value, key))
			return h->slots[i].value;
	return NULL;
}

bool hashtab_remove(struct hashtab *h, uint64_t hash, const void *value)
{
	size_t mask = h->cap - 1, i, j;

	if (!h->cap || !value)
		return false;
	for (i = (size_t)hash & mask; h->slots[i].value != value; i = (i + 1) & mask)
		if (!h->slots[i].value)
			return false;
	/* Backward shift: a later member of the run moves into the hole
	 * unless its home lies cyclically in (hole, its slot]. */
	for (j = i;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!h->slots[j].value)
			break;
		home = (size_t)h->slots[j].hash & mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		h->slots[i] = h->slots[j];
		i = j;
	}
	h->slots[i].value = NULL;
	h->slots[i].hash = 0;
	h->n--;
	if (h->cap > HASHTAB_MIN_CAP && h->n < h->cap / 8)
		(void)rehash(h, h->cap / 2);   /* kept as it is if that fails */
	return true;
}

int hashtab_copy(struct hashtab *dst, const struct hashtab *src)
{
	struct hashtab_slot *slots = NULL;

	if (src->cap && !(slots = malloc(src->cap * sizeof(*slots)))) {
		hashtab_free(dst);
		return -ENOMEM;
	}
	if (slots)
		memcpy(slots, src->slots, src->cap * sizeof(*slots));
	free(dst->slots);
	*dst = *src;
	dst->slots = slots;
	return 0;
}
