/* crypto/keys.c: key text and key files (see keys.h). */
#include "crypto/keys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hash.h"

static_assert(sodium_base64_ENCODED_LEN(KEYS_LEN, sodium_base64_VARIANT_ORIGINAL) ==
	      KEYS_BASE64_LEN + 1, "base64 length");
static_assert(crypto_scalarmult_curve25519_BYTES == KEYS_LEN, "X25519 key length");

void keys_to_base64(char out[KEYS_BASE64_LEN + 1], const uint8_t key[KEYS_LEN])
{
	sodium_bin2base64(out, KEYS_BASE64_LEN + 1, key, KEYS_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int keys_from_base64n(uint8_t key[KEYS_LEN], const char *b64, size_t len)
{
	const char *end = NULL;
	size_t bin_len = 0;

	/* libsodium also rejects non-zero padding bits, so each key has
	 * exactly one text form. */
	if (len != KEYS_BASE64_LEN ||
	    sodium_base642bin(key, KEYS_LEN, b64, len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != KEYS_LEN || end != b64 + len) {
		sodium_memzero(key, KEYS_LEN);
		return -EINVAL;
	}
	return 0;
}

int keys_from_base64(uint8_t key[KEYS_LEN], const char *b64)
{
	return keys_from_base64n(key, b64, strnlen(b64, KEYS_BASE64_LEN + 1));
}

void keys_generate_private(uint8_t priv[KEYS_LEN])
{
	randombytes_buf(priv, KEYS_LEN);
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

int keys_public_from_private(uint8_t pub[KEYS_LEN], const uint8_t priv[KEYS_LEN])
{
	return crypto_scalarmult_curve25519_base(pub, priv) == 0 ? 0 : -EINVAL;
}

int keys_derive_link_addresses(const uint8_t own_public[KEYS_LEN], const uint8_t peer_public[KEYS_LEN],
			       uint8_t local[4], uint8_t remote[4])
{
	static const char label[] = "gresec gre addresses v1";
	uint8_t both[2 * KEYS_LEN], h[HASH_LEN];
	int order = memcmp(own_public, peer_public, KEYS_LEN);
	uint8_t host;

	if (order == 0)
		return -EINVAL;
	memcpy(both, order < 0 ? own_public : peer_public, KEYS_LEN);
	memcpy(both + KEYS_LEN, order < 0 ? peer_public : own_public, KEYS_LEN);
	hash_blake2s(h, (const uint8_t *)label, sizeof(label) - 1, both, sizeof(both));
	host = h[1] & 0xfe;
	local[0] = remote[0] = 169;
	local[1] = remote[1] = 254;
	local[2] = remote[2] = (uint8_t)(1 + h[0] % 254);
	local[3] = order < 0 ? host : (uint8_t)(host + 1);
	remote[3] = order < 0 ? (uint8_t)(host + 1) : host;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int keys_load_file(const char *path, uint8_t key[KEYS_LEN], char *err, size_t errlen)
{
	return keys_load_file_owned(path, key, geteuid(), err, errlen);
}

int keys_load_file_owned(const char *path, uint8_t key[KEYS_LEN], uid_t owner, char *err,
			 size_t errlen)
{
	char buf[KEYS_FILE_MAX + 1];
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd, ret;

	sodium_memzero(key, KEYS_LEN);
	/* O_NONBLOCK: a FIFO planted at path must not hang us before fstat. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (errno == ELOOP)
			snprintf(err, errlen, "\"%s\": is a symbolic link, refusing to follow it", path);
		else
			snprintf(err, errlen, "\"%s\": %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		snprintf(err, errlen, "\"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "\"%s\": not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = -EPERM;
		snprintf(err, errlen, "\"%s\": mode %04o is too open, run: chmod 600 %s",
			 path, (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != owner) {
		ret = -EPERM;
		snprintf(err, errlen, "\"%s\": owned by uid %u, not by uid %u, run: chown %u %s",
			 path, (unsigned int)st.st_uid, (unsigned int)owner,
			 (unsigned int)owner, path);
		goto out;
	}

	/* Read one byte past the limit to tell a full file from a too long one. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "\"%s\": %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KEYS_FILE_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen, "\"%s\": too long for a key file", path);
		goto out;
	}
	while (len > 0 && is_space(buf[len - 1]))
		len--;
	ret = keys_from_base64n(key, buf, len);
	if (ret != 0)
		snprintf(err, errlen, "\"%s\": not a base64-encoded %d-byte key", path, KEYS_LEN);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return ret;
}
