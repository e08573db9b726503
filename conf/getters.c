/* conf/getters.c: typed access to libconfig settings: each getter checks
 * the type (and range) and reports a problem that quotes the bad value. */
#include "conf/loader.h"
#include "tunnel/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *conf_value_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "nothing";
	}
}

void conf_sproblem(const struct scope *sc, const char *setting, int line, const char *fmt, ...)
{
	char body[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	conf_problem(sc->L, line, "%s%s: %s", sc->label, setting, body);
}

int conf_sline(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

int conf_get_string(const struct scope *sc, const config_setting_t *s, const char *what,
		    const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_sproblem(sc, what, conf_sline(s), "expected a string, got %s",
			      conf_value_type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_string(s);
	return *out ? 0 : -1;
}

/* Copy a string setting into a fixed buffer; empty values are refused. */
int conf_get_string_buf(const struct scope *sc, const config_setting_t *s, const char *what,
			char *buf, size_t size)
{
	const char *v;

	if (conf_get_string(sc, s, what, &v) < 0)
		return -1;
	if (!*v) {
		conf_sproblem(sc, what, conf_sline(s), "must not be empty");
		return -1;
	}
	if (strlen(v) >= size) {
		struct qbuf q;

		conf_sproblem(sc, what, conf_sline(s), "%s is longer than %zu characters", conf_quote(&q, v), size - 1);
		return -1;
	}
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

int conf_get_bool(const struct scope *sc, const config_setting_t *s, const char *what, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_sproblem(sc, what, conf_sline(s), "expected a boolean (true or false), got %s",
			      conf_value_type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* The integer's value and its text as written (hex stays hex). */
static int int_value(struct loader *L, const config_setting_t *s, long long *v, char *text, size_t n)
{
	int type = config_setting_type(s);
	bool hex = config_setting_get_format(s) == CONFIG_FORMAT_HEX;
	long long raw;
	size_t i;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return -1;
	raw = config_setting_get_int64(s);
	if (type == CONFIG_TYPE_INT && hex) {
		/* libconfig keeps 0x80000000..0xffffffff as negative ints */
		*v = (long long)(uint32_t)raw;
	} else if (hex && raw < 0) {
		*v = LLONG_MAX;         /* above 2^63: out of every range */
	} else {
		*v = raw;
	}
	if (hex)
		snprintf(text, n, "0x%llx", type == CONFIG_TYPE_INT ? (unsigned long long)(uint32_t)raw
								    : (unsigned long long)raw);
	else
		snprintf(text, n, "%lld", raw);
	if (!hex && (raw == LLONG_MAX || raw == LLONG_MIN)) {
		for (i = 0; i < L->bigs.n; i++) {
			if (!L->bigs.big[i].used && L->bigs.big[i].line == conf_sline(s)) {
				L->bigs.big[i].used = true;
				snprintf(text, n, "%s", L->bigs.big[i].text);
				break;
			}
		}
	}
	return 0;
}

int conf_get_int(const struct scope *sc, const config_setting_t *s, const char *what,
		 long long min, long long max, long long *out)
{
	char text[64];
	long long v;

	if (int_value(sc->L, s, &v, text, sizeof(text)) < 0) {
		conf_sproblem(sc, what, conf_sline(s), "expected an integer, got %s",
			      conf_value_type_name(config_setting_type(s)));
		return -1;
	}
	if (v < min || v > max) {
		conf_sproblem(sc, what, conf_sline(s), "%s is out of range %lld..%lld", text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int conf_get_uint32(const struct scope *sc, const config_setting_t *s, const char *what,
		    long long min, long long max, uint32_t *out)
{
	long long v;

	if (conf_get_int(sc, s, what, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int conf_for_each_string(const struct scope *sc, const config_setting_t *s, const char *what,
			 item_fn fn, void *arg)
{
	int type = config_setting_type(s), i, n, ret = 0;

	if (type == CONFIG_TYPE_STRING)
		return fn(sc, what, conf_sline(s), config_setting_get_string(s), arg);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
		conf_sproblem(sc, what, conf_sline(s), "expected a string or a list of strings, got %s",
			      conf_value_type_name(type));
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (!e)
			continue;
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_sproblem(sc, what, conf_sline(e), "item %d: expected a string, got %s", i + 1,
				      conf_value_type_name(config_setting_type(e)));
			ret = -1;
			continue;
		}
		if (fn(sc, what, conf_sline(e), config_setting_get_string(e), arg) < 0)
			ret = -1;
	}
	return ret;
}
