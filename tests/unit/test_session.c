/* tests/unit/test_session.c: session state machine driven by a fake clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/session.h"

#define SEC(x) ((uint64_t)(x) * SESSION_NS_PER_SEC)
#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define T0 SEC(1000)

/* Fake keypairs: only their addresses matter. */
static int kp[8];

static unsigned tick(struct session *s, uint64_t now, uint64_t *deadline)
{
	unsigned a = 0xdead, a2 = 0xdead;
	uint64_t d, d2;

	d = session_tick(s, now, &a);
	/* Every tick in these tests is also checked for idempotence. */
	d2 = session_tick(s, now, &a2);
	assert_int_equal(a2, 0);
	assert_true(d2 == d);
	if (deadline)
		*deadline = d;
	return a;
}

static size_t drain(struct session *s, void **out)
{
	return session_take_expired(s, out, SESSION_EXPIRED_MAX);
}

/* Initiator: first packet, initiation, response consumed at now + 100 ms. */
static void up_initiator(struct session *s, uint64_t now, uint32_t idx, void *k)
{
	unsigned a;

	if (session_want_send(s, now) == NULL) {
		a = tick(s, now, NULL);
		assert_true(a & SESSION_SEND_INITIATION);
	}
	assert_true(session_handshake_complete(s, now + MS(100), true, idx, k) >= 0);
	/* The confirming keepalive goes out. */
	a = tick(s, now + MS(100), NULL);
	assert_true(a & SESSION_SEND_KEEPALIVE);
	session_data_sent(s, now + MS(100), true);
}

/* Responder: handshake at now, first data packet from the peer at now. */
static void up_responder(struct session *s, uint64_t now, uint32_t idx, void *k)
{
	struct session_slot *slot;

	assert_true(session_handshake_complete(s, now, false, idx, k) >= 0);
	slot = session_slot_by_index(s, idx);
	assert_ptr_equal(slot, &s->next);
	session_data_received(s, now, slot, true);
	assert_ptr_equal(s->current.keypair, k);
}

static void test_defaults(void **state)
{
	struct session_timers t = session_timers_default();
	struct session s;

	(void)state;
	assert_true(t.rekey_after_time == SEC(120));
	assert_true(t.reject_after_time == SEC(180));
	assert_true(t.rekey_timeout == SEC(5));
	assert_true(t.rekey_attempt_time == SEC(90));
	assert_true(t.keepalive_timeout == SEC(10));
	assert_true(t.persistent_keepalive == 0);
	assert_true(t.wipe_after == SEC(540));
	assert_true(REKEY_AFTER_MESSAGES == UINT64_C(1152921504606846976));
	assert_true(REJECT_AFTER_MESSAGES == UINT64_C(18446744073709543423));

	/* Zero fields fall back to defaults; wipe follows a shortened reject. */
	memset(&t, 0, sizeof(t));
	t.reject_after_time = SEC(3);
	session_init(&s, &t, true);
	assert_true(s.t.reject_after_time == SEC(3));
	assert_true(s.t.wipe_after == SEC(9));
	assert_true(s.t.rekey_timeout == SEC(5));
	assert_int_equal(session_state(&s, T0), SESSION_DOWN);
	assert_true(session_last_handshake(&s) == 0);
}

static void test_first_send_starts_handshake(void **state)
{
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	session_set_jitter(&s, MS(200));
	assert_true(session_tick(&s, T0, &a) == SESSION_NEVER);
	assert_int_equal(a, 0);

	assert_null(session_want_send(&s, T0));
	assert_int_equal(session_state(&s, T0), SESSION_HANDSHAKING);
	a = tick(&s, T0, &d);
	assert_int_equal(a, SESSION_SEND_INITIATION);
	assert_true(d == T0 + SEC(5) + MS(200));
	assert_false(session_initiation_allowed(&s, T0 + SEC(5) - 1));
	assert_true(session_initiation_allowed(&s, T0 + SEC(5)));

	/* More packets inside the 5 s window: no extra initiation. */
	assert_null(session_want_send(&s, T0 + SEC(1)));
	a = tick(&s, T0 + SEC(1), &d);
	assert_int_equal(a, 0);
	/* The fresh request is served when the window ends, before the
	 * jittered retry, and moves the retry on. */
	assert_true(d == T0 + SEC(5));
	a = tick(&s, T0 + SEC(5), &d);
	assert_int_equal(a, SESSION_SEND_INITIATION);
	assert_true(d == T0 + SEC(10) + MS(200));
}

static void test_no_endpoint_no_initiation(void **state)
{
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, false);
	assert_null(session_want_send(&s, T0));
	assert_false(session_initiation_allowed(&s, T0));
	a = tick(&s, T0, &d);
	assert_int_equal(a, 0);
	assert_true(d == SESSION_NEVER);
	assert_int_equal(session_state(&s, T0), SESSION_DOWN);

	/* The peer's address became known: the queued request goes out. */
	session_set_can_initiate(&s, true);
	a = tick(&s, T0 + SEC(1), &d);
	assert_int_equal(a, SESSION_SEND_INITIATION);
}

/* Retries every rekey_timeout + jitter; WireGuard sends the first
 * initiation plus MAX_TIMER_HANDSHAKES + 1 = 19 retries (20 in all, the last
 * at ~95 s) and gives up at the next expiry (~100 s). */
static void test_retry_and_give_up(void **state)
{
	struct session s;
	const uint64_t step = SEC(5) + MS(333);
	uint64_t now = T0, d, last = 0;
	unsigned a, sends = 0, gaveup = 0;

	(void)state;
	session_init(&s, NULL, true);
	session_set_jitter(&s, SEC(10)); /* clamped to 333.333333 ms */
	session_handshake_initiated(&s, now);
	sends = 1;
	last = now;
	d = session_tick(&s, now, &a);
	assert_true(d == now + SEC(5) + SESSION_JITTER_MAX_NS);
	session_set_jitter(&s, MS(333));
	/* the first retry uses the jitter stored at the initiation */
	now = d;
	for (;;) {
		a = tick(&s, now - 1, NULL);
		assert_int_equal(a, 0); /* nothing before the deadline */
		a = tick(&s, now, &d);
		if (a & SESSION_SEND_INITIATION) {
			assert_int_equal(a, SESSION_SEND_INITIATION);
			assert_true(now - last >= SEC(5));
			assert_true(now - last <= SEC(5) + SESSION_JITTER_MAX_NS);
			assert_int_equal(session_state(&s, now), SESSION_HANDSHAKING);
			sends++;
			last = now;
			assert_true(d == now + step);
			now = d;
			continue;
		}
		assert_int_equal(a, SESSION_HANDSHAKE_GAVE_UP);
		gaveup++;
		break;
	}
	assert_int_equal(sends, 20);
	assert_int_equal(gaveup, 1);
	assert_true(last >= T0 + SEC(90));
	assert_true(now == last + step);
	/* Afterwards: not trying, only the residue wipe is pending. */
	assert_int_equal(session_state(&s, now), SESSION_DOWN);
	assert_true(d == now + SEC(540));
	a = tick(&s, now + SEC(100), &d);
	assert_int_equal(a, 0);
	a = tick(&s, now + SEC(540), &d);
	assert_int_equal(a, SESSION_WIPE_KEYS);
	assert_true(d == SESSION_NEVER);
}

/* A packet sent while retrying resets the attempt count (WireGuard: "this
 * counter is reset when a peer explicitly attempts to send"). */
static void test_send_resets_attempts(void **state)
{
	struct session s;
	uint64_t now = T0, d;
	unsigned a, i;

	(void)state;
	session_init(&s, NULL, true);
	assert_null(session_want_send(&s, now));
	a = tick(&s, now, &d);
	assert_int_equal(a, SESSION_SEND_INITIATION);
	/* i counts retries; before the tenth a packet is sent (inside the 5 s
	 * window, so it does not add an initiation of its own). */
	for (i = 0;; i++) {
		now = d;
		if (i == 10) {
			assert_null(session_want_send(&s, now - SEC(1)));
			assert_true(s.attempts == 0);
		}
		a = tick(&s, now, &d);
		if (a != SESSION_SEND_INITIATION)
			break;
	}
	assert_int_equal(a, SESSION_HANDSHAKE_GAVE_UP);
	/* 10 retries, then 19 more counted from the reset. */
	assert_int_equal(i, 10 + 19);
}

static void test_initiator_rekeys_at_rekey_after_time(void **state)
{
	struct session s;
	struct session_slot *slot;
	void *w[SESSION_EXPIRED_MAX];
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_initiator(&s, T0, 1, &kp[0]);
	assert_int_equal(session_state(&s, T0 + SEC(1)), SESSION_ESTABLISHED);
	assert_true(session_last_handshake(&s) == T0 + MS(100));
	assert_true(s.current.initiator);

	slot = session_want_send(&s, T0 + MS(100) + SEC(120) - 1);
	assert_ptr_equal(slot, &s.current);
	assert_ptr_equal(slot->keypair, &kp[0]);
	assert_true(slot->send_count == 1);
	a = tick(&s, T0 + MS(100) + SEC(120) - 1, &d);
	assert_false(a & SESSION_SEND_INITIATION);

	/* At 120 s the packet still goes out with current and a rekey starts. */
	slot = session_want_send(&s, T0 + MS(100) + SEC(120));
	assert_ptr_equal(slot, &s.current);
	assert_true(slot->send_count == 2);
	a = tick(&s, T0 + MS(100) + SEC(120), &d);
	assert_true(a & SESSION_SEND_INITIATION);

	/* New keypair: current at once, old one kept as previous. */
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(121), true, 2,
						    &kp[1]), 0);
	assert_ptr_equal(s.current.keypair, &kp[1]);
	assert_ptr_equal(s.previous.keypair, &kp[0]);
	assert_false(s.next.valid);
	assert_int_equal(drain(&s, w), 0);
	slot = session_want_send(&s, T0 + SEC(121));
	assert_ptr_equal(slot->keypair, &kp[1]);
	assert_true(slot->send_count == 1);
}

/* WireGuard: the responder does not rekey on age at 120 s (only the
 * initiator does, to avoid both sides racing); it requests a handshake only
 * when its current key is rejected at 180 s at send time. */
static void test_responder_rekeys_only_at_reject(void **state)
{
	struct session s;
	uint64_t t;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 7, &kp[0]);
	assert_false(s.current.initiator);
	assert_true(session_last_handshake(&s) == T0);

	for (t = T0 + SEC(1); t < T0 + SEC(180); t += SEC(7)) {
		assert_non_null(session_want_send(&s, t));
		session_data_received(&s, t, &s.current, false);
		a = tick(&s, t, NULL);
		assert_false(a & SESSION_SEND_INITIATION);
	}
	assert_non_null(session_want_send(&s, T0 + SEC(180) - 1));
	a = tick(&s, T0 + SEC(180) - 1, NULL);
	assert_false(a & SESSION_SEND_INITIATION);

	assert_null(session_want_send(&s, T0 + SEC(180)));
	a = tick(&s, T0 + SEC(180), NULL);
	assert_true(a & SESSION_SEND_INITIATION);
	assert_true(a & SESSION_EXPIRED_CURRENT);
}

static void test_rekey_and_reject_by_message_count(void **state)
{
	struct session s;
	struct session_slot *slot;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 3, &kp[0]);

	/* Past the response's REKEY_TIMEOUT (see the next test). */
	s.current.send_count = REKEY_AFTER_MESSAGES - 1;
	assert_non_null(session_want_send(&s, T0 + SEC(6)));
	a = tick(&s, T0 + SEC(6), NULL);
	assert_false(a & SESSION_SEND_INITIATION);
	/* Count now exceeds REKEY_AFTER_MESSAGES: rekey, for either role. */
	slot = session_want_send(&s, T0 + SEC(7));
	assert_non_null(slot);
	assert_true(slot->send_count == REKEY_AFTER_MESSAGES + 1);
	a = tick(&s, T0 + SEC(7), NULL);
	assert_true(a & SESSION_SEND_INITIATION);

	/* The last nonce is REJECT_AFTER_MESSAGES - 1. */
	s.current.send_count = REJECT_AFTER_MESSAGES - 1;
	slot = session_want_send(&s, T0 + SEC(8));
	assert_non_null(slot);
	assert_true(slot->send_count - 1 == REJECT_AFTER_MESSAGES - 1);
	assert_null(session_want_send(&s, T0 + SEC(8)));
	assert_true(s.current.send_count == REJECT_AFTER_MESSAGES);
	assert_int_equal(session_state(&s, T0 + SEC(8)), SESSION_HANDSHAKING);
}

/* WireGuard's send.c: a handshake response counts as a handshake sent, so
 * a request of ours (packets staged, a rekey) waits REKEY_TIMEOUT after
 * it; answering the peer and then initiating at once would replace the
 * session the peer just made, and make us the side that rekeys. */
static void test_response_holds_off_initiation(void **state)
{
	struct session s;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	assert_true(session_initiation_allowed(&s, T0));
	assert_true(session_handshake_complete(&s, T0, false, 3, &kp[0]) >= 0);
	assert_false(session_initiation_allowed(&s, T0 + SEC(5) - 1));
	session_request_handshake(&s);
	a = tick(&s, T0 + SEC(1), NULL);
	assert_false(a & SESSION_SEND_INITIATION);
	a = tick(&s, T0 + SEC(5) - 1, NULL);
	assert_false(a & SESSION_SEND_INITIATION);
	a = tick(&s, T0 + SEC(5), NULL);
	assert_true(a & SESSION_SEND_INITIATION);
}

static void test_no_use_after_reject_time(void **state)
{
	struct session s;
	const uint64_t born = T0 + MS(100);
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_initiator(&s, T0, 1, &kp[0]);
	assert_ptr_equal(session_slot_by_index(&s, 1), &s.current);

	assert_true(session_slot_rx_ok(&s, &s.current, born + SEC(180) - 1));
	assert_false(session_slot_rx_ok(&s, &s.current, born + SEC(180)));
	assert_false(session_slot_rx_ok(&s, NULL, born));

	/* The tick reports the expiry exactly once, at 180 s. */
	a = tick(&s, born + SEC(100), &d);
	assert_int_equal(a, 0);
	assert_true(d == born + SEC(180));
	a = tick(&s, born + SEC(180), &d);
	assert_int_equal(a, SESSION_EXPIRED_CURRENT);
	assert_int_equal(session_state(&s, born + SEC(180)), SESSION_DOWN);
	a = tick(&s, born + SEC(200), &d);
	assert_int_equal(a, 0);

	assert_null(session_want_send(&s, born + SEC(180)));
	assert_true(s.current.send_count == 0);
	assert_int_equal(session_state(&s, born + SEC(180)), SESSION_HANDSHAKING);
	a = tick(&s, born + SEC(180), &d);
	assert_int_equal(a, SESSION_SEND_INITIATION);
}

/* receive.c keep_key_fresh: initiator, current older than
 * reject - keepalive - rekey_timeout = 165 s, once per handshake. */
static void test_rekey_on_receive(void **state)
{
	struct session s;
	const uint64_t born = T0 + MS(100);
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_initiator(&s, T0, 1, &kp[0]);

	session_data_received(&s, born + SEC(165) - 1, &s.current, false);
	a = tick(&s, born + SEC(165) - 1, NULL);
	assert_false(a & SESSION_SEND_INITIATION);
	session_data_received(&s, born + SEC(165), &s.current, true);
	a = tick(&s, born + SEC(165), NULL);
	assert_true(a & SESSION_SEND_INITIATION);
	/* Only once: later packets do not ask again (retries take over). */
	session_data_received(&s, born + SEC(170) + 1, &s.current, true);
	assert_false(s.want_handshake);
	/* A completed handshake re-enables it for the new keypair. */
	assert_true(session_handshake_complete(&s, born + SEC(171), true, 2,
					       &kp[1]) >= 0);
	assert_false(s.lastminute_sent);

	/* Responder: never rekeys on receive. */
	session_init(&s, NULL, true);
	up_responder(&s, T0, 5, &kp[2]);
	session_data_received(&s, T0 + SEC(170), &s.current, false);
	a = tick(&s, T0 + SEC(170), NULL);
	assert_false(a & SESSION_SEND_INITIATION);
}

static void test_keepalive_after_receive(void **state)
{
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 1, &kp[0]);
	/* A received keepalive does not call for an answer. */
	a = tick(&s, T0 + SEC(30), &d);
	assert_int_equal(a, 0);

	session_data_received(&s, T0 + SEC(31), &s.current, false);
	/* More data while pending does not push the deadline. */
	session_data_received(&s, T0 + SEC(35), &s.current, false);
	a = tick(&s, T0 + SEC(35), &d);
	assert_int_equal(a, 0);
	assert_true(d == T0 + SEC(41));
	a = tick(&s, T0 + SEC(41) - 1, &d);
	assert_int_equal(a, 0);
	a = tick(&s, T0 + SEC(41), &d);
	assert_int_equal(a, SESSION_SEND_KEEPALIVE);
	session_data_sent(&s, T0 + SEC(41), true);
	/* Nothing new received: no further keepalive. */
	a = tick(&s, T0 + SEC(60), &d);
	assert_int_equal(a, 0);
	/* A keepalive we send does not arm the dead-peer timer. */
	assert_true(s.new_handshake_at == SESSION_NEVER);
}

static void test_no_keepalive_when_we_sent(void **state)
{
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 1, &kp[0]);
	session_data_received(&s, T0 + SEC(1), &s.current, false);
	assert_non_null(session_want_send(&s, T0 + SEC(5)));
	session_data_sent(&s, T0 + SEC(5), false);
	a = tick(&s, T0 + SEC(11), &d);
	assert_int_equal(a, 0);
	/* Only the dead-peer timer from our send is left. */
	assert_true(d == T0 + SEC(5) + SEC(15));
	/* ...and the peer's answer cancels that too. */
	session_data_received(&s, T0 + SEC(12), &s.current, true);
	a = tick(&s, T0 + SEC(20), &d);
	assert_int_equal(a, 0);
	assert_true(d == T0 + SEC(180));  /* current expiry */
}

/* Persistent keepalive: after N s without authenticated traffic in either
 * direction (timers.c any_authenticated_packet_traversal). */
static void test_persistent_keepalive(void **state)
{
	struct session_timers t = session_timers_default();
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	t.persistent_keepalive = SEC(25);
	session_init(&s, &t, true);
	up_initiator(&s, T0, 1, &kp[0]);
	/* Last traffic: the confirming keepalive at T0 + 100 ms. */
	a = tick(&s, T0 + MS(100) + SEC(25) - 1, &d);
	assert_int_equal(a, 0);
	assert_true(d == T0 + MS(100) + SEC(25));
	a = tick(&s, d, &d);
	assert_int_equal(a, SESSION_SEND_KEEPALIVE);
	session_data_sent(&s, T0 + MS(100) + SEC(25), true);

	/* Data from the peer also counts as traffic: 40 s + 25 s. */
	session_data_received(&s, T0 + SEC(40), &s.current, true);
	a = tick(&s, T0 + SEC(50) + MS(100), &d);
	assert_int_equal(a, 0);
	assert_true(d == T0 + SEC(65));
	a = tick(&s, T0 + SEC(65), &d);
	assert_int_equal(a, SESSION_SEND_KEEPALIVE);

	/* Off by default. */
	session_init(&s, NULL, true);
	up_initiator(&s, T0, 1, &kp[0]);
	a = tick(&s, T0 + SEC(100), &d);
	assert_int_equal(a, 0);
}

static void test_new_handshake_when_peer_silent(void **state)
{
	struct session s;
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	session_set_jitter(&s, MS(50));
	up_initiator(&s, T0, 1, &kp[0]);
	assert_non_null(session_want_send(&s, T0 + SEC(1)));
	session_data_sent(&s, T0 + SEC(1), false);
	/* More sending does not push the deadline. */
	session_data_sent(&s, T0 + SEC(10), false);
	a = tick(&s, T0 + SEC(16), &d);
	assert_int_equal(a, 0);
	assert_true(d == T0 + SEC(16) + MS(50));
	a = tick(&s, d, &d);
	assert_int_equal(a, SESSION_NEW_HANDSHAKE | SESSION_SEND_INITIATION);
	assert_true(s.attempts == 0);

	/* A send arms the timer: the daemon sees the earlier deadline without
	 * evaluating anything, and it matches what the next tick returns. */
	session_init(&s, NULL, true);
	session_set_jitter(&s, MS(50));
	up_initiator(&s, T0, 1, &kp[0]);
	tick(&s, T0 + SEC(1), &d);
	session_data_sent(&s, T0 + SEC(1), false);
	assert_true(session_next_deadline(&s) == T0 + SEC(16) + MS(50));
	assert_true(session_next_deadline(&s) < d);
	tick(&s, T0 + SEC(1), &d);
	assert_true(d == session_next_deadline(&s));

	/* Hearing back in time cancels it. */
	session_init(&s, NULL, true);
	up_initiator(&s, T0, 1, &kp[0]);
	session_data_sent(&s, T0 + SEC(1), false);
	session_data_received(&s, T0 + SEC(15), &s.current, true);
	a = tick(&s, T0 + SEC(17), &d);
	assert_int_equal(a, 0);
}

static void test_wipe_after_540s(void **state)
{
	struct session s;
	void *w[SESSION_EXPIRED_MAX];
	uint64_t d;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 1, &kp[0]);
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(100), false, 2,
						    &kp[1]), 0);
	session_data_received(&s, T0 + SEC(101), &s.next, true);
	assert_ptr_equal(s.previous.keypair, &kp[0]);
	/* The wipe deadline is counted from the last derived keypair, not
	 * from the first one (T0 + 540 s). */
	a = tick(&s, T0 + SEC(540), &d);
	assert_int_equal(a, SESSION_EXPIRED_CURRENT);  /* born T0 + 100 s */
	assert_true(d == T0 + SEC(640));
	a = tick(&s, T0 + SEC(640) - 1, &d);
	assert_int_equal(a, 0);
	a = tick(&s, T0 + SEC(640), &d);
	assert_int_equal(a, SESSION_WIPE_KEYS);
	assert_false(s.next.valid || s.current.valid || s.previous.valid);
	assert_int_equal(drain(&s, w), 2);
	assert_ptr_equal(w[0], &kp[1]);
	assert_ptr_equal(w[1], &kp[0]);
	assert_int_equal(drain(&s, w), 0);
	assert_int_equal(session_state(&s, T0 + SEC(640)), SESSION_DOWN);
	assert_null(session_slot_by_index(&s, 1));
	assert_null(session_slot_by_index(&s, 2));
	assert_true(d == SESSION_NEVER);
}

/* noise.c add_new_keypair / received_with_keypair, responder side. */
static void test_responder_next_promoted(void **state)
{
	struct session s;
	void *w[SESSION_EXPIRED_MAX];
	struct session_slot *slot;
	unsigned a;

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 1, &kp[0]);
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(120), false, 2,
						    &kp[1]), 0);
	session_data_received(&s, T0 + SEC(120), &s.next, true);
	/* previous = kp0, current = kp1 */
	assert_ptr_equal(s.previous.keypair, &kp[0]);

	/* Third handshake: new keypair waits in next, unusable for sending;
	 * the old previous is dropped for wiping at once, like WireGuard. */
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(240), false, 3,
						    &kp[2]), 1);
	assert_int_equal(drain(&s, w), 1);
	assert_ptr_equal(w[0], &kp[0]);
	assert_ptr_equal(s.next.keypair, &kp[2]);
	assert_false(s.previous.valid);
	assert_ptr_equal(session_want_send(&s, T0 + SEC(240))->keypair, &kp[1]);

	/* A repeated initiation replaces the unconfirmed next. */
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(241), false, 4,
						    &kp[3]), 1);
	assert_int_equal(drain(&s, w), 1);
	assert_ptr_equal(w[0], &kp[2]);
	assert_null(session_slot_by_index(&s, 3));

	/* Data on current does not confirm next. */
	session_data_received(&s, T0 + SEC(242), &s.current, false);
	assert_ptr_equal(s.next.keypair, &kp[3]);

	/* First packet on next: next -> current -> previous. */
	slot = session_slot_by_index(&s, 4);
	assert_ptr_equal(slot, &s.next);
	assert_int_equal(session_data_received(&s, T0 + SEC(243), slot, false), 0);
	assert_ptr_equal(s.current.keypair, &kp[3]);
	assert_ptr_equal(s.previous.keypair, &kp[1]);
	assert_false(s.next.valid);
	assert_true(session_last_handshake(&s) == T0 + SEC(243));
	assert_ptr_equal(session_want_send(&s, T0 + SEC(243))->keypair, &kp[3]);

	/* Old previous returned for wiping when one exists at confirmation
	 * (only reachable if the slots were filled by other means). */
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(250), false, 5,
						    &kp[4]), 1);
	assert_int_equal(drain(&s, w), 1);
	assert_ptr_equal(w[0], &kp[1]);
	s.previous = (struct session_slot){ .valid = true, .birth_ns = T0,
					    .local_index = 9, .keypair = &kp[5] };
	assert_int_equal(session_data_received(&s, T0 + SEC(251), &s.next, true), 1);
	assert_int_equal(drain(&s, w), 1);
	assert_ptr_equal(w[0], &kp[5]);
	assert_ptr_equal(s.previous.keypair, &kp[3]);
	assert_ptr_equal(s.current.keypair, &kp[4]);
	a = tick(&s, T0 + SEC(251), NULL);
	assert_false(a & SESSION_WIPE_KEYS);
}

/* Initiator completing while a responder keypair waits in next: next is
 * demoted to previous and the old current wiped (add_new_keypair). */
static void test_initiator_with_pending_next(void **state)
{
	struct session s;
	void *w[SESSION_EXPIRED_MAX];

	(void)state;
	session_init(&s, NULL, true);
	up_responder(&s, T0, 1, &kp[0]);
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(10), false, 2,
						    &kp[1]), 0);
	assert_int_equal(session_handshake_complete(&s, T0 + SEC(11), true, 3,
						    &kp[2]), 1);
	assert_int_equal(drain(&s, w), 1);
	assert_ptr_equal(w[0], &kp[0]);
	assert_ptr_equal(s.current.keypair, &kp[2]);
	assert_ptr_equal(s.previous.keypair, &kp[1]);
	assert_false(s.next.valid);
}

/* No loss across a rekey: packets sealed with the previous keypair, or the
 * current one while the responder waits for confirmation, are accepted. */
static void test_no_loss_across_rekey(void **state)
{
	struct session a, b;
	struct session_slot *slot;
	void *w[SESSION_EXPIRED_MAX];

	(void)state;
	/* Initiator side. */
	session_init(&a, NULL, true);
	up_initiator(&a, T0, 10, &kp[0]);
	assert_true(session_handshake_complete(&a, T0 + SEC(121), true, 11,
					       &kp[1]) >= 0);
	slot = session_slot_by_index(&a, 10);
	assert_ptr_equal(slot, &a.previous);
	assert_true(session_slot_rx_ok(&a, slot, T0 + SEC(122)));
	assert_int_equal(session_data_received(&a, T0 + SEC(122), slot, false), 0);
	assert_ptr_equal(a.current.keypair, &kp[1]);  /* no rotation */
	assert_ptr_equal(a.previous.keypair, &kp[0]);
	assert_ptr_equal(session_slot_by_index(&a, 11), &a.current);
	assert_null(session_slot_by_index(&a, 12));
	/* The previous keypair ages out like any other. */
	assert_false(session_slot_rx_ok(&a, slot, T0 + MS(100) + SEC(180)));

	/* Responder side. */
	session_init(&b, NULL, true);
	up_responder(&b, T0, 20, &kp[2]);
	assert_int_equal(session_handshake_complete(&b, T0 + SEC(121), false, 21,
						    &kp[3]), 0);
	/* In flight, sealed with the old keypair (now still current). */
	slot = session_slot_by_index(&b, 20);
	assert_ptr_equal(slot, &b.current);
	assert_true(session_slot_rx_ok(&b, slot, T0 + SEC(121)));
	session_data_received(&b, T0 + SEC(121), slot, false);
	assert_ptr_equal(b.next.keypair, &kp[3]);
	/* Confirmation, then a late packet on the old keypair. */
	session_data_received(&b, T0 + SEC(122), session_slot_by_index(&b, 21), false);
	slot = session_slot_by_index(&b, 20);
	assert_ptr_equal(slot, &b.previous);
	assert_true(session_slot_rx_ok(&b, slot, T0 + SEC(123)));
	assert_int_equal(drain(&b, w), 0);
}

static void test_wipe_list_bounded(void **state)
{
	struct session s;
	void *w[SESSION_EXPIRED_MAX];
	int r = 0;
	unsigned i;

	(void)state;
	session_init(&s, NULL, true);
	/* The daemon never drains: slots + list stay within the bound. */
	for (i = 0; i < 20; i++) {
		r = session_handshake_complete(&s, T0 + SEC(i), false, i + 1,
					       &kp[i % 8]);
		if (r < 0)
			break;
	}
	assert_int_equal(r, -ENOBUFS);
	assert_int_equal(i, SESSION_EXPIRED_MAX);
	assert_int_equal(s.n_expired, SESSION_EXPIRED_MAX - 1);
	/* Refused handshake changed nothing. */
	assert_int_equal(s.next.local_index, SESSION_EXPIRED_MAX);
	assert_int_equal(session_take_expired(&s, w, 3), 3);
	assert_int_equal(session_take_expired(&s, w, 10), SESSION_EXPIRED_MAX - 4);
	assert_true(session_handshake_complete(&s, T0 + SEC(30), false, 99,
					       &kp[0]) >= 0);
	assert_int_equal(session_handshake_complete(&s, T0, true, 1, NULL), -EINVAL);
}

/* Shortened timers behave the same way, scaled. */
static void test_short_timers(void **state)
{
	struct session_timers t = {
		.rekey_after_time = SEC(2),
		.reject_after_time = SEC(3),
		.rekey_timeout = SEC(1),
		.rekey_attempt_time = SEC(3),
		.keepalive_timeout = MS(500),
	};
	struct session s;
	uint64_t now, d;
	unsigned a, sends;

	(void)state;
	session_init(&s, &t, true);
	assert_true(s.t.wipe_after == SEC(9));
	up_initiator(&s, T0, 1, &kp[0]);
	now = T0 + MS(100);

	assert_non_null(session_want_send(&s, now + SEC(2) - 1));
	a = tick(&s, now + SEC(2) - 1, &d);
	assert_false(a & SESSION_SEND_INITIATION);
	assert_non_null(session_want_send(&s, now + SEC(2)));
	a = tick(&s, now + SEC(2), &d);
	assert_true(a & SESSION_SEND_INITIATION);

	/* Peer unreachable: 3/1 = 3 -> 5 initiations, then give up. */
	sends = 1;
	for (;;) {
		a = tick(&s, d, &d);
		if (!(a & SESSION_SEND_INITIATION))
			break;
		sends++;
	}
	assert_true(a & SESSION_HANDSHAKE_GAVE_UP);
	assert_int_equal(sends, 5);
	/* Key unusable after 3 s; wipe 9 s after the derivation. */
	assert_null(session_want_send(&s, now + SEC(3)));
	s.want_handshake = false; /* ignore that request here */
	assert_false(session_slot_rx_ok(&s, &s.current, now + SEC(3)));
	a = tick(&s, now + SEC(9) - 1, &d);
	assert_false(a & SESSION_WIPE_KEYS);
	assert_true(d == now + SEC(9));
	a = tick(&s, now + SEC(9), &d);
	assert_true(a & SESSION_WIPE_KEYS);

	/* Keepalive after 500 ms, dead peer after 1.5 s. */
	session_init(&s, &t, true);
	up_initiator(&s, T0, 1, &kp[0]);
	session_data_received(&s, T0 + SEC(1), &s.current, false);
	a = tick(&s, T0 + SEC(1) + MS(500), &d);
	assert_int_equal(a, SESSION_SEND_KEEPALIVE);
	session_data_sent(&s, T0 + SEC(1) + MS(500), false);
	a = tick(&s, T0 + SEC(3), &d);
	assert_int_equal(a, SESSION_NEW_HANDSHAKE | SESSION_SEND_INITIATION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_first_send_starts_handshake),
		cmocka_unit_test(test_no_endpoint_no_initiation),
		cmocka_unit_test(test_retry_and_give_up),
		cmocka_unit_test(test_send_resets_attempts),
		cmocka_unit_test(test_initiator_rekeys_at_rekey_after_time),
		cmocka_unit_test(test_responder_rekeys_only_at_reject),
		cmocka_unit_test(test_rekey_and_reject_by_message_count),
		cmocka_unit_test(test_response_holds_off_initiation),
		cmocka_unit_test(test_no_use_after_reject_time),
		cmocka_unit_test(test_rekey_on_receive),
		cmocka_unit_test(test_keepalive_after_receive),
		cmocka_unit_test(test_no_keepalive_when_we_sent),
		cmocka_unit_test(test_persistent_keepalive),
		cmocka_unit_test(test_new_handshake_when_peer_silent),
		cmocka_unit_test(test_wipe_after_540s),
		cmocka_unit_test(test_responder_next_promoted),
		cmocka_unit_test(test_initiator_with_pending_next),
		cmocka_unit_test(test_no_loss_across_rekey),
		cmocka_unit_test(test_wipe_list_bounded),
		cmocka_unit_test(test_short_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
