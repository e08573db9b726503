/* crypto/hmac.c: HMAC-BLAKE2b (RFC 2104) and Noise HKDF. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "crypto/hmac.h"

/* The BLAKE2b calls below can only fail on out-of-range lengths, which are
 * constants here; a failure is a programming error, never input-dependent. */
static void b2b_init(crypto_generichash_blake2b_state *st)
{
	if (crypto_generichash_blake2b_init(st, NULL, 0, HMAC_BLAKE2B_LEN) != 0)
		abort();
}

static void b2b_update(crypto_generichash_blake2b_state *st, const uint8_t *p, size_t len)
{
	if (len && crypto_generichash_blake2b_update(st, p, len) != 0)
		abort();
}

static void b2b_final(crypto_generichash_blake2b_state *st, uint8_t out[HMAC_BLAKE2B_LEN])
{
	if (crypto_generichash_blake2b_final(st, out, HMAC_BLAKE2B_LEN) != 0)
		abort();
}

/* HMAC over the concatenation msg1 || msg2 (msg2 lets HKDF append its
 * counter byte without a scratch copy of the previous output). */
static void hmac2(uint8_t out[HMAC_BLAKE2B_LEN], const uint8_t *key, size_t key_len,
		  const uint8_t *msg1, size_t len1, const uint8_t *msg2, size_t len2)
{
	crypto_generichash_blake2b_state st;
	uint8_t k[HMAC_BLAKE2B_BLOCK];
	uint8_t pad[HMAC_BLAKE2B_BLOCK];
	uint8_t inner[HMAC_BLAKE2B_LEN];
	size_t i;

	memset(k, 0, sizeof(k));
	if (key_len > HMAC_BLAKE2B_BLOCK) {
		b2b_init(&st);
		b2b_update(&st, key, key_len);
		b2b_final(&st, k);
	} else if (key_len) {
		memcpy(k, key, key_len);
	}

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	b2b_init(&st);
	b2b_update(&st, pad, sizeof(pad));
	b2b_update(&st, msg1, len1);
	b2b_update(&st, msg2, len2);
	b2b_final(&st, inner);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	b2b_init(&st);
	b2b_update(&st, pad, sizeof(pad));
	b2b_update(&st, inner, sizeof(inner));
	b2b_final(&st, out);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void hmac_blake2b(uint8_t out[HMAC_BLAKE2B_LEN], const uint8_t *key, size_t key_len,
		  const uint8_t *msg, size_t msg_len)
{
	hmac2(out, key, key_len, msg, msg_len, NULL, 0);
}

void noise_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[HMAC_BLAKE2B_LEN],
		const uint8_t *ikm, size_t ikm_len)
{
	uint8_t temp_key[HMAC_BLAKE2B_LEN];
	uint8_t o1[HMAC_BLAKE2B_LEN], o2[HMAC_BLAKE2B_LEN];
	const uint8_t one = 0x01, two = 0x02, three = 0x03;

	/* Work in locals so the outputs may alias ck (MixKey writes ck). */
	hmac2(temp_key, ck, HMAC_BLAKE2B_LEN, ikm, ikm_len, NULL, 0);
	hmac2(o1, temp_key, sizeof(temp_key), &one, 1, NULL, 0);
	hmac2(o2, temp_key, sizeof(temp_key), o1, sizeof(o1), &two, 1);
	if (out3)
		hmac2(out3, temp_key, sizeof(temp_key), o2, sizeof(o2), &three, 1);
	memcpy(out1, o1, sizeof(o1));
	memcpy(out2, o2, sizeof(o2));

	sodium_memzero(temp_key, sizeof(temp_key));
	sodium_memzero(o1, sizeof(o1));
	sodium_memzero(o2, sizeof(o2));
}
