/* tests/unit/test_ratelimiter.c: token bucket per source, with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/ratelimiter.h"
#include "tunnel/wire.h"

#define MS UINT64_C(1000000)
#define SEC (1000 * MS)
#define T0 (100 * SEC)

static int setup(void **state)
{
	struct ratelimiter *rl = malloc(sizeof(*rl));

	if (!rl || sodium_init() < 0)
		return -1;
	ratelimiter_init(rl);
	*state = rl;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, addr, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* Packets allowed out of n sent at one instant. */
static int burst(struct ratelimiter *rl, const struct sockaddr *src, uint64_t t, int n)
{
	int ok = 0;

	while (n--)
		ok += ratelimiter_allow(rl, src, t);
	return ok;
}

static void test_burst_and_refill(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr_in a = v4("192.0.2.1", 1000);

	assert_int_equal(burst(rl, SA(a), T0, 10), RATELIMIT_BURST);
	assert_false(ratelimiter_allow(rl, SA(a), T0 + RATELIMIT_PACKET_COST_NS - 1));
	assert_true(ratelimiter_allow(rl, SA(a), T0 + RATELIMIT_PACKET_COST_NS));
	assert_false(ratelimiter_allow(rl, SA(a), T0 + RATELIMIT_PACKET_COST_NS));
	/* Two costs later: two more. */
	assert_int_equal(burst(rl, SA(a), T0 + 3 * RATELIMIT_PACKET_COST_NS, 5), 2);
	/* A long pause refills to the burst, not beyond. */
	assert_int_equal(burst(rl, SA(a), T0 + 60 * SEC, 100), RATELIMIT_BURST);
	/* A clock going backwards gives nothing. */
	assert_int_equal(burst(rl, SA(a), T0, 5), 0);
}

static void test_steady_rate(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr_in a = v4("198.51.100.9", 1);
	uint64_t t;
	int ok = 0;

	/* 1000 packets/s for 10 s: the burst plus 20/s get through. */
	for (t = 0; t < 10 * SEC; t += MS)
		ok += ratelimiter_allow(rl, SA(a), T0 + t);
	assert_in_range(ok, 10 * RATELIMIT_PACKETS_PER_SECOND,
			10 * RATELIMIT_PACKETS_PER_SECOND + RATELIMIT_BURST);
}

static void test_independent_sources(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr_in a = v4("192.0.2.1", 1000), a2 = v4("192.0.2.1", 2000);
	struct sockaddr_in b = v4("192.0.2.2", 1000);
	struct sockaddr_in6 c = v6("2001:db8::1", 1000);
	struct sockaddr_in6 a_mapped = v6("::ffff:192.0.2.1", 3000);

	assert_int_equal(burst(rl, SA(a), T0, 10), RATELIMIT_BURST);
	assert_int_equal(burst(rl, SA(b), T0, 10), RATELIMIT_BURST);
	assert_int_equal(burst(rl, SA(c), T0, 10), RATELIMIT_BURST);
	/* Same address, other port, or the same address v4-mapped: same bucket. */
	assert_false(ratelimiter_allow(rl, SA(a2), T0));
	assert_false(ratelimiter_allow(rl, SA(a_mapped), T0));
}

static void test_ipv6_prefix(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr_in6 a = v6("2001:db8:1:2::1", 1);
	struct sockaddr_in6 same64 = v6("2001:db8:1:2:ffff:eeee:dddd:cccc", 2);
	struct sockaddr_in6 next64 = v6("2001:db8:1:3::1", 1);
	struct sockaddr_in6 zero64 = v6("::", 1);
	struct sockaddr_in zero4 = v4("0.0.0.0", 1);

	assert_int_equal(burst(rl, SA(a), T0, 3), 3);
	assert_int_equal(burst(rl, SA(same64), T0, 10), RATELIMIT_BURST - 3);
	assert_int_equal(burst(rl, SA(next64), T0, 10), RATELIMIT_BURST);
	/* ::/64 and 0.0.0.0 do not share a key. */
	assert_int_equal(burst(rl, SA(zero64), T0, 10), RATELIMIT_BURST);
	assert_int_equal(burst(rl, SA(zero4), T0, 10), RATELIMIT_BURST);
}

static void test_unknown_family(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr sa = { .sa_family = AF_UNIX };

	assert_false(ratelimiter_allow(rl, &sa, T0));
	assert_int_equal(ratelimiter_active(rl, T0), 0);
}

/* A flood of distinct sources fills the fixed table and no more; it does not
 * reset the bucket of a source already limited; idle entries are reused. */
static void test_saturation(void **state)
{
	struct ratelimiter *rl = *state;
	struct sockaddr_in hot = v4("203.0.113.1", 1);
	struct sockaddr_in6 s = v6("2001:db8::", 1);
	uint32_t i, allowed = 0, refused = 0;
	uint64_t t;

	assert_int_equal(burst(rl, SA(hot), T0, RATELIMIT_BURST + 1), RATELIMIT_BURST);
	for (i = 0; i < 4 * RATELIMIT_ENTRIES; i++) {
		/* distinct /64s: vary bytes 4..7 */
		store_be32(s.sin6_addr.s6_addr + 4, i);
		if (ratelimiter_allow(rl, SA(s), T0))
			allowed++;
		else
			refused++;
	}
	assert_int_equal(ratelimiter_active(rl, T0), RATELIMIT_ENTRIES);
	assert_int_equal(allowed, RATELIMIT_ENTRIES - 1);
	assert_int_equal(refused, 3 * RATELIMIT_ENTRIES + 1);
	/* The limited source is still limited. */
	assert_false(ratelimiter_allow(rl, SA(hot), T0));

	/* Once the flood goes idle its entries are reused. */
	t = T0 + RATELIMIT_IDLE_NS;
	assert_int_equal(ratelimiter_active(rl, t), 0);
	for (i = 0; i < 4 * RATELIMIT_ENTRIES; i++) {
		store_be32(s.sin6_addr.s6_addr + 4, 0x80000000u + i);
		ratelimiter_allow(rl, SA(s), t);
	}
	assert_int_equal(ratelimiter_active(rl, t), RATELIMIT_ENTRIES);
	assert_int_equal(burst(rl, SA(hot), t + RATELIMIT_IDLE_NS, 10), RATELIMIT_BURST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst_and_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steady_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_independent_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saturation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
