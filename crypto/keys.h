/* crypto/keys.h: 32-byte keys as text and in files, like wg(8).
 *
 * Text form: standard base64 with '=' padding, exactly 44 characters.
 * Key files hold that text and an optional trailing newline; they must be
 * regular files owned by the effective user and closed to group and
 * others, since they hold private keys and pre-shared keys.
 */
#ifndef GRESEC_CRYPTO_KEYS_H
#define GRESEC_CRYPTO_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	KEYS_LEN = 32,
	KEYS_BASE64_LEN = 44,        /* without the terminating NUL */
	KEYS_FILE_MAX = 256,         /* longest key file read (key + whitespace) */
};

/* out receives KEYS_BASE64_LEN characters and a NUL. */
void keys_to_base64(char out[KEYS_BASE64_LEN + 1], const uint8_t key[KEYS_LEN]);

/* Decode exactly one 44-character key from a NUL-terminated string; nothing
 * may precede or follow it.  0, or -EINVAL (key is then zeroed). */
int keys_from_base64(uint8_t key[KEYS_LEN], const char *b64);

/* The same for len bytes that need not be NUL-terminated. */
int keys_from_base64n(uint8_t key[KEYS_LEN], const char *b64, size_t len);

/* A random X25519 private key, clamped. */
void keys_generate_private(uint8_t priv[KEYS_LEN]);

/* pub = X25519(priv, 9).  0, or -EINVAL. */
int keys_public_from_private(uint8_t pub[KEYS_LEN], const uint8_t priv[KEYS_LEN]);

/* The WireGuard-layer addresses (gre_local, gre_remote) two gresec ends
 * use when neither configures them: a pair in 169.254.0.0/16 (RFC 3927,
 * never routed) derived from the two static public keys, so both ends find
 * the same pair without configuration:
 *   h = BLAKE2s-256("gresec gre addresses v1" || min(A, B) || max(A, B))
 *   169.254.X.Y with X = 1 + h[0] mod 254 and Y = h[1] & 0xfe for the end
 *   whose public key sorts first (memcmp), Y + 1 for the other.
 * local and remote receive 4 address bytes each.  0, or -EINVAL when the
 * two keys are equal. */
int keys_derive_link_addresses(const uint8_t own_public[KEYS_LEN], const uint8_t peer_public[KEYS_LEN],
			       uint8_t local[4], uint8_t remote[4]);

/* Read a base64 key from path, refusing symlinks, non-regular files, files
 * group or others may access, and files owned by another user.  0, or a
 * negative errno with a message naming the file (and the fix for
 * permissions) in err.  The key is zeroed on failure. */
int keys_load_file(const char *path, uint8_t key[KEYS_LEN], char *err, size_t errlen);

/* The same, with the file required to belong to owner: a daemon that drops
 * to an unprivileged user reads the keys both before the drop (as root)
 * and on reload after it, so it names that user here. */
int keys_load_file_owned(const char *path, uint8_t key[KEYS_LEN], uid_t owner, char *err,
			 size_t errlen);

#endif
