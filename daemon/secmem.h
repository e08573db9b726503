/* daemon/secmem.h: locked, guarded memory for secrets, many objects to a
 * sodium_malloc'd chunk.
 *
 * sodium_malloc() maps guard pages around every allocation (and mlocks
 * it): a page or more per object and three memory mappings, which at
 * thousands of peers costs 12 KiB each and, near 20,000 peers, exceeds the
 * kernel's limit of mappings per process (vm.max_map_count, 65530).  A
 * pool hands out fixed-size objects from chunks of SECMEM_PER_CHUNK, each
 * chunk one sodium_malloc() allocation: locked in memory, left out of core
 * dumps, guard pages around the chunk.  What changes: an overflow from one
 * object runs into its neighbour in the chunk rather than a guard page.
 * Objects are zeroed when handed out and wiped (sodium_memzero) when given
 * back; a chunk whose objects are all free is wiped and unmapped.
 */
#ifndef GRESEC_DAEMON_SECMEM_H
#define GRESEC_DAEMON_SECMEM_H

#include <stddef.h>

enum { SECMEM_PER_CHUNK = 32 };

struct secmem_chunk;

struct secmem {
	size_t obj_size;               /* rounded up to 64 bytes */
	struct secmem_chunk *chunks;   /* those with a free object first */
	size_t n_chunks;
};

/* A pool of objects of size bytes (size > 0). */
void secmem_init(struct secmem *m, size_t size);
/* A zeroed object, or NULL; *chunk is needed to give it back. */
void *secmem_alloc(struct secmem *m, struct secmem_chunk **chunk);
/* Wipe p and give it back (NULL is fine). */
void secmem_free(struct secmem *m, struct secmem_chunk *chunk, void *p);

#endif
