/* tests/unit/test_hash.c: BLAKE2s, keyed MAC, HMAC-BLAKE2s and Noise HKDF
 * known answers.
 *
 * Expected values computed independently with CPython's hashlib and hmac
 * (its own BLAKE2 code, not libb2), e.g.
 *   python3 -c "import hmac,hashlib; print(hmac.new(K, M, hashlib.blake2s).hexdigest())"
 *   python3 -c "import hashlib; print(hashlib.blake2s(M, key=K, digest_size=16).hexdigest())"
 * plus RFC 7693 appendix B for BLAKE2s-256("abc").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/hash.h"

static void hex(uint8_t *out, size_t len, const char *h)
{
	size_t bin_len = 0;

	assert_int_equal(strlen(h), len * 2);
	assert_int_equal(sodium_hex2bin(out, len, h, strlen(h), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, len);
}

static void check_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
		       const char *expect_hex)
{
	uint8_t expect[HASH_LEN], out[HASH_LEN];

	hex(expect, sizeof(expect), expect_hex);
	memset(out, 0xee, sizeof(out));
	hash_hmac(out, key, key_len, msg, msg_len);
	assert_memory_equal(out, expect, sizeof(out));
}

static void test_blake2s_rfc7693(void **state)
{
	uint8_t out[HASH_LEN], e[HASH_LEN];

	(void)state;
	hex(e, sizeof(e), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	hash_blake2s(out, (const uint8_t *)"abc", 3, NULL, 0);
	assert_memory_equal(out, e, sizeof(e));
	/* HASH(a || b) is the hash of the concatenation, however split. */
	hash_blake2s(out, (const uint8_t *)"a", 1, (const uint8_t *)"bc", 2);
	assert_memory_equal(out, e, sizeof(e));
}

static void test_mac(void **state)
{
	uint8_t k32[32], k16[16], msg[100], out[HASH_MAC_LEN], e[HASH_MAC_LEN];
	size_t i;

	(void)state;
	memset(k32, 0x0b, sizeof(k32));
	hash_mac(out, k32, sizeof(k32), (const uint8_t *)"Hi There", 8);
	hex(e, sizeof(e), "7eef348610790b07118453d8830d5192");
	assert_memory_equal(out, e, sizeof(e));
	for (i = 0; i < sizeof(k16); i++)
		k16[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	hash_mac(out, k16, sizeof(k16), msg, sizeof(msg));
	hex(e, sizeof(e), "56301549e674c3b72a0e1dafb7a2c620");
	assert_memory_equal(out, e, sizeof(e));
}

static void test_hmac_empty(void **state)
{
	(void)state;
	check_hmac(NULL, 0, NULL, 0, "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd");
}

static void test_hmac_short_keys(void **state)
{
	uint8_t k32[32];

	(void)state;
	memset(k32, 0x0b, sizeof(k32));
	check_hmac(k32, sizeof(k32), (const uint8_t *)"Hi There", 8,
		   "0a22725a2d3d42c8f0515617bf249fcd1aaec274c7e94a5058549a5691941426");
	check_hmac((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
		   "90b6281e2f3038c9056af0b4a7e763cae6fe5d9eb4386a0ec95237890c104ff0");
}

/* Exactly one block: used as is, not hashed. */
static void test_hmac_block_sized_key(void **state)
{
	uint8_t k[64];
	const uint8_t one = 0x01;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(i + 1);
	check_hmac(k, sizeof(k), &one, 1,
		   "a1640e94c035b5e54ec934edf11bf951274990965db32ec60f4250b90e73e0db");
}

/* Longer than a block: RFC 2104 hashes the key first. */
static void test_hmac_long_keys(void **state)
{
	uint8_t k65[65], k200[200], msg300[300];
	const char *m = "message for a key longer than the block";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k65); i++)
		k65[i] = (uint8_t)(i * 7 + 3);
	check_hmac(k65, sizeof(k65), (const uint8_t *)m, strlen(m),
		   "16d9570896e87dc0ad7aea1e66a14ce925aea994ed070d4cfaa0d4fb6a1b9d0e");
	memset(k200, 0xaa, sizeof(k200));
	for (i = 0; i < sizeof(msg300); i++)
		msg300[i] = (uint8_t)i;
	check_hmac(k200, sizeof(k200), msg300, sizeof(msg300),
		   "469c22f4a974863e321cec504286bd8a5daf5b07f7d8903616d33ed05b832c06");
}

/* HMAC must differ from keyed BLAKE2s (the trap Noise warns about). */
static void test_hmac_not_keyed_blake2s(void **state)
{
	uint8_t k[32], a[HASH_LEN], b[HASH_MAC_LEN];

	(void)state;
	memset(k, 0x0b, sizeof(k));
	hash_hmac(a, k, sizeof(k), (const uint8_t *)"Hi There", 8);
	hash_mac(b, k, sizeof(k), (const uint8_t *)"Hi There", 8);
	assert_memory_not_equal(a, b, sizeof(b));
}

static const char hkdf_o1[] = "b0a13ebd1183ecb1d3f5ba3040cbb6b5162cb1c6be7fe1f0a3df3e6d0ba891b9";
static const char hkdf_o2[] = "19a3b3e8e9ca1677e2e9ad4108f9665ad344bcd13a928e6cdf2d2b87032b8b37";
static const char hkdf_o3[] = "c1ac219abab600de7f7c533bbd300e06b9919f8f5d7b6a489b4ff996b6e63636";

static void test_hkdf_three(void **state)
{
	uint8_t ck[HASH_LEN], ikm[32], o1[HASH_LEN], o2[HASH_LEN], o3[HASH_LEN], e[HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)i;
	memset(ikm, 0xff, sizeof(ikm));
	hash_hkdf(o1, o2, o3, ck, ikm, sizeof(ikm));
	hex(e, HASH_LEN, hkdf_o1);
	assert_memory_equal(o1, e, HASH_LEN);
	hex(e, HASH_LEN, hkdf_o2);
	assert_memory_equal(o2, e, HASH_LEN);
	hex(e, HASH_LEN, hkdf_o3);
	assert_memory_equal(o3, e, HASH_LEN);

	/* Two outputs are the first two of three. */
	memset(o1, 0, HASH_LEN);
	memset(o2, 0, HASH_LEN);
	hash_hkdf(o1, o2, NULL, ck, ikm, sizeof(ikm));
	hex(e, HASH_LEN, hkdf_o1);
	assert_memory_equal(o1, e, HASH_LEN);
	hex(e, HASH_LEN, hkdf_o2);
	assert_memory_equal(o2, e, HASH_LEN);
}

/* MixKey writes the new chaining key over the old one: out1 == ck. */
static void test_hkdf_alias_and_empty_ikm(void **state)
{
	uint8_t ck[HASH_LEN], o2[HASH_LEN], e[HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)i;
	hash_hkdf(ck, o2, NULL, ck, NULL, 0);
	hex(e, HASH_LEN, "7a38c34bf2b8738d7374ca77c44ecb309a11d2b2528304fa86052c365e722624");
	assert_memory_equal(ck, e, HASH_LEN);
	hex(e, HASH_LEN, "1a17621f346abdc520746a9fb64d8eb03231d674fc15687537b0780fd9c060fd");
	assert_memory_equal(o2, e, HASH_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2s_rfc7693),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_hmac_empty),
		cmocka_unit_test(test_hmac_short_keys),
		cmocka_unit_test(test_hmac_block_sized_key),
		cmocka_unit_test(test_hmac_long_keys),
		cmocka_unit_test(test_hmac_not_keyed_blake2s),
		cmocka_unit_test(test_hkdf_three),
		cmocka_unit_test(test_hkdf_alias_and_empty_ikm),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
