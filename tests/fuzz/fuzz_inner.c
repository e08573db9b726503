/* tests/fuzz/fuzz_inner.c: libFuzzer target for tunnel/inner.c, what a
 * secure-mode receiver does with the plaintext of a transport message.
 *
 * Input: byte 0 picks the tunnel's address family (bit 0: IPv6 gre_local /
 * gre_remote), the rest is the decrypted plaintext.  Invariants: the
 * lengths reported stay inside the buffer; GRE is reported only from
 * gre_remote to gre_local, with protocol 47 right after hdr_len; an echo
 * request turns into a reply that is a well-formed IP packet (header
 * checksum, ICMP/ICMPv6 checksum) from gre_local to the requester.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tunnel/inet.h"
#include "tunnel/inner.h"
#include "tunnel/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) do { if (!(cond)) { fprintf(stderr, "fuzz_inner.c:%d: %s\n", __LINE__, #cond); abort(); } } while (0)

static uint8_t buf[70000];

static struct ip_addr addr(int family, const char *s)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	inet_pton(family, s, a.u.bytes);
	return a;
}

static void check_reply(const uint8_t *r, size_t n, const struct ip_addr *local)
{
	uint32_t sum;

	if ((r[0] >> 4) == 4) {
		check(n >= 28 && r[0] == 0x45 && load_be16(r + 2) == n);
		check(inet_checksum(r, 20) == 0 && r[9] == IPPROTO_ICMP_NUM && r[20] == 0);
		check(memcmp(r + 12, local->u.bytes, 4) == 0);
		check(inet_checksum(r + 20, n - 20) == 0);
	} else {
		check(n >= 48 && (size_t)load_be16(r + 4) + 40 == n && r[6] == IPPROTO_ICMPV6_NUM);
		check(r[40] == 129 && memcmp(r + 8, local->u.bytes, 16) == 0);
		sum = inet_csum_partial(r + 8, 32, 0);
		sum = inet_csum_partial((const uint8_t[]){ 0, 0, (uint8_t)((n - 40) >> 8), (uint8_t)(n - 40),
							   0, 0, 0, IPPROTO_ICMPV6_NUM }, 8, sum);
		sum = inet_csum_partial(r + 40, n - 40, sum);
		check(inet_csum_fold(sum) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int family;
	struct ip_addr local, remote;
	size_t len, hl = 0, pl = 0;
	enum inner_verdict v;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	local = family == AF_INET ? addr(family, "10.99.0.1") : addr(family, "fd99::1");
	remote = family == AF_INET ? addr(family, "10.99.0.2") : addr(family, "fd99::2");
	len = size - 1;
	memcpy(buf, data + 1, len);
	v = inner_classify(buf, len, &local, &remote, &hl, &pl);
	if (v == INNER_MALFORMED)
		return 0;
	check(pl <= len);
	if (v == INNER_FRAGMENT || v == INNER_NOT_GRE || v == INNER_WRONG_ADDRESS)
		return 0;
	check(hl <= pl);
	if (v == INNER_GRE) {
		int f = (buf[0] >> 4) == 4 ? AF_INET : AF_INET6;

		check(f == family);
		check(memcmp(buf + (f == AF_INET ? 12 : 8), remote.u.bytes, f == AF_INET ? 4 : 16) == 0);
		check(memcmp(buf + (f == AF_INET ? 16 : 24), local.u.bytes, f == AF_INET ? 4 : 16) == 0);
		return 0;
	}
	check(v == INNER_ECHO);
	int n = inner_echo_reply(buf, hl, pl);

	check(n > 0 && (size_t)n <= pl);
	check_reply(buf, (size_t)n, &local);
	return 0;
}
