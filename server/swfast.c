#include "server/swfast.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A block is cut after this much: its last instruction is then stepped
 * like a branch (it lands on the next one, so nothing is recorded). */
#define BLOCK_MAX_INSNS 256
#define BLOCK_MAX_BYTES 2048

struct block {
	bool used;
	enum disasm_isa isa;
	uint64_t start;
	uint32_t len;           /* bytes from START through the stop instruction */
	uint8_t *code;          /* those bytes, as decoded */
	unsigned maps_gen;      /* mappings generation it was checked against */
	unsigned code_gen;      /* code generation its bytes were compared in */
	struct swfast_stop stop;
};

struct code_mapping {
	uint64_t start, end;
};

struct swfast {
	char maps_path[64];
	struct block *tab;
	size_t cap, n;
	struct code_mapping *maps;   /* executable, not writable */
	size_t nmaps;
	bool maps_valid;
	unsigned maps_gen;
	unsigned code_gen;
	struct swfast_stats stats;
};

struct swfast *swfast_new(pid_t pid, const char *proc_root)
{
	struct swfast *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	snprintf(f->maps_path, sizeof f->maps_path, "%s/%d/maps", proc_root, (int)pid);
	return f;
}

void swfast_flush(struct swfast *f)
{
	for (size_t i = 0; i < f->cap; i++)
		free(f->tab[i].code);
	free(f->tab);
	f->tab = NULL;
	f->cap = f->n = 0;
	f->maps_valid = false;
}

void swfast_free(struct swfast *f)
{
	if (!f)
		return;
	swfast_flush(f);
	free(f->maps);
	free(f);
}

void swfast_maps_changed(struct swfast *f)
{
	f->maps_valid = false;
	f->code_gen++;
}

void swfast_code_changed(struct swfast *f)
{
	f->code_gen++;
}

void swfast_stats(const struct swfast *f, struct swfast_stats *out)
{
	*out = f->stats;
}

static bool load_maps(struct swfast *f)
{
	f->nmaps = 0;
	f->maps_gen++;
	FILE *fp = fopen(f->maps_path, "re");
	if (!fp)
		return false;
	char line[512];
	size_t cap = 0;
	while (fgets(line, sizeof line, fp)) {
		uint64_t start, end;
		char perms[5];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s", &start, &end, perms) != 3)
			continue;
		if (perms[2] != 'x' || perms[1] == 'w')
			continue;
		if (f->nmaps == cap) {
			cap = cap ? 2 * cap : 16;
			struct code_mapping *m = realloc(f->maps, cap * sizeof *m);
			if (!m) {
				fclose(fp);
				return false;
			}
			f->maps = m;
		}
		f->maps[f->nmaps++] = (struct code_mapping){start, end};
		/* A long line (a path) continues in the next fgets: skip it. */
		while (!strchr(line, '\n') && fgets(line, sizeof line, fp))
			;
	}
	fclose(fp);
	f->maps_valid = true;
	return true;
}

/* The read-only executable mapping holding [ADDR, ADDR + LEN), or NULL. */
static const struct code_mapping *code_mapping(struct swfast *f, uint64_t addr, uint64_t len)
{
	if (!f->maps_valid && !load_maps(f))
		return NULL;
	for (size_t i = 0; i < f->nmaps; i++)
		if (addr >= f->maps[i].start && addr + len <= f->maps[i].end && addr + len >= addr)
			return &f->maps[i];
	return NULL;
}

static size_t slot_of(const struct swfast *f, enum disasm_isa isa, uint64_t start)
{
	uint64_t h = (start ^ (uint64_t)isa) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20) & (f->cap - 1);
}

static struct block *lookup(struct swfast *f, enum disasm_isa isa, uint64_t start)
{
	if (!f->cap)
		return NULL;
	for (size_t i = slot_of(f, isa, start);; i = (i + 1) & (f->cap - 1)) {
		struct block *b = &f->tab[i];
		if (!b->used)
			return NULL;
		if (b->start == start && b->isa == isa)
			return b;
	}
}

static struct block *insert(struct swfast *f, enum disasm_isa isa, uint64_t start)
{
	if (2 * (f->n + 1) > f->cap) {
		size_t ncap = f->cap ? 2 * f->cap : 256;
		struct block *old = f->tab;
		size_t ocap = f->cap;
		f->tab = calloc(ncap, sizeof *f->tab);
		if (!f->tab) {
			f->tab = old;
			return NULL;
		}
		f->cap = ncap;
		for (size_t i = 0; i < ocap; i++) {
			if (!old[i].used)
				continue;
			size_t j = slot_of(f, old[i].isa, old[i].start);
			while (f->tab[j].used)
				j = (j + 1) & (f->cap - 1);
			f->tab[j] = old[i];
		}
		free(old);
	}
	size_t i = slot_of(f, isa, start);
	while (f->tab[i].used)
		i = (i + 1) & (f->cap - 1);
	f->n++;
	f->tab[i] = (struct block){.used = true, .isa = isa, .start = start};
	return &f->tab[i];
}

/* Decode forward from PC into B. */
static bool decode_block(struct swfast *f, struct block *b, const struct code_mapping *m,
			 swfast_read_fn read, void *ctx)
{
	uint64_t pc = b->start;
	uint64_t limit = m->end - pc < BLOCK_MAX_BYTES ? m->end - pc : BLOCK_MAX_BYTES;
	uint8_t buf[BLOCK_MAX_BYTES];
	ssize_t got = read(ctx, pc, buf, (size_t)limit);
	if (got <= 0)
		return false;
	size_t off = 0;
	bool have_last = false;
	struct swfast_stop last = {0};
	size_t last_end = 0;
	for (int i = 0; i < BLOCK_MAX_INSNS; i++) {
		struct disasm_insn in;
		int n = disasm_one(b->isa, buf + off, (size_t)got - off, pc + off, &in);
		if (n <= 0)
			break;
		last = (struct swfast_stop){pc + off, in};
		last_end = off + (size_t)n;
		have_last = true;
		if (in.flow)
			break;
		off += (size_t)n;
	}
	if (!have_last)
		return false;
	free(b->code);
	b->code = malloc(last_end);
	if (!b->code)
		return false;
	memcpy(b->code, buf, last_end);
	b->len = (uint32_t)last_end;
	b->stop = last;
	b->maps_gen = f->maps_gen;
	b->code_gen = f->code_gen;
	f->stats.decoded++;
	return true;
}

bool swfast_next_stop(struct swfast *f, enum disasm_isa isa, uint64_t pc,
		      swfast_read_fn read, void *ctx, struct swfast_stop *stop)
{
	struct block *b = lookup(f, isa, pc);
	if (b && b->len) {
		if (b->maps_gen != f->maps_gen || !f->maps_valid) {
			if (!code_mapping(f, pc, b->len)) {
				f->stats.writable++;
				return false;
			}
			b->maps_gen = f->maps_gen;
		}
		uint8_t now[BLOCK_MAX_BYTES];
		if (b->code_gen == f->code_gen ||
		    (read(ctx, pc, now, b->len) == (ssize_t)b->len && memcmp(now, b->code, b->len) == 0)) {
			b->code_gen = f->code_gen;
			f->stats.hits++;
			*stop = b->stop;
			return true;
		}
		f->stats.changed++;
	} else if (!b) {
		const struct code_mapping *m = code_mapping(f, pc, 1);
		if (!m) {
			f->stats.writable++;
			return false;
		}
		b = insert(f, isa, pc);
		if (!b)
			return false;
	}
	const struct code_mapping *m = code_mapping(f, pc, 1);
	if (!m) {
		f->stats.writable++;
		return false;
	}
	if (!decode_block(f, b, m, read, ctx)) {
		/* Keep the slot (the table has no deletion) but never match it. */
		b->len = 0;
		free(b->code);
		b->code = NULL;
		return false;
	}
	*stop = b->stop;
	return true;
}
