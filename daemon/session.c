/* daemon/session.c: per-peer session state machine (see session.h). */
#include "daemon/session.h"

#include <errno.h>
#include <string.h>

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* WireGuard's wg_birthdate_has_expired(): birth + t <= now. */
static bool has_expired(uint64_t birth, uint64_t t, uint64_t now)
{
	return add_sat(birth, t) <= now;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

struct session_timers session_timers_default(void)
{
	const uint64_t sec = SESSION_NS_PER_SEC;

	return (struct session_timers){
		.rekey_after_time = REKEY_AFTER_TIME_S * sec,
		.reject_after_time = REJECT_AFTER_TIME_S * sec,
		.rekey_timeout = REKEY_TIMEOUT_S * sec,
		.rekey_attempt_time = REKEY_ATTEMPT_TIME_S * sec,
		.keepalive_timeout = KEEPALIVE_TIMEOUT_S * sec,
		.persistent_keepalive = 0,
		.wipe_after = 3 * REJECT_AFTER_TIME_S * sec,
	};
}

void session_init(struct session *s, const struct session_timers *t,
		  bool can_initiate)
{
	struct session_timers d = session_timers_default();

	memset(s, 0, sizeof(*s));
	if (t) {
		s->t = *t;
		if (!s->t.rekey_after_time)
			s->t.rekey_after_time = d.rekey_after_time;
		if (!s->t.reject_after_time)
			s->t.reject_after_time = d.reject_after_time;
		if (!s->t.rekey_timeout)
			s->t.rekey_timeout = d.rekey_timeout;
		if (!s->t.rekey_attempt_time)
			s->t.rekey_attempt_time = d.rekey_attempt_time;
		if (!s->t.keepalive_timeout)
			s->t.keepalive_timeout = d.keepalive_timeout;
		/* Follows a shortened reject time unless set explicitly. */
		if (!s->t.wipe_after)
			s->t.wipe_after = s->t.reject_after_time > UINT64_MAX / 3 ?
				UINT64_MAX : 3 * s->t.reject_after_time;
	} else {
		s->t = d;
	}
	s->can_initiate = can_initiate;
	s->last_initiation = SESSION_NEVER;
	s->retransmit_at = SESSION_NEVER;
	s->keepalive_at = SESSION_NEVER;
	s->new_handshake_at = SESSION_NEVER;
	s->zero_keys_at = SESSION_NEVER;
	s->persistent_at = SESSION_NEVER;
}

void session_set_can_initiate(struct session *s, bool can_initiate)
{
	s->can_initiate = can_initiate;
	/* Retries without an endpoint would go nowhere; a pending request
	 * stays and is served once an endpoint is known. */
	if (!can_initiate)
		s->retransmit_at = SESSION_NEVER;
}

void session_set_jitter(struct session *s, uint64_t jitter_ns)
{
	s->jitter = min_u64(jitter_ns, SESSION_JITTER_MAX_NS);
}

/* ---- slots ---- */

static unsigned slots_in_use(const struct session *s)
{
	return s->next.valid + s->current.valid + s->previous.valid;
}

/* Hand a displaced keypair to the wipe list.  Room is guaranteed by the
 * check in session_handshake_complete(): slots + list never exceed
 * SESSION_EXPIRED_MAX, and displacing only moves a keypair between them. */
static void slot_drop(struct session *s, struct session_slot *slot)
{
	if (slot->valid && slot->keypair && s->n_expired < SESSION_EXPIRED_MAX)
		s->expired[s->n_expired++] = slot->keypair;
	memset(slot, 0, sizeof(*slot));
}

static bool send_usable(const struct session *s, const struct session_slot *c,
			uint64_t now)
{
	return c->valid && !has_expired(c->birth_ns, s->t.reject_after_time, now) &&
	       c->send_count < REJECT_AFTER_MESSAGES;
}

struct session_slot *session_slot_by_index(struct session *s, uint32_t idx)
{
	if (s->current.valid && s->current.local_index == idx)
		return &s->current;
	if (s->previous.valid && s->previous.local_index == idx)
		return &s->previous;
	if (s->next.valid && s->next.local_index == idx)
		return &s->next;
	return NULL;
}

bool session_slot_rx_ok(const struct session *s, const struct session_slot *slot,
			uint64_t now)
{
	return slot && slot->valid &&
	       !has_expired(slot->birth_ns, s->t.reject_after_time, now);
}

size_t session_take_expired(struct session *s, void **out, size_t n)
{
	size_t k = min_u64(n, s->n_expired);

	if (!k)
		return 0;
	memcpy(out, s->expired, k * sizeof(*out));
	memmove(s->expired, s->expired + k, (s->n_expired - k) * sizeof(*out));
	s->n_expired -= k;
	memset(s->expired + s->n_expired, 0, k * sizeof(*out));
	return k;
}

/* ---- WireGuard timer events (timers.c) ---- */

/* wg_packet_send_queued_handshake_initiation(peer, false): a fresh request
 * resets the retry count, so a peer that keeps sending keeps trying. */
static void request_handshake(struct session *s)
{
	s->want_handshake = true;
	s->attempts = 0;
}

void session_request_handshake(struct session *s)
{
	request_handshake(s);
}

static void any_auth_sent(struct session *s)
{
	s->keepalive_at = SESSION_NEVER;
}

static void any_auth_received(struct session *s)
{
	s->new_handshake_at = SESSION_NEVER;
}

static void any_auth_traversal(struct session *s, uint64_t now)
{
	if (s->t.persistent_keepalive)
		s->persistent_at = add_sat(now, s->t.persistent_keepalive);
}

static void handshake_done(struct session *s, uint64_t now)
{
	s->retransmit_at = SESSION_NEVER;
	s->attempts = 0;
	s->lastminute_sent = false;
	s->want_handshake = false;
	s->last_handshake = now;
}

static void session_derived(struct session *s, uint64_t now)
{
	s->zero_keys_at = add_sat(now, s->t.wipe_after);
}

void session_handshake_initiated(struct session *s, uint64_t now)
{
	s->last_initiation = now;
	s->want_handshake = false;
	s->retransmit_at = add_sat(now, add_sat(s->t.rekey_timeout, s->jitter));
	any_auth_sent(s);
	any_auth_traversal(s, now);
}

bool session_initiation_allowed(const struct session *s, uint64_t now)
{
	return s->can_initiate &&
	       (s->last_initiation == SESSION_NEVER ||
		has_expired(s->last_initiation, s->t.rekey_timeout, now));
}

/* ---- data path ---- */

struct session_slot *session_want_send(struct session *s, uint64_t now)
{
	struct session_slot *c = &s->current;

	if (!send_usable(s, c, now)) {
		/* send.c out_nokey/out_invalid: queue and handshake. */
		request_handshake(s);
		return NULL;
	}
	c->send_count++;
	/* send.c keep_key_fresh(): message count for both roles, age only for
	 * the initiator so that both sides do not rekey at once. */
	if (c->send_count > REKEY_AFTER_MESSAGES ||
	    (c->initiator && has_expired(c->birth_ns, s->t.rekey_after_time, now)))
		request_handshake(s);
	return c;
}

void session_data_sent(struct session *s, uint64_t now, bool is_keepalive)
{
	any_auth_sent(s);
	any_auth_traversal(s, now);
	if (!is_keepalive && s->new_handshake_at == SESSION_NEVER)
		s->new_handshake_at = add_sat(now, add_sat(s->t.keepalive_timeout,
			add_sat(s->t.rekey_timeout, s->jitter)));
}

size_t session_data_received(struct session *s, uint64_t now,
			     struct session_slot *slot, bool is_keepalive)
{
	const struct session_slot *c;

	if (slot == &s->next && slot->valid) {
		/* noise.c wg_noise_received_with_keypair(): the peer has the
		 * responder's new keypair, so it may be used for sending. */
		slot_drop(s, &s->previous);
		s->previous = s->current;
		s->current = s->next;
		memset(&s->next, 0, sizeof(s->next));
		s->current_expiry_done = false;
		handshake_done(s, now);
	}

	/* receive.c keep_key_fresh(): the initiator rekeys shortly before the
	 * keypair would be rejected if its own sending did not trigger it. */
	c = &s->current;
	if (!s->lastminute_sent && c->valid && c->initiator &&
	    has_expired(c->birth_ns, s->t.reject_after_time -
			min_u64(s->t.reject_after_time,
				add_sat(s->t.keepalive_timeout, s->t.rekey_timeout)),
			now)) {
		s->lastminute_sent = true;
		request_handshake(s);
	}

	any_auth_received(s);
	any_auth_traversal(s, now);
	/* The kernel also sets need_another_keepalive when data arrives with
	 * the timer pending; the keepalive's own send cancels that re-arm, and
	 * data after it arms the timer afresh, so it is left out. */
	if (!is_keepalive && s->keepalive_at == SESSION_NEVER)
		s->keepalive_at = add_sat(now, s->t.keepalive_timeout);
	return s->n_expired;
}

/* ---- handshakes ---- */

int session_handshake_complete(struct session *s, uint64_t now, bool we_initiated,
			       uint32_t local_index, void *keypair)
{
	struct session_slot fresh = {
		.valid = true,
		.initiator = we_initiated,
		.birth_ns = now,
		.send_count = 0,
		.local_index = local_index,
		.keypair = keypair,
	};

	if (!keypair)
		return -EINVAL;
	/* The only place a keypair enters: keep slots + wipe list bounded. */
	if (slots_in_use(s) + s->n_expired + 1 > SESSION_EXPIRED_MAX)
		return -ENOBUFS;

	if (we_initiated) {
		/* noise.c add_new_keypair(), initiator: usable at once. */
		if (s->next.valid) {
			slot_drop(s, &s->previous);
			s->previous = s->next;
			memset(&s->next, 0, sizeof(s->next));
			slot_drop(s, &s->current);
		} else {
			slot_drop(s, &s->previous);
			s->previous = s->current;
		}
		s->current = fresh;
		s->current_expiry_done = false;
		handshake_done(s, now);
		/* Confirm the keypair to the responder right away. */
		s->keepalive_at = now;
		any_auth_received(s);
	} else {
		/* Responder: wait for confirmation in next; drop old next and
		 * previous, current keeps carrying traffic until then. */
		slot_drop(s, &s->next);
		slot_drop(s, &s->previous);
		s->next = fresh;
		/* This handshake serves any pending request (e.g. packets
		 * staged before the endpoint was known); initiating one of our
		 * own now would only replace it.  A retry already armed stays. */
		s->want_handshake = false;
		/* send.c wg_packet_send_handshake_response(): a response counts
		 * as a handshake sent, so no initiation of ours follows it
		 * within REKEY_TIMEOUT (packets staged meanwhile wait for the
		 * initiator's confirmation instead of replacing its session). */
		s->last_initiation = now;
		any_auth_received(s);   /* the initiation */
		any_auth_sent(s);       /* the response */
	}
	session_derived(s, now);
	any_auth_traversal(s, now);
	return (int)s->n_expired;
}

/* ---- timers ---- */

static unsigned max_attempts(const struct session *s)
{
	uint64_t n = s->t.rekey_attempt_time / s->t.rekey_timeout;

	return n > 0xffff ? 0xffff : (unsigned)n;
}

static void zero_key_material(struct session *s)
{
	slot_drop(s, &s->next);
	slot_drop(s, &s->current);
	slot_drop(s, &s->previous);
	s->current_expiry_done = false;
}

uint64_t session_tick(struct session *s, uint64_t now, unsigned *actions)
{
	unsigned a = 0;
	uint64_t dl = SESSION_NEVER;

	if (s->retransmit_at <= now) {
		s->retransmit_at = SESSION_NEVER;
		if (s->attempts > max_attempts(s)) {
			/* timers.c: give up, drop queued packets, and make sure
			 * any residue is wiped eventually. */
			a |= SESSION_HANDSHAKE_GAVE_UP;
			s->want_handshake = false;
			s->keepalive_at = SESSION_NEVER;
			if (s->zero_keys_at == SESSION_NEVER)
				s->zero_keys_at = add_sat(now, s->t.wipe_after);
		} else {
			s->attempts++;   /* a retry: the count is not reset */
			s->want_handshake = true;
		}
	}
	if (s->keepalive_at <= now) {
		s->keepalive_at = SESSION_NEVER;
		a |= SESSION_SEND_KEEPALIVE;
	}
	if (s->persistent_at <= now) {
		/* Re-armed when the daemon reports the keepalive sent. */
		s->persistent_at = SESSION_NEVER;
		a |= SESSION_SEND_KEEPALIVE;
	}
	if (s->new_handshake_at <= now) {
		s->new_handshake_at = SESSION_NEVER;
		a |= SESSION_NEW_HANDSHAKE;
		request_handshake(s);
	}
	if (s->zero_keys_at <= now) {
		s->zero_keys_at = SESSION_NEVER;
		zero_key_material(s);
		a |= SESSION_WIPE_KEYS;
	}
	if (s->current.valid && !s->current_expiry_done) {
		if (has_expired(s->current.birth_ns, s->t.reject_after_time, now)) {
			s->current_expiry_done = true;
			a |= SESSION_EXPIRED_CURRENT;
		} else {
			dl = add_sat(s->current.birth_ns, s->t.reject_after_time);
		}
	}
	if (s->want_handshake && s->can_initiate) {
		if (session_initiation_allowed(s, now)) {
			a |= SESSION_SEND_INITIATION;
			session_handshake_initiated(s, now);
		} else {
			dl = min_u64(dl, add_sat(s->last_initiation, s->t.rekey_timeout));
		}
	}

	dl = min_u64(dl, s->retransmit_at);
	dl = min_u64(dl, s->keepalive_at);
	dl = min_u64(dl, s->persistent_at);
	dl = min_u64(dl, s->new_handshake_at);
	dl = min_u64(dl, s->zero_keys_at);
	*actions = a;
	return dl;
}

/* ---- queries ---- */

uint64_t session_next_deadline(const struct session *s)
{
	uint64_t dl = min_u64(s->retransmit_at, s->keepalive_at);

	dl = min_u64(dl, s->persistent_at);
	dl = min_u64(dl, s->new_handshake_at);
	dl = min_u64(dl, s->zero_keys_at);
	if (s->current.valid && !s->current_expiry_done)
		dl = min_u64(dl, add_sat(s->current.birth_ns, s->t.reject_after_time));
	return dl;
}

enum session_state session_state(const struct session *s, uint64_t now)
{
	if (send_usable(s, &s->current, now))
		return SESSION_ESTABLISHED;
	if ((s->want_handshake && s->can_initiate) ||
	    s->retransmit_at != SESSION_NEVER ||
	    session_slot_rx_ok(s, &s->next, now))
		return SESSION_HANDSHAKING;
	return SESSION_DOWN;
}

uint64_t session_last_handshake(const struct session *s)
{
	return s->last_handshake;
}
