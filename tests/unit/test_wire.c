/* tests/unit/test_wire.c: msg_classify, the first check on every
 * secure-mode datagram: exact length per type, zero reserved bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tunnel/wire.h"

static int expected(uint8_t type, size_t len)
{
	if (len < 4)
		return MSG_CLASS_BAD_LENGTH;
	switch (type) {
	case MSG_INITIATION: return len == 148 ? MSG_INITIATION : MSG_CLASS_BAD_LENGTH;
	case MSG_RESPONSE: return len == 92 ? MSG_RESPONSE : MSG_CLASS_BAD_LENGTH;
	case MSG_COOKIE: return len == 64 ? MSG_COOKIE : MSG_CLASS_BAD_LENGTH;
	case MSG_DATA: return len >= 32 ? MSG_DATA : MSG_CLASS_BAD_LENGTH;
	default: return MSG_CLASS_BAD_TYPE;
	}
}

/* Every type byte at every length up to 300: only the exact lengths pass. */
static void test_every_type_and_length(void **state)
{
	uint8_t buf[300];

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (unsigned type = 0; type < 256; type++) {
		buf[0] = (uint8_t)type;
		for (size_t len = 0; len <= sizeof(buf); len++)
			assert_int_equal(msg_classify(buf, len), expected((uint8_t)type, len));
	}
}

/* A nonzero reserved byte makes any message a bad type, whatever its length. */
static void test_reserved_bytes(void **state)
{
	static const size_t lens[] = { 148, 92, 64, 32, 1500 };
	static const uint8_t types[] = { MSG_INITIATION, MSG_RESPONSE, MSG_COOKIE, MSG_DATA, MSG_DATA };
	uint8_t buf[1500];

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (int pos = 1; pos <= 3; pos++) {
			memset(buf, 0, sizeof(buf));
			buf[0] = types[i];
			assert_int_equal(msg_classify(buf, lens[i]), types[i]);
			buf[pos] = 0x80;
			assert_int_equal(msg_classify(buf, lens[i]), MSG_CLASS_BAD_TYPE);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_and_length),
		cmocka_unit_test(test_reserved_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
