/* tests/tools/linkstate.c: set an interface's operational state (RFC 2863)
 * the way gresecd does for a kernel GRE link whose peer stopped answering
 * (daemon/kernel_gre.c: IFLA_OPERSTATE dormant, then up), so that tests can
 * show what routing daemons make of it on any interface.
 *
 *   linkstate IFNAME dormant|up
 *
 * Exit 0 on success, 1 with a message otherwise.  Not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if.h>           /* IF_OPER_*, after net/if.h */

#include "tunnel/netlink.h"

int main(int argc, char **argv)
{
	struct nl_link_attrs a = NL_LINK_ATTRS_NONE;
	struct nl_ctx nl;
	unsigned ifindex;
	int err;

	if (argc != 3 || (strcmp(argv[2], "dormant") != 0 && strcmp(argv[2], "up") != 0)) {
		fprintf(stderr, "usage: linkstate IFNAME dormant|up\n");
		return 1;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "linkstate: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((err = nl_open(&nl))) {
		fprintf(stderr, "linkstate: rtnetlink: %s\n", strerror(-err));
		return 1;
	}
	a.operstate = strcmp(argv[2], "up") == 0 ? IF_OPER_UP : IF_OPER_DORMANT;
	err = nl_link_setattrs(&nl, (int)ifindex, &a);
	nl_close(&nl);
	if (err) {
		fprintf(stderr, "linkstate: %s %s: %s\n", argv[1], argv[2], strerror(-err));
		return 1;
	}
	return 0;
}
