/* tests/unit/test_keys.c: key text, key generation, key files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"

static const char ZERO_B64[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

static void test_round_trip(void **state)
{
	uint8_t key[KEYS_LEN], back[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1];
	int i;

	for (i = 0; i < 200; i++) {
		randombytes_buf(key, sizeof(key));
		keys_to_base64(b64, key);
		assert_int_equal(strlen(b64), KEYS_BASE64_LEN);
		assert_int_equal(b64[KEYS_BASE64_LEN - 1], '=');
		assert_int_equal(keys_from_base64(back, b64), 0);
		assert_memory_equal(key, back, sizeof(key));
		assert_int_equal(keys_from_base64n(back, b64, KEYS_BASE64_LEN), 0);
		assert_memory_equal(key, back, sizeof(key));
	}
	memset(key, 0, sizeof(key));
	keys_to_base64(b64, key);
	assert_string_equal(b64, ZERO_B64);
	(void)state;
}

static void expect_bad(const char *s)
{
	uint8_t key[KEYS_LEN];

	memset(key, 0xaa, sizeof(key));
	if (keys_from_base64(key, s) != -EINVAL)
		fail_msg("accepted \"%s\"", s);
	assert_true(sodium_is_zero(key, sizeof(key)));
}

static void test_bad_text(void **state)
{
	uint8_t key[KEYS_LEN];
	char buf[64];

	expect_bad("");
	expect_bad("AAAA");
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");     /* 43: no padding */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");    /* 44 without '=' (33 bytes) */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");    /* 31 bytes */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x");   /* trailing junk */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");  /* trailing newline */
	expect_bad(" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");    /* leading space */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAA=");    /* inner space */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=");    /* not base64 */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_=");    /* URL-safe alphabet */
	expect_bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=");    /* padding bits set */

	/* Counted form: an embedded NUL or a length off by one. */
	memcpy(buf, ZERO_B64, sizeof(ZERO_B64));
	assert_int_equal(keys_from_base64n(key, buf, KEYS_BASE64_LEN), 0);
	assert_int_equal(keys_from_base64n(key, buf, KEYS_BASE64_LEN - 1), -EINVAL);
	buf[KEYS_BASE64_LEN] = 'A';
	assert_int_equal(keys_from_base64n(key, buf, KEYS_BASE64_LEN + 1), -EINVAL);
	buf[5] = '\0';
	assert_int_equal(keys_from_base64n(key, buf, KEYS_BASE64_LEN), -EINVAL);
	(void)state;
}

static void hex(uint8_t *out, const char *h)
{
	size_t len;

	assert_int_equal(sodium_hex2bin(out, KEYS_LEN, h, strlen(h), NULL, &len, NULL), 0);
	assert_int_equal(len, KEYS_LEN);
}

static void test_generate_and_public(void **state)
{
	uint8_t a[KEYS_LEN], b[KEYS_LEN], pub[KEYS_LEN], expect[KEYS_LEN];
	int i;

	/* RFC 7748 section 6.1, Alice. */
	hex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	hex(expect, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_int_equal(keys_public_from_private(pub, a), 0);
	assert_memory_equal(pub, expect, sizeof(pub));

	for (i = 0; i < 50; i++) {
		keys_generate_private(a);
		keys_generate_private(b);
		assert_memory_not_equal(a, b, sizeof(a));
		assert_int_equal(a[0] & 7, 0);
		assert_int_equal(a[31] & 0xc0, 0x40);
		assert_int_equal(keys_public_from_private(pub, a), 0);
		assert_false(sodium_is_zero(pub, sizeof(pub)));
	}
	(void)state;
}

/* ---- key files ---- */

struct dir {
	char path[64];
	char file[128];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d || sodium_init() < 0)
		return -1;
	strcpy(d->path, "/tmp/gresec-test-keys-XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	snprintf(d->file, sizeof(d->file), "%s/site-a.key", d->path);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The gre_local / gre_remote pair both ends derive without configuration:
 * known answer computed with CPython's hashlib.blake2s over
 * "gresec gre addresses v1" || min(A, B) || max(A, B). */
static void test_derive_link_addresses(void **state)
{
	uint8_t a[32], b[32], la[4], ra[4], lb[4], rb[4];

	(void)state;
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_int_equal(keys_derive_link_addresses(a, b, la, ra), 0);
	assert_memory_equal(la, ((const uint8_t[]){ 169, 254, 192, 74 }), 4);
	assert_memory_equal(ra, ((const uint8_t[]){ 169, 254, 192, 75 }), 4);
	/* The other end finds the same pair, seen from its side. */
	assert_int_equal(keys_derive_link_addresses(b, a, lb, rb), 0);
	assert_memory_equal(lb, ra, 4);
	assert_memory_equal(rb, la, 4);
	/* Always inside 169.254.1.0 - 169.254.254.255, a /31 pair. */
	for (int i = 0; i < 200; i++) {
		randombytes_buf(a, sizeof(a));
		randombytes_buf(b, sizeof(b));
		assert_int_equal(keys_derive_link_addresses(a, b, la, ra), 0);
		assert_true(la[0] == 169 && la[1] == 254 && la[2] >= 1 && la[2] <= 254);
		assert_memory_equal(la, ra, 3);
		assert_int_equal(la[3] ^ ra[3], 1);
	}
	assert_int_equal(keys_derive_link_addresses(a, a, la, ra), -EINVAL);
}

static void test_file_good(void **state)
{
	static const char *endings[] = { "", "\n", "\r\n", "  \n", "\n\n" };
	struct dir *d = *state;
	uint8_t key[KEYS_LEN], got[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1], text[128], err[256];
	size_t i;

	randombytes_buf(key, sizeof(key));
	keys_to_base64(b64, key);
	for (i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", b64, endings[i]);
		write_file(d->file, text, strlen(text), 0600);
		err[0] = '\0';
		assert_int_equal(keys_load_file(d->file, got, err, sizeof(err)), 0);
		assert_memory_equal(key, got, sizeof(key));
		assert_string_equal(err, "");
	}
	/* Owner bits other than read do not matter. */
	write_file(d->file, b64, KEYS_BASE64_LEN, 0400);
	assert_int_equal(keys_load_file(d->file, got, err, sizeof(err)), 0);
	write_file(d->file, b64, KEYS_BASE64_LEN, 0700);
	assert_int_equal(keys_load_file(d->file, got, err, sizeof(err)), 0);
}

static void test_file_modes(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0606, 0610, 0601, 0666, 0777 };
	struct dir *d = *state;
	uint8_t key[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1], err[512], expect[512];
	size_t i;

	randombytes_buf(key, sizeof(key));
	keys_to_base64(b64, key);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(d->file, b64, KEYS_BASE64_LEN, bad[i]);
		memset(key, 0x55, sizeof(key));
		assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EPERM);
		assert_true(sodium_is_zero(key, sizeof(key)));
		snprintf(expect, sizeof(expect), "\"%s\": mode %04o is too open, run: chmod 600 %s",
			 d->file, (unsigned int)bad[i], d->file);
		assert_string_equal(err, expect);
	}
}

static void test_file_owner(void **state)
{
	struct dir *d = *state;
	uint8_t key[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1], err[512];

	if (geteuid() != 0)
		skip();         /* only root can give a file away */
	uint8_t key_copy_for_owner_test[KEYS_LEN];

	randombytes_buf(key, sizeof(key));
	memcpy(key_copy_for_owner_test, key, sizeof(key));
	keys_to_base64(b64, key);
	write_file(d->file, b64, KEYS_BASE64_LEN, 0600);
	assert_int_equal(chown(d->file, 65534, 65534), 0);   /* nobody */
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, d->file));
	assert_non_null(strstr(err, "owned by uid 65534"));
	assert_non_null(strstr(err, "chown"));

	/* A daemon about to drop to nobody reads nobody's key file as root. */
	uint8_t loaded[KEYS_LEN];
	assert_int_equal(keys_load_file_owned(d->file, loaded, 65534, err, sizeof(err)), 0);
	assert_memory_equal(loaded, key_copy_for_owner_test, KEYS_LEN);
	assert_int_equal(keys_load_file_owned(d->file, loaded, 0, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not by uid 0"));
}

static void test_file_missing_and_kinds(void **state)
{
	struct dir *d = *state;
	uint8_t key[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1], err[512], link[160], fifo[160];

	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, d->file));
	assert_non_null(strstr(err, strerror(ENOENT)));

	assert_int_equal(keys_load_file(d->path, key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	/* A symlink is refused even to a good key file. */
	randombytes_buf(key, sizeof(key));
	keys_to_base64(b64, key);
	write_file(d->file, b64, KEYS_BASE64_LEN, 0600);
	snprintf(link, sizeof(link), "%s/link.key", d->path);
	assert_int_equal(symlink(d->file, link), 0);
	assert_int_equal(keys_load_file(link, key, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));

	/* A FIFO neither hangs the open nor passes. */
	snprintf(fifo, sizeof(fifo), "%s/fifo.key", d->path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(keys_load_file(fifo, key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	/* A tiny error buffer is still terminated; none at all is allowed. */
	assert_int_equal(keys_load_file(fifo, key, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(keys_load_file(fifo, key, NULL, 0), -EINVAL);
}

static void test_file_bad_content(void **state)
{
	struct dir *d = *state;
	uint8_t key[KEYS_LEN];
	char b64[KEYS_BASE64_LEN + 1], text[600], err[512];

	randombytes_buf(key, sizeof(key));
	keys_to_base64(b64, key);

	write_file(d->file, "", 0, 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a base64-encoded 32-byte key"));
	assert_non_null(strstr(err, d->file));

	/* Two keys, or a key with junk after it. */
	snprintf(text, sizeof(text), "%s\n%s\n", b64, b64);
	write_file(d->file, text, strlen(text), 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EINVAL);
	/* The message never quotes the content. */
	assert_null(strstr(err, b64));
	snprintf(text, sizeof(text), "%sX\n", b64);
	write_file(d->file, text, strlen(text), 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), " %s\n", b64);
	write_file(d->file, text, strlen(text), 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EINVAL);

	/* Longer than any key file: refused however it ends. */
	memset(text, ' ', sizeof(text));
	memcpy(text, b64, KEYS_BASE64_LEN);
	write_file(d->file, text, KEYS_FILE_MAX + 1, 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));
	/* Exactly at the limit, trailing whitespace: accepted. */
	write_file(d->file, text, KEYS_FILE_MAX, 0600);
	assert_int_equal(keys_load_file(d->file, key, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_generate_and_public),
		cmocka_unit_test(test_derive_link_addresses),
		cmocka_unit_test_setup_teardown(test_file_good, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_modes, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_owner, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_missing_and_kinds, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_file_bad_content, dir_setup, dir_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
