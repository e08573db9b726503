/* daemon/log.c: stderr or syslog, with levels and rate limiting. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "daemon/log.h"

/* Logging is process-wide by nature (one stderr, one syslog connection), so
 * its small settings live here rather than in the daemon's context. */
static struct {
	bool to_stderr;
	enum log_level level;
} logger = { true, LOG_LEVEL_INFO };

enum { LOG_RL_BURST = 5 };

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

void log_open(const char *ident, bool to_stderr, enum log_level level)
{
	logger.to_stderr = to_stderr;
	logger.level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level) { logger.level = level; }
enum log_level log_get_level(void) { return logger.level; }

void log_close(void)
{
	if (!logger.to_stderr)
		closelog();
}

static void log_v(enum log_level level, const char *fmt, va_list ap)
{
	if (level > logger.level)
		return;
	if (logger.to_stderr) {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld gresecd %s: ", stamp, ts.tv_nsec / 1000000L, level_name(level));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	} else {
		vsyslog(syslog_priority(level), fmt, ap);
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	struct timespec ts;
	uint64_t now, elapsed;
	va_list ap;

	if (level > logger.level)
		return;
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
		return;
	}
	rl->tokens--;
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}
