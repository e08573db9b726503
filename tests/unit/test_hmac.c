/* tests/unit/test_hmac.c: HMAC-BLAKE2b and Noise HKDF known answers.
 *
 * Expected values computed independently with Python's hmac module:
 *   python3 -c "import hmac,hashlib; print(hmac.new(K, M, hashlib.blake2b).hexdigest())"
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/hmac.h"

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
	uint8_t expect[HMAC_BLAKE2B_LEN], out[HMAC_BLAKE2B_LEN];

	hex(expect, sizeof(expect), expect_hex);
	memset(out, 0xee, sizeof(out));
	hmac_blake2b(out, key, key_len, msg, msg_len);
	assert_memory_equal(out, expect, sizeof(out));
}

static void test_empty_key_empty_msg(void **state)
{
	(void)state;
	check_hmac(NULL, 0, NULL, 0,
		   "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
		   "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c");
}

static void test_short_keys(void **state)
{
	uint8_t k32[32], k64[64];
	const uint8_t one = 0x01;
	size_t i;

	(void)state;
	memset(k32, 0x0b, sizeof(k32));
	check_hmac(k32, sizeof(k32), (const uint8_t *)"Hi There", 8,
		   "d29205ed808bb00712759155e7c6cf53cd71425da382a763c1068c2b854b0ce9"
		   "9908d9e2c5a3e84a25fd92f37ff621d81d535a60aec2f141600961407ee588e2");
	check_hmac((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
		   "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643"
		   "b8807c1335d107ecdb9ffeaeb6828c4625ba172c66379efcd222c2de11727ab4");
	for (i = 0; i < sizeof(k64); i++)
		k64[i] = (uint8_t)(i + 1);
	check_hmac(k64, sizeof(k64), &one, 1,
		   "4bb0ba67abd5bfb2ab45911fb4124d390fa43b55171ed80735db54e162edfde2"
		   "d941f8d709ef68c5d5ae627be50354f91b9551e9828e9bb4f6108baf43d1354b");
}

/* Exactly one block: used as is, not hashed. */
static void test_block_sized_key(void **state)
{
	uint8_t k[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	check_hmac(k, sizeof(k), NULL, 0,
		   "e79ec585fc83408cd654da61cc87457edd77cae194e6e4727420fa21a001229e"
		   "d67f1fb7bb03effaaaec05d2d7902f98bfad11da65b4c08d197eefa96f314b31");
}

/* Longer than a block: RFC 2104 hashes the key first. */
static void test_long_keys(void **state)
{
	uint8_t k129[129], k200[200], msg300[300];
	const char *m = "message for a key longer than the block";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k129); i++)
		k129[i] = (uint8_t)(i * 7 + 3);
	check_hmac(k129, sizeof(k129), (const uint8_t *)m, strlen(m),
		   "c9b3762ebc447ba8609f1c7a7c6935234f762e6d6323601a3380bc5f96634032"
		   "6c3653f4e2b8c6fa306207a792dbbe9e2ba6aaf552155d2c0c17e21c1a4af325");
	memset(k200, 0xaa, sizeof(k200));
	for (i = 0; i < sizeof(msg300); i++)
		msg300[i] = (uint8_t)i;
	check_hmac(k200, sizeof(k200), msg300, sizeof(msg300),
		   "739bbf66a8eade705062bb3b6b2f51f845c3ef74a30fbc342d10e68baa40b1d7"
		   "1202259f6fe7db0c180f62d9e306a938826500d08348202cd3302c2a672a1775");
}

/* HMAC must differ from libsodium's keyed BLAKE2b (the trap we avoid). */
static void test_not_keyed_blake2b(void **state)
{
	uint8_t k[32], a[64], b[64];

	(void)state;
	memset(k, 0x0b, sizeof(k));
	hmac_blake2b(a, k, sizeof(k), (const uint8_t *)"Hi There", 8);
	assert_int_equal(crypto_generichash_blake2b(b, sizeof(b), (const uint8_t *)"Hi There", 8,
						    k, sizeof(k)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static const char hkdf_o1[] =
	"3fc47d90c6debc377db50c0f9d26dde9ccdac9f3202e5e10d3762d137e93cddd"
	"6387b181b0b8ee45a140613f4349ff639bbaf665bd4a36ef482d22c748105ed2";
static const char hkdf_o2[] =
	"0140ad1bfdac18d7d3a238cf64d35c7f36d6210377cc858681699cb69cd19fce"
	"09efac52bc6b5d876751b4bde74df1ac6671e57e27e8d07201701f9876eaefda";
static const char hkdf_o3[] =
	"d14887d00c0eb3d9c6c6a550b616aad1a6d7b627f26cbe5c055e31e2cf133721"
	"f8b2f3cca0fbadc25559388f52e27cc41e6267469b4a04b79420e8115d698f06";

static void test_hkdf_three(void **state)
{
	uint8_t ck[64], ikm[32], o1[64], o2[64], o3[64], e[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)i;
	memset(ikm, 0xff, sizeof(ikm));
	noise_hkdf(o1, o2, o3, ck, ikm, sizeof(ikm));
	hex(e, 64, hkdf_o1);
	assert_memory_equal(o1, e, 64);
	hex(e, 64, hkdf_o2);
	assert_memory_equal(o2, e, 64);
	hex(e, 64, hkdf_o3);
	assert_memory_equal(o3, e, 64);

	/* Two outputs are the first two of three. */
	memset(o1, 0, 64);
	memset(o2, 0, 64);
	noise_hkdf(o1, o2, NULL, ck, ikm, sizeof(ikm));
	hex(e, 64, hkdf_o1);
	assert_memory_equal(o1, e, 64);
	hex(e, 64, hkdf_o2);
	assert_memory_equal(o2, e, 64);
}

/* MixKey writes the new chaining key over the old one: out1 == ck. */
static void test_hkdf_alias_and_empty_ikm(void **state)
{
	uint8_t ck[64], o2[64], e[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)i;
	noise_hkdf(ck, o2, NULL, ck, NULL, 0);
	hex(e, 64, "03be0946afb62e33dcc2e8cb76dfad47663d284d81c0bde963f32a283dede221"
		   "be2b9e3a86fa82934234d2a6ed331fb664a3e670252b9454da9ed2567b435e11");
	assert_memory_equal(ck, e, 64);
	hex(e, 64, "8481b385940ea1ddc1e37243d34e6a00d9e35fe86844b75be2f9d084efcbf4a9"
		   "d18c764645baf5262707efcb490c9ddfcc81c78ff75e1e727428f05b9fee857f");
	assert_memory_equal(o2, e, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_key_empty_msg),
		cmocka_unit_test(test_short_keys),
		cmocka_unit_test(test_block_sized_key),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_not_keyed_blake2b),
		cmocka_unit_test(test_hkdf_three),
		cmocka_unit_test(test_hkdf_alias_and_empty_ikm),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
