/* crypto/replay.h: anti-replay window for data-message counters.
 *
 * RFC 6479 bitmap window, as in WireGuard's counter.c: REPLAY_WINDOW_SIZE
 * counters behind the highest one seen are tracked, in a ring of 64-bit
 * words with one word of slack so that advancing the window clears whole
 * words without ever dropping a bit that is still inside it.
 *
 * Two phases, because a data message must not move the window before its
 * tag has been verified: replay_check() is read-only and runs before
 * decryption, replay_commit() records the counter after decryption
 * succeeded.  Callers must check and commit one packet at a time (check,
 * decrypt, commit) so that two copies in one batch cannot both pass.
 */
#ifndef GRESEC_CRYPTO_REPLAY_H
#define GRESEC_CRYPTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "tunnel/wire.h"


enum {
	REPLAY_WINDOW_SIZE = 8192,                   /* counters accepted behind the top */
	REPLAY_WORD_BITS   = 64,
	REPLAY_WORDS       = REPLAY_WINDOW_SIZE / REPLAY_WORD_BITS + 1, /* + slack word */
};

struct replay_window {
	uint64_t top;                    /* highest accepted counter + 1; 0 = none yet */
	uint64_t bitmap[REPLAY_WORDS];
};

void replay_init(struct replay_window *w);

/* True when counter is below the reject limit, inside the window and not
 * yet committed.  Does not modify the window. */
bool replay_check(const struct replay_window *w, uint64_t counter);

/* Record counter as received, sliding the window forward when it is the new
 * highest.  A counter that replay_check() would refuse is ignored. */
void replay_commit(struct replay_window *w, uint64_t counter);

#endif
