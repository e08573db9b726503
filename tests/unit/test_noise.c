/* tests/unit/test_noise.c: Noise IK / IKpsk2 (25519, ChaChaPoly, BLAKE2s)
 * against the cacophony, snow and noise-c vectors (tests/vectors, copied
 * with their origin), plus negative cases the vectors do not cover. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <json-c/json.h>

#include "crypto/noise.h"
#include "srcdir.h"

/* The vectors the project carries (tests/vectors/README.md: their origin). */
#define VECTORS "tests/vectors"

static const char IK[] = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
static const char IKPSK2[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";

enum { BUF = 1024 };

/* ---- JSON helpers ---- */

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static size_t hex_of(json_object *v, uint8_t *out, size_t cap)
{
	const char *s;
	size_t bin_len = 0;

	assert_non_null(v);
	assert_true(json_object_is_type(v, json_type_string));
	s = json_object_get_string(v);
	assert_true(strlen(s) % 2 == 0 && strlen(s) / 2 <= cap);
	assert_int_equal(sodium_hex2bin(out, cap, s, strlen(s), NULL, &bin_len, NULL), 0);
	assert_int_equal(bin_len, strlen(s) / 2);
	return bin_len;
}

static void key_of(json_object *v, const char *key, uint8_t out[32])
{
	assert_int_equal(hex_of(field(v, key), out, 32), 32);
}

/* The vectors' psk arrays: absent or empty = no psk, else exactly one. */
static bool psk_of(json_object *v, const char *key, uint8_t psk[32])
{
	json_object *arr = field(v, key);

	if (!arr || json_object_array_length(arr) == 0)
		return false;
	assert_int_equal(json_object_array_length(arr), 1);
	assert_int_equal(hex_of(json_object_array_get_idx(arr, 0), psk, 32), 32);
	return true;
}

/* ---- one vector ---- */

static void run_vector(json_object *v)
{
	const char *name = json_object_get_string(field(v, "protocol_name"));
	uint8_t i_s[32], i_e[32], i_rs[32], r_s[32], r_e[32], i_spub[32];
	uint8_t i_psk[32], r_psk[32];
	uint8_t ip[BUF], rp[BUF], pl[BUF], ct[BUF], out[BUF], hh[NOISE_HASH_LEN];
	size_t ip_len, rp_len, pl_len, ct_len, i;
	bool i_has_psk, r_has_psk;
	json_object *msgs = field(v, "messages"), *m;
	struct noise_handshake *ini, *rsp;
	struct noise_cipher *cs;
	int ret;

	key_of(v, "init_static", i_s);
	key_of(v, "init_ephemeral", i_e);
	key_of(v, "init_remote_static", i_rs);
	key_of(v, "resp_static", r_s);
	key_of(v, "resp_ephemeral", r_e);
	ip_len = hex_of(field(v, "init_prologue"), ip, sizeof(ip));
	rp_len = hex_of(field(v, "resp_prologue"), rp, sizeof(rp));
	i_has_psk = psk_of(v, "init_psks", i_psk);
	r_has_psk = psk_of(v, "resp_psks", r_psk);
	assert_int_equal(i_has_psk, strcmp(name, IKPSK2) == 0);
	assert_int_equal(r_has_psk, strcmp(name, IKPSK2) == 0);

	/* Secret state in guarded memory, as the daemon will keep it. */
	ini = sodium_malloc(sizeof(*ini));
	rsp = sodium_malloc(sizeof(*rsp));
	cs = sodium_malloc(4 * sizeof(*cs));
	assert_non_null(ini);
	assert_non_null(rsp);
	assert_non_null(cs);

	assert_int_equal(noise_handshake_init(ini, name, true, ip, ip_len, i_s, i_rs,
					      i_has_psk ? i_psk : NULL), 0);
	assert_int_equal(noise_handshake_set_ephemeral(ini, i_e), 0);
	assert_int_equal(noise_handshake_init(rsp, name, false, rp, rp_len, r_s, NULL,
					      r_has_psk ? r_psk : NULL), 0);
	assert_int_equal(noise_handshake_set_ephemeral(rsp, r_e), 0);

	assert_non_null(msgs);
	assert_true(json_object_array_length(msgs) >= 2);

	/* Message 1: initiator writes, responder reads. */
	m = json_object_array_get_idx(msgs, 0);
	pl_len = hex_of(field(m, "payload"), pl, sizeof(pl));
	ct_len = hex_of(field(m, "ciphertext"), ct, sizeof(ct));
	ret = noise_write_message1(ini, pl, pl_len, out, sizeof(out));
	assert_int_equal(ret, (int)ct_len);
	assert_memory_equal(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	ret = noise_read_message1(rsp, ct, ct_len, out, sizeof(out));
	assert_int_equal(ret, (int)pl_len);
	assert_memory_equal(out, pl, pl_len);
	assert_int_equal(crypto_scalarmult_base(i_spub, i_s), 0);
	assert_non_null(noise_handshake_remote_static(rsp));
	assert_memory_equal(noise_handshake_remote_static(rsp), i_spub, 32);

	/* Message 2: responder writes, initiator reads. */
	m = json_object_array_get_idx(msgs, 1);
	pl_len = hex_of(field(m, "payload"), pl, sizeof(pl));
	ct_len = hex_of(field(m, "ciphertext"), ct, sizeof(ct));
	ret = noise_write_message2(rsp, pl, pl_len, out, sizeof(out));
	assert_int_equal(ret, (int)ct_len);
	assert_memory_equal(out, ct, ct_len);
	memset(out, 0, sizeof(out));
	ret = noise_read_message2(ini, ct, ct_len, out, sizeof(out));
	assert_int_equal(ret, (int)pl_len);
	assert_memory_equal(out, pl, pl_len);

	assert_non_null(noise_handshake_hash(ini));
	assert_non_null(noise_handshake_hash(rsp));
	assert_memory_equal(noise_handshake_hash(ini), noise_handshake_hash(rsp), NOISE_HASH_LEN);
	if (field(v, "handshake_hash")) {
		assert_int_equal(hex_of(field(v, "handshake_hash"), hh, sizeof(hh)), NOISE_HASH_LEN);
		assert_memory_equal(noise_handshake_hash(ini), hh, NOISE_HASH_LEN);
	}

	/* cs[0]/cs[1]: initiator send/recv, cs[2]/cs[3]: responder send/recv. */
	assert_int_equal(noise_handshake_split(ini, &cs[0], &cs[1]), 0);
	assert_int_equal(noise_handshake_split(rsp, &cs[2], &cs[3]), 0);
	assert_memory_equal(cs[0].k, cs[3].k, 32);
	assert_memory_equal(cs[1].k, cs[2].k, 32);
	noise_handshake_wipe(ini);
	noise_handshake_wipe(rsp);
	assert_true(sodium_is_zero((const uint8_t *)ini, sizeof(*ini)));

	/* Transport: even messages initiator->responder, odd the reverse. */
	for (i = 2; i < json_object_array_length(msgs); i++) {
		struct noise_cipher *tx = i % 2 ? &cs[2] : &cs[0];
		struct noise_cipher *rx = i % 2 ? &cs[1] : &cs[3];

		m = json_object_array_get_idx(msgs, i);
		pl_len = hex_of(field(m, "payload"), pl, sizeof(pl));
		ct_len = hex_of(field(m, "ciphertext"), ct, sizeof(ct));
		assert_int_equal(ct_len, pl_len + 16);
		assert_int_equal(noise_cipher_encrypt(tx, NULL, 0, pl, pl_len, out), 0);
		assert_memory_equal(out, ct, ct_len);
		/* decrypt in place */
		assert_int_equal(noise_cipher_decrypt(rx, NULL, 0, out, ct_len, out), 0);
		assert_memory_equal(out, pl, pl_len);
	}

	sodium_free(cs);
	sodium_free(rsp);
	sodium_free(ini);
}

/* Runs every IK/IKpsk2 BLAKE2s vector of a file; -1 if the file is absent. */
static int run_file(const char *file)
{
	char rel[256], path[4096];
	json_object *root, *vecs;
	size_t i;
	int run = 0;

	assert_true(snprintf(rel, sizeof(rel), "%s/%s", VECTORS, file) < (int)sizeof(rel));
	assert_non_null(srcdir_path(path, sizeof(path), rel));
	if (access(path, R_OK) != 0)
		return -1;
	root = json_object_from_file(path);
	assert_non_null(root);
	vecs = field(root, "vectors");
	assert_non_null(vecs);
	for (i = 0; i < json_object_array_length(vecs); i++) {
		json_object *v = json_object_array_get_idx(vecs, i);
		const char *name = json_object_get_string(field(v, "protocol_name"));

		assert_non_null(name);
		if (strcmp(name, IK) != 0 && strcmp(name, IKPSK2) != 0)
			continue;
		run_vector(v);
		run++;
	}
	json_object_put(root);
	return run;
}

static void test_vectors_cacophony(void **state)
{
	int n = run_file("noise-ik-vectors.json");

	(void)state;
	if (n < 0)
		fail_msg("missing %s/" VECTORS "/noise-ik-vectors.json (top_srcdir: the tree)", getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	print_message("cacophony: %d vectors\n", n);
	assert_true(n > 0);
}

static void test_vectors_snow(void **state)
{
	int n = run_file("noise-ik-vectors-snow.json");

	(void)state;
	if (n < 0)
		fail_msg("missing %s/" VECTORS "/noise-ik-vectors-snow.json (top_srcdir: the tree)", getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	print_message("snow: %d vectors\n", n);
	assert_true(n > 0);
}

static void test_vectors_noise_c(void **state)
{
	int n = run_file("noise-ik-vectors-noise-c.json");

	(void)state;
	if (n < 0)
		fail_msg("missing %s/" VECTORS "/noise-ik-vectors-noise-c.json (top_srcdir: the tree)", getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	print_message("noise-c: %d vectors\n", n);
	assert_true(n > 0);
}

/* ---- behaviour beyond the vectors ---- */

struct pair {
	uint8_t i_priv[32], i_pub[32], r_priv[32], r_pub[32];
	struct noise_handshake ini, rsp;
};

static const uint8_t prologue[] = "test prologue";

static void pair_init(struct pair *p, const uint8_t *i_psk, const uint8_t *r_psk)
{
	crypto_box_keypair(p->i_pub, p->i_priv);
	crypto_box_keypair(p->r_pub, p->r_priv);
	assert_int_equal(noise_handshake_init(&p->ini, i_psk ? IKPSK2 : IK, true, prologue,
					      sizeof(prologue), p->i_priv, p->r_pub, i_psk), 0);
	assert_int_equal(noise_handshake_init(&p->rsp, r_psk ? IKPSK2 : IK, false, prologue,
					      sizeof(prologue), p->r_priv, NULL, r_psk), 0);
}

static int msg1(struct pair *p, uint8_t *m)
{
	return noise_write_message1(&p->ini, (const uint8_t *)"hello", 5, m, BUF);
}

static void roundtrip(const uint8_t *psk)
{
	struct pair p;
	uint8_t m[BUF], pl[BUF], big[2000];
	struct noise_cipher is, ir, rs, rr;
	int len, i;

	pair_init(&p, psk, psk);
	len = msg1(&p, m);
	assert_int_equal(len, NOISE_IK_MSG1_OVERHEAD + 5);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), 5);
	assert_memory_equal(pl, "hello", 5);
	assert_memory_equal(noise_handshake_remote_static(&p.rsp), p.i_pub, 32);
	len = noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m));
	assert_int_equal(len, NOISE_IK_MSG2_OVERHEAD);
	assert_int_equal(noise_read_message2(&p.ini, m, (size_t)len, NULL, 0), 0);
	assert_memory_equal(noise_handshake_hash(&p.ini), noise_handshake_hash(&p.rsp), NOISE_HASH_LEN);
	assert_int_equal(noise_handshake_split(&p.ini, &is, &ir), 0);
	assert_int_equal(noise_handshake_split(&p.rsp, &rs, &rr), 0);
	assert_memory_not_equal(is.k, ir.k, 32);

	for (i = 0; i < 3; i++) {
		randombytes_buf(big, 1000);
		assert_int_equal(noise_cipher_encrypt(&is, NULL, 0, big, 1000, big), 0);
		assert_int_equal(noise_cipher_decrypt(&rr, NULL, 0, big, 1016, big), 0);
		assert_int_equal(noise_cipher_encrypt(&rs, (const uint8_t *)"ad", 2, big, 1000, m), 0);
		assert_int_equal(noise_cipher_decrypt(&ir, (const uint8_t *)"ad", 2, m, 1016, pl), 0);
		assert_memory_equal(pl, big, 1000);
	}
	assert_int_equal(is.n, 3);
	assert_int_equal(ir.n, 3);
	noise_handshake_wipe(&p.ini);
	noise_handshake_wipe(&p.rsp);
}

static void test_roundtrip_random_ephemerals(void **state)
{
	uint8_t psk[32];

	(void)state;
	roundtrip(NULL);
	randombytes_buf(psk, sizeof(psk));
	roundtrip(psk);
	memset(psk, 0, sizeof(psk)); /* all-zero psk is still IKpsk2 */
	roundtrip(psk);
}

/* Every single-bit change in either message is detected. */
static void test_bit_flips(void **state)
{
	uint8_t psk[32], m1[BUF], m2[BUF], t[BUF], pl[BUF];
	int len1, len2;
	size_t bit;
	struct pair p;

	(void)state;
	randombytes_buf(psk, sizeof(psk));
	pair_init(&p, psk, psk);
	len1 = msg1(&p, m1);
	assert_true(len1 > 0);
	for (bit = 0; bit < (size_t)len1 * 8; bit++) {
		struct noise_handshake r = p.rsp;

		memcpy(t, m1, (size_t)len1);
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(noise_read_message1(&r, t, (size_t)len1, pl, sizeof(pl)), -1);
		assert_int_equal(r.state, NOISE_HS_EMPTY); /* failure wipes */
	}
	assert_int_equal(noise_read_message1(&p.rsp, m1, (size_t)len1, pl, sizeof(pl)), 5);
	len2 = noise_write_message2(&p.rsp, (const uint8_t *)"x", 1, m2, sizeof(m2));
	assert_int_equal(len2, NOISE_IK_MSG2_OVERHEAD + 1);
	for (bit = 0; bit < (size_t)len2 * 8; bit++) {
		struct noise_handshake in = p.ini;

		memcpy(t, m2, (size_t)len2);
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(noise_read_message2(&in, t, (size_t)len2, pl, sizeof(pl)), -1);
	}
	/* Truncated and extended messages fail too. */
	{
		struct noise_handshake in = p.ini;

		assert_int_equal(noise_read_message2(&in, m2, (size_t)len2 - 1, pl, sizeof(pl)), -1);
		in = p.ini;
		m2[len2] = 0;
		assert_int_equal(noise_read_message2(&in, m2, (size_t)len2 + 1, pl, sizeof(pl)), -1);
		in = p.ini;
		assert_int_equal(noise_read_message2(&in, m2, NOISE_IK_MSG2_OVERHEAD - 1, pl,
						     sizeof(pl)), -1);
	}
	assert_int_equal(noise_read_message2(&p.ini, m2, (size_t)len2, pl, sizeof(pl)), 1);
	assert_int_equal(pl[0], 'x');
}

static void test_psk_mismatch_and_late_psk(void **state)
{
	uint8_t a[32], b[32], m[BUF], pl[BUF];
	struct pair p;
	int len;

	(void)state;
	randombytes_buf(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[31] ^= 0x80;

	pair_init(&p, a, b);
	len = msg1(&p, m);
	/* psk2 is mixed only in message 2: message 1 still reads fine. */
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), 5);
	len = noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m));
	assert_true(len > 0);
	assert_int_equal(noise_read_message2(&p.ini, m, (size_t)len, pl, sizeof(pl)), -1);
	assert_null(noise_handshake_hash(&p.ini));

	/* The responder may pick the right psk after identifying the peer. */
	pair_init(&p, a, b);
	len = msg1(&p, m);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), 5);
	assert_int_equal(noise_handshake_set_psk(&p.rsp, a), 0);
	len = noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m));
	assert_int_equal(noise_read_message2(&p.ini, m, (size_t)len, pl, sizeof(pl)), 0);

	/* Psk on one side only: the protocol names differ, nothing matches. */
	pair_init(&p, a, NULL);
	len = msg1(&p, m);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), -1);
}

static void test_wrong_responder_key(void **state)
{
	uint8_t m[BUF], pl[BUF];
	struct pair p;
	int len;

	(void)state;
	/* The initiator believes in a different responder key. */
	pair_init(&p, NULL, NULL);
	noise_handshake_wipe(&p.ini);
	p.r_pub[0] ^= 1;
	assert_int_equal(noise_handshake_init(&p.ini, IK, true, prologue, sizeof(prologue),
					      p.i_priv, p.r_pub, NULL), 0);
	len = msg1(&p, m);
	assert_true(len > 0);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), -1);

	/* Different prologues never agree either. */
	p.r_pub[0] ^= 1;
	pair_init(&p, NULL, NULL);
	noise_handshake_wipe(&p.rsp);
	assert_int_equal(noise_handshake_init(&p.rsp, IK, false, (const uint8_t *)"other", 5,
					      p.r_priv, NULL, NULL), 0);
	len = msg1(&p, m);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), -1);
}

/* Low-order points give all-zero DH results: refused on both sides. */
static void test_low_order_points(void **state)
{
	static const uint8_t low[][32] = {
		{ 0 },                                  /* u = 0 */
		{ 1 },                                  /* u = 1 */
		{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, /* order 8 */
		  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	};
	uint8_t m[BUF], pl[BUF];
	struct pair p;
	size_t i;
	int len;

	(void)state;
	for (i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		/* initiator told a low-order responder key */
		pair_init(&p, NULL, NULL);
		noise_handshake_wipe(&p.ini);
		assert_int_equal(noise_handshake_init(&p.ini, IK, true, NULL, 0, p.i_priv, low[i],
						      NULL), 0);
		assert_int_equal(msg1(&p, m), -1);
		assert_int_equal(p.ini.state, NOISE_HS_EMPTY);

		/* responder sent a low-order ephemeral */
		pair_init(&p, NULL, NULL);
		len = msg1(&p, m);
		assert_true(len > 0);
		memcpy(m, low[i], 32);
		assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), -1);

		/* initiator receives a low-order ephemeral in message 2 */
		pair_init(&p, NULL, NULL);
		len = msg1(&p, m);
		assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, sizeof(pl)), 5);
		len = noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m));
		memcpy(m, low[i], 32);
		assert_int_equal(noise_read_message2(&p.ini, m, (size_t)len, pl, sizeof(pl)), -1);
	}
}

static void test_misuse(void **state)
{
	uint8_t k[32], m[BUF], pl[BUF], e[32];
	struct noise_handshake hs;
	struct noise_cipher a, b;
	struct pair p;
	int len;

	(void)state;
	randombytes_buf(k, sizeof(k));
	/* name must match psk use and the implemented primitives */
	assert_int_equal(noise_handshake_init(&hs, IK, true, NULL, 0, k, k, k), -1);
	assert_int_equal(noise_handshake_init(&hs, IKPSK2, true, NULL, 0, k, k, NULL), -1);
	assert_int_equal(noise_handshake_init(&hs, "Noise_IK_25519_ChaChaPoly_BLAKE2b", true,
					      NULL, 0, k, k, NULL), -1);
	assert_int_equal(noise_handshake_init(&hs, "Noise_XX_25519_ChaChaPoly_BLAKE2s", true,
					      NULL, 0, k, k, NULL), -1);
	/* rs for the initiator only */
	assert_int_equal(noise_handshake_init(&hs, IK, true, NULL, 0, k, NULL, NULL), -1);
	assert_int_equal(noise_handshake_init(&hs, IK, false, NULL, 0, k, k, NULL), -1);
	assert_int_equal(noise_handshake_init(&hs, IK, false, NULL, 3, k, NULL, NULL), -1);
	assert_int_equal(hs.state, NOISE_HS_EMPTY);
	assert_int_equal(noise_handshake_set_psk(&hs, k), -1);

	pair_init(&p, NULL, NULL);
	assert_int_equal(noise_handshake_set_psk(&p.rsp, k), -1); /* not psk mode */
	/* wrong role / order */
	assert_int_equal(noise_write_message1(&p.rsp, NULL, 0, m, sizeof(m)), -1);
	assert_int_equal(noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m)), -1);
	assert_int_equal(noise_read_message2(&p.ini, m, 48, pl, sizeof(pl)), -1);
	assert_int_equal(noise_handshake_split(&p.ini, &a, &b), -1);
	assert_null(noise_handshake_hash(&p.ini));
	assert_null(noise_handshake_remote_static(&p.rsp));
	assert_memory_equal(noise_handshake_remote_static(&p.ini), p.r_pub, 32);
	/* too small an output buffer: refused before anything changes */
	assert_int_equal(noise_write_message1(&p.ini, (const uint8_t *)"hello", 5, m,
					      NOISE_IK_MSG1_OVERHEAD + 4), -1);
	assert_int_equal(p.ini.state, NOISE_HS_MSG1);
	len = msg1(&p, m);
	assert_true(len > 0);
	assert_int_equal(msg1(&p, m), -1); /* only once */
	assert_int_equal(noise_handshake_set_ephemeral(&p.ini, k), -1); /* too late */
	/* payload buffer too small for the reader */
	{
		struct noise_handshake r = p.rsp;

		assert_int_equal(noise_read_message1(&r, m, (size_t)len, pl, 4), -1);
	}
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, 5), 5);
	assert_int_equal(noise_read_message1(&p.rsp, m, (size_t)len, pl, 5), -1);
	/* the responder's own ephemeral can still be injected now */
	randombytes_buf(e, sizeof(e));
	assert_int_equal(noise_handshake_set_ephemeral(&p.rsp, e), 0);
	len = noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m));
	assert_int_equal(crypto_scalarmult_base(k, e), 0);
	assert_memory_equal(m, k, 32);
	assert_int_equal(noise_write_message2(&p.rsp, NULL, 0, m, sizeof(m)), -1);
	assert_int_equal(noise_read_message2(&p.ini, m, (size_t)len, NULL, 0), 0);
}

static void test_cipher(void **state)
{
	struct noise_cipher c, d;
	uint8_t key[32], nonce[12], pt[40], ct[56], ref[56], out[40];
	unsigned long long clen;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, sizeof(pt));
	memset(&c, 0, sizeof(c));

	/* no key yet: plaintext passes through unchanged (Noise spec) */
	assert_int_equal(noise_cipher_encrypt(&c, NULL, 0, pt, sizeof(pt), ct), 0);
	assert_memory_equal(ct, pt, sizeof(pt));
	assert_int_equal(c.n, 0);

	memcpy(c.k, key, 32);
	c.has_key = true;
	c.n = 0x0102030405060708ull;
	d = c;
	/* nonce is 4 zero bytes || little-endian 64-bit counter */
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(8 - i);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_encrypt(ref, &clen, pt, sizeof(pt),
								   (const uint8_t *)"ad", 2, NULL,
								   nonce, key), 0);
	assert_int_equal(noise_cipher_encrypt(&c, (const uint8_t *)"ad", 2, pt, sizeof(pt), ct), 0);
	assert_memory_equal(ct, ref, sizeof(ct));
	assert_int_equal(c.n, 0x0102030405060709ull);

	/* failed decryption: -1, output zeroed, counter unchanged */
	ct[3] ^= 1;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(noise_cipher_decrypt(&d, (const uint8_t *)"ad", 2, ct, sizeof(ct), out), -1);
	assert_true(sodium_is_zero(out, sizeof(out)));
	assert_int_equal(d.n, 0x0102030405060708ull);
	ct[3] ^= 1;
	assert_int_equal(noise_cipher_decrypt(&d, (const uint8_t *)"xx", 2, ct, sizeof(ct), out), -1);
	assert_int_equal(noise_cipher_decrypt(&d, (const uint8_t *)"ad", 2, ct, 15, out), -1);
	assert_int_equal(noise_cipher_decrypt(&d, (const uint8_t *)"ad", 2, ct, sizeof(ct), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	assert_int_equal(d.n, 0x0102030405060709ull);

	/* 2^64-1 is reserved: the last usable nonce is 2^64-2 */
	c.n = UINT64_MAX - 1;
	assert_int_equal(noise_cipher_encrypt(&c, NULL, 0, pt, sizeof(pt), ct), 0);
	assert_int_equal(c.n, UINT64_MAX);
	assert_int_equal(noise_cipher_encrypt(&c, NULL, 0, pt, sizeof(pt), ct), -1);
	d.n = UINT64_MAX;
	assert_int_equal(noise_cipher_decrypt(&d, NULL, 0, ct, sizeof(ct), out), -1);

	noise_cipher_wipe(&c);
	assert_true(sodium_is_zero((const uint8_t *)&c, sizeof(c)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_cacophony),
		cmocka_unit_test(test_vectors_snow),
		cmocka_unit_test(test_vectors_noise_c),
		cmocka_unit_test(test_roundtrip_random_ephemerals),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_psk_mismatch_and_late_psk),
		cmocka_unit_test(test_wrong_responder_key),
		cmocka_unit_test(test_low_order_points),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_cipher),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
