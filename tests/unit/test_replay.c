/* tests/unit/test_replay.c: anti-replay window, table-driven in the spirit
 * of WireGuard's selftest/counter.c, plus a comparison against a model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/replay.h"

/* LIM: the farthest a counter may lag the highest one and still pass. */
#define LIM ((uint64_t)REPLAY_WINDOW_SIZE - 1)

/* Receive one packet: check (must not modify), then commit on success. */
static bool receive(struct replay_window *w, uint64_t c)
{
	struct replay_window before = *w;
	bool ok = replay_check(w, c);

	assert_memory_equal(&before, w, sizeof(before));
	if (ok) {
		replay_commit(w, c);
		assert_false(replay_check(w, c));
	}
	return ok;
}

#define T(c, expect) do { \
	if (receive(&w, (c)) != (expect)) \
		fail_msg("counter %llu: expected %s", (unsigned long long)(c), \
			 (expect) ? "accept" : "reject"); \
} while (0)

static void test_table(void **state)
{
	struct replay_window w;
	const uint64_t R = REJECT_AFTER_MESSAGES;

	replay_init(&w);
	/* in order, duplicates, small reordering */
	T(0, true);
	T(1, true);
	T(1, false);
	T(9, true);
	T(8, true);
	T(7, true);
	T(7, false);
	/* jump to the window size, then back inside the window */
	T(LIM + 1, true);
	T(LIM, true);
	T(LIM, false);
	T(LIM - 1, true);
	T(2, true);
	T(2, false);
	/* far ahead, then far behind */
	T(LIM + 17, true);
	T(3, false);
	T(LIM + 17, false);
	/* window edges after a big jump */
	T((LIM + 1) * 4, true);
	T((LIM + 1) * 4 - LIM, true);          /* exactly the oldest allowed */
	T(10, false);
	T((LIM + 1) * 4 - (LIM + 1), false);   /* one past the edge */
	T((LIM + 1) * 4 - (LIM + 2), false);
	T((LIM + 1) * 4 - (LIM - 1), true);
	T((LIM + 1) * 4 - LIM, false);         /* committed above */
	T(0, false);
	/* the reject limit */
	T(R, false);
	T(R - 1, true);
	T(R, false);
	T(R - 1, false);
	T(R - 2, true);
	T(R + 1, false);
	T(R + 2, false);
	T(UINT64_MAX, false);
	T(R - 2, false);
	T(R - 3, true);
	T(0, false);
	(void)state;
}

static void test_bulk(void **state)
{
	struct replay_window w;
	uint64_t i;

	replay_init(&w);
	for (i = 1; i <= LIM; i++)
		T(i, true);
	T(0, true);
	T(0, false);

	replay_init(&w);
	for (i = 2; i <= LIM + 1; i++)
		T(i, true);
	T(1, true);
	T(0, false);

	replay_init(&w);
	for (i = LIM + 1; i-- > 0;)
		T(i, true);

	replay_init(&w);
	for (i = LIM + 2; i-- > 1;)
		T(i, true);
	T(0, false);

	replay_init(&w);
	for (i = LIM + 1; i-- > 1;)
		T(i, true);
	T(LIM + 1, true);
	T(0, false);

	replay_init(&w);
	for (i = LIM + 1; i-- > 1;)
		T(i, true);
	T(0, true);
	T(LIM + 1, true);
	(void)state;
}

/* Advancing the window over many ring wraps clears the reused words. */
static void test_wrap(void **state)
{
	struct replay_window w;
	uint64_t base, i;

	replay_init(&w);
	/* Fill every bit once, then step forward by odd strides so words are
	 * reused at every offset of the ring. */
	for (i = 0; i < REPLAY_WINDOW_SIZE + 200; i++)
		T(i, true);
	base = REPLAY_WINDOW_SIZE + 200;
	for (i = 1; i <= 5000; i++) {
		uint64_t c = base + i * 67;

		T(c, true);
		T(c - 1, true);           /* never seen, within the window */
		T(c - 1, false);
	}
	/* A jump by exactly the ring size and by more than it. */
	base = base + 5001 * 67;
	T(base + REPLAY_WORDS * REPLAY_WORD_BITS, true);
	T(base + REPLAY_WORDS * REPLAY_WORD_BITS - 64, true);
	T(base + 10 * REPLAY_WORDS * REPLAY_WORD_BITS + 5, true);
	for (i = 1; i <= LIM; i += 61)
		T(base + 10 * REPLAY_WORDS * REPLAY_WORD_BITS + 5 - i, true);
	T(base + 10 * REPLAY_WORDS * REPLAY_WORD_BITS + 5 - LIM - 1, false);
	(void)state;
}

/* The oldest counter still in the window must stay marked whatever its
 * alignment: this is what the slack word is for. */
static void test_window_edge_alignment(void **state)
{
	struct replay_window w;
	uint64_t o, old;

	for (o = 0; o < 2 * REPLAY_WORD_BITS; o++) {
		old = 1000000 + o;
		replay_init(&w);
		T(old, true);
		T(old + LIM, true);     /* old is now the oldest allowed */
		T(old, false);
		T(old + 1, true);
		T(old - 1, false);      /* just outside */
		T(old + LIM + 1, true); /* old falls out */
		T(old, false);
		T(old + 2, true);
	}
	(void)state;
}

/* replay_check alone never moves the window; commit of a rejected counter
 * is a no-op. */
static void test_check_is_readonly(void **state)
{
	struct replay_window w, snap;

	replay_init(&w);
	assert_true(replay_check(&w, 100000));
	assert_true(replay_check(&w, 100000));
	assert_true(replay_check(&w, 0));          /* window did not move */
	replay_commit(&w, 100000);
	assert_false(replay_check(&w, 0));

	snap = w;
	replay_commit(&w, 100000 - REPLAY_WINDOW_SIZE);       /* too old */
	replay_commit(&w, REJECT_AFTER_MESSAGES);             /* over the limit */
	assert_memory_equal(&snap, &w, sizeof(w));
	(void)state;
}

/* Random traffic compared against a direct model of the rules. */
static void test_model(void **state)
{
	enum { SPAN = 60000 };
	static bool seen[SPAN];
	struct replay_window w;
	uint64_t highest = 0;
	bool any = false;
	unsigned int seed = 12345;
	int i;

	memset(seen, 0, sizeof(seen));
	replay_init(&w);
	for (i = 0; i < 400000; i++) {
		uint64_t c;
		bool expect;

		seed = seed * 1103515245u + 12345u;
		/* Mostly near the top, sometimes far behind, sometimes ahead. */
		if ((seed >> 16) % 8 == 0)
			c = (seed >> 8) % SPAN;
		else
			c = highest + ((seed >> 8) % 300) - 200;
		if (c >= SPAN)
			continue;
		expect = !seen[c] && (!any || c > highest || highest - c < REPLAY_WINDOW_SIZE);
		assert_int_equal(replay_check(&w, c), expect);
		if ((seed >> 4) % 5 == 0)
			continue;       /* failed authentication: no commit */
		if (expect) {
			replay_commit(&w, c);
			seen[c] = true;
			if (!any || c > highest)
				highest = c;
			any = true;
		}
	}
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_window_edge_alignment),
		cmocka_unit_test(test_check_is_readonly),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
