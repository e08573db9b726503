/* tests/unit/test_hashtab.c: daemon/hashtab.c against a model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "daemon/hashtab.h"

struct item {
	uint32_t key;
	bool in;
};

static bool match_key(const void *value, const void *key)
{
	return ((const struct item *)value)->key == *(const uint32_t *)key;
}

static const uint8_t test_key[HASHTAB_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* The table's invariant: every value is reachable from its home slot
 * without crossing an empty slot, and n counts the values. */
static void check_invariant(const struct hashtab *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->cap; i++) {
		size_t j;

		if (!h->slots[i].value)
			continue;
		n++;
		for (j = (size_t)h->slots[i].hash & (h->cap - 1); j != i; j = (j + 1) & (h->cap - 1))
			assert_non_null(h->slots[j].value);
	}
	assert_int_equal(n, h->n);
	assert_true(h->cap == 0 || h->n <= h->cap / 4 * 3);
}

static void test_basic(void **state)
{
	struct hashtab h;
	struct item a = { .key = 7 }, b = { .key = 9 };
	uint32_t k;

	(void)state;
	hashtab_init_key(&h, test_key);
	k = 7;
	assert_null(hashtab_find(&h, hashtab_hash(&h, &k, 4), match_key, &k));
	assert_false(hashtab_remove(&h, 0, &a));
	assert_int_equal(hashtab_insert(&h, hashtab_hash(&h, &a.key, 4), &a), 0);
	assert_int_equal(hashtab_insert(&h, hashtab_hash(&h, &b.key, 4), &b), 0);
	assert_int_equal(hashtab_insert(&h, 1, NULL), -EINVAL);
	assert_ptr_equal(hashtab_find(&h, hashtab_hash(&h, &k, 4), match_key, &k), &a);
	k = 9;
	assert_ptr_equal(hashtab_find(&h, hashtab_hash(&h, &k, 4), match_key, &k), &b);
	k = 8;
	assert_null(hashtab_find(&h, hashtab_hash(&h, &k, 4), match_key, &k));
	assert_true(hashtab_remove(&h, hashtab_hash(&h, &a.key, 4), &a));
	assert_false(hashtab_remove(&h, hashtab_hash(&h, &a.key, 4), &a));
	assert_int_equal(hashtab_count(&h), 1);
	check_invariant(&h);
	hashtab_free(&h);
	assert_int_equal(hashtab_count(&h), 0);
}

/* The hash is keyed: two tables hash the same bytes differently. */
static void test_keyed(void **state)
{
	struct hashtab a, b;
	uint32_t k = 12345;

	(void)state;
	hashtab_init(&a);
	hashtab_init(&b);
	assert_true(hashtab_hash(&a, &k, 4) != hashtab_hash(&b, &k, 4));
	assert_int_equal(hashtab_hash(&a, &k, 4), hashtab_hash(&a, &k, 4));
}

/* Every value with the same hash: one long run, removed in random order,
 * also across the end of the slot array. */
static void test_collisions(void **state)
{
	enum { N = 300 };
	struct item items[N];
	struct hashtab h;
	unsigned order[N];

	(void)state;
	for (uint64_t base = 0; base < 2; base++) {
		hashtab_init_key(&h, test_key);
		assert_int_equal(hashtab_reserve(&h, N), 0);
		/* home = the last slot: the run wraps around */
		uint64_t hash = base ? h.cap - 1 : 5;

		for (unsigned i = 0; i < N; i++) {
			items[i].key = i;
			assert_int_equal(hashtab_insert(&h, hash, &items[i]), 0);
			order[i] = i;
		}
		check_invariant(&h);
		for (unsigned i = N - 1; i > 0; i--) {
			unsigned j = randombytes_uniform(i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (unsigned i = 0; i < N; i++) {
			assert_true(hashtab_remove(&h, hash, &items[order[i]]));
			check_invariant(&h);
			for (unsigned j = i + 1; j < N; j += 37)
				assert_ptr_equal(hashtab_find(&h, hash, match_key, &items[order[j]].key),
						 &items[order[j]]);
			assert_null(hashtab_find(&h, hash, match_key, &items[order[i]].key));
		}
		assert_int_equal(hashtab_count(&h), 0);
		hashtab_free(&h);
	}
}

/* Equal keys: find returns one, remove takes the one given. */
static void test_duplicates(void **state)
{
	struct item a = { .key = 1 }, b = { .key = 1 };
	struct hashtab h;
	uint64_t hash;

	(void)state;
	hashtab_init_key(&h, test_key);
	hash = hashtab_hash(&h, &a.key, 4);
	assert_int_equal(hashtab_insert(&h, hash, &a), 0);
	assert_int_equal(hashtab_insert(&h, hash, &b), 0);
	assert_true(hashtab_remove(&h, hash, &a));
	assert_ptr_equal(hashtab_find(&h, hash, match_key, &a.key), &b);
	assert_true(hashtab_remove(&h, hash, &b));
	assert_null(hashtab_find(&h, hash, match_key, &a.key));
	hashtab_free(&h);
}

/* Random inserts and removes against a model; the table grows and
 * shrinks; small hashes make long runs and wrap-arounds. */
static void test_model(void **state)
{
	enum { N = 5000, OPS = 200000 };
	struct item *items = calloc(N, sizeof(*items));
	struct hashtab h;
	size_t in = 0, max_cap = 0;

	(void)state;
	assert_non_null(items);
	for (unsigned pass = 0; pass < 2; pass++) {
		hashtab_init_key(&h, test_key);
		memset(items, 0, N * sizeof(*items));
		for (unsigned i = 0; i < N; i++)
			items[i].key = i;
		in = 0;
		for (unsigned op = 0; op < OPS; op++) {
			unsigned i = randombytes_uniform(N);
			/* pass 0: the real hash; pass 1: only 64 distinct hashes */
			uint64_t hash = pass ? items[i].key % 64 : hashtab_hash(&h, &items[i].key, 4);
			/* phases: fill up, drain, mixed */
			unsigned phase = (op / 20000) % 3;
			bool add = phase == 0 ? randombytes_uniform(4) != 0 :
				   phase == 1 ? randombytes_uniform(4) == 0 : randombytes_uniform(2);

			if (add && !items[i].in) {
				assert_int_equal(hashtab_insert(&h, hash, &items[i]), 0);
				items[i].in = true;
				in++;
			} else if (!add) {
				assert_int_equal(hashtab_remove(&h, hash, &items[i]), items[i].in);
				in -= items[i].in;
				items[i].in = false;
			}
			assert_ptr_equal(hashtab_find(&h, hash, match_key, &items[i].key),
					 items[i].in ? &items[i] : NULL);
			assert_int_equal(hashtab_count(&h), in);
			if (h.cap > max_cap)
				max_cap = h.cap;
			if (op % 10007 == 0) {
				check_invariant(&h);
				for (unsigned j = 0; j < N; j++) {
					uint64_t hj = pass ? j % 64 : hashtab_hash(&h, &items[j].key, 4);

					assert_ptr_equal(hashtab_find(&h, hj, match_key, &items[j].key),
							 items[j].in ? &items[j] : NULL);
				}
			}
		}
		check_invariant(&h);
		/* it shrank again after growing */
		assert_true(max_cap >= 4096);
		hashtab_free(&h);
	}
	free(items);
}

/* Emptied, the table shrinks back to its smallest size. */
static void test_shrink(void **state)
{
	enum { N = 1000 };
	struct item items[N];
	struct hashtab h;

	(void)state;
	hashtab_init_key(&h, test_key);
	for (unsigned i = 0; i < N; i++) {
		items[i].key = i;
		assert_int_equal(hashtab_insert(&h, hashtab_hash(&h, &i, 4), &items[i]), 0);
	}
	assert_true(h.cap >= N * 4 / 3);
	for (unsigned i = 0; i < N; i++)
		assert_true(hashtab_remove(&h, hashtab_hash(&h, &i, 4), &items[i]));
	assert_int_equal(h.cap, HASHTAB_MIN_CAP);
	hashtab_free(&h);
}

static void test_copy(void **state)
{
	struct item a = { .key = 3 }, b = { .key = 4 };
	struct hashtab h, c;

	(void)state;
	hashtab_init_key(&h, test_key);
	memset(&c, 0, sizeof(c));
	assert_int_equal(hashtab_insert(&h, hashtab_hash(&h, &a.key, 4), &a), 0);
	assert_int_equal(hashtab_copy(&c, &h), 0);
	assert_int_equal(hashtab_insert(&h, hashtab_hash(&h, &b.key, 4), &b), 0);
	assert_null(hashtab_find(&c, hashtab_hash(&c, &b.key, 4), match_key, &b.key));
	assert_ptr_equal(hashtab_find(&c, hashtab_hash(&c, &a.key, 4), match_key, &a.key), &a);
	assert_int_equal(hashtab_copy(&h, &c), 0);   /* restore */
	assert_null(hashtab_find(&h, hashtab_hash(&h, &b.key, 4), match_key, &b.key));
	assert_int_equal(hashtab_count(&h), 1);
	hashtab_free(&h);
	hashtab_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_copy),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
