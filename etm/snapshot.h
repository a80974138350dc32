/* Trace inputs on disk: OpenCSD snapshot directories (snapshot.ini, device
 * .ini files with ETM registers and memory dumps, trace.ini naming the
 * buffers) and capture directories (trace.bin + etm.ini + one ELF image). */
#ifndef ETM_SNAPSHOT_H
#define ETM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/decode.h"

/* --- ini files ----------------------------------------------------------
 * "[section]" headers, "key=value" lines; ';' and '#' start comments;
 * blank lines ignored; keys and values are trimmed. Lookups ignore case. */
struct etm_ini_entry {
	char *key, *value;
	int line;
};

struct etm_ini_section {
	char *name;
	int line;
	struct etm_ini_entry *entries;
	size_t nentries;
};

struct etm_ini {
	struct etm_ini_section *sections;
	size_t nsections;
};

/* NAME is used in messages. Returns 0, or -1 with ERR filled. */
int etm_ini_parse(const char *text, size_t len, const char *name, struct etm_ini *ini,
		  char *err, size_t errlen);
int etm_ini_load(const char *path, struct etm_ini *ini, char *err, size_t errlen);
void etm_ini_free(struct etm_ini *ini);
const struct etm_ini_section *etm_ini_find(const struct etm_ini *ini, const char *section);
const char *etm_ini_get(const struct etm_ini_section *sec, const char *key);
/* Register value by name from a [regs] section: the key's part before '('
 * must equal NAME ("TRCIDR0(0x078)=0x28000EA1"). 1 found, 0 absent, -1 bad. */
int etm_ini_reg(const struct etm_ini_section *regs, const char *name, uint32_t *value);

/* --- snapshot model ----------------------------------------------------- */
struct etm_ss_dump {
	char *file;             /* relative to the snapshot directory */
	uint64_t address, offset, length;  /* length 0 = to the end of the file */
};

struct etm_ss_device {
	char *name, *class_name, *type, *ini_file;
	struct etm_ini ini;
	struct etm_ss_dump *dumps;
	size_t ndumps;
};

struct etm_ss_buffer {
	char *name, *file, *format;     /* format: coresight, source_data, dstream_coresight */
};

/* A trace source: which buffer it writes to and which core it traces
 * (core NULL for STM/ITM). Sorted by source name, as OpenCSD does. */
struct etm_ss_source {
	char *name, *buffer, *core;
};

struct etm_snapshot {
	char *dir;
	bool is_capture;                /* built from trace.bin + etm.ini + ELF */
	char *elf_path;                 /* capture only */
	struct etm_ss_device *devices;
	size_t ndevices;
	struct etm_ss_buffer *buffers;
	size_t nbuffers;
	struct etm_ss_source *sources;
	size_t nsources;
};

/* Read DIR: a snapshot (snapshot.ini) or a capture (trace.bin, etm.ini,
 * one ELF). NULL with ERR filled on failure. */
struct etm_snapshot *etm_snapshot_load(const char *dir, char *err, size_t errlen);
void etm_snapshot_free(struct etm_snapshot *ss);

const struct etm_ss_device *etm_snapshot_device(const struct etm_snapshot *ss, const char *name);
int etm_snapshot_find_buffer(const struct etm_snapshot *ss, const char *name);

/* Build the decoder configuration of one trace source device. Returns 0;
 * 1 if the device is not an instruction-trace source (STM, ITM: WHY says
 * so); -1 on bad registers or unknown core (WHY says why). */
int etm_snapshot_source_config(const struct etm_snapshot *ss, const struct etm_ss_source *src,
			       struct etm_cpu_regs *cfg, char *why, size_t whylen);

/* Non-fatal problems found while setting up (a missing memory image, a
 * source that cannot be decoded): reported, decoding goes on. */
typedef void (*etm_warn_fn)(void *ctx, const char *msg);

/* A decoder for buffer BUF_INDEX with every instruction-trace source of it
 * (only trace ID ONLY_ID if >= 0) and the memory images of their cores.
 * Follows OpenCSD's snapshot rules: sources in name order, a raw buffer
 * decodes its first source only, the first memory image at an address
 * wins. Returns NULL with ERR filled if nothing can be decoded; *NO_INSN
 * (if not NULL) is set when that is because the buffer has no
 * instruction-trace source at all. */
struct etm_decoder *etm_snapshot_decoder(const struct etm_snapshot *ss, size_t buf_index,
					 int only_id, etm_warn_fn warn, void *warn_ctx,
					 bool *no_insn, char *err, size_t errlen);

/* Path of a buffer's trace file (malloc'd). */
/* DIR/FILE, or FILE itself when absolute; malloc'd (NULL when out of memory). */
char *etm_snapshot_path(const char *dir, const char *file);
char *etm_snapshot_buffer_path(const struct etm_snapshot *ss, size_t buf_index);

/* Write SS as an OpenCSD snapshot directory OUT_DIR (created if missing):
 * a capture's ELF segments become dump .bin files, so trc_pkt_lister can
 * read it. Returns 0, or -1 with ERR filled. */
int etm_snapshot_write(const struct etm_snapshot *ss, const char *out_dir, char *err, size_t errlen);

#endif
