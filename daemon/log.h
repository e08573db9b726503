/* daemon/log.h: the one logging API of gresec.
 *
 * Foreground daemons log to stderr, background ones to syslog (facility
 * daemon).  When stderr is systemd's journal (JOURNAL_STREAM), lines carry
 * sd-daemon priority prefixes ("<3>" .. "<7>") and no time stamp, so that
 * `journalctl -p err` works.  Problems seen per packet go through
 * log_ratelimited() so that a flood of bad traffic cannot flood the log.
 */
#ifndef GRESEC_DAEMON_LOG_H
#define GRESEC_DAEMON_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "conf/conf.h"

void log_open(const char *ident, bool to_stderr, enum log_level level);
/* Whether stderr is the stream systemd's JOURNAL_STREAM names. */
bool log_stderr_is_journal(void);
/* While a daemonizing start runs: errors and warnings are also written,
 * one line each, to fd (the pipe to the shell that started us); -1 stops. */
void log_set_start_fd(int fd);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A token bucket for one owner's packet-path messages (each tunnel has one,
 * struct tunnel.rl, shared by all its call sites): at most LOG_RL_BURST
 * messages (LOG_RL_BURST in log.c), refilled at one per second; what it holds back is counted and
 * said with the next message that passes. */
struct log_ratelimit {
	uint64_t last_ns;
	uint32_t tokens;
	uint32_t suppressed;
};

void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A message about one tunnel: "tunnel \"NAME\": " and fmt (the prefix
 * every tunnel's lines carry, and tunnel_strip_name() takes off again);
 * _rl through the tunnel's rate limiter. */
void log_tunnel(enum log_level level, const char *tunnel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_tunnel_rl(struct log_ratelimit *rl, enum log_level level, const char *tunnel,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Errors and warnings held back while one attempt runs (a tunnel being
 * set up): its first error becomes the tunnel's last error, and the
 * caller decides whether the messages are worth logging again (a retry
 * that fails the same way is not).  One capture at a time. */
enum { LOG_CAPTURE_MAX = 6, LOG_CAPTURE_LEN = 512 };
struct log_capture {
	unsigned n;                         /* messages held */
	unsigned lost;                      /* more than LOG_CAPTURE_MAX: logged at once */
	enum log_level level[LOG_CAPTURE_MAX];
	char msg[LOG_CAPTURE_MAX][LOG_CAPTURE_LEN];
};
void log_capture_begin(struct log_capture *c);
void log_capture_end(struct log_capture *c);
/* The first error held (else the first warning), or NULL. */
const char *log_capture_first(const struct log_capture *c);
/* Log what was held, each at its own level, or at `at most` when that
 * is less urgent (LOG_LEVEL_DEBUG: a repeat). */
void log_capture_replay(const struct log_capture *c, enum log_level at_most);

#define log_err(...)    log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_tunnel_err(tunnel, ...)    log_tunnel(LOG_LEVEL_ERR, tunnel, __VA_ARGS__)
#define log_tunnel_warn(tunnel, ...)   log_tunnel(LOG_LEVEL_WARN, tunnel, __VA_ARGS__)
#define log_tunnel_notice(tunnel, ...) log_tunnel(LOG_LEVEL_NOTICE, tunnel, __VA_ARGS__)
#define log_tunnel_info(tunnel, ...)   log_tunnel(LOG_LEVEL_INFO, tunnel, __VA_ARGS__)
#define log_tunnel_debug(tunnel, ...)  log_tunnel(LOG_LEVEL_DEBUG, tunnel, __VA_ARGS__)

#endif
