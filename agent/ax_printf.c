/* The printf opcode's formatter (see ax_printf.h). Each directive is parsed
 * here, checked against what C defines for it, and rebuilt from the parsed
 * parts before snprintf sees it with an argument of the matching type. */
#include "agent/ax_printf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct directive {
	char flags[8];          /* of "-+ #0", each once */
	int width;              /* -1: none */
	int precision;          /* -1: none */
	char length[4];         /* accepted: "", "hh", "h", "l", "ll", "z" */
	char conv;
};

struct fmt_out {
	char *buf;
	size_t size, len;
	char *err;
	size_t errlen;
};

static long fmt_fail(struct fmt_out *o, const char *fmt, ...)
{
	if (o->err && o->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(o->err, o->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int put_bytes(struct fmt_out *o, const char *s, size_t n)
{
	if (n > o->size - 1 - o->len)
		return (int)fmt_fail(o, "printf: output over %zu bytes", o->size - 1);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static bool parse_number(const char **p, const char *end, int *out)
{
	long v = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		if (v > AX_FORMAT_WIDTH_MAX)
			return false;
		(*p)++;
	}
	*out = (int)v;
	return true;
}

/* Parse the directive after '%' at *P. */
static int parse_directive(const char **p, const char *end, struct directive *d,
			   struct fmt_out *o)
{
	const char *start = *p - 1;
	size_t nflags = 0;
	memset(d, 0, sizeof *d);
	d->width = d->precision = -1;
	while (*p < end && strchr("-+ #0", **p) && **p) {
		if (!memchr(d->flags, **p, nflags))
			d->flags[nflags++] = **p;
		(*p)++;
	}
	if (*p < end && **p == '*')
		return (int)fmt_fail(o, "printf: '*' width or precision not supported");
	if (*p < end && **p >= '0' && **p <= '9' && !parse_number(p, end, &d->width))
		return (int)fmt_fail(o, "printf: width over %d", AX_FORMAT_WIDTH_MAX);
	if (*p < end && **p == '.') {
		(*p)++;
		if (*p < end && **p == '*')
			return (int)fmt_fail(o, "printf: '*' width or precision not supported");
		if (!parse_number(p, end, &d->precision))
			return (int)fmt_fail(o, "printf: precision over %d", AX_FORMAT_WIDTH_MAX);
	}
	size_t nlen = 0;
	while (*p < end && strchr("hlzjtLq", **p) && **p && nlen < 3)
		d->length[nlen++] = *(*p)++;
	if (*p >= end)
		return (int)fmt_fail(o, "printf: format ends inside the directive \"%.*s\"",
				     (int)(end - start), start);
	d->conv = *(*p)++;
	static const char *const lengths[] = {"", "hh", "h", "l", "ll", "z"};
	bool length_ok = false;
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
		length_ok |= strcmp(d->length, lengths[i]) == 0;
	if (!length_ok || !strchr("diuxXocsp", d->conv) || !d->conv)
		return (int)fmt_fail(o, "printf: directive \"%.*s\" not supported in agent printf",
				     (int)(*p - start), start);
	bool integer = strchr("diuxXo", d->conv) != NULL;
	/* what C leaves undefined is refused, not passed on */
	if ((strchr(d->flags, '#') && !strchr("oxX", d->conv)) ||
	    (strchr(d->flags, '0') && !integer) ||
	    (d->precision >= 0 && (d->conv == 'c' || d->conv == 'p')) ||
	    (d->length[0] && !integer))
		return (int)fmt_fail(o, "printf: directive \"%.*s\" is not a valid combination",
				     (int)(*p - start), start);
	return 0;
}

/* "%<flags><width>.<precision><length>" + TAIL, from checked parts only. */
static void build_spec(const struct directive *d, const char *tail, char *spec, size_t size)
{
	int n = snprintf(spec, size, "%%%s", d->flags);
	if (d->width >= 0)
		n += snprintf(spec + n, size - (size_t)n, "%d", d->width);
	if (d->precision >= 0)
		n += snprintf(spec + n, size - (size_t)n, ".%d", d->precision);
	snprintf(spec + n, size - (size_t)n, "%s%s", d->length, tail);
}

/* Append with SPEC (built by build_spec, so a valid one) and one argument,
 * straight into the output, whose room bounds it. */
static int put_formatted(struct fmt_out *o, const char *spec, ...)
{
	size_t room = o->size - o->len;
	va_list ap;
	va_start(ap, spec);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	int n = vsnprintf(o->buf + o->len, room, spec, ap);
#pragma GCC diagnostic pop
	va_end(ap);
	if (n < 0)
		return (int)fmt_fail(o, "printf: cannot format \"%s\"", spec);
	if ((size_t)n >= room) {
		o->buf[o->len] = '\0';
		return (int)fmt_fail(o, "printf: output over %zu bytes", o->size - 1);
	}
	o->len += (size_t)n;
	return 0;
}

static int put_integer(struct fmt_out *o, const struct directive *d, uint64_t v)
{
	char spec[48], conv[2] = {d->conv, 0};
	build_spec(d, conv, spec, sizeof spec);
	bool is_signed = d->conv == 'd' || d->conv == 'i';
	/* the argument's C type is the one the length modifier names; hh and h
	 * take an int, as the default promotions give them */
	if (strcmp(d->length, "ll") == 0)
		return is_signed ? put_formatted(o, spec, (long long)v)
				 : put_formatted(o, spec, (unsigned long long)v);
	if (strcmp(d->length, "l") == 0)
		return is_signed ? put_formatted(o, spec, (long)v) : put_formatted(o, spec, (unsigned long)v);
	if (strcmp(d->length, "z") == 0)
		return put_formatted(o, spec, (size_t)v);
	return is_signed ? put_formatted(o, spec, (int)(int32_t)(uint32_t)v)
			 : put_formatted(o, spec, (unsigned)(uint32_t)v);
}

/* Read the NUL-terminated string at ADDR, at most MAX bytes, into S. */
static int read_string(struct fmt_out *o, const struct ax_env *env, uint64_t addr,
		       char *s, size_t max)
{
	size_t n = 0;
	if (!env->read_mem)
		return (int)fmt_fail(o, "printf: %%s needs memory access, none here");
	while (n < max) {
		/* a chunk at a time; byte by byte where a chunk crosses into
		 * unreadable memory after the string's end */
		size_t chunk = max - n < 64 ? max - n : 64;
		if (env->read_mem(env->ctx, addr + n, s + n, chunk) != 0) {
			chunk = 1;
			if (env->read_mem(env->ctx, addr + n, s + n, 1) != 0)
				return (int)fmt_fail(o, "printf: cannot read the %%s string at 0x%llx",
						     (unsigned long long)(addr + n));
		}
		char *nul = memchr(s + n, '\0', chunk);
		if (nul)
			return 0;
		n += chunk;
	}
	s[n] = '\0';
	return 0;
}

static int put_string(struct fmt_out *o, const struct directive *d, const struct ax_env *env,
		      uint64_t addr)
{
	char str[AX_STRING_MAX + 1];
	char spec[48];
	size_t max = AX_STRING_MAX;
	if (d->precision >= 0 && (size_t)d->precision < max)
		max = (size_t)d->precision;
	if (env->addr_bits == 32)
		addr &= 0xffffffffu;
	if (addr == 0) {
		snprintf(str, sizeof str, "(null)");
	} else if (read_string(o, env, addr, str, max) < 0) {
		return -1;
	}
	build_spec(d, "s", spec, sizeof spec);
	return put_formatted(o, spec, str);
}

static int put_pointer(struct fmt_out *o, const struct directive *d, const struct ax_env *env,
		       uint64_t v)
{
	char text[24], spec[48];
	if (env->addr_bits == 32)
		v &= 0xffffffffu;
	/* glibc's spelling: "(nil)" for 0, else 0x and lower-case hex */
	if (v == 0)
		snprintf(text, sizeof text, "(nil)");
	else
		snprintf(text, sizeof text, "0x%llx", (unsigned long long)v);
	struct directive sd = *d;
	sd.precision = -1;
	build_spec(&sd, "s", spec, sizeof spec);
	return put_formatted(o, spec, text);
}

static int put_argument(struct fmt_out *o, const struct directive *d, const struct ax_env *env,
			uint64_t v)
{
	switch (d->conv) {
	case 's':
		return put_string(o, d, env, v);
	case 'p':
		return put_pointer(o, d, env, v);
	case 'c': {
		char spec[48];
		build_spec(d, "c", spec, sizeof spec);
		return put_formatted(o, spec, (int)(unsigned char)v);
	}
	default:
		return put_integer(o, d, v);
	}
}

/* The escape after a backslash at *P. */
static int escape(const char **p, const char *end, struct fmt_out *o)
{
	static const char from[] = "\\abefnrtv\"", to[] = "\\\a\b\033\f\n\r\t\v\"";
	if (*p >= end)
		return (int)fmt_fail(o, "printf: format ends with a backslash");
	const char *at = **p ? strchr(from, **p) : NULL;
	if (!at)
		return (int)fmt_fail(o, "printf: unknown escape \\x%02x in the format", (unsigned char)**p);
	(*p)++;
	return put_bytes(o, &to[at - from], 1);
}

long ax_format(const char *format, size_t format_len, const uint64_t *args, size_t nargs,
	       const struct ax_env *env, char *out, size_t out_size, char *err, size_t errlen)
{
	struct fmt_out o = {out, out_size > AX_PRINTF_MAX + 1 ? AX_PRINTF_MAX + 1 : out_size, 0,
			    err, errlen};
	const char *p = format, *end = format + format_len;
	size_t used = 0;
	if (o.size == 0)
		return fmt_fail(&o, "printf: no room for output");
	out[0] = '\0';
	while (p < end) {
		const char *special = p;
		while (special < end && *special != '%' && *special != '\\')
			special++;
		if (put_bytes(&o, p, (size_t)(special - p)) < 0)
			return -1;
		if (special == end)
			break;
		p = special + 1;
		if (*special == '\\') {
			/* gdb leaves the escapes of the dprintf format to the
			 * agent (gdbsupport/format.cc handles the same set) */
			if (escape(&p, end, &o) < 0)
				return -1;
			continue;
		}
		if (p < end && *p == '%') {
			if (put_bytes(&o, "%", 1) < 0)
				return -1;
			p++;
			continue;
		}
		struct directive d;
		if (parse_directive(&p, end, &d, &o) < 0)
			return -1;
		if (used >= nargs)
			return fmt_fail(&o, "printf: the format wants more than the %zu argument%s given",
					nargs, nargs == 1 ? "" : "s");
		if (put_argument(&o, &d, env, args[used++]) < 0)
			return -1;
	}
	if (used != nargs)
		return fmt_fail(&o, "printf: %zu argument%s given, the format uses %zu", nargs,
				nargs == 1 ? "" : "s", used);
	return (long)o.len;
}
