/* crypto/replay.c: RFC 6479 anti-replay bitmap (see replay.h). */
#include "crypto/replay.h"

#include <string.h>

/* Counters are stored as n = counter + 1 so that top == 0 means "nothing
 * received"; n cannot overflow because counter < REJECT_AFTER_MESSAGES. */
static inline uint64_t word_of(uint64_t n)
{
	return (n / REPLAY_WORD_BITS) % REPLAY_WORDS;
}

static inline uint64_t bit_of(uint64_t n)
{
	return UINT64_C(1) << (n % REPLAY_WORD_BITS);
}

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

bool replay_check(const struct replay_window *w, uint64_t counter)
{
	uint64_t n;

	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	n = counter + 1;
	if (n > w->top)
		return true;
	/* n <= top here: accepted only within REPLAY_WINDOW_SIZE of the top. */
	if (w->top - n >= REPLAY_WINDOW_SIZE)
		return false;
	return !(w->bitmap[word_of(n)] & bit_of(n));
}

void replay_commit(struct replay_window *w, uint64_t counter)
{
	uint64_t n, cur, next, i, steps;

	if (counter >= REJECT_AFTER_MESSAGES)
		return;
	n = counter + 1;
	if (n > w->top) {
		/* Clear the words the window slides over, at most the whole ring.
		 * The word holding the old top keeps its bits: they are in range. */
		cur = w->top / REPLAY_WORD_BITS;
		next = n / REPLAY_WORD_BITS;
		steps = next - cur;
		if (steps > REPLAY_WORDS)
			steps = REPLAY_WORDS;
		for (i = 1; i <= steps; i++)
			w->bitmap[(cur + i) % REPLAY_WORDS] = 0;
		w->top = n;
	} else if (w->top - n >= REPLAY_WINDOW_SIZE) {
		return;
	}
	w->bitmap[word_of(n)] |= bit_of(n);
}
