/* tests/unit/ref_csum.h: a naive reference Internet checksum for the tests,
 * written independently of tunnel/inet.c so that the two check each other. */
#ifndef GRESEC_TESTS_REF_CSUM_H
#define GRESEC_TESTS_REF_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tunnel/wire.h"

/* One's complement sum of 16-bit big-endian words, folded, not complemented. */
static inline uint32_t ref_sum(const uint8_t *b, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The pseudo-header sum of an IPv4 or IPv6 packet for an L4 protocol. */
static inline uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint8_t ph[40] = { 0 };

	if ((ip[0] >> 4) == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		store_be16(ph + 10, (uint16_t)l4_len);
		return ref_sum(ph, 12, 0);
	}
	memcpy(ph, ip + 8, 32);
	store_be32(ph + 32, (uint32_t)l4_len);
	ph[39] = proto;
	return ref_sum(ph, 40, 0);
}

#endif
