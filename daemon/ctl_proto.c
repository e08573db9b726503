/* daemon/ctl_proto.c: control request framing, validated from a table. */
#include "config.h"

#include <string.h>

#include "daemon/ctl_proto.h"
#include "tunnel/wire.h"

static const uint8_t ctl_magic[4] = { 'G', 'R', 'S', 'C' };

static const struct {
	enum ctl_command cmd;
	size_t min_arg, max_arg;
} ctl_table[] = {
	{ CTL_CMD_SHOW, 0, 15 },       /* an interface name: at most IFNAMSIZ - 1 */
	{ CTL_CMD_SHOW_JSON, 0, 15 },
	{ CTL_CMD_RELOAD, 0, 0 },
	{ CTL_CMD_PING, 0, 0 },
	{ CTL_CMD_SHOW_BRIEF, 0, 15 },
};

static int ctl_lookup(unsigned cmd)
{
	for (size_t i = 0; i < sizeof(ctl_table) / sizeof(ctl_table[0]); i++)
		if ((unsigned)ctl_table[i].cmd == cmd)
			return (int)i;
	return -1;
}

/* Tunnel names are interface names: printable ASCII without '/' or spaces. */
static int arg_ok(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] >= 0x7f || a[i] == '/')
			return 0;
	return 1;
}

enum ctl_parse ctl_request_parse(const uint8_t *buf, size_t len, struct ctl_request *req)
{
	size_t arg_len;
	int idx;

	memset(req, 0, sizeof(*req));
	/* Judge each field as soon as its bytes are in, so junk is refused early. */
	if (memcmp(buf, ctl_magic, len < 4 ? len : 4) != 0)
		return CTL_PARSE_BAD_MAGIC;
	if (len < 5)
		return CTL_PARSE_INCOMPLETE;
	if (buf[4] != CTL_VERSION)
		return CTL_PARSE_BAD_VERSION;
	if (len < 6)
		return CTL_PARSE_INCOMPLETE;
	idx = ctl_lookup(buf[5]);
	if (idx < 0)
		return CTL_PARSE_UNKNOWN_COMMAND;
	if (len < CTL_HDR_LEN)
		return CTL_PARSE_INCOMPLETE;
	arg_len = load_be16(buf + 6);
	if (arg_len < ctl_table[idx].min_arg || arg_len > ctl_table[idx].max_arg)
		return CTL_PARSE_BAD_LENGTH;
	if (len < CTL_HDR_LEN + arg_len)
		return CTL_PARSE_INCOMPLETE;
	if (!arg_ok(buf + CTL_HDR_LEN, arg_len))
		return CTL_PARSE_BAD_ARG;
	req->cmd = ctl_table[idx].cmd;
	memcpy(req->arg, buf + CTL_HDR_LEN, arg_len);
	req->arg[arg_len] = '\0';
	req->arg_len = arg_len;
	req->frame_len = CTL_HDR_LEN + arg_len;
	return CTL_PARSE_OK;
}

size_t ctl_request_encode(uint8_t *buf, size_t len, enum ctl_command cmd, const char *arg)
{
	size_t arg_len = arg ? strlen(arg) : 0;
	int idx = ctl_lookup((unsigned)cmd);

	if (idx < 0 || arg_len < ctl_table[idx].min_arg || arg_len > ctl_table[idx].max_arg ||
	    len < CTL_HDR_LEN + arg_len || !arg_ok((const uint8_t *)(arg ? arg : ""), arg_len))
		return 0;
	memcpy(buf, ctl_magic, 4);
	buf[4] = CTL_VERSION;
	buf[5] = (uint8_t)cmd;
	store_be16(buf + 6, (uint16_t)arg_len);
	if (arg_len)
		memcpy(buf + CTL_HDR_LEN, arg, arg_len);
	return CTL_HDR_LEN + arg_len;
}

const char *ctl_parse_error(enum ctl_parse r)
{
	switch (r) {
	case CTL_PARSE_OK: return "ok";
	case CTL_PARSE_INCOMPLETE: return "incomplete request";
	case CTL_PARSE_BAD_MAGIC: return "not a gresec control request";
	case CTL_PARSE_BAD_VERSION: return "unsupported control protocol version";
	case CTL_PARSE_UNKNOWN_COMMAND: return "unknown command";
	case CTL_PARSE_BAD_LENGTH: return "bad argument length for the command";
	case CTL_PARSE_BAD_ARG: return "argument contains characters not allowed";
	}
	return "invalid request";
}
