/* daemon/gresec.c: the command-line tool: talk to gresecd, check configs,
 * make keys. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sodium.h>

#include "conf/conf.h"
#include "crypto/keys.h"
#include "daemon/ctl_proto.h"
#include "daemon/preflight.h"

#define CONTROL_ENV "GRESEC_CONTROL_SOCKET"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: gresec [-s SOCKET] COMMAND [ARGS] [-s SOCKET]\n"
		"commands:\n"
		"  show [TUNNEL] [--json | --brief]\n"
		"                           state of the tunnels of the running daemon;\n"
		"                           --brief (-br): one line per tunnel\n"
		"  reload                   make the daemon re-read its configuration\n"
		"  check-config [--file-only] FILE\n"
		"                           validate a configuration file and check it against\n"
		"                           this host (key files, users, interfaces, addresses);\n"
		"                           --file-only: the file alone\n"
		"  genkey                   print a new private key (base64)\n"
		"  pubkey                   read a private key on stdin, print its public key\n"
		"  genpsk                   print a new pre-shared key (base64)\n"
		"  --version                print the version\n"
		"  help                     this help\n"
		"The control socket is -s SOCKET, else $" CONTROL_ENV ", else %s.\n",
		GRESEC_DEFAULT_CONTROL);
}

/* Send one request and copy the reply to stdout; the first line is the status. */
static int control_call(const char *path, enum ctl_command cmd, const char *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t req[CTL_REQ_MAX];
	char buf[8192];
	size_t req_len, status_len = 0;
	char status[256];
	bool in_status = true;
	int fd, rc = 1;
	ssize_t n;

	req_len = ctl_request_encode(req, sizeof(req), cmd, arg);
	if (req_len == 0) {
		fprintf(stderr, "gresec: invalid tunnel name \"%s\"\n", arg ? arg : "");
		return 1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "gresec: control socket path too long: %s\n", path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "gresec: cannot connect to gresecd at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
		/* The daemon may have refused us (permission, too many clients) and
		 * closed before reading: its answer is still there to read. */
		if (errno != EPIPE && errno != ECONNRESET) {
			fprintf(stderr, "gresec: cannot send to %s: %s\n", path, strerror(errno));
			close(fd);
			return 1;
		}
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		while (in_status && off < (size_t)n) {
			char ch = buf[off++];

			if (ch == '\n') {
				in_status = false;
				status[status_len] = '\0';
				/* An error's first line first: the reasons that follow
				 * (a reload's problems, in the file's order) come after. */
				if (strcmp(status, "ok") != 0)
					fprintf(stderr, "gresec: %s\n", status);
			} else if (status_len < sizeof(status) - 1) {
				status[status_len++] = ch;
			}
		}
		if (!in_status && off < (size_t)n) {
			FILE *dst = strcmp(status, "ok") == 0 ? stdout : stderr;

			fwrite(buf + off, 1, (size_t)n - off, dst);
		}
	}
	close(fd);
	if (in_status) {
		fprintf(stderr, "gresec: no reply from gresecd at %s\n", path);
		return 1;
	}
	if (strcmp(status, "ok") == 0)
		rc = 0;
	return rc;
}

static int print_key(const uint8_t key[32])
{
	char b64[KEYS_BASE64_LEN + 1];

	keys_to_base64(b64, key);
	puts(b64);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Like wg genkey: a secret written to a file others may read is most
 * likely a mistake (the umask was not 077).  Still written: the caller
 * may chmod it at once. */
static void warn_if_readable(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		fprintf(stderr, "gresec: warning: writing a secret key to a file that %s can read "
				"(mode %04o); set the umask to 077 first (umask 077), or chmod 600 it\n",
			(st.st_mode & S_IRWXO) ? "everyone" : "its group",
			(unsigned)(st.st_mode & 07777));
}

static int cmd_genkey(bool psk)
{
	uint8_t key[32];
	int rc;

	warn_if_readable();
	if (psk)
		randombytes_buf(key, sizeof(key));
	else
		keys_generate_private(key);
	rc = print_key(key);
	sodium_memzero(key, sizeof(key));
	return rc;
}

static int cmd_pubkey(void)
{
	char line[256];
	uint8_t priv[32], pub[32];
	size_t n;
	int rc = 1;

	n = fread(line, 1, sizeof(line) - 1, stdin);
	line[n] = '\0';
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (keys_from_base64(priv, line) != 0) {
		fprintf(stderr, "gresec: pubkey: stdin is not a base64 private key of 32 bytes\n");
	} else if (keys_public_from_private(pub, priv) != 0) {
		fprintf(stderr, "gresec: pubkey: invalid private key\n");
	} else {
		rc = print_key(pub);
	}
	sodium_memzero(line, sizeof(line));
	sodium_memzero(priv, sizeof(priv));
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = getenv(CONTROL_ENV);
	int i = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "gresec: libsodium failed to initialise\n");
		return 1;
	}
	if (!sock || !sock[0])
		sock = GRESEC_DEFAULT_CONTROL;
	/* -s SOCKET before or after the command (`gresec show -s X`): taken
	 * out of the arguments wherever it is; the last one wins. */
	for (int j = 1; j < argc;) {
		if (strcmp(argv[j], "-s") != 0) {
			j++;
			continue;
		}
		if (j + 1 >= argc) {
			usage(stderr);
			return 1;
		}
		sock = argv[j + 1];
		memmove(&argv[j], &argv[j + 2], (size_t)(argc - j - 2) * sizeof(*argv));
		argc -= 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[i++];
	int left = argc - i;

	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("gresec %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "show")) {
		const char *name = NULL;
		bool json = false, brief = false;

		for (; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				json = true;
			else if (!strcmp(argv[i], "--brief") || !strcmp(argv[i], "-br") ||
				 !strcmp(argv[i], "-b"))
				brief = true;
			else if (!name && argv[i][0] != '-')
				name = argv[i];
			else {
				usage(stderr);
				return 1;
			}
		}
		if (json && brief) {
			fprintf(stderr, "gresec: show: --json or --brief, not both\n");
			return 1;
		}
		return control_call(sock, json ? CTL_CMD_SHOW_JSON : brief ? CTL_CMD_SHOW_BRIEF : CTL_CMD_SHOW,
				    name);
	}
	if (!strcmp(cmd, "reload") && left == 0)
		return control_call(sock, CTL_CMD_RELOAD, NULL);
	if (!strcmp(cmd, "check-config") && left == 1 && argv[i][0] != '-')
		return preflight_check_file(argv[i], NULL, false);
	if (!strcmp(cmd, "check-config") && left == 2 && !strcmp(argv[i], "--file-only"))
		return preflight_check_file(argv[i + 1], NULL, true);
	if (!strcmp(cmd, "genkey") && left == 0)
		return cmd_genkey(false);
	if (!strcmp(cmd, "genpsk") && left == 0)
		return cmd_genkey(true);
	if (!strcmp(cmd, "pubkey") && left == 0)
		return cmd_pubkey();
	fprintf(stderr, "gresec: unknown command or wrong arguments: %s\n", cmd);
	usage(stderr);
	return 1;
}
