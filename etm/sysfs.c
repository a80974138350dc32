#include "etm/sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


/* "A/B" into OUT; truncation is an error rather than a wrong path. */
static int join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= size) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* Whole small file into TEXT (NUL-terminated). */
static int read_text(const char *path, char *text, size_t size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return etm_fail(err, errlen, "%s: %s", path, strerror(errno));
	size_t n = fread(text, 1, size - 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return etm_fail(err, errlen, "%s: read error", path);
	text[n] = '\0';
	return 0;
}

int etm_sysfs_read_u64(const char *path, uint64_t *out, char *err, size_t errlen)
{
	char text[64];
	if (read_text(path, text, sizeof(text), err, errlen))
		return -1;
	char *p = text, *end;
	while (*p == ' ')
		p++;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 0);
	if (end == p || errno)
		return etm_fail(err, errlen, "%s: not a number: \"%.20s\"", path, text);
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end)
		return etm_fail(err, errlen, "%s: trailing text after the number", path);
	*out = v;
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int read_u32_at(const char *dir, const char *name, uint32_t *out,
		       char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	uint64_t v;
	(void)join(path, sizeof(path), dir, name);
	if (etm_sysfs_read_u64(path, &v, err, errlen))
		return -1;
	if (v > UINT32_MAX)
		return etm_fail(err, errlen, "%s: value 0x%llx does not fit a 32-bit register",
			    path, (unsigned long long)v);
	*out = (uint32_t)v;
	return 0;
}

/* Optional register: absent file leaves HAVE unset; unreadable is an error. */
static int read_opt(const char *dir, const char *name, uint32_t *out, uint32_t *have,
		    uint32_t bit, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	(void)join(path, sizeof(path), dir, name);
	if (!exists(path))
		return 0;
	if (read_u32_at(dir, name, out, err, errlen))
		return -1;
	*have |= bit;
	return 0;
}

int etm_sysfs_read_cpu(const char *dir, int cpu, struct etm_cpu_regs *out,
		       char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	memset(out, 0, sizeof(*out));
	out->cpu = cpu;

	snprintf(path, sizeof(path), "%s/mgmt", dir);
	if (read_opt(path, "trcdevarch", &out->trcdevarch, &out->have, ETM_HAVE_DEVARCH, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/trcidr/trcidr0", dir);
	bool v4 = exists(path);
	snprintf(path, sizeof(path), "%s/mgmt/etmccer", dir);
	bool v3 = exists(path);

	if ((out->have & ETM_HAVE_DEVARCH) && etm_bits(out->trcdevarch, 15, 12) == 5 &&
	    etm_bits(out->trcdevarch, 11, 0) == 0xa13)
		out->unit = ETM_UNIT_ETE;
	else if (v4)
		out->unit = ETM_UNIT_ETMV4;
	else if (v3)
		out->unit = ETM_UNIT_ETMV3;   /* PTM decided from ETMIDR below */
	else
		return etm_fail(err, errlen, "%s: neither trcidr/trcidr0 (ETMv4/ETE) nor mgmt/etmccer (ETMv3/PTM): not a CoreSight ETM", dir);

	if (out->unit == ETM_UNIT_ETMV4 || out->unit == ETM_UNIT_ETE) {
		snprintf(path, sizeof(path), "%s/trcidr", dir);
		for (int i = 0; i < 14; i++) {
			char name[16];
			snprintf(name, sizeof(name), "trcidr%d", i);
			/* TRCIDR0/1/2/8 are what a decoder needs: required. */
			bool required = i == 0 || i == 1 || i == 2 || i == 8;
			if (required) {
				if (read_u32_at(path, name, &out->trcidr[i], err, errlen))
					return -1;
				out->have_trcidr |= 1u << i;
			} else if (read_opt(path, name, &out->trcidr[i], &out->have_trcidr, 1u << i, err, errlen)) {
				return -1;
			}
		}
		snprintf(path, sizeof(path), "%s/mgmt", dir);
		if (read_opt(path, "trcauthstatus", &out->trcauthstatus, &out->have, ETM_HAVE_AUTHSTATUS, err, errlen) ||
		    read_opt(path, "trctraceid", &out->trctraceidr, &out->have, ETM_HAVE_TRACEID, err, errlen) ||
		    read_opt(path, "trcconfig", &out->trcconfigr, &out->have, ETM_HAVE_CONFIGR, err, errlen))
			return -1;
		if (out->unit == ETM_UNIT_ETE && !(out->have & ETM_HAVE_DEVARCH))
			return etm_fail(err, errlen, "%s/mgmt/trcdevarch missing for an ETE", dir);
		return 0;
	}

	snprintf(path, sizeof(path), "%s/mgmt", dir);
	if (read_u32_at(path, "etmccer", &out->etmccer, err, errlen) ||
	    read_u32_at(path, "etmidr", &out->etmidr, err, errlen))
		return -1;
	out->have |= ETM_HAVE_ETMCCER | ETM_HAVE_ETMIDR;
	if (read_opt(path, "etmcr", &out->etmcr, &out->have, ETM_HAVE_CONFIGR, err, errlen) ||
	    read_opt(path, "etmccr", &out->etmccr, &out->have, ETM_HAVE_ETMCCR, err, errlen) ||
	    read_opt(path, "etmtraceidr", &out->etmtraceidr, &out->have, ETM_HAVE_TRACEID, err, errlen))
		return -1;
	if (!(out->have & ETM_HAVE_TRACEID) &&
	    read_opt(dir, "traceid", &out->etmtraceidr, &out->have, ETM_HAVE_TRACEID, err, errlen))
		return -1;
	/* ETMIDR[11:8]: major architecture, 3 = PTM (perf's cs_etm__get_magic rule). */
	if (etm_bits(out->etmidr, 11, 8) == 3)
		out->unit = ETM_UNIT_PTM;
	return 0;
}

bool etm_sink_is_raw(const char *name)
{
	return !strncmp(name, "trbe", 4);
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct etm_cpu_regs *x = a, *y = b;
	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

static int read_formats(struct etm_pmu *pmu, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/format", pmu->dir);
	DIR *d = opendir(path);
	if (!d)
		return etm_fail(err, errlen, "%s: %s", path, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pmu->formats.n == sizeof(pmu->formats.f) / sizeof(pmu->formats.f[0])) {
			rc = etm_fail(err, errlen, "%s: too many formats", path);
			break;
		}
		char file[PATH_MAX + 128], text[128];
		(void)join(file, sizeof(file), path, de->d_name);
		if (read_text(file, text, sizeof(text), err, errlen) ||
		    etm_format_parse(de->d_name, text, &pmu->formats.f[pmu->formats.n], err, errlen)) {
			rc = -1;
			break;
		}
		pmu->formats.n++;
	}
	closedir(d);
	if (!rc && pmu->formats.n == 0)
		rc = etm_fail(err, errlen, "%s: no formats", path);
	return rc;
}

static int read_sinks(struct etm_pmu *pmu, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/sinks", pmu->dir);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : etm_fail(err, errlen, "%s: %s", path, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pmu->n_sinks == ETM_MAX_SINKS || strlen(de->d_name) >= ETM_SINK_NAME_LEN) {
			rc = etm_fail(err, errlen, "%s: too many sinks or name too long", path);
			break;
		}
		struct etm_sink_entry *s = &pmu->sinks[pmu->n_sinks];
		snprintf(s->name, sizeof(s->name), "%s", de->d_name);
		if (read_u32_at(path, de->d_name, &s->hash, err, errlen)) {
			rc = -1;
			break;
		}
		pmu->n_sinks++;
	}
	closedir(d);
	return rc;
}

static int read_cpus(struct etm_pmu *pmu, char *err, size_t errlen)
{
	DIR *d = opendir(pmu->dir);
	if (!d)
		return etm_fail(err, errlen, "%s: %s", pmu->dir, strerror(errno));
	struct dirent *de;
	int rc = 0;
	unsigned cap = 0;
	while ((de = readdir(d))) {
		int cpu;
		char tail;
		if (sscanf(de->d_name, "cpu%d%c", &cpu, &tail) != 1 || cpu < 0)
			continue;
		if (pmu->n_cpus == cap) {
			cap = cap ? cap * 2 : 8;
			struct etm_cpu_regs *p = realloc(pmu->cpus, cap * sizeof(*p));
			if (!p) {
				rc = etm_fail(err, errlen, "out of memory");
				break;
			}
			pmu->cpus = p;
		}
		char dir[PATH_MAX + 64];
		(void)join(dir, sizeof(dir), pmu->dir, de->d_name);
		if (etm_sysfs_read_cpu(dir, cpu, &pmu->cpus[pmu->n_cpus], err, errlen)) {
			rc = -1;
			break;
		}
		pmu->n_cpus++;
	}
	closedir(d);
	if (!rc && pmu->n_cpus == 0)
		rc = etm_fail(err, errlen, "%s: no cpuN entries: no CPU has a trace unit", pmu->dir);
	if (!rc)
		qsort(pmu->cpus, pmu->n_cpus, sizeof(pmu->cpus[0]), cmp_cpu);
	return rc;
}

int etm_pmu_read(const char *sysfs_root, struct etm_pmu *pmu, char *err, size_t errlen)
{
	memset(pmu, 0, sizeof(*pmu));
	pmu->nr_addr_filters = -1;
	if ((size_t)snprintf(pmu->dir, sizeof(pmu->dir), "%s/%s", sysfs_root, ETM_PMU_PATH) >= sizeof(pmu->dir))
		return etm_fail(err, errlen, "sysfs root path too long");
	char path[PATH_MAX + 64];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/type", pmu->dir);
	if (etm_sysfs_read_u64(path, &v, err, errlen)) {
		if (!exists(pmu->dir))
			etm_fail(err, errlen, "no CoreSight ETM perf PMU: %s does not exist", pmu->dir);
		return -1;
	}
	if (v > UINT32_MAX)
		return etm_fail(err, errlen, "%s: bad PMU type", path);
	pmu->type = (uint32_t)v;
	snprintf(path, sizeof(path), "%s/nr_addr_filters", pmu->dir);
	if (exists(path)) {
		if (etm_sysfs_read_u64(path, &v, err, errlen))
			return -1;
		pmu->nr_addr_filters = v > 64 ? 64 : (int)v;
	}
	if (read_formats(pmu, err, errlen) || read_sinks(pmu, err, errlen) ||
	    read_cpus(pmu, err, errlen)) {
		etm_pmu_free(pmu);
		return -1;
	}
	return 0;
}

void etm_pmu_free(struct etm_pmu *pmu)
{
	free(pmu->cpus);
	pmu->cpus = NULL;
	pmu->n_cpus = 0;
}

const struct etm_cpu_regs *etm_pmu_cpu(const struct etm_pmu *pmu, int cpu)
{
	for (unsigned i = 0; i < pmu->n_cpus; i++)
		if (pmu->cpus[i].cpu == cpu)
			return &pmu->cpus[i];
	return NULL;
}

int etm_pmu_sink_hash(const struct etm_pmu *pmu, const char *name, uint32_t *hash,
		      char *err, size_t errlen)
{
	for (unsigned i = 0; i < pmu->n_sinks; i++) {
		if (!strcmp(pmu->sinks[i].name, name)) {
			*hash = pmu->sinks[i].hash;
			return 0;
		}
	}
	char list[200] = "";
	size_t len = 0;
	for (unsigned i = 0; i < pmu->n_sinks && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", pmu->sinks[i].name);
	return etm_fail(err, errlen, "No sink \"%s\" (sinks: %s).", name, pmu->n_sinks ? list : "none");
}
