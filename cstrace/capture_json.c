/* capture.json: see capture_json.h. */
#include "cstrace/capture_json.h"

#include "cstrace/snapshot_out.h"

static void json_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_putc(b, (char)ch);
	}
	buf_putc(b, '"');
}

/* "NAME": [S0, S1...] of strings */
static void json_str_list(struct buf *b, const char *name, const char *const *s, size_t n)
{
	buf_printf(b, "\"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ", ");
		json_str(b, s[i]);
	}
	buf_putc(b, ']');
}

static void json_target(struct cap *k, struct buf *b)
{
	const struct capture_opts *o = k->o;
	buf_puts(b, "  \"target\": {\n    \"address\": ");
	json_str(b, o->target);
	buf_printf(b, ",\n    \"pid\": %ld,\n    \"started\": %s,\n    \"attached\": %s,\n    \"architecture\": ",
		   k->pid, k->started ? "true" : "false", o->attach_pid ? "true" : "false");
	json_str(b, k->arch);
	buf_puts(b, ",\n    ");
	json_str_list(b, "program", (const char *const *)o->prog_argv, (size_t)o->prog_argc);
	buf_puts(b, "\n  },\n");
}

static void json_configuration(struct cap *k, struct buf *b)
{
	const struct capture_opts *o = k->o;
	buf_puts(b, "  \"configuration\": {\n    \"format\": ");
	json_str(b, k->coresight ? "CoreSight" : "bts");
	buf_printf(b, ",\n    \"requested_size\": %llu,\n    \"buffer_size\": %llu,\n    ",
		   (unsigned long long)o->size, (unsigned long long)k->buffer_size);
	json_str_list(b, "options", o->conf, o->nconf);
	buf_puts(b, ",\n    \"stop_at\": [");
	for (size_t i = 0; i < o->nstop_at; i++)
		buf_printf(b, "%s\"0x%llx\"", i ? ", " : "", (unsigned long long)o->stop_at[i]);
	buf_printf(b, "],\n    \"time_limit_s\": %g,\n    \"max_size\": %llu,\n    \"drain_interval_ms\": %d,\n"
		   "    \"btrace_conf\": ", o->time_limit, (unsigned long long)o->max_size, o->drain_ms);
	json_str(b, k->conf_xml.data ? k->conf_xml.data : "");
	buf_printf(b, ",\n    \"drained_while_running\": %s,\n    \"mode\": \"%s\",\n    \"mode_reason\": ",
		   k->coresight && k->no_delta ? "false" : "true", k->nonstop ? "non-stop" : "all-stop");
	json_str(b, k->mode_reason);
	buf_puts(b, "\n  },\n");
}

static void json_thread(struct cap *k, const struct cthread *t, struct buf *b)
{
	buf_printf(b, "{\"pid\": %ld, \"tid\": %ld, \"traced\": %s, \"reads\": %u, ",
		   t->pid, t->tid, t->traced ? "true" : "false", t->reads);
	if (k->coresight) {
		char bname[32];
		snapshot_out_buffer_name(k, t, bname, sizeof(bname));
		buf_printf(b, "\"file\": \"%s\", \"bytes\": %llu, \"buffer\": ", t->file,
			   (unsigned long long)t->bytes);
		if (k->have_config && snapshot_out_has_buffer(k, t))
			buf_printf(b, "\"%s\", ", bname);
		else
			buf_puts(b, "null, ");
	} else {
		buf_printf(b, "\"blocks\": %zu, ", t->nblocks);
	}
	buf_printf(b, "\"overflow_gaps\": [");
	for (size_t g = 0; g < t->ngaps; g++)
		buf_printf(b, "%s{\"at_%s\": %llu}", g ? ", " : "", k->coresight ? "byte" : "block",
			   (unsigned long long)t->gaps[g].offset);
	buf_puts(b, "]}");
}

static void json_trace(struct cap *k, struct buf *b)
{
	buf_printf(b, "  \"trace\": {\n    \"bytes\": %llu,\n    \"overflows\": %u,\n    \"drains\": %u,\n",
		   (unsigned long long)k->trace_bytes, k->overflows, k->drains);
	if (k->coresight) {
		buf_printf(b, "    \"snapshot\": %s,\n    \"buffer_format\": \"%s\",\n    \"trace_id\": %u,\n"
			   "    \"cpus\": %zu,\n", k->have_config ? "true" : "false",
			   k->formatted ? "coresight" : "source_data", k->trace_id, k->ncpus);
	}
	buf_puts(b, "    \"threads\": [");
	for (size_t i = 0; i < k->nthreads; i++) {
		buf_puts(b, i ? ",\n      " : "\n      ");
		json_thread(k, &k->threads[i], b);
	}
	buf_puts(b, "\n    ]\n  },\n");
}

static void json_memory(struct cap *k, struct buf *b)
{
	buf_puts(b, "  \"memory\": [");
	for (size_t i = 0; i < k->ndumps; i++) {
		buf_printf(b, "%s\n    {\"file\": \"%s\", \"address\": %llu, \"length\": %llu, \"name\": ", i ? "," : "",
			   k->dumps[i].file, (unsigned long long)k->dumps[i].address,
			   (unsigned long long)k->dumps[i].length);
		json_str(b, k->dumps[i].name);
		buf_putc(b, '}');
	}
	buf_puts(b, "\n  ],\n");
}

static void json_timings(struct cap *k, struct buf *b)
{
	double run = (k->t_run_end ? k->t_run_end : k->t_end) - (k->t_traced ? k->t_traced : k->t_end);
	double total = k->t_end - k->t0;
	buf_printf(b, "  \"timings\": {\n    \"connect_s\": %.6f,\n    \"setup_s\": %.6f,\n"
		   "    \"run_s\": %.6f,\n    \"total_s\": %.6f,\n    \"trace_mib_per_s\": %.3f\n  },\n",
		   k->t_connected ? k->t_connected - k->t0 : 0.0,
		   k->t_traced && k->t_connected ? k->t_traced - k->t_connected : 0.0, run > 0 ? run : 0.0,
		   total, total > 0 ? (double)k->trace_bytes / (1 << 20) / total : 0.0);
	buf_printf(b, "  \"protocol\": {\"bytes_in\": %llu, \"bytes_out\": %llu, \"packets_in\": %llu, "
		   "\"packets_out\": %llu, \"notifications_in\": %llu}\n", (unsigned long long)k->c.bytes_in,
		   (unsigned long long)k->c.bytes_out, (unsigned long long)k->c.packets_in,
		   (unsigned long long)k->c.packets_out, (unsigned long long)k->c.notifications_in);
}

int capture_json_write(struct cap *k, int exit_code)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\n  \"version\": 1,\n  \"complete\": %s,\n  \"exit_code\": %d,\n  \"end_reason\": ",
		   exit_code == CAPTURE_OK || exit_code == CAPTURE_OVERFLOW ? "true" : "false", exit_code);
	json_str(&b, k->end_reason ? k->end_reason : "error");
	buf_puts(&b, ",\n  \"error\": ");
	if (k->error[0])
		json_str(&b, k->error);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\n");
	json_target(k, &b);
	json_configuration(k, &b);
	json_trace(k, &b);
	json_memory(k, &b);
	json_timings(k, &b);
	buf_puts(&b, "}\n");
	int rc = cap_write_file(k, "capture.json", b.data, b.len);
	buf_free(&b);
	return rc;
}
