/* daemon/ctl_proto.h: the control socket's request format (pure code).
 *
 * A request is one frame:  "GRSC" | version (1) | command (1) | arg length
 * (2, big endian) | arg.  Each command has an allowed argument length range
 * in a table; anything else is refused before it is looked at further.
 * The reply is text (or JSON) up to the close of the connection, starting
 * with a status line "ok" or "error: <why>".
 */
#ifndef GRESEC_DAEMON_CTL_PROTO_H
#define GRESEC_DAEMON_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum {
	CTL_VERSION = 1,
	CTL_HDR_LEN = 8,
	CTL_ARG_MAX = 64,
	CTL_REQ_MAX = CTL_HDR_LEN + CTL_ARG_MAX,
};

enum ctl_command {
	CTL_CMD_SHOW = 1,       /* arg: tunnel name or empty */
	CTL_CMD_SHOW_JSON = 2,  /* arg: tunnel name or empty */
	CTL_CMD_RELOAD = 3,     /* no arg */
	CTL_CMD_PING = 4,       /* no arg: liveness check */
	CTL_CMD_SHOW_BRIEF = 5, /* arg: tunnel name or empty; one line per tunnel */
};

enum ctl_parse {
	CTL_PARSE_OK = 0,
	CTL_PARSE_INCOMPLETE,   /* need more bytes */
	CTL_PARSE_BAD_MAGIC,
	CTL_PARSE_BAD_VERSION,
	CTL_PARSE_UNKNOWN_COMMAND,
	CTL_PARSE_BAD_LENGTH,
	CTL_PARSE_BAD_ARG,      /* argument bytes not allowed (names are printable) */
};

struct ctl_request {
	enum ctl_command cmd;
	char arg[CTL_ARG_MAX + 1];  /* NUL-terminated */
	size_t arg_len;
	size_t frame_len;           /* bytes of the buffer the request used */
};

/* Parse a request from the first len bytes of buf. */
enum ctl_parse ctl_request_parse(const uint8_t *buf, size_t len, struct ctl_request *req);
/* Encode a request; returns the frame length or 0 if it does not fit / is invalid. */
size_t ctl_request_encode(uint8_t *buf, size_t len, enum ctl_command cmd, const char *arg);
const char *ctl_parse_error(enum ctl_parse r);

#endif
