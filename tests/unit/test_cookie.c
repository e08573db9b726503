/* tests/unit/test_cookie.c: MAC1/MAC2, cookie replies, cookie lifetimes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/cookie.h"

#define SEC UINT64_C(1000000000)

struct ctx {
	uint8_t resp_pub[32];
	struct cookie_checker cc;     /* responder */
	struct cookie_maker cm;       /* initiator, towards the responder */
	uint8_t init[MSG_INITIATION_LEN];
	uint8_t resp[MSG_RESPONSE_LEN];
	struct sockaddr_in src4;
	struct sockaddr_in6 src6;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || sodium_init() < 0)
		return -1;
	randombytes_buf(c->resp_pub, sizeof(c->resp_pub));
	cookie_checker_init(&c->cc, c->resp_pub);
	cookie_maker_init(&c->cm, c->resp_pub);
	randombytes_buf(c->init, sizeof(c->init));
	memset(c->init, 0, 4);
	c->init[0] = MSG_INITIATION;
	randombytes_buf(c->resp, sizeof(c->resp));
	memset(c->resp, 0, 4);
	c->resp[0] = MSG_RESPONSE;
	c->src4.sin_family = AF_INET;
	c->src4.sin_port = htons(51947);
	inet_pton(AF_INET, "192.0.2.7", &c->src4.sin_addr);
	c->src6.sin6_family = AF_INET6;
	c->src6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::7", &c->src6.sin6_addr);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	cookie_checker_wipe(&c->cc);
	cookie_maker_wipe(&c->cm);
	assert_true(sodium_is_zero((const uint8_t *)&c->cc, sizeof(c->cc)));
	free(c);
	return 0;
}

#define SA(x) ((const struct sockaddr *)(x))

static void hex(uint8_t *out, size_t len, const char *h)
{
	size_t bin_len = 0;

	assert_int_equal(sodium_hex2bin(out, len, h, strlen(h), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, len);
}

/* mac1 and the cookie reply key exactly as WireGuard defines them, known
 * answers computed independently with CPython's hashlib:
 *   key  = blake2s(b"mac1----" + pub).digest()
 *   mac1 = blake2s(msg[:len - 32], key=key, digest_size=16)
 *   cookie key = blake2s(b"cookie--" + pub).digest()
 * for pub = bytes(range(32)), msg[i] = 3i (initiation) / 5i (response)
 * mod 256 after the 4-byte header. */
static void test_mac1_known(void **state)
{
	struct ctx *c = *state;
	struct cookie_maker cm;
	struct cookie_checker cc;
	uint8_t pub[32], init[MSG_INITIATION_LEN], resp[MSG_RESPONSE_LEN], mac[16];
	uint8_t reply[MSG_COOKIE_LEN], ck[32], cookie[16];
	unsigned long long clen;
	size_t i;

	for (i = 0; i < sizeof(pub); i++)
		pub[i] = (uint8_t)i;
	for (i = 0; i < sizeof(init); i++)
		init[i] = (uint8_t)(i * 3);
	for (i = 0; i < sizeof(resp); i++)
		resp[i] = (uint8_t)(i * 5);
	memcpy(init, (const uint8_t[]){ MSG_INITIATION, 0, 0, 0 }, 4);
	memcpy(resp, (const uint8_t[]){ MSG_RESPONSE, 0, 0, 0 }, 4);
	cookie_maker_init(&cm, pub);
	assert_int_equal(cookie_add_macs(&cm, init, sizeof(init), 0), 0);
	hex(mac, sizeof(mac), "c69cadc51b5791a26750414ee4b3426c");
	assert_memory_equal(mac, init + MSG_INITIATION_LEN - 32, 16);
	assert_true(sodium_is_zero(init + MSG_INITIATION_LEN - 16, 16)); /* no cookie */
	assert_int_equal(cookie_add_macs(&cm, resp, sizeof(resp), 0), 0);
	hex(mac, sizeof(mac), "45130cfe9e458e490e8c0e9aea868810");
	assert_memory_equal(mac, resp + MSG_RESPONSE_LEN - 32, 16);

	/* A cookie reply opens with HASH("cookie--" || pub) and mac1 as AD. */
	cookie_checker_init(&cc, pub);
	assert_int_equal(cookie_create_reply(&cc, resp, sizeof(resp), 7, SA(&c->src4), reply, 0), 0);
	assert_int_equal(load_le32(reply + 4), 7);
	hex(ck, sizeof(ck), "3dd5869c5202e45146936d1644f76ff697061661c181f3fd450eae43932eacec");
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, &clen, NULL, reply + 32, 32,
								     resp + MSG_RESPONSE_LEN - 32, 16,
								     reply + 8, ck), 0);
	assert_int_equal(clen, 16);
	cookie_checker_wipe(&cc);
	cookie_maker_wipe(&cm);
}

static void test_mac1_good_bad(void **state)
{
	struct ctx *c = *state;
	struct cookie_maker other;
	uint8_t pub[32], m[MSG_INITIATION_LEN];
	size_t i;

	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), false, 0),
			 COOKIE_VALID);
	assert_int_equal(cookie_add_macs(&c->cm, c->resp, sizeof(c->resp), 0), 0);
	assert_int_equal(cookie_validate(&c->cc, c->resp, sizeof(c->resp), SA(&c->src6), false, 0),
			 COOKIE_VALID);

	/* Any changed byte before mac2 breaks mac1; mac2 is ignored when not under load. */
	for (i = 4; i < sizeof(m); i++) {
		memcpy(m, c->init, sizeof(m));
		m[i] ^= 0x80;
		assert_int_equal(cookie_validate(&c->cc, m, sizeof(m), SA(&c->src4), false, 0),
				 i < sizeof(m) - 16 ? COOKIE_MAC1_BAD : COOKIE_VALID);
	}
	/* Made for another responder key. */
	randombytes_buf(pub, sizeof(pub));
	cookie_maker_init(&other, pub);
	memcpy(m, c->init, sizeof(m));
	assert_int_equal(cookie_add_macs(&other, m, sizeof(m), 0), 0);
	assert_int_equal(cookie_validate(&c->cc, m, sizeof(m), SA(&c->src4), false, 0),
			 COOKIE_MAC1_BAD);
}

static void test_wrong_length_or_type(void **state)
{
	struct ctx *c = *state;
	uint8_t big[MSG_INITIATION_LEN + 1], out[MSG_COOKIE_LEN];

	memcpy(big, c->init, sizeof(c->init));
	big[MSG_INITIATION_LEN] = 0;
	assert_int_equal(cookie_add_macs(&c->cm, big, sizeof(big), 0), -EINVAL);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init) - 1, 0), -EINVAL);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, MSG_RESPONSE_LEN, 0), -EINVAL);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	memcpy(big, c->init, sizeof(c->init));

	assert_int_equal(cookie_validate(&c->cc, big, sizeof(big), SA(&c->src4), false, 0),
			 COOKIE_MAC1_BAD);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init) - 1, SA(&c->src4), false, 0),
			 COOKIE_MAC1_BAD);
	assert_int_equal(cookie_validate(&c->cc, c->init, 0, SA(&c->src4), false, 0),
			 COOKIE_MAC1_BAD);
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init) - 1, 1, SA(&c->src4),
					     out, 0), -EINVAL);
	/* Right length, wrong type: a response-sized message typed as initiation. */
	c->resp[0] = MSG_INITIATION;
	assert_int_equal(cookie_add_macs(&c->cm, c->resp, sizeof(c->resp), 0), -EINVAL);
	assert_int_equal(cookie_validate(&c->cc, c->resp, sizeof(c->resp), SA(&c->src4), false, 0),
			 COOKIE_MAC1_BAD);
}

/* Under load: no mac2 -> cookie reply -> mac2 -> valid. */
static void cookie_round_trip(struct ctx *c, const struct sockaddr *src, uint8_t *msg, size_t len)
{
	uint8_t reply[MSG_COOKIE_LEN];
	uint64_t t = 1000 * SEC;

	assert_int_equal(cookie_add_macs(&c->cm, msg, len, t), 0);
	assert_int_equal(cookie_validate(&c->cc, msg, len, src, false, t), COOKIE_VALID);
	assert_int_equal(cookie_validate(&c->cc, msg, len, src, true, t), COOKIE_MAC1_OK_NEED_COOKIE);
	assert_int_equal(cookie_create_reply(&c->cc, msg, len, 0xdeadbeef, src, reply, t), 0);
	assert_int_equal(reply[0], MSG_COOKIE);
	assert_int_equal(reply[1] | reply[2] | reply[3], 0);
	assert_int_equal(load_le32(reply + 4), 0xdeadbeef);

	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), t + SEC), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), t + SEC), -ENOENT);
	assert_int_equal(cookie_add_macs(&c->cm, msg, len, t + 2 * SEC), 0);
	assert_false(sodium_is_zero(msg + len - 16, 16));
	assert_int_equal(cookie_validate(&c->cc, msg, len, src, true, t + 2 * SEC), COOKIE_VALID);
	/* A bad mac2 under load asks for a cookie again. */
	msg[len - 1] ^= 1;
	assert_int_equal(cookie_validate(&c->cc, msg, len, src, true, t + 2 * SEC),
			 COOKIE_MAC1_OK_NEED_COOKIE);
	msg[len - 1] ^= 1;
}

static void test_cookie_round_trip_v4(void **state)
{
	struct ctx *c = *state;
	struct sockaddr_in other = c->src4;

	cookie_round_trip(c, SA(&c->src4), c->init, sizeof(c->init));
	/* The cookie is bound to the source address and port. */
	other.sin_port = htons(51948);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&other), true,
					 1002 * SEC), COOKIE_MAC1_OK_NEED_COOKIE);
	other = c->src4;
	other.sin_addr.s_addr ^= htonl(1);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&other), true,
					 1002 * SEC), COOKIE_MAC1_OK_NEED_COOKIE);
}

static void test_cookie_round_trip_v6_response(void **state)
{
	struct ctx *c = *state;
	struct sockaddr_in6 other = c->src6;

	cookie_round_trip(c, SA(&c->src6), c->resp, sizeof(c->resp));
	other.sin6_addr.s6_addr[15] ^= 1;
	assert_int_equal(cookie_validate(&c->cc, c->resp, sizeof(c->resp), SA(&other), true,
					 1002 * SEC), COOKIE_MAC1_OK_NEED_COOKIE);
}

static void get_cookie(struct ctx *c, uint64_t t)
{
	uint8_t reply[MSG_COOKIE_LEN];

	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), t), 0);
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init), 1, SA(&c->src4),
					     reply, t), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), t), 0);
}

static void test_cookie_expiry_maker(void **state)
{
	struct ctx *c = *state;
	const uint64_t t = 50 * SEC;
	const uint64_t life = COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS;

	get_cookie(c, t);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), t + life - 1), 0);
	assert_false(sodium_is_zero(c->init + MSG_INITIATION_LEN - 16, 16));
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), true,
					 t + life - 1), COOKIE_VALID);
	/* Too old: the maker stops sending mac2. */
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), t + life), 0);
	assert_true(sodium_is_zero(c->init + MSG_INITIATION_LEN - 16, 16));
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), true,
					 t + life), COOKIE_MAC1_OK_NEED_COOKIE);
}

static void test_cookie_expiry_checker(void **state)
{
	struct ctx *c = *state;
	const uint64_t t = 50 * SEC;

	get_cookie(c, t);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), t + 100 * SEC), 0);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), true,
					 t + COOKIE_SECRET_MAX_AGE_NS - 1), COOKIE_VALID);
	/* The responder's secret rotated: the same mac2 is no longer valid. */
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), true,
					 t + COOKIE_SECRET_MAX_AGE_NS), COOKIE_MAC1_OK_NEED_COOKIE);
	/* And a fresh cookie from the new secret works again. */
	get_cookie(c, t + COOKIE_SECRET_MAX_AGE_NS + SEC);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init),
					 t + COOKIE_SECRET_MAX_AGE_NS + SEC), 0);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), SA(&c->src4), true,
					 t + COOKIE_SECRET_MAX_AGE_NS + SEC), COOKIE_VALID);
}

static void test_reply_tampering(void **state)
{
	struct ctx *c = *state;
	uint8_t reply[MSG_COOKIE_LEN], bad[MSG_COOKIE_LEN + 1];
	size_t i;

	/* Nothing sent yet: no reply can be taken. */
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init), 7, SA(&c->src4),
					     reply, 0), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), 0), -ENOENT);

	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init), 7, SA(&c->src4),
					     reply, 0), 0);
	for (i = 0; i < sizeof(reply); i++) {
		int expect;

		if (i < 4)
			expect = -EINVAL;       /* type, reserved */
		else if (i < 8)
			continue;               /* receiver index: only selects the peer */
		else
			expect = -EBADMSG;      /* nonce, sealed cookie, tag */
		memcpy(bad, reply, sizeof(reply));
		bad[i] ^= 0x04;
		assert_int_equal(cookie_consume_reply(&c->cm, bad, sizeof(reply), 0), expect);
		assert_false(c->cm.has_cookie);
	}
	memcpy(bad, reply, sizeof(reply));
	bad[MSG_COOKIE_LEN] = 0;
	assert_int_equal(cookie_consume_reply(&c->cm, bad, sizeof(bad), 0), -EINVAL);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply) - 1, 0), -EINVAL);

	/* A reply to an older message (other mac1 as AD) is refused. */
	c->init[10] ^= 1;
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), 0), -EBADMSG);
	assert_false(c->cm.has_cookie);
	/* The reply to the current message is taken. */
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init), 7, SA(&c->src4),
					     reply, 0), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), 0), 0);
	assert_true(c->cm.has_cookie);
}

/* A reply sealed under another responder's cookie key is refused. */
static void test_reply_wrong_responder(void **state)
{
	struct ctx *c = *state;
	struct cookie_checker other;
	uint8_t pub[32], reply[MSG_COOKIE_LEN];

	randombytes_buf(pub, sizeof(pub));
	cookie_checker_init(&other, pub);
	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	assert_int_equal(cookie_create_reply(&other, c->init, sizeof(c->init), 7, SA(&c->src4),
					     reply, 0), 0);
	assert_int_equal(cookie_consume_reply(&c->cm, reply, sizeof(reply), 0), -EBADMSG);
	cookie_checker_wipe(&other);
}

static void test_unknown_family(void **state)
{
	struct ctx *c = *state;
	struct sockaddr sa = { .sa_family = AF_UNIX };
	uint8_t reply[MSG_COOKIE_LEN];

	assert_int_equal(cookie_add_macs(&c->cm, c->init, sizeof(c->init), 0), 0);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), &sa, false, 0),
			 COOKIE_VALID);
	assert_int_equal(cookie_validate(&c->cc, c->init, sizeof(c->init), &sa, true, 0),
			 COOKIE_MAC1_OK_NEED_COOKIE);
	assert_int_equal(cookie_create_reply(&c->cc, c->init, sizeof(c->init), 1, &sa, reply, 0),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mac1_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac1_good_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_length_or_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_round_trip_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_round_trip_v6_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_expiry_maker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_expiry_checker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_wrong_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_family, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
