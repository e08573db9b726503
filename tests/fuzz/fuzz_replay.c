/* tests/fuzz/fuzz_replay.c: libFuzzer target for the anti-replay window.
 *
 * Input: records of 9 bytes, one op byte then an 8-byte little-endian
 * value.  Op bit 0: commit when the check passes (else check only, like a
 * packet failing authentication).  Op bits 1-2 choose how the value is
 * read, so the fuzzer spends its time around the window and its edges
 * instead of in the empty 2^64 space:
 *   0: the counter itself;
 *   1: highest committed + signed 16-bit offset;
 *   2: highest + REPLAY_WINDOW_SIZE + signed 8-bit offset (upper edge);
 *   3: highest - REPLAY_WINDOW_SIZE + signed 8-bit offset (lower edge).
 *
 * Invariants: replay_check never modifies the window; a committed counter
 * is never accepted again; counters at or past REJECT_AFTER_MESSAGES are
 * never accepted; a counter above the highest committed one is accepted;
 * one REPLAY_WINDOW_SIZE or more behind it is refused.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/replay.h"
#include "tunnel/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { REC_LEN = 9, MAX_RECS = 4096, SET_SIZE = 2 * MAX_RECS };

/* Open-addressing set of committed counters; slot value 0 = empty, so
 * counters are stored plus one (they are below UINT64_MAX). */
static uint64_t set[SET_SIZE];

static size_t slot_of(uint64_t v)
{
	v ^= v >> 33;
	v *= UINT64_C(0xff51afd7ed558ccd);
	v ^= v >> 33;
	return (size_t)(v % SET_SIZE);
}

static bool set_has(uint64_t c)
{
	size_t i = slot_of(c);

	while (set[i]) {
		if (set[i] == c + 1)
			return true;
		i = (i + 1) % SET_SIZE;
	}
	return false;
}

static void set_add(uint64_t c)
{
	size_t i = slot_of(c);

	while (set[i]) {
		if (set[i] == c + 1)
			return;
		i = (i + 1) % SET_SIZE;
	}
	set[i] = c + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct replay_window w, snap;
	uint64_t highest = 0;
	bool any = false;
	size_t n;

	replay_init(&w);
	memset(set, 0, sizeof(set));
	for (n = 0; n + REC_LEN <= size && n / REC_LEN < MAX_RECS; n += REC_LEN) {
		uint8_t op = data[n];
		uint64_t c = load_le64(data + n + 1);
		bool ok;

		switch ((op >> 1) & 3) {
		case 1:
			c = highest + (uint64_t)(int64_t)(int16_t)(c & 0xffff);
			break;
		case 2:
			c = highest + REPLAY_WINDOW_SIZE + (uint64_t)(int64_t)(int8_t)(c & 0xff);
			break;
		case 3:
			c = highest - REPLAY_WINDOW_SIZE + (uint64_t)(int64_t)(int8_t)(c & 0xff);
			break;
		}
		snap = w;
		ok = replay_check(&w, c);
		if (memcmp(&snap, &w, sizeof(w)))
			abort();        /* check modified the window */
		if (ok && set_has(c))
			abort();        /* replay accepted */
		if (ok && c >= REJECT_AFTER_MESSAGES)
			abort();
		if (c < REJECT_AFTER_MESSAGES && !set_has(c) && (!any || c > highest) && !ok)
			abort();        /* fresh counter above the top refused */
		if (any && c <= highest && highest - c >= REPLAY_WINDOW_SIZE && ok)
			abort();        /* too old accepted */
		if (!ok || !(op & 1))
			continue;
		replay_commit(&w, c);
		set_add(c);
		if (!any || c > highest)
			highest = c;
		any = true;
		if (replay_check(&w, c))
			abort();
	}
	return 0;
}
