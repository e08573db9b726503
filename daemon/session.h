/* daemon/session.h: per-peer session state machine of secure mode.
 *
 * Pure logic: no I/O, no clock, no logging.  Every call takes the current
 * monotonic time in nanoseconds (must be > 0); the daemon turns the actions
 * returned by session_tick() into packets and arms one timer per peer at the
 * deadline it returns.  Behaviour follows the WireGuard kernel module
 * (timers.c, send.c, receive.c, noise.c add_new_keypair) and whitepaper
 * section 6.
 *
 * Keypairs are opaque here: a slot carries the daemon's keypair pointer plus
 * what the session needs to decide (birth, role, messages sent, index).
 * Three slots, as in WireGuard:
 *   next      responder's fresh keypair, unusable for sending until the
 *             peer proves it has it (first data packet received with it)
 *   current   the keypair data is sent with
 *   previous  the one before, still accepted on receive so nothing in flight
 *             is lost across a rekey
 * Keypairs pushed out of the slots are handed back for wiping through
 * session_take_expired(); the daemon must drain that list after every call
 * that reports pending keypairs (or at least before the next handshake).
 *
 * Timers (defaults = WireGuard constants; all overridable per session):
 *
 * | timer          | armed by                         | fires after           | action                                  |
 * |----------------|----------------------------------|-----------------------|-----------------------------------------|
 * | retransmit     | initiation sent                  | rekey_timeout+jitter  | SEND_INITIATION; after                  |
 * |                |                                  |                       | rekey_attempt_time/rekey_timeout retries |
 * |                |                                  |                       | (20 sends, ~100 s) HANDSHAKE_GAVE_UP    |
 * | send keepalive | data received, if not pending    | keepalive_timeout     | SEND_KEEPALIVE                          |
 * |                | cancelled by any auth. send      |                       |                                         |
 * | new handshake  | data sent, if not pending        | keepalive_timeout +   | NEW_HANDSHAKE (+ SEND_INITIATION)       |
 * |                | cancelled by any auth. receive   | rekey_timeout+jitter  |                                         |
 * | zero keys      | keypair derived (either role);   | wipe_after            | WIPE_KEYS: all slots to the wipe list   |
 * |                | give-up, if not pending          |                       |                                         |
 * | persistent ka  | any auth. packet sent/received   | persistent_keepalive  | SEND_KEEPALIVE                          |
 * | current expiry | current keypair installed        | reject_after_time     | EXPIRED_CURRENT (once per keypair)      |
 *
 * Handshake requests (SEND_INITIATION without a timer):
 *   - on send, initiator's current older than rekey_after_time, or more
 *     than REKEY_AFTER_MESSAGES sent on it (either role);
 *   - on send, no usable current keypair (none, older than
 *     reject_after_time, or counter exhausted);
 *   - on receive, initiator's current older than reject_after_time -
 *     keepalive_timeout - rekey_timeout (165 s), once per handshake.
 *   The responder therefore never rekeys on age at 120 s: it relies on the
 *   initiator, and only requests a handshake itself when its current key is
 *   past reject_after_time (180 s) at send time (or by message count, or via
 *   the new-handshake timer).
 *   A request is served at once if no initiation was sent in the last
 *   rekey_timeout, otherwise when that interval ends (WireGuard drops it and
 *   relies on the next packet; deferring keeps a lone request alive).
 *   Only one initiation per rekey_timeout is ever emitted.
 *
 * Handshake messages count as authenticated traffic: session_handshake_
 * initiated() and session_handshake_complete() do that bookkeeping, so the
 * daemon reports only transport data messages (keepalives included) through
 * session_data_sent()/session_data_received().
 */
#ifndef GRESEC_DAEMON_SESSION_H
#define GRESEC_DAEMON_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnel/wire.h" /* REKEY_AFTER_MESSAGES, REJECT_AFTER_MESSAGES */

#define SESSION_NS_PER_SEC UINT64_C(1000000000)
#define SESSION_NEVER UINT64_MAX


/* Retry jitter is [0, SESSION_JITTER_MAX_NS], WireGuard's HZ/3. */
#define SESSION_JITTER_MAX_NS UINT64_C(333333333)

enum {
	SESSION_SLOTS = 3,
	/* Wipe list capacity: slots plus keypairs displaced but not yet taken. */
	SESSION_EXPIRED_MAX = 8,
};

/* All in nanoseconds. */
struct session_timers {
	uint64_t rekey_after_time;     /* 120 s */
	uint64_t reject_after_time;    /* 180 s */
	uint64_t rekey_timeout;        /*   5 s */
	uint64_t rekey_attempt_time;   /*  90 s */
	uint64_t keepalive_timeout;    /*  10 s */
	uint64_t persistent_keepalive; /*   0 = off */
	uint64_t wipe_after;           /* 540 s = 3 * reject_after_time */
};

struct session_slot {
	bool valid;
	bool initiator;          /* we sent the initiation of this keypair */
	uint64_t birth_ns;
	uint64_t send_count;     /* messages sent; the next nonce */
	uint32_t local_index;
	void *keypair;           /* the daemon's struct keypair */
};

enum session_action {
	SESSION_SEND_INITIATION    = 1u << 0,
	SESSION_HANDSHAKE_GAVE_UP  = 1u << 1, /* also: drop queued packets */
	SESSION_SEND_KEEPALIVE     = 1u << 2, /* queued data, if any, may replace it */
	SESSION_NEW_HANDSHAKE      = 1u << 3, /* sent without hearing back */
	SESSION_WIPE_KEYS          = 1u << 4, /* also: clear Noise handshake state */
	SESSION_EXPIRED_CURRENT    = 1u << 5,
};

enum session_state {
	SESSION_DOWN,         /* no usable keys, not trying */
	SESSION_HANDSHAKING,  /* no usable keys, handshake wanted or in flight */
	SESSION_ESTABLISHED,  /* current keypair usable for sending */
};

/* Opaque in spirit: the daemon reads the slots, everything else is private. */
struct session {
	struct session_timers t;
	struct session_slot next, current, previous;
	void *expired[SESSION_EXPIRED_MAX];
	size_t n_expired;

	bool can_initiate;
	bool want_handshake;      /* initiation requested, not yet emitted */
	bool lastminute_sent;     /* rekey-on-receive already requested */
	bool current_expiry_done; /* EXPIRED_CURRENT reported for current */
	unsigned attempts;        /* retransmissions since the last request */
	uint64_t jitter;
	uint64_t last_initiation; /* last handshake message sent, initiation or
	                           * response (WireGuard's last_sent_handshake);
	                           * SESSION_NEVER if none */
	uint64_t last_handshake;  /* 0 if none */

	/* Deadlines, SESSION_NEVER when not pending. */
	uint64_t retransmit_at;
	uint64_t keepalive_at;
	uint64_t new_handshake_at;
	uint64_t zero_keys_at;
	uint64_t persistent_at;
};

struct session_timers session_timers_default(void);

/* t == NULL: defaults.  Zero times in t are replaced by the default, except
 * persistent_keepalive (0 = off). */
void session_init(struct session *s, const struct session_timers *t,
		  bool can_initiate);

/* We learnt (or lost) an endpoint to send initiations to. */
void session_set_can_initiate(struct session *s, bool can_initiate);

/* Random jitter for the next retry/new-handshake deadlines; clamped to
 * SESSION_JITTER_MAX_NS.  The daemon refreshes it from a CSPRNG. */
void session_set_jitter(struct session *s, uint64_t jitter_ns);

/* Slot to seal the next data message with, or NULL: no usable current
 * keypair, a handshake is then requested and the packet should be queued.
 * On success counts one message (nonce = slot->send_count - 1 afterwards)
 * and requests a rekey when the keypair is getting old.  Call session_tick()
 * after a batch to collect the resulting SEND_INITIATION. */
struct session_slot *session_want_send(struct session *s, uint64_t now);

/* A transport message (keepalive or data) was sent to the peer. */
void session_data_sent(struct session *s, uint64_t now, bool is_keepalive);

/* Slot holding the keypair with this local index (any of next, current,
 * previous), or NULL. */
struct session_slot *session_slot_by_index(struct session *s, uint32_t idx);

/* May a message received on slot still be accepted (valid and younger than
 * reject_after_time)?  The replay window enforces the counter limit. */
bool session_slot_rx_ok(const struct session *s, const struct session_slot *slot,
			uint64_t now);

/* A transport message was authenticated with slot (from
 * session_slot_by_index()).  Receiving on next confirms it: next becomes
 * current, current previous, old previous goes to the wipe list; slot must
 * not be used after this call.  Returns the number of keypairs waiting in
 * the wipe list. */
size_t session_data_received(struct session *s, uint64_t now,
			     struct session_slot *slot, bool is_keepalive);

/* We sent a handshake initiation (tick already records the ones it emits;
 * calling this again at the same now changes nothing). */
void session_handshake_initiated(struct session *s, uint64_t now);

/* A handshake produced a keypair: initiator after consuming the response,
 * responder after sending it.  Initiator: keypair becomes current at once,
 * a keepalive is scheduled to confirm it.  Responder: keypair goes to next
 * until confirmed; old next and previous are dropped (as WireGuard does).
 * Returns the number of keypairs waiting in the wipe list, or -ENOBUFS when
 * the wipe list has not been drained (nothing changed; wipe keypair). */
int session_handshake_complete(struct session *s, uint64_t now, bool we_initiated,
			       uint32_t local_index, void *keypair);

/* Ask for a handshake without a packet to send (liveness probing while the
 * link is down); served by the next session_tick() within the rate limit. */
void session_request_handshake(struct session *s);

/* At most one initiation per rekey_timeout, and only with an endpoint. */
bool session_initiation_allowed(const struct session *s, uint64_t now);

/* Evaluate all timers at now.  Sets *actions (enum session_action bits) and
 * returns the next absolute deadline, SESSION_NEVER if none.  Idempotent:
 * a second call at the same now returns no action again. */
uint64_t session_tick(struct session *s, uint64_t now, unsigned *actions);

/* The earliest timer deadline pending now (SESSION_NEVER if none), without
 * evaluating anything: lets the daemon see that a send armed a timer
 * earlier than the one it is waiting for. */
uint64_t session_next_deadline(const struct session *s);

/* Move up to n keypair pointers waiting to be wiped into out; returns how
 * many were moved. */
size_t session_take_expired(struct session *s, void **out, size_t n);

enum session_state session_state(const struct session *s, uint64_t now);

/* Monotonic ns of the last completed handshake (responder: confirmed), 0 if
 * none. */
uint64_t session_last_handshake(const struct session *s);

#endif
