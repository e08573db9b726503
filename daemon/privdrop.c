/* daemon/privdrop.c: drop to an unprivileged user keeping only the
 * capabilities the data path and reload need, and fail closed. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "daemon/log.h"
#include "daemon/privdrop.h"

/* Direct capset(2): no library needed for three capability bits. */
static int caps_set(uint64_t caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static int caps_get(uint64_t *eff)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	*eff = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return 0;
}

/* The names of the capabilities we may keep, for the log. */
static void caps_describe(uint64_t caps, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned cap = 0; cap < 64; cap++) {
		const char *name = cap == CAP_NET_ADMIN ? "CAP_NET_ADMIN" :
				   cap == CAP_NET_RAW ? "CAP_NET_RAW" : NULL;
		char num[16];
		int n;

		if (!(caps & (1ULL << cap)))
			continue;
		if (!name) {
			snprintf(num, sizeof(num), "cap %u", cap);
			name = num;
		}
		n = snprintf(buf + off, size - off, "%s%s", off ? " " : "", name);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, size, "(none)");
}

/* The capability bounding set, read with PR_CAPBSET_READ up to the last
 * capability the kernel knows (EINVAL beyond it).  0 or -1. */
static int bounding_set_read(uint64_t *bset)
{
	*bset = 0;
	for (unsigned cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

		if (r < 0) {
			if (errno == EINVAL && cap > 0)
				return 0;
			return -1;
		}
		if (r == 1)
			*bset |= 1ULL << cap;
	}
	return 0;
}

/* Drop every capability but keep from the bounding set, so that nothing
 * this process or a child could ever exec regains them.  Needs
 * CAP_SETPCAP, i.e. before the switch away from root (a service
 * manager's bounding set must include it).  0, or -1 after logging. */
static int bounding_set_limit(uint64_t keep)
{
	uint64_t bset;

	if (bounding_set_read(&bset) != 0) {
		log_err("cannot read the capability bounding set: %s", strerror(errno));
		return -1;
	}
	for (unsigned cap = 0; cap < 64; cap++) {
		if (!(bset & (1ULL << cap)) || (keep & (1ULL << cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0) {
			log_err("cannot drop capability %u from the bounding set: %s%s", cap,
				strerror(errno), errno == EPERM ?
				" (CAP_SETPCAP is missing: a CapabilityBoundingSet= of the service "
				"must include CAP_SETPCAP)" : "");
			return -1;
		}
	}
	return 0;
}

void privdrop_harden(void)
{
	struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		log_warn("cannot disable core dumps: %s", strerror(errno));
	/* Also keeps /proc/PID/mem and ptrace away from other users. */
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		log_warn("cannot mark the process non-dumpable: %s", strerror(errno));
}

int privdrop_lookup(const char *user, const char *group, unsigned *uid, unsigned *gid)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_err("user \"%s\" does not exist", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group && group[0]) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			log_err("group \"%s\" does not exist", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int privdrop_to(const char *user, const char *group, bool need_raw)
{
	uint64_t keep = (1ULL << CAP_NET_ADMIN) | (need_raw ? 1ULL << CAP_NET_RAW : 0);
	uint64_t eff = 0, bset = 0;
	unsigned uid, gid;
	char kept[64];

	if (privdrop_lookup(user, group, &uid, &gid) != 0)
		return -1;
	/* gresecd never executes anything; should it ever be made to, no
	 * set-user-ID program or file capability may raise its privileges,
	 * and the bounding set caps what any exec could regain.  The LSB init
	 * script path has no service manager to do this for us. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_err("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (bounding_set_limit(keep) != 0)
		return -1;
	/* Keep the permitted set across setuid, then trim it to what we need. */
	if (prctl(PR_SET_KEEPCAPS, 1) != 0 ||
	    setgroups(1, (gid_t[]){ gid }) != 0 ||
	    setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		log_err("cannot switch to user \"%s\": %s", user, strerror(errno));
		return -1;
	}
	if (caps_set(keep) != 0) {
		log_err("cannot keep CAP_NET_ADMIN after switching to \"%s\": %s", user, strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_DUMPABLE, 0);
	/* Fail closed: root must be gone for good. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid || geteuid() != uid ||
	    getegid() != gid) {
		log_err("privilege drop to \"%s\" did not hold: root can be regained", user);
		return -1;
	}
	if (caps_get(&eff) != 0 || (eff & ~keep) != 0 || !(eff & (1ULL << CAP_NET_ADMIN))) {
		log_err("privilege drop to \"%s\": unexpected capabilities %#llx", user,
			(unsigned long long)eff);
		return -1;
	}
	if (bounding_set_read(&bset) != 0 || (bset & ~keep) != 0) {
		log_err("privilege drop to \"%s\": the capability bounding set still holds %#llx",
			user, (unsigned long long)(bset & ~keep));
		return -1;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_err("privilege drop to \"%s\": no_new_privs is not set", user);
		return -1;
	}
	log_info("running as %s (uid %u, gid %u) with CAP_NET_ADMIN%s", user, uid, gid,
		 need_raw ? " and CAP_NET_RAW" : "");
	caps_describe(bset, kept, sizeof(kept));
	log_info("capability bounding set: %s; no_new_privs set", kept);
	return 0;
}
