/* daemon/datapath.c: which data path a tunnel gets, decided in one place. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/datapath.h"
#include "daemon/log.h"
#include "daemon/tunnel.h"

const char *datapath_kernel_unsuitable(const struct tunnel_config *c)
{
	if (c->mode != TUNNEL_MODE_PLAIN)
		return "secure mode runs in user space";
	if (c->clamp_mss)
		return "clamp_mss needs user space (the kernel's GRE does not clamp the MSS)";
	if (c->keepalive_interval && c->sequence)
		return "keepalives with sequence numbers need user space";
	return NULL;
}

bool datapath_must_change(const struct tunnel *t, const struct tunnel_config *cfg)
{
	if (t->dp->kind == DATAPATH_KERNEL)
		return datapath_kernel_unsuitable(cfg) != NULL;
	/* User space because of a setting that is gone: try the kernel again. */
	return cfg->datapath == DATAPATH_AUTO && t->cfg.datapath == DATAPATH_AUTO &&
	       datapath_kernel_unsuitable(&t->cfg) && !datapath_kernel_unsuitable(cfg);
}

static int open_user(struct tunnel *t)
{
	t->dp = &datapath_user;
	return t->dp->open(t);
}

int datapath_open(struct tunnel *t)
{
	const struct tunnel_config *c = &t->cfg;
	struct nl_gre_params kind_probe = { .tap = c->type == TUNNEL_TYPE_GRETAP,
					    .local = c->local, .remote = c->remote };
	const char *kind = nl_gre_kind(&kind_probe), *why;
	struct nl_link_info li;
	int err;

	if (c->datapath == DATAPATH_USER) {
		snprintf(t->dp_reason, sizeof(t->dp_reason), "datapath = \"user\"");
		return open_user(t);
	}
	if (c->datapath == DATAPATH_AUTO && (why = datapath_kernel_unsuitable(c))) {
		snprintf(t->dp_reason, sizeof(t->dp_reason), "auto: %s", why);
		return open_user(t);
	}
	/* A persistent TUN/TAP the administrator made for this tunnel is used,
	 * as it always was. */
	if (nl_link_get(&t->d->nl, 0, c->name, &li) == 0 && strcmp(li.kind, "tun") == 0) {
		if (c->datapath == DATAPATH_AUTO) {
			snprintf(t->dp_reason, sizeof(t->dp_reason),
				 "auto: %s is a TUN/TAP device made by the administrator", c->name);
			return open_user(t);
		}
		log_tunnel_err(c->name, "datapath = \"kernel\", but %s is a TUN/TAP device "
			       "(delete it, or use datapath = \"user\")", c->name);
		return -EEXIST;
	}
	t->dp = &datapath_kernel;
	err = t->dp->open(t);
	if (err == 0) {
		snprintf(t->dp_reason, sizeof(t->dp_reason), "%s: %s link of %s",
			 c->datapath == DATAPATH_KERNEL ? "datapath = \"kernel\"" : "auto",
			 kind, kgre_module(c));
		return 0;
	}
	if (err != -EOPNOTSUPP)
		return err;     /* logged */
	if (c->datapath == DATAPATH_KERNEL) {
		log_tunnel_err(c->name,
			       "datapath = \"kernel\", but this kernel has no \"%s\" links "
			       "(%s: %s is neither built in nor loadable; load it as root with "
			       "\"modprobe %s\", or use datapath = \"auto\")", kind, strerror(-err),
			       kgre_module(c), kgre_module(c));
		return err;
	}
	snprintf(t->dp_reason, sizeof(t->dp_reason), "auto: this kernel has no \"%s\" links (%s)",
		 kind, kgre_module(c));
	return open_user(t);
}
