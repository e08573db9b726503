/* daemon/secmem.c: secrets, many to a sodium_malloc'd chunk (see secmem.h). */
#include "daemon/secmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

struct secmem_chunk {
	uint8_t *mem;                  /* SECMEM_PER_CHUNK objects, sodium_malloc */
	unsigned used;
	uint32_t free_mask;            /* bit i: object i is free */
	struct secmem_chunk *prev, *next;
};

void secmem_init(struct secmem *m, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->obj_size = (size + 63) & ~(size_t)63;
}

static void chunk_unlink(struct secmem *m, struct secmem_chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		m->chunks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void chunk_push_front(struct secmem *m, struct secmem_chunk *c)
{
	c->prev = NULL;
	c->next = m->chunks;
	if (m->chunks)
		m->chunks->prev = c;
	m->chunks = c;
}

static void chunk_push_back(struct secmem *m, struct secmem_chunk *c)
{
	struct secmem_chunk **pp = &m->chunks, *last = NULL;

	while (*pp) {
		last = *pp;
		pp = &(*pp)->next;
	}
	c->prev = last;
	c->next = NULL;
	*pp = c;
}

void *secmem_alloc(struct secmem *m, struct secmem_chunk **chunk)
{
	struct secmem_chunk *c = m->chunks;
	unsigned i;
	void *p;

	if (!c || !c->free_mask) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->mem = sodium_malloc(m->obj_size * SECMEM_PER_CHUNK);
		if (!c->mem) {
			free(c);
			return NULL;
		}
		sodium_memzero(c->mem, m->obj_size * SECMEM_PER_CHUNK);
		c->free_mask = SECMEM_PER_CHUNK == 32 ? UINT32_MAX : (UINT32_C(1) << SECMEM_PER_CHUNK) - 1;
		chunk_push_front(m, c);
		m->n_chunks++;
	}
	i = (unsigned)__builtin_ctz(c->free_mask);
	c->free_mask &= ~(UINT32_C(1) << i);
	c->used++;
	if (!c->free_mask) {
		/* full: behind the ones with room */
		chunk_unlink(m, c);
		chunk_push_back(m, c);
	}
	p = c->mem + (size_t)i * m->obj_size;
	*chunk = c;
	return p;
}

void secmem_free(struct secmem *m, struct secmem_chunk *c, void *p)
{
	size_t i;

	if (!p || !c)
		return;
	i = (size_t)((uint8_t *)p - c->mem) / m->obj_size;
	sodium_memzero(p, m->obj_size);
	c->free_mask |= UINT32_C(1) << i;
	c->used--;
	chunk_unlink(m, c);
	if (c->used == 0) {
		sodium_free(c->mem);   /* wipes it too */
		free(c);
		m->n_chunks--;
		return;
	}
	chunk_push_front(m, c);
}
