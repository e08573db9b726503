/* tunnel/wire.h: every wire format and protocol constant of gresec.
 *
 * Fields are never read by casting packet bytes to these structs; parsers
 * check the length first and copy fields out with the load/store helpers
 * below.  The structs document layout and sizes (static asserts).
 */
#ifndef GRESEC_TUNNEL_WIRE_H
#define GRESEC_TUNNEL_WIRE_H

#include <stdint.h>
#include <string.h>
#include <assert.h>

/* ---- GRE (RFC 2784, RFC 2890; RFC 1701 bits only to reject them) ---- */
enum {
	GRE_FLAG_C       = 0x8000, /* checksum present */
	GRE_FLAG_R       = 0x4000, /* RFC 1701 routing present: reject */
	GRE_FLAG_K       = 0x2000, /* key present (RFC 2890) */
	GRE_FLAG_S       = 0x1000, /* sequence number present (RFC 2890) */
	GRE_FLAG_SSR     = 0x0800, /* RFC 1701 strict source route: reject */
	GRE_RECUR_MASK   = 0x0700, /* RFC 1701 recursion control: must be 0 */
	GRE_RESERVED0    = 0x00f8, /* RFC 2784 Reserved0 (ack/flags in PPTP) */
	GRE_VERSION_MASK = 0x0007,
};

enum {
	GRE_PROTO_IPV4     = 0x0800,
	GRE_PROTO_IPV6     = 0x86dd,
	GRE_PROTO_TEB      = 0x6558, /* transparent Ethernet bridging (gretap) */
	GRE_PROTO_KEEPALIVE = 0x0000, /* Cisco keepalive reply carries the inner IP's proto */
};

enum {
	GRE_BASE_LEN = 4,
	GRE_OPT_LEN  = 4,               /* checksum+reserved1, key, sequence each */
	GRE_MAX_LEN  = GRE_BASE_LEN + 3 * GRE_OPT_LEN,
};

/* ---- Outer headers ---- */
enum {
	IPV4_HDR_LEN = 20,
	IPV6_HDR_LEN = 40,
	UDP_HDR_LEN  = 8,
	ETH_HDR_LEN  = 14,
	IPPROTO_ICMP_NUM   = 1,
	IPPROTO_GRE_NUM    = 47,
	IPPROTO_ICMPV6_NUM = 58,
};

/* ---- Secure mode (docs/protocol.md) ---- */
enum msg_type {
	MSG_INITIATION  = 1,
	MSG_RESPONSE    = 2,
	MSG_COOKIE      = 3,
	MSG_DATA        = 4,
};

enum {
	NOISE_PUBLIC_KEY_LEN  = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_HASH_LEN        = 32,     /* BLAKE2s */
	NOISE_AUTHTAG_LEN     = 16,
	NOISE_TIMESTAMP_LEN   = 12,     /* TAI64N */
	COOKIE_LEN            = 16,
	COOKIE_NONCE_LEN      = 24,     /* XChaCha20-Poly1305 */
	MAC_LEN               = 16,
	DATA_HDR_LEN          = 16,     /* type+reserved, receiver, counter */
	DATA_PAD_MULTIPLE     = 16,
	/* The WireGuard interface MTU of wg-quick and every stock peer:
	 * 1500 - IPv6 40 - UDP 8 - data header 16 - tag 16. */
	WG_DEFAULT_MTU        = 1420,
};

#define NOISE_ENCRYPTED_LEN(n) ((n) + NOISE_AUTHTAG_LEN)

/* Message limits per keypair (WireGuard messages.h).  A keypair that sent
 * REKEY_AFTER_MESSAGES asks for a new handshake; counters at or past
 * REJECT_AFTER_MESSAGES (2^64 - 2^13 - 1) are never sent nor accepted. */
#define REKEY_AFTER_MESSAGES  (UINT64_C(1) << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))

/* WireGuard's timer constants in seconds (messages.h); daemon/session.c
 * runs the state machine on them. */
enum {
	REKEY_AFTER_TIME_S   = 120,
	REJECT_AFTER_TIME_S  = 180,
	REKEY_ATTEMPT_TIME_S = 90,
	REKEY_TIMEOUT_S      = 5,
	KEEPALIVE_TIMEOUT_S  = 10,
};

struct msg_header {
	uint8_t type;
	uint8_t reserved[3];
};

struct msg_macs {
	uint8_t mac1[MAC_LEN];
	uint8_t mac2[MAC_LEN];
};

struct msg_initiation {
	struct msg_header header;
	uint8_t sender[4];
	uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t static_enc[NOISE_ENCRYPTED_LEN(NOISE_PUBLIC_KEY_LEN)];
	uint8_t timestamp_enc[NOISE_ENCRYPTED_LEN(NOISE_TIMESTAMP_LEN)];
	struct msg_macs macs;
};

struct msg_response {
	struct msg_header header;
	uint8_t sender[4];
	uint8_t receiver[4];
	uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t empty_enc[NOISE_ENCRYPTED_LEN(0)];
	struct msg_macs macs;
};

struct msg_cookie {
	struct msg_header header;
	uint8_t receiver[4];
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t cookie_enc[NOISE_ENCRYPTED_LEN(COOKIE_LEN)];
};

struct msg_data {
	struct msg_header header;
	uint8_t receiver[4];
	uint8_t counter[8];
	/* encrypted, padded GRE packet + tag follow */
};

enum {
	MSG_INITIATION_LEN = 148,
	MSG_RESPONSE_LEN   = 92,
	MSG_COOKIE_LEN     = 64,
	MSG_DATA_MIN_LEN   = DATA_HDR_LEN + NOISE_AUTHTAG_LEN, /* keepalive: empty payload */
};

static_assert(sizeof(struct msg_initiation) == MSG_INITIATION_LEN, "initiation size");
static_assert(sizeof(struct msg_response) == MSG_RESPONSE_LEN, "response size");
static_assert(sizeof(struct msg_cookie) == MSG_COOKIE_LEN, "cookie size");
static_assert(sizeof(struct msg_data) == DATA_HDR_LEN, "data header size");

/* The checks every secure-mode datagram gets before any field is read:
 * a header, zero reserved bytes, the exact length of its type (a minimum
 * for data).  Returns the enum msg_type, or one of these. */
enum msg_class {
	MSG_CLASS_BAD_LENGTH = -1,
	MSG_CLASS_BAD_TYPE = -2,
};

static inline int msg_classify(const uint8_t *m, size_t len)
{
	if (len < sizeof(struct msg_header))
		return MSG_CLASS_BAD_LENGTH;
	if (m[1] | m[2] | m[3])
		return MSG_CLASS_BAD_TYPE;
	switch (m[0]) {
	case MSG_INITIATION:
		return len == MSG_INITIATION_LEN ? MSG_INITIATION : MSG_CLASS_BAD_LENGTH;
	case MSG_RESPONSE:
		return len == MSG_RESPONSE_LEN ? MSG_RESPONSE : MSG_CLASS_BAD_LENGTH;
	case MSG_COOKIE:
		return len == MSG_COOKIE_LEN ? MSG_COOKIE : MSG_CLASS_BAD_LENGTH;
	case MSG_DATA:
		return len >= MSG_DATA_MIN_LEN ? MSG_DATA : MSG_CLASS_BAD_LENGTH;
	default:
		return MSG_CLASS_BAD_TYPE;
	}
}

/* ---- Byte-order helpers: never cast, always copy ---- */
static inline uint16_t load_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void store_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32);
}
static inline void store_le64(uint8_t *p, uint64_t v)
{
	store_le32(p, (uint32_t)v); store_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
