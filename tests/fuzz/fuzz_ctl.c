/* tests/fuzz/fuzz_ctl.c: libFuzzer target for the control request framing
 * (daemon/ctl_proto.c).
 *
 * The input is what a client wrote to the control socket.  Invariants:
 *   - on CTL_PARSE_OK the frame fits in the input, the argument is
 *     NUL-terminated, of the stated length, printable and without '/' or
 *     spaces, and encoding the request again gives the very same bytes;
 *   - the outcome only depends on the bytes up to the frame: parsing the
 *     frame alone gives the same request, and every shorter prefix of a
 *     valid frame is INCOMPLETE (never accepted, never another error);
 *   - every result has an error text.
 * Build and run: tests/fuzz/run.sh (compiles with clang -fsanitize=fuzzer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_request(const struct ctl_request *req, size_t size)
{
	check(req->frame_len == CTL_HDR_LEN + req->arg_len);
	check(req->frame_len <= size);
	check(req->arg_len <= CTL_ARG_MAX);
	check(req->arg[req->arg_len] == '\0');
	check(strlen(req->arg) == req->arg_len);
	for (size_t i = 0; i < req->arg_len; i++)
		check(req->arg[i] > ' ' && req->arg[i] < 0x7f && req->arg[i] != '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req, again;
	uint8_t enc[CTL_REQ_MAX];
	enum ctl_parse r;
	size_t n;

	r = ctl_request_parse(data, size, &req);
	check(ctl_parse_error(r) != NULL);
	if (r != CTL_PARSE_OK)
		return 0;
	check_request(&req, size);

	/* Re-encoding the parsed request gives the frame's bytes exactly. */
	n = ctl_request_encode(enc, sizeof(enc), req.cmd, req.arg);
	check(n == req.frame_len);
	check(memcmp(enc, data, n) == 0);

	/* The frame alone parses to the same request; trailing bytes are the
	 * next request's business. */
	check(ctl_request_parse(data, req.frame_len, &again) == CTL_PARSE_OK);
	check(again.cmd == req.cmd && again.arg_len == req.arg_len &&
	      again.frame_len == req.frame_len && memcmp(again.arg, req.arg, req.arg_len + 1) == 0);

	/* A frame still arriving is incomplete, not an error. */
	for (size_t k = 0; k < req.frame_len; k++)
		check(ctl_request_parse(data, k, &again) == CTL_PARSE_INCOMPLETE);

	/* An encoder buffer one byte short is refused. */
	check(ctl_request_encode(enc, req.frame_len - 1, req.cmd, req.arg) == 0);
	return 0;
}
