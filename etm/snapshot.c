/* OpenCSD snapshot and capture directories: see snapshot.h. */
#include "etm/snapshot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

/* Snapshot ini files are small; anything bigger is not one. */
#define INI_MAX_SIZE (16u << 20)


static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static void trim_range(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Grow *ARR (of *N elements of SIZE) by one zeroed element. */
static void *grow(void *arr_p, size_t *n, size_t size)
{
	void **arr = arr_p;
	char *p = realloc(*arr, (*n + 1) * size);
	if (!p)
		return NULL;
	memset(p + *n * size, 0, size);
	*arr = p;
	return p + (*n)++ * size;
}

/* ---------------------------------------------------------------- ini */

void etm_ini_free(struct etm_ini *ini)
{
	for (size_t i = 0; i < ini->nsections; i++) {
		struct etm_ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < s->nentries; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(ini->sections);
	ini->sections = NULL;
	ini->nsections = 0;
}

int etm_ini_parse(const char *text, size_t len, const char *name, struct etm_ini *ini,
		  char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	struct etm_ini_section *cur = NULL;
	int line = 0;

	ini->sections = NULL;
	ini->nsections = 0;
	if (memchr(text, 0, len)) {
		etm_fail(err, errlen, "%s: binary data (NUL byte), not an ini file", name);
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *ls = p, *cut;
		p = nl ? nl + 1 : end;
		line++;
		/* Comments and CR end the useful part of a line. */
		for (cut = ls; cut < le && *cut != '\r' && *cut != ';' && *cut != '#'; cut++)
			;
		le = cut;
		trim_range(&ls, &le);
		if (ls == le)
			continue;
		if (*ls == '[') {
			const char *close = memchr(ls, ']', (size_t)(le - ls));
			const char *ns = ls + 1, *ne;
			if (!close) {
				etm_fail(err, errlen, "%s:%d: section header without ']'", name, line);
				goto fail;
			}
			ne = close;
			trim_range(&ns, &ne);
			cur = grow(&ini->sections, &ini->nsections, sizeof(*cur));
			if (!cur || !(cur->name = dup_range(ns, (size_t)(ne - ns))))
				goto oom;
			cur->line = line;
			continue;
		}
		const char *eq = memchr(ls, '=', (size_t)(le - ls));
		if (!eq) {
			etm_fail(err, errlen, "%s:%d: expected [section] or key=value, got \"%.*s\"",
				name, line, (int)(le - ls > 60 ? 60 : le - ls), ls);
			goto fail;
		}
		if (!cur) {
			etm_fail(err, errlen, "%s:%d: key=value before any [section]", name, line);
			goto fail;
		}
		const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;
		trim_range(&ks, &ke);
		trim_range(&vs, &ve);
		if (ks == ke) {
			etm_fail(err, errlen, "%s:%d: empty key", name, line);
			goto fail;
		}
		struct etm_ini_entry *e = grow(&cur->entries, &cur->nentries, sizeof(*e));
		if (!e)
			goto oom;
		e->line = line;
		if (!(e->key = dup_range(ks, (size_t)(ke - ks))) ||
		    !(e->value = dup_range(vs, (size_t)(ve - vs))))
			goto oom;
	}
	return 0;
oom:
	etm_fail(err, errlen, "%s: out of memory", name);
fail:
	etm_ini_free(ini);
	return -1;
}

int etm_ini_load(const char *path, struct etm_ini *ini, char *err, size_t errlen)
{
	size_t len;
	char *text = file_read_alloc(path, INI_MAX_SIZE, &len, err, errlen);
	int rc;

	ini->sections = NULL;
	ini->nsections = 0;
	if (!text)
		return -1;
	rc = etm_ini_parse(text, len, path, ini, err, errlen);
	free(text);
	return rc;
}

const struct etm_ini_section *etm_ini_find(const struct etm_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->nsections; i++)
		if (strcasecmp(ini->sections[i].name, section) == 0)
			return &ini->sections[i];
	return NULL;
}

const char *etm_ini_get(const struct etm_ini_section *sec, const char *key)
{
	if (!sec)
		return NULL;
	for (size_t i = 0; i < sec->nentries; i++)
		if (strcasecmp(sec->entries[i].key, key) == 0)
			return sec->entries[i].value;
	return NULL;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*v = x;
	return true;
}

int etm_ini_reg(const struct etm_ini_section *regs, const char *name, uint32_t *value)
{
	size_t nlen = strlen(name);
	if (!regs)
		return 0;
	for (size_t i = 0; i < regs->nentries; i++) {
		const char *k = regs->entries[i].key;
		size_t klen = strcspn(k, "(");
		while (klen && isspace((unsigned char)k[klen - 1]))
			klen--;
		if (klen != nlen || strncasecmp(k, name, nlen) != 0)
			continue;
		uint64_t v;
		if (!parse_u64(regs->entries[i].value, &v) || v > 0xffffffffu)
			return -1;
		*value = (uint32_t)v;
		return 1;
	}
	return 0;
}

/* ----------------------------------------------------------- snapshot */

char *etm_snapshot_path(const char *dir, const char *file)
{
	size_t dl = strlen(dir), fl = strlen(file);
	char *p;
	if (file[0] == '/')
		return strdup(file);
	p = malloc(dl + fl + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, file, fl + 1);
	return p;
}

static void free_device(struct etm_ss_device *d)
{
	free(d->name);
	free(d->class_name);
	free(d->type);
	free(d->ini_file);
	etm_ini_free(&d->ini);
	for (size_t i = 0; i < d->ndumps; i++)
		free(d->dumps[i].file);
	free(d->dumps);
}

void etm_snapshot_free(struct etm_snapshot *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->ndevices; i++)
		free_device(&ss->devices[i]);
	free(ss->devices);
	for (size_t i = 0; i < ss->nbuffers; i++) {
		free(ss->buffers[i].name);
		free(ss->buffers[i].file);
		free(ss->buffers[i].format);
	}
	free(ss->buffers);
	for (size_t i = 0; i < ss->nsources; i++) {
		free(ss->sources[i].name);
		free(ss->sources[i].buffer);
		free(ss->sources[i].core);
	}
	free(ss->sources);
	free(ss->dir);
	free(ss->elf_path);
	free(ss);
}

/* Fill D from its parsed ini: [device] name/class/type, [dump*] sections. */
static int device_from_ini(struct etm_ss_device *d, const char *file, char *err, size_t errlen)
{
	const struct etm_ini_section *dev = etm_ini_find(&d->ini, "device");
	const char *name = etm_ini_get(dev, "name"), *type = etm_ini_get(dev, "type");
	const char *cls = etm_ini_get(dev, "class");

	if (!dev) {
		etm_fail(err, errlen, "%s: no [device] section", file);
		return -1;
	}
	if (!name || !*name || !type || !*type) {
		etm_fail(err, errlen, "%s:%d: [device] needs name= and type=", file, dev->line);
		return -1;
	}
	if (!(d->name = strdup(name)) || !(d->type = strdup(type)) ||
	    !(d->class_name = strdup(cls ? cls : "")) || !(d->ini_file = strdup(file)))
		goto oom;
	for (size_t i = 0; i < d->ini.nsections; i++) {
		const struct etm_ini_section *s = &d->ini.sections[i];
		const char *v;
		if (strncasecmp(s->name, "dump", 4) != 0)
			continue;
		struct etm_ss_dump *dump = grow(&d->dumps, &d->ndumps, sizeof(*dump));
		if (!dump)
			goto oom;
		v = etm_ini_get(s, "file");
		if (!v || !*v) {
			etm_fail(err, errlen, "%s:%d: [%s] has no file=", file, s->line, s->name);
			return -1;
		}
		size_t vl = strlen(v);
		/* OpenCSD strips quotes around file names. */
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0])
			dump->file = dup_range(v + 1, vl - 2);
		else
			dump->file = strdup(v);
		if (!dump->file)
			goto oom;
		if (!parse_u64(etm_ini_get(s, "address"), &dump->address)) {
			etm_fail(err, errlen, "%s:%d: [%s] needs a numeric address=", file, s->line, s->name);
			return -1;
		}
		v = etm_ini_get(s, "length");
		if (v && !parse_u64(v, &dump->length)) {
			etm_fail(err, errlen, "%s:%d: [%s] length=%s is not a number", file, s->line, s->name, v);
			return -1;
		}
		v = etm_ini_get(s, "offset");
		if (v && !parse_u64(v, &dump->offset)) {
			etm_fail(err, errlen, "%s:%d: [%s] offset=%s is not a number", file, s->line, s->name, v);
			return -1;
		}
	}
	return 0;
oom:
	etm_fail(err, errlen, "%s: out of memory", file);
	return -1;
}

static int add_device_file(struct etm_snapshot *ss, const char *file, char *err, size_t errlen)
{
	char *path = etm_snapshot_path(ss->dir, file);
	struct etm_ss_device *d;

	if (!path) {
		etm_fail(err, errlen, "out of memory");
		return -1;
	}
	d = grow(&ss->devices, &ss->ndevices, sizeof(*d));
	if (!d) {
		free(path);
		etm_fail(err, errlen, "out of memory");
		return -1;
	}
	int rc = etm_ini_load(path, &d->ini, err, errlen);
	if (rc == 0)
		rc = device_from_ini(d, path, err, errlen);
	free(path);
	return rc;
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct etm_ss_source *)a)->name, ((const struct etm_ss_source *)b)->name);
}

static int load_trace_ini(struct etm_snapshot *ss, const char *file, char *err, size_t errlen)
{
	struct etm_ini ini;
	char *path = etm_snapshot_path(ss->dir, file);
	const struct etm_ini_section *list, *sb, *cs;
	const char *names;
	int rc = -1;

	if (!path) {
		etm_fail(err, errlen, "out of memory");
		return -1;
	}
	if (etm_ini_load(path, &ini, err, errlen) < 0) {
		free(path);
		return -1;
	}
	list = etm_ini_find(&ini, "trace_buffers");
	names = etm_ini_get(list, "buffers");
	if (!names || !*names) {
		etm_fail(err, errlen, "%s: no [trace_buffers] buffers= list", path);
		goto out;
	}
	/* buffers=buffer0,buffer1: each names a section with name/file/format. */
	for (const char *p = names; *p;) {
		const char *c = strchr(p, ','), *e = c ? c : p + strlen(p), *s = p;
		char sect[128];
		p = c ? c + 1 : e;
		trim_range(&s, &e);
		if (s == e)
			continue;
		snprintf(sect, sizeof(sect), "%.*s", (int)(e - s), s);
		const struct etm_ini_section *bs = etm_ini_find(&ini, sect);
		const char *bname = etm_ini_get(bs, "name"), *bfile = etm_ini_get(bs, "file");
		const char *bfmt = etm_ini_get(bs, "format");
		if (!bs) {
			etm_fail(err, errlen, "%s: buffer section [%s] is missing", path, sect);
			goto out;
		}
		if (!bname || !*bname || !bfile || !*bfile) {
			etm_fail(err, errlen, "%s:%d: [%s] needs name= and file=", path, bs->line, sect);
			goto out;
		}
		struct etm_ss_buffer *b = grow(&ss->buffers, &ss->nbuffers, sizeof(*b));
		if (!b || !(b->name = strdup(bname)) || !(b->file = strdup(bfile)) ||
		    !(b->format = strdup(bfmt ? bfmt : "coresight")))
			goto oom;
	}
	/* source_buffers: source=buffer; core_trace_sources: core=source. A
	 * repeated key overrides, as in OpenCSD's std::map. */
	sb = etm_ini_find(&ini, "source_buffers");
	cs = etm_ini_find(&ini, "core_trace_sources");
	for (size_t i = 0; sb && i < sb->nentries; i++) {
		struct etm_ss_source *src = NULL;
		for (size_t j = 0; j < ss->nsources; j++)
			if (strcmp(ss->sources[j].name, sb->entries[i].key) == 0)
				src = &ss->sources[j];
		if (!src) {
			src = grow(&ss->sources, &ss->nsources, sizeof(*src));
			if (!src || !(src->name = strdup(sb->entries[i].key)))
				goto oom;
		}
		free(src->buffer);
		if (!(src->buffer = strdup(sb->entries[i].value)))
			goto oom;
	}
	for (size_t i = 0; cs && i < cs->nentries; i++) {
		for (size_t j = 0; j < ss->nsources; j++) {
			if (strcmp(ss->sources[j].name, cs->entries[i].value) != 0)
				continue;
			free(ss->sources[j].core);
			if (!(ss->sources[j].core = strdup(cs->entries[i].key)))
				goto oom;
		}
	}
	if (ss->nsources)
		qsort(ss->sources, ss->nsources, sizeof(*ss->sources), cmp_source);
	rc = 0;
	goto out;
oom:
	etm_fail(err, errlen, "%s: out of memory", path);
out:
	etm_ini_free(&ini);
	free(path);
	return rc;
}

static int load_snapshot_dir(struct etm_snapshot *ss, char *err, size_t errlen)
{
	struct etm_ini ini;
	char *path = etm_snapshot_path(ss->dir, "snapshot.ini");
	const struct etm_ini_section *snap, *devs, *trace;
	const char *version, *meta;
	int rc = -1;

	if (!path) {
		etm_fail(err, errlen, "out of memory");
		return -1;
	}
	if (etm_ini_load(path, &ini, err, errlen) < 0) {
		free(path);
		return -1;
	}
	snap = etm_ini_find(&ini, "snapshot");
	version = etm_ini_get(snap, "version");
	if (version && strcmp(version, "1.0") != 0 && strcmp(version, "1") != 0) {
		etm_fail(err, errlen, "%s: unsupported snapshot version %s (want 1.0)", path, version);
		goto out;
	}
	devs = etm_ini_find(&ini, "device_list");
	if (!devs || !devs->nentries) {
		etm_fail(err, errlen, "%s: no [device_list] entries", path);
		goto out;
	}
	for (size_t i = 0; i < devs->nentries; i++)
		if (add_device_file(ss, devs->entries[i].value, err, errlen) < 0)
			goto out;
	trace = etm_ini_find(&ini, "trace");
	meta = etm_ini_get(trace, "metadata");
	if (!meta || !*meta) {
		etm_fail(err, errlen, "%s: no [trace] metadata= (the snapshot names no trace buffer)", path);
		goto out;
	}
	rc = load_trace_ini(ss, meta, err, errlen);
out:
	etm_ini_free(&ini);
	free(path);
	return rc;
}

static bool is_elf_file(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	int fd = file_open_regular(path, &st, NULL, 0);
	bool ok = false;
	if (fd < 0)
		return false;
	ok = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

/* Default core name for a capture without core=: from the ELF's machine. */
static const char *core_from_elf(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = file_open_regular(path, &st, err, errlen);
	const char *core = NULL;
	Elf *elf;
	GElf_Ehdr eh;

	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || !gelf_getehdr(elf, &eh)) {
		etm_fail(err, errlen, "%s: not a readable ELF file: %s", path, elf_errmsg(-1));
	} else if (eh.e_machine == EM_ARM) {
		core = "ARMv7-A";
	} else if (eh.e_machine == EM_AARCH64) {
		core = "ARM-AA64";
	} else {
		etm_fail(err, errlen, "%s: ELF machine %u is not Arm", path, (unsigned)eh.e_machine);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return core;
}

/* trace.bin + etm.ini + one ELF: the layout of a board capture. etm.ini is
 * a device ini; optional [device] keys core= (core name, default from the
 * ELF) and format= (coresight (default) or source_data). */
static int load_capture_dir(struct etm_snapshot *ss, char *err, size_t errlen)
{
	char *trace = etm_snapshot_path(ss->dir, "trace.bin");
	struct stat st;
	DIR *dh;
	struct dirent *de;
	int rc = -1, nelf = 0;
	struct etm_ss_device *etm, *cpu;
	const char *core, *fmt;

	if (!trace || stat(trace, &st) < 0) {
		etm_fail(err, errlen, "%s: not a snapshot (no snapshot.ini) nor a capture (no trace.bin)",
			ss->dir);
		goto out;
	}
	dh = opendir(ss->dir);
	if (!dh) {
		etm_fail(err, errlen, "%s: %s", ss->dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "trace.bin") == 0)
			continue;
		char *p = etm_snapshot_path(ss->dir, de->d_name);
		if (p && is_elf_file(p)) {
			nelf++;
			if (nelf == 1) {
				ss->elf_path = p;
				p = NULL;
			}
		}
		free(p);
	}
	closedir(dh);
	if (nelf == 0) {
		etm_fail(err, errlen, "%s: capture has no ELF image for program memory", ss->dir);
		goto out;
	}
	if (nelf > 1) {
		etm_fail(err, errlen, "%s: capture has %d ELF files; keep exactly one", ss->dir, nelf);
		goto out;
	}
	if (add_device_file(ss, "etm.ini", err, errlen) < 0)
		goto out;
	etm = &ss->devices[0];
	const struct etm_ini_section *dev = etm_ini_find(&etm->ini, "device");
	core = etm_ini_get(dev, "core");
	if (!core && !(core = core_from_elf(ss->elf_path, err, errlen)))
		goto out;
	fmt = etm_ini_get(dev, "format");
	cpu = grow(&ss->devices, &ss->ndevices, sizeof(*cpu));
	if (!cpu || !(cpu->name = strdup("cpu_0")) || !(cpu->type = strdup(core)) ||
	    !(cpu->class_name = strdup("core")) || !(cpu->ini_file = strdup("(capture)")))
		goto oom;
	struct etm_ss_buffer *b = grow(&ss->buffers, &ss->nbuffers, sizeof(*b));
	if (!b || !(b->name = strdup("ETB_0")) || !(b->file = strdup("trace.bin")) ||
	    !(b->format = strdup(fmt ? fmt : "coresight")))
		goto oom;
	struct etm_ss_source *s = grow(&ss->sources, &ss->nsources, sizeof(*s));
	if (!s || !(s->name = strdup(ss->devices[0].name)) || !(s->buffer = strdup("ETB_0")) ||
	    !(s->core = strdup("cpu_0")))
		goto oom;
	ss->is_capture = true;
	rc = 0;
	goto out;
oom:
	etm_fail(err, errlen, "out of memory");
out:
	free(trace);
	return rc;
}

struct etm_snapshot *etm_snapshot_load(const char *dir, char *err, size_t errlen)
{
	struct etm_snapshot *ss;
	struct stat st;
	char *ini;
	int rc;

	if (stat(dir, &st) < 0) {
		etm_fail(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		etm_fail(err, errlen, "%s: not a directory", dir);
		return NULL;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss || !(ss->dir = strdup(dir))) {
		free(ss);
		etm_fail(err, errlen, "out of memory");
		return NULL;
	}
	ini = etm_snapshot_path(dir, "snapshot.ini");
	if (ini && stat(ini, &st) == 0)
		rc = load_snapshot_dir(ss, err, errlen);
	else
		rc = load_capture_dir(ss, err, errlen);
	free(ini);
	if (rc < 0) {
		etm_snapshot_free(ss);
		return NULL;
	}
	return ss;
}

const struct etm_ss_device *etm_snapshot_device(const struct etm_snapshot *ss, const char *name)
{
	for (size_t i = 0; i < ss->ndevices; i++)
		if (strcmp(ss->devices[i].name, name) == 0)
			return &ss->devices[i];
	return NULL;
}

int etm_snapshot_find_buffer(const struct etm_snapshot *ss, const char *name)
{
	for (size_t i = 0; i < ss->nbuffers; i++)
		if (strcmp(ss->buffers[i].name, name) == 0)
			return (int)i;
	return -1;
}

char *etm_snapshot_buffer_path(const struct etm_snapshot *ss, size_t buf_index)
{
	return etm_snapshot_path(ss->dir, ss->buffers[buf_index].file);
}

/* Protocol from a device type ("ETM4.1", "PTM1.1", "PFT1.1", "ETM3.5", "ETE"). */
static int protocol_of(const char *type, enum etm_unit *p)
{
	if (strncasecmp(type, "ETM4", 4) == 0)
		*p = ETM_UNIT_ETMV4;
	else if (strncasecmp(type, "ETM3", 4) == 0)
		*p = ETM_UNIT_ETMV3;
	else if (strncasecmp(type, "PTM", 3) == 0 || strncasecmp(type, "PFT", 3) == 0)
		*p = ETM_UNIT_PTM;
	else if (strncasecmp(type, "ETE", 3) == 0)
		*p = ETM_UNIT_ETE;
	else if (strncasecmp(type, "STM", 3) == 0 || strncasecmp(type, "ITM", 3) == 0)
		return 1;
	else
		return -1;
	return 0;
}

struct reg_spec {
	const char *name;
	uint32_t *dst;
	bool required;
	uint32_t dflt;
};

static int read_regs(const struct etm_ss_device *dev, struct reg_spec *spec, size_t n,
		     char *why, size_t whylen)
{
	const struct etm_ini_section *regs = etm_ini_find(&dev->ini, "regs");
	for (size_t i = 0; i < n; i++) {
		int rc = etm_ini_reg(regs, spec[i].name, spec[i].dst);
		if (rc < 0) {
			etm_fail(why, whylen, "%s: register %s has a bad value", dev->ini_file, spec[i].name);
			return -1;
		}
		if (rc == 0) {
			if (spec[i].required) {
				etm_fail(why, whylen, "%s: register %s is missing", dev->ini_file, spec[i].name);
				return -1;
			}
			*spec[i].dst = spec[i].dflt;
		}
	}
	return 0;
}

int etm_snapshot_source_config(const struct etm_snapshot *ss, const struct etm_ss_source *src,
			       struct etm_cpu_regs *cfg, char *why, size_t whylen)
{
	const struct etm_ss_device *dev = etm_snapshot_device(ss, src->name), *core;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!dev) {
		etm_fail(why, whylen, "source %s: no device ini describes it", src->name);
		return -1;
	}
	rc = protocol_of(dev->type, &cfg->unit);
	if (rc > 0) {
		etm_fail(why, whylen, "source %s: %s is software/instrumentation trace, not instruction trace",
			src->name, dev->type);
		return 1;
	}
	if (rc < 0) {
		etm_fail(why, whylen, "source %s: unknown trace source type %s", src->name, dev->type);
		return -1;
	}
	if (!src->core) {
		etm_fail(why, whylen, "source %s: no core in [core_trace_sources]", src->name);
		return -1;
	}
	core = etm_snapshot_device(ss, src->core);
	if (!core) {
		etm_fail(why, whylen, "source %s: core %s has no device ini", src->name, src->core);
		return -1;
	}
	if (!etm_core_by_name(core->type, &cfg->core_arch, &cfg->profile)) {
		etm_fail(why, whylen, "source %s: unrecognised core name %s", src->name, core->type);
		return -1;
	}
	if (cfg->unit == ETM_UNIT_ETMV3 || cfg->unit == ETM_UNIT_PTM) {
		struct reg_spec spec[] = {
			{"ETMIDR", &cfg->etmidr, true, 0},
			{"ETMCR", &cfg->etmcr, true, 0},
			{"ETMCCER", &cfg->etmccer, true, 0},
			{"ETMTRACEIDR", &cfg->etmtraceidr, true, 0},
		};
		cfg->have = ETM_HAVE_ETMIDR | ETM_HAVE_ETMCCER | ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR;
		/* not needed to decode, but by option checks */
		if (etm_ini_reg(etm_ini_find(&dev->ini, "regs"), "ETMCCR", &cfg->etmccr) == 1)
			cfg->have |= ETM_HAVE_ETMCCR;
		return read_regs(dev, spec, sizeof(spec) / sizeof(spec[0]), why, whylen);
	}
	/* Defaults for optional registers are OpenCSD's snapshot reader's. */
	struct reg_spec spec[] = {
		{"TRCCONFIGR", &cfg->trcconfigr, true, 0},
		{"TRCTRACEIDR", &cfg->trctraceidr, true, 0},
		{"TRCIDR0", &cfg->trcidr[0], true, 0},
		{"TRCIDR1", &cfg->trcidr[1], false, 0x4100F403},
		{"TRCIDR2", &cfg->trcidr[2], true, 0},
		{"TRCIDR8", &cfg->trcidr[8], false, 0},
		{"TRCIDR9", &cfg->trcidr[9], false, 0},
		{"TRCIDR10", &cfg->trcidr[10], false, 0},
		{"TRCIDR11", &cfg->trcidr[11], false, 0},
		{"TRCIDR12", &cfg->trcidr[12], false, 0},
		{"TRCIDR13", &cfg->trcidr[13], false, 0},
		{"TRCDEVARCH", &cfg->trcdevarch, false, 0x47705A13},
	};
	/* Those the decoder needs (given or defaulted) and, for option
	 * checks, any other ID register the ini has. */
	cfg->have_trcidr = 0x3f07;
	cfg->have = ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR | ETM_HAVE_DEVARCH;
	for (int i = 3; i < 8; i++) {
		char name[16];
		snprintf(name, sizeof name, "TRCIDR%d", i);
		if (etm_ini_reg(etm_ini_find(&dev->ini, "regs"), name, &cfg->trcidr[i]) == 1)
			cfg->have_trcidr |= 1u << i;
	}
	return read_regs(dev, spec, sizeof(spec) / sizeof(spec[0]), why, whylen);
}

static void warnf(etm_warn_fn warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warnf(etm_warn_fn warn, void *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(ctx, msg);
}

static bool same_dump(const struct etm_ss_dump *a, const struct etm_ss_dump *b)
{
	return a->address == b->address && a->offset == b->offset && a->length == b->length &&
	       strcmp(a->file, b->file) == 0;
}

/* Memory images of CORE. Several cores often list the same image: that is
 * not worth a warning, unlike images that really overlap. */
static void add_core_memory(const struct etm_snapshot *ss, struct etm_decoder *dec,
			    const struct etm_ss_device *core, const struct etm_ss_device **done,
			    size_t ndone, etm_warn_fn warn, void *wctx)
{
	for (size_t i = 0; i < core->ndumps; i++) {
		const struct etm_ss_dump *d = &core->dumps[i];
		bool seen = false;
		for (size_t c = 0; c < ndone && !seen; c++)
			for (size_t j = 0; j < done[c]->ndumps && !seen; j++)
				seen = same_dump(d, &done[c]->dumps[j]);
		if (seen)
			continue;
		char *path = etm_snapshot_path(ss->dir, d->file);
		if (!path)
			return;
		if (etm_decoder_add_mem_file(dec, d->address, path, d->offset, d->length) < 0)
			warnf(warn, wctx, "memory image: %s", etm_decoder_error(dec));
		free(path);
	}
}

struct etm_decoder *etm_snapshot_decoder(const struct etm_snapshot *ss, size_t buf_index,
					 int only_id, etm_warn_fn warn, void *warn_ctx,
					 bool *no_insn, char *err, size_t errlen)
{
	const struct etm_ss_buffer *buf;
	enum etm_stream_format format;
	struct etm_decoder *dec;
	const struct etm_ss_device **cores_done;
	size_t ncores_done = 0;
	unsigned insn_sources = 0, added = 0;
	char why[512];

	if (no_insn)
		*no_insn = false;
	if (buf_index >= ss->nbuffers) {
		etm_fail(err, errlen, "no trace buffer %zu", buf_index);
		return NULL;
	}
	buf = &ss->buffers[buf_index];
	if (strcasecmp(buf->format, "coresight") == 0)
		format = ETM_STREAM_FRAMED;
	else if (strcasecmp(buf->format, "source_data") == 0)
		format = ETM_STREAM_RAW;
	else if (strcasecmp(buf->format, "dstream_coresight") == 0)
		format = ETM_STREAM_FRAMED_FSYNC;
	else {
		etm_fail(err, errlen, "buffer %s: unknown format=%s (want coresight, source_data or dstream_coresight)",
			buf->name, buf->format);
		return NULL;
	}
	dec = etm_decoder_new(format, err, errlen);
	if (!dec)
		return NULL;
	cores_done = calloc(ss->nsources + 1, sizeof(*cores_done));
	if (!cores_done) {
		etm_fail(err, errlen, "out of memory");
		etm_decoder_free(dec);
		return NULL;
	}
	if (ss->is_capture) {
		if (etm_decoder_add_elf(dec, ss->elf_path, 0) < 0) {
			etm_fail(err, errlen, "%s", etm_decoder_error(dec));
			goto fail;
		}
	}
	for (size_t i = 0; i < ss->nsources; i++) {
		const struct etm_ss_source *src = &ss->sources[i];
		struct etm_cpu_regs cfg;
		int rc;

		if (!src->buffer || strcmp(src->buffer, buf->name) != 0)
			continue;
		rc = etm_snapshot_source_config(ss, src, &cfg, why, sizeof(why));
		if (rc <= 0)    /* instruction trace, even if it cannot be set up */
			insn_sources++;
		if (rc < 0)
			warnf(warn, warn_ctx, "%s", why);
		if (rc == 0 && (only_id < 0 || etm_trace_id(&cfg) == only_id)) {
			if (etm_decoder_add_source(dec, &cfg) < 0) {
				warnf(warn, warn_ctx, "source %s: %s", src->name, etm_decoder_error(dec));
			} else {
				const struct etm_ss_device *core = etm_snapshot_device(ss, src->core);
				bool done = false;
				added++;
				for (size_t j = 0; j < ncores_done; j++)
					done |= cores_done[j] == core;
				if (!done) {
					add_core_memory(ss, dec, core, cores_done, ncores_done, warn, warn_ctx);
					cores_done[ncores_done++] = core;
				}
			}
		} else if (rc == 0) {
			/* Filtered out by ID, but its memory counts as in
			 * trc_pkt_lister (first image at an address wins). */
			const struct etm_ss_device *core = etm_snapshot_device(ss, src->core);
			bool done = false;
			for (size_t j = 0; j < ncores_done; j++)
				done |= cores_done[j] == core;
			if (!done) {
				add_core_memory(ss, dec, core, cores_done, ncores_done, warn, warn_ctx);
				cores_done[ncores_done++] = core;
			}
		}
		/* A raw buffer holds one source: OpenCSD takes the first. */
		if (format == ETM_STREAM_RAW)
			break;
	}
	if (!added) {
		if (!insn_sources) {
			if (no_insn)
				*no_insn = true;
			etm_fail(err, errlen, "buffer %s has no instruction-trace source", buf->name);
		} else if (only_id >= 0) {
			etm_fail(err, errlen, "buffer %s has no decodable source with trace ID 0x%x",
				buf->name, only_id);
		} else {
			etm_fail(err, errlen, "buffer %s: no source could be set up", buf->name);
		}
		goto fail;
	}
	free(cores_done);
	snprintf(why, sizeof why, "buffer %s (%s)", buf->name, buf->file);
	etm_decoder_set_name(dec, why);
	return dec;
fail:
	free(cores_done);
	etm_decoder_free(dec);
	return NULL;
}
