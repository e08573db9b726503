/* daemon/index.c: receiver index -> peer (see index.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sodium.h>

#include "daemon/daemon.h"
#include "daemon/index.h"

static bool index_match(const void *value, const void *key)
{
	return ((const struct peer_index *)value)->idx == *(const uint32_t *)key;
}

static uint64_t index_hash(const struct secure_index *ix, uint32_t idx)
{
	return hashtab_hash(&ix->tab, &idx, sizeof(idx));
}

int secure_index_add(struct gresecd *d, struct peer_index *e)
{
	struct secure_index *ix = d->index;
	uint32_t idx;

	if (!ix) {
		if (!(ix = calloc(1, sizeof(*ix))))
			return -ENOMEM;
		hashtab_init(&ix->tab);
		d->index = ix;
	}
	/* Random, so that they say nothing about the daemon's state. */
	do
		idx = randombytes_random();
	while (idx == 0 || hashtab_find(&ix->tab, index_hash(ix, idx), index_match, &idx));
	e->idx = idx;
	if (hashtab_insert(&ix->tab, index_hash(ix, idx), e) != 0) {
		e->idx = 0;
		return -ENOMEM;
	}
	return 0;
}

void secure_index_del(struct gresecd *d, struct peer_index *e)
{
	if (d->index && e->idx)
		hashtab_remove(&d->index->tab, index_hash(d->index, e->idx), e);
	e->idx = 0;
}

struct secure_peer *secure_index_peer(const struct gresecd *d, uint32_t idx)
{
	const struct peer_index *e;

	if (!d->index)
		return NULL;
	e = hashtab_find(&d->index->tab, index_hash(d->index, idx), index_match, &idx);
	return e ? e->peer : NULL;
}

void secure_index_free(struct gresecd *d)
{
	if (!d->index)
		return;
	hashtab_free(&d->index->tab);
	free(d->index);
	d->index = NULL;
}
