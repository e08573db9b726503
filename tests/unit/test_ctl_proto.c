/* tests/unit/test_ctl_proto.c: control request framing (daemon/ctl_proto.c).
 *
 * Frames are built by hand here (not with ctl_request_encode) so the parser
 * is checked against the documented layout: "GRSC" | version | command |
 * arg length (BE16) | arg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/ctl_proto.h"

/* Build a frame by hand; returns its length. */
static size_t frame(uint8_t *buf, uint8_t version, uint8_t cmd, uint16_t arg_len, const void *arg,
		    size_t arg_bytes)
{
	memcpy(buf, "GRSC", 4);
	buf[4] = version;
	buf[5] = cmd;
	buf[6] = (uint8_t)(arg_len >> 8);
	buf[7] = (uint8_t)arg_len;
	if (arg_bytes)
		memcpy(buf + 8, arg, arg_bytes);
	return 8 + arg_bytes;
}

static enum ctl_parse parse(const uint8_t *buf, size_t len, struct ctl_request *req)
{
	return ctl_request_parse(buf, len, req);
}

static void test_every_command_valid(void **state)
{
	static const struct {
		enum ctl_command cmd;
		const char *arg;
	} cases[] = {
		{ CTL_CMD_SHOW, "" },
		{ CTL_CMD_SHOW, "gre1" },
		{ CTL_CMD_SHOW, "abcdefghijklmno" },    /* 15 = IFNAMSIZ - 1 */
		{ CTL_CMD_SHOW_JSON, "" },
		{ CTL_CMD_SHOW_JSON, "sec-1.x_y" },
		{ CTL_CMD_RELOAD, "" },
		{ CTL_CMD_PING, "" },
		{ CTL_CMD_SHOW_BRIEF, "" },
		{ CTL_CMD_SHOW_BRIEF, "gre1" },
	};
	uint8_t buf[CTL_REQ_MAX + 16];
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t alen = strlen(cases[i].arg);
		size_t n = frame(buf, CTL_VERSION, (uint8_t)cases[i].cmd, (uint16_t)alen, cases[i].arg, alen);

		/* Trailing bytes after a complete frame are not part of it. */
		memset(buf + n, 'Z', 8);
		assert_int_equal(parse(buf, n + 8, &req), CTL_PARSE_OK);
		assert_int_equal(req.cmd, cases[i].cmd);
		assert_int_equal(req.arg_len, alen);
		assert_string_equal(req.arg, cases[i].arg);
		assert_int_equal(req.frame_len, n);
		assert_int_equal(parse(buf, n, &req), CTL_PARSE_OK);
		assert_int_equal(req.frame_len, n);
	}
}

static void test_bad_magic(void **state)
{
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;
	size_t n = frame(buf, CTL_VERSION, CTL_CMD_PING, 0, NULL, 0);

	(void)state;
	/* A wrong byte in any of the four magic positions, with the full frame
	 * and with only the bytes up to and including the wrong one. */
	for (size_t pos = 0; pos < 4; pos++) {
		uint8_t bad[CTL_REQ_MAX];

		memcpy(bad, buf, n);
		bad[pos] ^= 0x20;  /* "GRSC" -> "gRSC" ... */
		assert_int_equal(parse(bad, n, &req), CTL_PARSE_BAD_MAGIC);
		for (size_t len = pos + 1; len <= n; len++)
			assert_int_equal(parse(bad, len, &req), CTL_PARSE_BAD_MAGIC);
	}
	/* Junk refused at the first byte: text, JSON, an HTTP request. */
	assert_int_equal(parse((const uint8_t *)"show\n", 5, &req), CTL_PARSE_BAD_MAGIC);
	assert_int_equal(parse((const uint8_t *)"{", 1, &req), CTL_PARSE_BAD_MAGIC);
	assert_int_equal(parse((const uint8_t *)"GET / HTTP/1.0\r\n", 16, &req), CTL_PARSE_BAD_MAGIC);
	assert_int_equal(parse((const uint8_t *)"GRS\0", 4, &req), CTL_PARSE_BAD_MAGIC);
	/* A correct partial magic is not an error yet. */
	for (size_t len = 0; len < 4; len++)
		assert_int_equal(parse((const uint8_t *)"GRSC", len, &req), CTL_PARSE_INCOMPLETE);
}

static void test_bad_version(void **state)
{
	static const uint8_t versions[] = { 0, 2, 3, 0x7f, 0x80, 0xff };
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(versions); i++) {
		size_t n = frame(buf, versions[i], CTL_CMD_PING, 0, NULL, 0);

		assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_VERSION);
		/* Judged as soon as the version byte is in. */
		assert_int_equal(parse(buf, 5, &req), CTL_PARSE_BAD_VERSION);
	}
}

static void test_unknown_command(void **state)
{
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (unsigned cmd = 0; cmd < 256; cmd++) {
		size_t n = frame(buf, CTL_VERSION, (uint8_t)cmd, 0, NULL, 0);
		enum ctl_parse r = parse(buf, n, &req);

		if (cmd >= CTL_CMD_SHOW && cmd <= CTL_CMD_SHOW_BRIEF) {
			assert_int_equal(r, CTL_PARSE_OK);
			continue;
		}
		assert_int_equal(r, CTL_PARSE_UNKNOWN_COMMAND);
		assert_int_equal(parse(buf, 6, &req), CTL_PARSE_UNKNOWN_COMMAND);
	}
}

static void test_arg_too_long(void **state)
{
	uint8_t buf[CTL_REQ_MAX + 0x10000];
	char name[CTL_ARG_MAX + 1];
	struct ctl_request req;
	size_t n;

	(void)state;
	memset(name, 'a', sizeof(name));
	/* 16 characters: one more than an interface name may have. */
	n = frame(buf, CTL_VERSION, CTL_CMD_SHOW, 16, name, 16);
	assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_LENGTH);
	n = frame(buf, CTL_VERSION, CTL_CMD_SHOW_JSON, 16, name, 16);
	assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_LENGTH);
	/* The length is refused from the header alone, before the argument arrives. */
	frame(buf, CTL_VERSION, CTL_CMD_SHOW, CTL_ARG_MAX + 1, NULL, 0);
	assert_int_equal(parse(buf, CTL_HDR_LEN, &req), CTL_PARSE_BAD_LENGTH);
	frame(buf, CTL_VERSION, CTL_CMD_SHOW_JSON, 0xffff, NULL, 0);
	assert_int_equal(parse(buf, CTL_HDR_LEN, &req), CTL_PARSE_BAD_LENGTH);
	/* Even with all 65535 argument bytes present. */
	memset(buf + CTL_HDR_LEN, 'a', 0xffff);
	assert_int_equal(parse(buf, CTL_HDR_LEN + 0xffff, &req), CTL_PARSE_BAD_LENGTH);
}

static void test_no_arg_commands_refuse_arg(void **state)
{
	static const uint8_t cmds[] = { CTL_CMD_RELOAD, CTL_CMD_PING };
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds); i++) {
		size_t n = frame(buf, CTL_VERSION, cmds[i], 4, "gre1", 4);

		assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_LENGTH);
		assert_int_equal(parse(buf, CTL_HDR_LEN, &req), CTL_PARSE_BAD_LENGTH);
		n = frame(buf, CTL_VERSION, cmds[i], 1, "x", 1);
		assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_LENGTH);
	}
}

static void test_non_printable_arg(void **state)
{
	static const char *const bad[] = {
		"gre\x01", "gre 1", "gre\t1", "../etc", "a/b", "gre1\x7f", "\xc3\xa9t\xc3\xa9", "gre1\n",
	};
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t alen = strlen(bad[i]);
		size_t n = frame(buf, CTL_VERSION, CTL_CMD_SHOW, (uint16_t)alen, bad[i], alen);

		assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_ARG);
		n = frame(buf, CTL_VERSION, CTL_CMD_SHOW_JSON, (uint16_t)alen, bad[i], alen);
		assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_ARG);
	}
	/* An embedded NUL would truncate the name the daemon looks up. */
	size_t n = frame(buf, CTL_VERSION, CTL_CMD_SHOW, 5, "gre\0x", 5);
	assert_int_equal(parse(buf, n, &req), CTL_PARSE_BAD_ARG);
}

static void test_incomplete_every_length(void **state)
{
	static const char *const args[] = { "", "g", "gre1", "abcdefghijklmno" };
	static const uint8_t cmds[] = { CTL_CMD_SHOW, CTL_CMD_SHOW_JSON, CTL_CMD_RELOAD, CTL_CMD_PING,
					CTL_CMD_SHOW_BRIEF };
	uint8_t buf[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (size_t c = 0; c < sizeof(cmds); c++) {
		for (size_t a = 0; a < sizeof(args) / sizeof(args[0]); a++) {
			size_t alen = strlen(args[a]);
			size_t n;

			if ((cmds[c] == CTL_CMD_RELOAD || cmds[c] == CTL_CMD_PING) && alen)
				continue;
			n = frame(buf, CTL_VERSION, cmds[c], (uint16_t)alen, args[a], alen);
			for (size_t len = 0; len < n; len++) {
				memset(&req, 0xa5, sizeof(req));
				assert_int_equal(parse(buf, len, &req), CTL_PARSE_INCOMPLETE);
				/* Nothing usable is left behind in req. */
				assert_int_equal(req.frame_len, 0);
				assert_int_equal(req.arg_len, 0);
			}
			assert_int_equal(parse(buf, n, &req), CTL_PARSE_OK);
		}
	}
}

static void test_round_trip(void **state)
{
	static const struct {
		enum ctl_command cmd;
		const char *arg;
	} cases[] = {
		{ CTL_CMD_SHOW, NULL },
		{ CTL_CMD_SHOW, "" },
		{ CTL_CMD_SHOW, "gre1" },
		{ CTL_CMD_SHOW, "abcdefghijklmno" },
		{ CTL_CMD_SHOW_JSON, NULL },
		{ CTL_CMD_SHOW_JSON, "sec1" },
		{ CTL_CMD_RELOAD, NULL },
		{ CTL_CMD_PING, NULL },
		{ CTL_CMD_SHOW_BRIEF, NULL },
		{ CTL_CMD_SHOW_BRIEF, "gre1" },
	};
	uint8_t buf[CTL_REQ_MAX], want[CTL_REQ_MAX];
	struct ctl_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *arg = cases[i].arg ? cases[i].arg : "";
		size_t alen = strlen(arg);
		size_t n = ctl_request_encode(buf, sizeof(buf), cases[i].cmd, cases[i].arg);

		assert_int_equal(n, CTL_HDR_LEN + alen);
		/* The encoder writes exactly the documented layout. */
		frame(want, CTL_VERSION, (uint8_t)cases[i].cmd, (uint16_t)alen, arg, alen);
		assert_memory_equal(buf, want, n);
		assert_int_equal(parse(buf, n, &req), CTL_PARSE_OK);
		assert_int_equal(req.cmd, cases[i].cmd);
		assert_string_equal(req.arg, arg);
		assert_int_equal(req.arg_len, alen);
		assert_int_equal(req.frame_len, n);
		/* A buffer one byte short is refused, not overrun. */
		assert_int_equal(ctl_request_encode(buf, n - 1, cases[i].cmd, cases[i].arg), 0);
	}
}

static void test_encode_refuses_invalid(void **state)
{
	uint8_t buf[CTL_REQ_MAX];

	(void)state;
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_SHOW, "abcdefghijklmnop"), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_SHOW, "gre 1"), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_SHOW, "a/b"), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_RELOAD, "x"), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_PING, "x"), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), (enum ctl_command)0, NULL), 0);
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), (enum ctl_command)99, NULL), 0);
	assert_int_equal(ctl_request_encode(buf, 0, CTL_CMD_PING, NULL), 0);
}

static void test_error_strings(void **state)
{
	(void)state;
	for (int r = CTL_PARSE_OK; r <= CTL_PARSE_BAD_ARG; r++) {
		const char *s = ctl_parse_error((enum ctl_parse)r);

		assert_non_null(s);
		assert_true(strlen(s) > 1);
		for (int o = CTL_PARSE_OK; o < r; o++)
			assert_string_not_equal(s, ctl_parse_error((enum ctl_parse)o));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_valid),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_arg_too_long),
		cmocka_unit_test(test_no_arg_commands_refuse_arg),
		cmocka_unit_test(test_non_printable_arg),
		cmocka_unit_test(test_incomplete_every_length),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_refuses_invalid),
		cmocka_unit_test(test_error_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
