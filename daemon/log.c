/* daemon/log.c: stderr (or the journal through it) or syslog, with levels
 * and rate limiting. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "daemon/log.h"

/* Logging is process-wide by nature (one stderr, one syslog connection), so
 * its small settings live here rather than in the daemon's context. */
static struct {
	bool to_stderr;
	bool journal;        /* stderr is systemd's journal: "<N>" prefixes, no time */
	enum log_level level;
	int start_fd;        /* errors and warnings also go here during start-up, or -1 */
} logger = { true, false, LOG_LEVEL_INFO, -1 };

enum { LOG_RL_BURST = 5 };

static struct log_capture *capture;   /* errors and warnings go here, or NULL */

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR: return LOG_ERR;
	case LOG_LEVEL_WARN: return LOG_WARNING;
	case LOG_LEVEL_NOTICE: return LOG_NOTICE;
	case LOG_LEVEL_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

static const char *level_name(enum log_level level)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	return (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "debug";
}

/* systemd connects a service's stderr to the journal and says so in
 * JOURNAL_STREAM ("device:inode" of that stream): only when our stderr is
 * still that stream (not redirected by a wrapper) does the journal read
 * it.  INVOCATION_ID alone is no proof: it is set whatever StandardError=
 * says. */
bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char extra;

	if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &extra) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, bool to_stderr, enum log_level level)
{
	logger.to_stderr = to_stderr;
	logger.journal = to_stderr && log_stderr_is_journal();
	logger.level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_start_fd(int fd)
{
	logger.start_fd = fd;
}

void log_set_level(enum log_level level) { logger.level = level; }
enum log_level log_get_level(void) { return logger.level; }

void log_close(void)
{
	if (!logger.to_stderr)
		closelog();
}

/* The start-up report to the shell that started a daemonizing gresecd:
 * one line per error or warning (daemon/gresecd.c relays them). */
static void start_report(enum log_level level, const char *msg)
{
	char line[2048];
	int n;

	if (logger.start_fd < 0 || level > LOG_LEVEL_WARN)
		return;
	n = snprintf(line, sizeof(line), "gresecd: %s%s\n", level == LOG_LEVEL_ERR ? "" : "warning: ", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	while (write(logger.start_fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

enum { LOG_LINE_MAX = 2048 };

/* Whether a message at level goes anywhere: the log, or the shell that
 * started us (errors and warnings until the start is reported). */
static bool log_wanted(enum log_level level)
{
	return level <= logger.level || (logger.start_fd >= 0 && level <= LOG_LEVEL_WARN);
}

static void log_v(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	if (!log_wanted(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (capture && level <= LOG_LEVEL_WARN) {
		if (capture->n < LOG_CAPTURE_MAX) {
			size_t n = strnlen(msg, LOG_CAPTURE_LEN - 1);

			capture->level[capture->n] = level;
			memcpy(capture->msg[capture->n], msg, n);
			capture->msg[capture->n][n] = '\0';
			capture->n++;
			return;
		}
		capture->lost++;
	}
	start_report(level, msg);
	if (level > logger.level)
		return;
	if (logger.journal) {
		/* sd-daemon(3) prefixes: the journal takes them as the priority,
		 * and stamps the time itself. */
		fprintf(stderr, "<%d>%s\n", syslog_priority(level), msg);
		fflush(stderr);
	} else if (logger.to_stderr) {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld gresecd %s: %s\n", stamp, ts.tv_nsec / 1000000L,
			level_name(level), msg);
		fflush(stderr);
	} else {
		syslog(syslog_priority(level), "%s", msg);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

/* Whether rl lets one more message through now; says first how many it
 * held back since the last one. */
static bool rl_take(struct log_ratelimit *rl, enum log_level level)
{
	struct timespec ts;
	uint64_t now, elapsed;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (rl->last_ns == 0) {
		rl->tokens = LOG_RL_BURST;
		rl->last_ns = now;
	}
	elapsed = (now - rl->last_ns) / 1000000000ULL;
	if (elapsed > 0) {
		rl->tokens = elapsed >= LOG_RL_BURST ? LOG_RL_BURST
			     : rl->tokens + (uint32_t)elapsed > LOG_RL_BURST ? LOG_RL_BURST
			     : rl->tokens + (uint32_t)elapsed;
		rl->last_ns = now;
		if (rl->suppressed && rl->tokens > 0) {
			log_msg(level, "(%u similar messages suppressed)", rl->suppressed);
			rl->suppressed = 0;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > logger.level || !rl_take(rl, level))
		return;
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

static void log_tunnel_v(enum log_level level, const char *tunnel, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(level, "tunnel \"%s\": %s", tunnel, msg);
}

void log_tunnel(enum log_level level, const char *tunnel, const char *fmt, ...)
{
	va_list ap;

	if (!log_wanted(level))
		return;
	va_start(ap, fmt);
	log_tunnel_v(level, tunnel, fmt, ap);
	va_end(ap);
}

void log_tunnel_rl(struct log_ratelimit *rl, enum log_level level, const char *tunnel,
		   const char *fmt, ...)
{
	va_list ap;

	if (level > logger.level || !rl_take(rl, level))
		return;
	va_start(ap, fmt);
	log_tunnel_v(level, tunnel, fmt, ap);
	va_end(ap);
}

void log_capture_begin(struct log_capture *c)
{
	memset(c, 0, sizeof(*c));
	capture = c;
}

void log_capture_end(struct log_capture *c)
{
	if (capture == c)
		capture = NULL;
}

const char *log_capture_first(const struct log_capture *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->level[i] == LOG_LEVEL_ERR)
			return c->msg[i];
	return c->n ? c->msg[0] : NULL;
}

void log_capture_replay(const struct log_capture *c, enum log_level at_most)
{
	for (unsigned i = 0; i < c->n; i++)
		log_msg(c->level[i] > at_most ? c->level[i] : at_most, "%s", c->msg[i]);
}
