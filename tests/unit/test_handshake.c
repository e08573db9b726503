/* tests/unit/test_handshake.c: gresec initiation/response messages. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/handshake.h"

enum {
	MACS_OFF_INIT = offsetof(struct msg_initiation, macs),
	MACS_OFF_RESP = offsetof(struct msg_response, macs),
};

struct fixture {
	struct handshake_identity ini_id, rsp_id;
	struct handshake ini, rsp;
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	uint8_t m1[MSG_INITIATION_LEN];
	uint8_t m2[MSG_RESPONSE_LEN];
};

static void identities(struct fixture *f, const uint8_t *i_psk, const uint8_t *r_psk)
{
	uint8_t k[32];

	memset(f, 0, sizeof(*f));
	randombytes_buf(k, sizeof(k));
	assert_int_equal(handshake_identity_init(&f->ini_id, k, i_psk), 0);
	randombytes_buf(k, sizeof(k));
	assert_int_equal(handshake_identity_init(&f->rsp_id, k, r_psk), 0);
	handshake_tai64n_now(f->ts, 1700000000123456789ull);
}

static void initiate(struct fixture *f)
{
	assert_int_equal(handshake_create_initiation(&f->ini, &f->ini_id,
						     f->rsp_id.static_public, 0x11223344,
						     f->ts, f->m1), 0);
}

static int consume1(struct fixture *f, const uint8_t *msg, size_t len, uint32_t *idx)
{
	uint8_t peer[32], ts[12];

	return handshake_consume_initiation(&f->rsp, &f->rsp_id, msg, len, peer, ts, idx);
}

/* Full exchange up to (not including) key derivation. */
static void exchange(struct fixture *f)
{
	uint8_t peer[32], ts[12];
	uint32_t idx = 0;

	initiate(f);
	assert_int_equal(handshake_consume_initiation(&f->rsp, &f->rsp_id, f->m1, sizeof(f->m1),
						      peer, ts, &idx), 0);
	assert_memory_equal(peer, f->ini_id.static_public, 32);
	assert_memory_equal(ts, f->ts, 12);
	assert_int_equal(idx, 0x11223344);
	assert_int_equal(handshake_create_response(&f->rsp, &f->rsp_id, 0xa0b0c0d0, f->m2), 0);
	idx = 0;
	assert_int_equal(handshake_consume_response(&f->ini, f->m2, sizeof(f->m2), &idx), 0);
	assert_int_equal(idx, 0xa0b0c0d0);
}

static void check_keys(struct fixture *f)
{
	uint8_t is[32], ir[32], rs[32], rr[32];

	assert_int_equal(handshake_derive_keys(&f->ini, is, ir), 0);
	assert_int_equal(handshake_derive_keys(&f->rsp, rs, rr), 0);
	assert_memory_equal(is, rr, 32);
	assert_memory_equal(ir, rs, 32);
	assert_memory_not_equal(is, ir, 32);
	assert_false(sodium_is_zero(is, 32));
	/* derive wipes the handshake: a second call fails */
	assert_true(sodium_is_zero((const uint8_t *)&f->ini, sizeof(f->ini)));
	assert_true(sodium_is_zero((const uint8_t *)&f->rsp, sizeof(f->rsp)));
	assert_int_equal(handshake_derive_keys(&f->ini, is, ir), -1);
}

static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
	size_t i;

	for (i = 0; i + len <= hay_len; i++)
		if (memcmp(hay + i, needle, len) == 0)
			return true;
	return false;
}

static void test_identity(void **state)
{
	struct handshake_identity id;
	uint8_t k[32], pub[32], psk[32];

	(void)state;
	randombytes_buf(k, sizeof(k));
	assert_int_equal(crypto_scalarmult_base(pub, k), 0);
	assert_int_equal(handshake_identity_init(&id, k, NULL), 0);
	assert_memory_equal(id.static_private, k, 32);
	assert_memory_equal(id.static_public, pub, 32);
	assert_true(sodium_is_zero(id.psk, 32));
	randombytes_buf(psk, sizeof(psk));
	assert_int_equal(handshake_identity_init(&id, k, psk), 0);
	assert_memory_equal(id.psk, psk, 32);
}

static void test_roundtrip(void **state)
{
	struct fixture f;
	uint8_t psk[32];

	(void)state;
	randombytes_buf(psk, sizeof(psk));
	identities(&f, psk, psk);
	exchange(&f);

	/* framing: type, zero reserved, little-endian indices, zero MACs */
	assert_memory_equal(f.m1, "\x01\x00\x00\x00\x44\x33\x22\x11", 8);
	assert_true(sodium_is_zero(f.m1 + MACS_OFF_INIT, 2 * MAC_LEN));
	assert_memory_equal(f.m2, "\x02\x00\x00\x00\xd0\xc0\xb0\xa0\x44\x33\x22\x11", 12);
	assert_true(sodium_is_zero(f.m2 + MACS_OFF_RESP, 2 * MAC_LEN));
	/* the static key travels encrypted */
	assert_false(contains(f.m1, sizeof(f.m1), f.ini_id.static_public, 32));
	check_keys(&f);

	/* without a psk (all zero): still works */
	identities(&f, NULL, NULL);
	exchange(&f);
	check_keys(&f);
}

static void test_wrong_peer_key(void **state)
{
	struct fixture f;
	uint8_t wrong[32];
	uint32_t idx;

	(void)state;
	identities(&f, NULL, NULL);
	memcpy(wrong, f.rsp_id.static_public, 32);
	wrong[5] ^= 0x10;
	assert_int_equal(handshake_create_initiation(&f.ini, &f.ini_id, wrong, 1, f.ts, f.m1), 0);
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), -1);
	assert_int_equal(f.rsp.state, HANDSHAKE_EMPTY);

	/* initiation meant for someone else: another responder key */
	identities(&f, NULL, NULL);
	initiate(&f);
	f.rsp_id.static_private[0] ^= 0x40;
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), -1);
}

static void test_psk_mismatch(void **state)
{
	struct fixture f;
	uint8_t a[32], b[32], good[MSG_RESPONSE_LEN];
	struct handshake_identity rsp_right;
	uint32_t idx;

	(void)state;
	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	identities(&f, a, b);
	initiate(&f);
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 7, f.m2), 0);
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), -1);
	/* the initiator is still waiting: a genuine response is still accepted */
	assert_int_equal(f.ini.state, HANDSHAKE_CREATED_INITIATION);
	rsp_right = f.rsp_id;
	memcpy(rsp_right.psk, a, 32);
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &rsp_right, 8, good), 0);
	assert_int_equal(handshake_consume_response(&f.ini, good, sizeof(good), &idx), 0);
	assert_int_equal(idx, 8);

	/* psk on one side only (the other all zero) */
	identities(&f, a, NULL);
	initiate(&f);
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 7, f.m2), 0);
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), -1);
}

static void test_initiation_bit_flips(void **state)
{
	struct fixture f;
	uint8_t t[MSG_INITIATION_LEN], peer[32], ts[12];
	size_t bit, byte;
	uint32_t idx;
	int ret;

	(void)state;
	identities(&f, NULL, NULL);
	initiate(&f);
	for (bit = 0; bit < sizeof(t) * 8; bit++) {
		byte = bit / 8;
		memcpy(t, f.m1, sizeof(t));
		t[byte] ^= (uint8_t)(1u << (bit % 8));
		idx = 0;
		ret = handshake_consume_initiation(&f.rsp, &f.rsp_id, t, sizeof(t), peer, ts, &idx);
		if (byte >= 4 && byte < 8) {
			/* sender index: covered by mac1 (cookie module), not Noise */
			assert_int_equal(ret, 0);
			assert_int_equal(idx, load_le32(t + 4));
			assert_int_not_equal(idx, 0x11223344);
		} else if (byte >= MACS_OFF_INIT) {
			/* MACs are checked before this function, by the cookie module */
			assert_int_equal(ret, 0);
			assert_int_equal(idx, 0x11223344);
		} else {
			assert_int_equal(ret, -1);
			assert_int_equal(f.rsp.state, HANDSHAKE_EMPTY);
		}
	}
}

static void test_response_bit_flips(void **state)
{
	struct fixture f;
	uint8_t t[MSG_RESPONSE_LEN];
	struct handshake waiting;
	size_t bit, byte;
	uint32_t idx;
	int ret;

	(void)state;
	identities(&f, NULL, NULL);
	initiate(&f);
	waiting = f.ini;
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 99, f.m2), 0);
	for (bit = 0; bit < sizeof(t) * 8; bit++) {
		byte = bit / 8;
		memcpy(t, f.m2, sizeof(t));
		t[byte] ^= (uint8_t)(1u << (bit % 8));
		f.ini = waiting;
		idx = 0;
		ret = handshake_consume_response(&f.ini, t, sizeof(t), &idx);
		if (byte >= 4 && byte < 8) {
			/* responder's sender index: mac1 only, as in WireGuard */
			assert_int_equal(ret, 0);
			assert_int_equal(idx, load_le32(t + 4));
			assert_int_not_equal(idx, 99);
		} else if (byte >= MACS_OFF_RESP) {
			assert_int_equal(ret, 0);
			assert_int_equal(idx, 99);
		} else {
			assert_int_equal(ret, -1);
			/* untouched: still waiting for the genuine response */
			assert_int_equal(f.ini.state, HANDSHAKE_CREATED_INITIATION);
			assert_memory_equal(f.ini.noise.h, waiting.noise.h, NOISE_HASH_LEN);
			assert_memory_equal(f.ini.noise.ck, waiting.noise.ck, NOISE_HASH_LEN);
		}
	}
	f.ini = waiting;
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), 0);
	check_keys(&f);
	handshake_wipe(&waiting);
}

static void test_wrong_lengths(void **state)
{
	struct fixture f;
	uint8_t big[MSG_INITIATION_LEN + 64];
	struct handshake waiting;
	uint32_t idx;
	size_t len;

	(void)state;
	identities(&f, NULL, NULL);
	initiate(&f);
	waiting = f.ini;
	memset(big, 0, sizeof(big));
	memcpy(big, f.m1, sizeof(f.m1));
	for (len = 0; len < sizeof(big); len++) {
		if (len == MSG_INITIATION_LEN)
			continue;
		assert_int_equal(consume1(&f, big, len, &idx), -1);
	}
	assert_int_equal(consume1(&f, big, MSG_INITIATION_LEN, &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 5, f.m2), 0);

	memset(big, 0, sizeof(big));
	memcpy(big, f.m2, sizeof(f.m2));
	for (len = 0; len < sizeof(big); len++) {
		if (len == MSG_RESPONSE_LEN)
			continue;
		assert_int_equal(handshake_consume_response(&f.ini, big, len, &idx), -1);
		assert_int_equal(f.ini.state, HANDSHAKE_CREATED_INITIATION);
	}
	assert_int_equal(handshake_consume_response(&f.ini, big, MSG_RESPONSE_LEN, &idx), 0);
	handshake_wipe(&f.ini);
	handshake_wipe(&f.rsp);
	handshake_wipe(&waiting);
}

static void test_wrong_type(void **state)
{
	static const uint8_t types[] = { 0, MSG_RESPONSE, MSG_COOKIE, MSG_DATA, 0x81, 0xff };
	uint8_t t1[MSG_INITIATION_LEN], t2[MSG_RESPONSE_LEN];
	struct fixture f;
	uint32_t idx;
	size_t i;

	(void)state;
	identities(&f, NULL, NULL);
	initiate(&f);
	for (i = 0; i < sizeof(types); i++) {
		memcpy(t1, f.m1, sizeof(t1));
		t1[0] = types[i];
		assert_int_equal(consume1(&f, t1, sizeof(t1), &idx), -1);
	}
	for (i = 1; i < 4; i++) {
		memcpy(t1, f.m1, sizeof(t1));
		t1[i] = 1;
		assert_int_equal(consume1(&f, t1, sizeof(t1), &idx), -1);
	}
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 5, f.m2), 0);
	for (i = 0; i < sizeof(types); i++) {
		memcpy(t2, f.m2, sizeof(t2));
		t2[0] = types[i] == MSG_RESPONSE ? MSG_INITIATION : types[i];
		assert_int_equal(handshake_consume_response(&f.ini, t2, sizeof(t2), &idx), -1);
	}
	for (i = 1; i < 4; i++) {
		memcpy(t2, f.m2, sizeof(t2));
		t2[i] = 0x80;
		assert_int_equal(handshake_consume_response(&f.ini, t2, sizeof(t2), &idx), -1);
	}
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), 0);
	check_keys(&f);
}

static void test_state_misuse(void **state)
{
	struct fixture f;
	uint8_t s[32], r[32];
	uint32_t idx;

	(void)state;
	identities(&f, NULL, NULL);
	/* nothing started */
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 1, f.m2), -1);
	assert_true(sodium_is_zero(f.m2, sizeof(f.m2)));
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), -1);
	assert_int_equal(handshake_derive_keys(&f.ini, s, r), -1);

	initiate(&f);
	/* initiator cannot derive before the response, nor respond */
	{
		struct handshake copy = f.ini;

		assert_int_equal(handshake_derive_keys(&copy, s, r), -1);
		assert_true(sodium_is_zero((const uint8_t *)&copy, sizeof(copy)));
		copy = f.ini;
		assert_int_equal(handshake_create_response(&copy, &f.ini_id, 1, f.m2), -1);
	}
	assert_int_equal(consume1(&f, f.m1, sizeof(f.m1), &idx), 0);
	assert_int_equal(handshake_consume_response(&f.rsp, f.m2, sizeof(f.m2), &idx), -1);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 3, f.m2), 0);
	assert_int_equal(handshake_create_response(&f.rsp, &f.rsp_id, 3, f.m2), -1); /* once */

	/* a response addressed to another index is not ours */
	f.m2[8] ^= 1;
	assert_int_equal(handshake_consume_response(&f.ini, f.m2, sizeof(f.m2), &idx), -1);
	assert_int_equal(f.ini.state, HANDSHAKE_CREATED_INITIATION);
	handshake_wipe(&f.ini);
	assert_true(sodium_is_zero((const uint8_t *)&f.ini, sizeof(f.ini)));
}

/* A replayed initiation decrypts fine; the caller refuses it by timestamp. */
static void test_replayed_initiation(void **state)
{
	struct fixture f;
	uint8_t peer[32], ts1[12], ts2[12], newer[12];
	uint32_t idx;

	(void)state;
	identities(&f, NULL, NULL);
	initiate(&f);
	assert_int_equal(handshake_consume_initiation(&f.rsp, &f.rsp_id, f.m1, sizeof(f.m1),
						      peer, ts1, &idx), 0);
	assert_int_equal(handshake_consume_initiation(&f.rsp, &f.rsp_id, f.m1, sizeof(f.m1),
						      peer, ts2, &idx), 0);
	assert_false(handshake_timestamp_is_newer(ts2, ts1));

	handshake_tai64n_now(newer, 1700000000123456790ull);
	assert_int_equal(handshake_create_initiation(&f.ini, &f.ini_id, f.rsp_id.static_public,
						     2, newer, f.m1), 0);
	assert_int_equal(handshake_consume_initiation(&f.rsp, &f.rsp_id, f.m1, sizeof(f.m1),
						      peer, ts2, &idx), 0);
	assert_true(handshake_timestamp_is_newer(ts2, ts1));
	handshake_wipe(&f.ini);
	handshake_wipe(&f.rsp);
}

static void test_tai64n(void **state)
{
	uint8_t a[12], b[12];

	(void)state;
	handshake_tai64n_now(a, 0);
	assert_memory_equal(a, "\x40\0\0\0\0\0\0\0\0\0\0\0", 12);
	/* python: ((1<<62) + s).to_bytes(8, 'big') + ns.to_bytes(4, 'big') */
	handshake_tai64n_now(a, 1700000000123456789ull);
	assert_memory_equal(a, "\x40\x00\x00\x00\x65\x53\xf1\x00\x07\x5b\xcd\x15", 12);
	handshake_tai64n_now(a, UINT64_MAX);
	assert_memory_equal(a, "\x40\x00\x00\x04\x4b\x82\xfa\x09\x2a\x4a\xe5\xff", 12);
	handshake_tai64n_now(a, 999999999);
	assert_memory_equal(a, "\x40\0\0\0\0\0\0\0\x3b\x9a\xc9\xff", 12);

	/* ordering: strictly greater only */
	handshake_tai64n_now(a, 5000000000ull);
	handshake_tai64n_now(b, 5000000000ull);
	assert_false(handshake_timestamp_is_newer(a, b));
	handshake_tai64n_now(b, 5000000001ull);
	assert_true(handshake_timestamp_is_newer(b, a));
	assert_false(handshake_timestamp_is_newer(a, b));
	/* nanoseconds never outrank seconds */
	handshake_tai64n_now(a, 4999999999ull);
	handshake_tai64n_now(b, 5000000000ull);
	assert_true(handshake_timestamp_is_newer(b, a));
	handshake_tai64n_now(a, 6000000000ull);
	assert_true(handshake_timestamp_is_newer(a, b));
	/* zeroed "last accepted" (new peer) accepts anything */
	memset(b, 0, sizeof(b));
	handshake_tai64n_now(a, 0);
	assert_true(handshake_timestamp_is_newer(a, b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wrong_peer_key),
		cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_initiation_bit_flips),
		cmocka_unit_test(test_response_bit_flips),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_state_misuse),
		cmocka_unit_test(test_replayed_initiation),
		cmocka_unit_test(test_tai64n),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
