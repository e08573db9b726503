/* daemon/control.c: the control socket server.
 *
 * Requests are framed and validated by ctl_proto.c; a connection gets one
 * request, one reply, then it is closed.  Each connection has a deadline,
 * a size limit, and the number of connections is bounded, so a stuck or
 * hostile client cannot disturb the daemon.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/show.h"
#include "daemon/ctl_proto.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/rundir.h"
#include "daemon/tunnel.h"

enum { CONTROL_MAX_CLIENTS = 16, CONTROL_RELOAD_MSG = 64 * 1024 };
#define CONTROL_TIMEOUT 5.0
#define CONTROL_ACCEPT_PAUSE 1.0

struct control_client {
	struct control *ctl;
	int fd;
	ev_io io;
	ev_timer timer;
	uint8_t req[CTL_REQ_MAX];
	size_t req_len;
	char *reply;
	size_t reply_len, reply_sent;
	struct control_client *next;
};

struct control {
	struct gresecd *d;
	int fd;
	struct rundir_file file;     /* the socket in root's run directory */
	ev_io io;
	ev_timer pause;              /* accept stopped for a while (out of descriptors) */
	struct log_ratelimit rl;
	unsigned n_clients;
	struct control_client *clients;
};

static void client_free(struct control_client *c)
{
	struct control *ctl = c->ctl;

	for (struct control_client **pp = &ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ev_io_stop(ctl->d->loop, &c->io);
	ev_timer_stop(ctl->d->loop, &c->timer);
	close(c->fd);
	free(c->reply);
	free(c);
	ctl->n_clients--;
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *c = w->data;

	(void)loop; (void)revents;
	while (c->reply_sent < c->reply_len) {
		ssize_t n = send(c->fd, c->reply + c->reply_sent, c->reply_len - c->reply_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->reply_sent += (size_t)n;
	}
	client_free(c);
}

static void client_reply(struct control_client *c, char *buf, size_t len)
{
	struct ev_loop *loop = c->ctl->d->loop;

	c->reply = buf;
	c->reply_len = len;
	ev_io_stop(loop, &c->io);
	ev_io_init(&c->io, client_write_cb, c->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void client_handle(struct control_client *c, const struct ctl_request *req)
{
	struct gresecd *d = c->ctl->d;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out) {
		client_free(c);
		return;
	}
	switch (req->cmd) {
	case CTL_CMD_SHOW:
	case CTL_CMD_SHOW_JSON:
	case CTL_CMD_SHOW_BRIEF:
		if (req->arg_len && !tunnel_find(d, req->arg)) {
			fprintf(out, "error: no tunnel named \"%s\"\n", req->arg);
			break;
		}
		fputs("ok\n", out);
		if (req->cmd == CTL_CMD_SHOW)
			show_text(d, req->arg_len ? req->arg : NULL, out);
		else if (req->cmd == CTL_CMD_SHOW_JSON)
			show_json(d, req->arg_len ? req->arg : NULL, out);
		else
			show_brief(d, req->arg_len ? req->arg : NULL, out);
		break;
	case CTL_CMD_RELOAD: {
		char *msg = malloc(CONTROL_RELOAD_MSG);

		if (!msg) {
			fputs("error: out of memory\n", out);
			break;
		}
		if (gresecd_reload(d, msg, CONTROL_RELOAD_MSG) == 0)
			fprintf(out, "ok\n%s", msg);
		else
			fprintf(out, "error: %s", msg);
		free(msg);
		break;
	}
	case CTL_CMD_PING:
		fputs("ok\n", out);
		break;
	}
	fclose(out);
	client_reply(c, buf, len);
}

static void client_refuse(struct control_client *c, const char *why)
{
	char *buf = NULL;
	int n = asprintf(&buf, "error: %s\n", why);

	if (n < 0) {
		client_free(c);
		return;
	}
	client_reply(c, buf, (size_t)n);
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *c = w->data;
	struct ctl_request req;
	enum ctl_parse r;
	ssize_t n;

	(void)loop; (void)revents;
	n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->req_len += (size_t)n;
	r = ctl_request_parse(c->req, c->req_len, &req);
	if (r == CTL_PARSE_INCOMPLETE) {
		if (c->req_len < sizeof(c->req))
			return;
		r = CTL_PARSE_BAD_LENGTH;
	}
	if (r != CTL_PARSE_OK) {
		log_info("control: refused request: %s", ctl_parse_error(r));
		client_refuse(c, ctl_parse_error(r));
		return;
	}
	client_handle(c, &req);
}

static void client_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop; (void)revents;
	log_info("control: client timed out");
	client_free(w->data);
}

/* Only root and the daemon's own user may talk to it.  The socket is
 * root's with mode 0600, so only root reaches it; this holds even if
 * someone loosens the mode. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *ctl = w->data;
	struct control_client *c;
	int fd;

	(void)revents;
	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
			return;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays queued
		 * and the socket readable; accepting again at once would spin.
		 * Pause, and try again a second later. */
		log_ratelimited(&ctl->rl, LOG_LEVEL_WARN, "control: cannot accept a connection: %s; "
				"pausing for %.0f s", strerror(errno), CONTROL_ACCEPT_PAUSE);
		ev_io_stop(loop, &ctl->io);
		ev_timer_set(&ctl->pause, CONTROL_ACCEPT_PAUSE, 0.);
		ev_timer_start(loop, &ctl->pause);
		return;
	}
	if (ctl->n_clients >= CONTROL_MAX_CLIENTS) {
		static const char busy[] = "error: too many control connections, try again\n";

		log_warn("control: too many clients, refusing one");
		/* Best effort, never blocks: the client learns why it was cut off. */
		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* nothing more to tell it */
		}
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->n_clients++;
	ev_io_init(&c->io, client_read_cb, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->timer, client_timeout_cb, CONTROL_TIMEOUT, 0.);
	c->timer.data = c;
	ev_timer_start(loop, &c->timer);
	if (!peer_allowed(fd)) {
		log_warn("control: refused a client without permission");
		client_refuse(c, "permission denied");
		return;
	}
	ev_io_start(loop, &c->io);
}

static void accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = w->data;

	(void)revents;
	ev_io_start(loop, &ctl->io);
}

int control_open(struct gresecd *d, const char *path, uid_t daemon_uid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	mode_t old_umask;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		log_err("control socket %s: out of memory", path);
		return -ENOMEM;
	}
	ctl->fd = -1;
	/* Root's run directory; a stale socket is replaced, anything else at
	 * the name (a planted link) refused: see rundir.c. */
	if (rundir_open(&ctl->file, "control socket", path, daemon_uid) != 0) {
		err = -EACCES;
		goto fail;
	}
	err = rundir_socket_prepare(&ctl->file);
	if (err)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("control socket %s: %s", path, strerror(-err));
		goto fail;
	}
	ctl->fd = fd;
	/* Bound by root in root's directory (checked above, and nobody else
	 * can change it), mode 0600, owned by root: gresec runs as root, and
	 * after the drop the daemon only needs the listening descriptor. */
	old_umask = umask(0177);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old_umask);
	if (err) {
		log_err("control socket %s: %s", path, strerror(-err));
		goto fail;
	}
	if (rundir_note_made(&ctl->file) != 0) {
		err = -ENOENT;
		goto fail;
	}
	if (listen(fd, 8) != 0) {
		err = -errno;
		log_err("control socket %s: %s", path, strerror(-err));
		goto fail;
	}
	ctl->d = d;
	ev_io_init(&ctl->io, control_accept_cb, fd, EV_READ);
	ctl->io.data = ctl;
	ev_io_start(d->loop, &ctl->io);
	ev_timer_init(&ctl->pause, accept_resume_cb, CONTROL_ACCEPT_PAUSE, 0.);
	ctl->pause.data = ctl;
	d->control = ctl;
	return 0;
fail:
	if (ctl->fd >= 0)
		close(ctl->fd);
	rundir_remove(&ctl->file);
	rundir_close(&ctl->file);
	free(ctl);
	return err;
}

void control_close(struct gresecd *d)
{
	struct control *ctl = d->control;

	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	ev_io_stop(d->loop, &ctl->io);
	ev_timer_stop(d->loop, &ctl->pause);
	close(ctl->fd);
	rundir_remove(&ctl->file);
	rundir_close(&ctl->file);
	free(ctl);
	d->control = NULL;
}
