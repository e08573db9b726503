/* crypto/hash.c: BLAKE2s, keyed MAC, HMAC and Noise HKDF (see hash.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <blake2.h>
#include <sodium.h>

#include "crypto/hash.h"

static_assert((int)HASH_LEN == (int)BLAKE2S_OUTBYTES, "BLAKE2s-256");
static_assert((int)HASH_BLOCK_LEN == (int)BLAKE2S_BLOCKBYTES, "BLAKE2s block");
static_assert((int)HASH_KEY_MAX == (int)BLAKE2S_KEYBYTES, "BLAKE2s key");

/* libb2 fails only on out-of-range lengths, which are constants here. */
static void b2s_init(blake2s_state *st, size_t outlen, const uint8_t *key, size_t key_len)
{
	if ((key_len ? blake2s_init_key(st, outlen, key, key_len) : blake2s_init(st, outlen)) != 0)
		abort();
}

static void b2s_update(blake2s_state *st, const uint8_t *p, size_t len)
{
	if (len && blake2s_update(st, p, len) != 0)
		abort();
}

static void b2s_final(blake2s_state *st, uint8_t *out, size_t outlen)
{
	if (blake2s_final(st, out, outlen) != 0)
		abort();
	sodium_memzero(st, sizeof(*st));
}

void hash_blake2s(uint8_t out[HASH_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len)
{
	blake2s_state st;

	b2s_init(&st, HASH_LEN, NULL, 0);
	b2s_update(&st, a, a_len);
	b2s_update(&st, b, b_len);
	b2s_final(&st, out, HASH_LEN);
}

void hash_mac(uint8_t out[HASH_MAC_LEN], const uint8_t *key, size_t key_len, const uint8_t *msg,
	      size_t msg_len)
{
	blake2s_state st;

	if (key_len == 0 || key_len > HASH_KEY_MAX)
		abort();
	b2s_init(&st, HASH_MAC_LEN, key, key_len);
	b2s_update(&st, msg, msg_len);
	b2s_final(&st, out, HASH_MAC_LEN);
}

/* HMAC over the concatenation msg1 || msg2 (msg2 lets HKDF append its
 * counter byte without a scratch copy of the previous output). */
static void hmac2(uint8_t out[HASH_LEN], const uint8_t *key, size_t key_len,
		  const uint8_t *msg1, size_t len1, const uint8_t *msg2, size_t len2)
{
	blake2s_state st;
	uint8_t k[HASH_BLOCK_LEN];
	uint8_t pad[HASH_BLOCK_LEN];
	uint8_t inner[HASH_LEN];
	size_t i;

	memset(k, 0, sizeof(k));
	if (key_len > HASH_BLOCK_LEN)
		hash_blake2s(k, key, key_len, NULL, 0);
	else if (key_len)
		memcpy(k, key, key_len);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	b2s_init(&st, HASH_LEN, NULL, 0);
	b2s_update(&st, pad, sizeof(pad));
	b2s_update(&st, msg1, len1);
	b2s_update(&st, msg2, len2);
	b2s_final(&st, inner, HASH_LEN);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	b2s_init(&st, HASH_LEN, NULL, 0);
	b2s_update(&st, pad, sizeof(pad));
	b2s_update(&st, inner, sizeof(inner));
	b2s_final(&st, out, HASH_LEN);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void hash_hmac(uint8_t out[HASH_LEN], const uint8_t *key, size_t key_len, const uint8_t *msg,
	       size_t msg_len)
{
	hmac2(out, key, key_len, msg, msg_len, NULL, 0);
}

void hash_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[HASH_LEN],
	       const uint8_t *ikm, size_t ikm_len)
{
	uint8_t temp_key[HASH_LEN];
	uint8_t o1[HASH_LEN], o2[HASH_LEN];
	const uint8_t one = 0x01, two = 0x02, three = 0x03;

	/* Work in locals so the outputs may alias ck (MixKey writes ck). */
	hmac2(temp_key, ck, HASH_LEN, ikm, ikm_len, NULL, 0);
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
