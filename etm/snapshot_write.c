/* Writing a capture out as an OpenCSD snapshot directory
 * (etm_snapshot_write in snapshot.h). */
#include "etm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		etm_fail(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	bool short_write = len && fwrite(data, 1, len, f) != len;
	bool close_failed = fclose(f) != 0;
	if (short_write || close_failed) {
		etm_fail(err, errlen, "%s: write failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out;
	if (!in) {
		etm_fail(err, errlen, "%s: %s", from, strerror(errno));
		return -1;
	}
	out = fopen(to, "wb");
	if (!out) {
		etm_fail(err, errlen, "%s: %s", to, strerror(errno));
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, out) != n)
			break;
	}
	bool bad = ferror(in) || ferror(out);
	fclose(in);
	bool close_failed = fclose(out) != 0;
	if (bad || close_failed) {
		etm_fail(err, errlen, "copying %s to %s failed", from, to);
		return -1;
	}
	return 0;
}

int etm_snapshot_write(const struct etm_snapshot *ss, const char *out_dir, char *err, size_t errlen)
{
	char *path = NULL, *cpu_ini = NULL;
	size_t cpu_len = 0;
	FILE *cpu = NULL;
	int rc = -1, fd = -1;
	Elf *elf = NULL;
	size_t nphdr, raw_size;
	const char *raw;
	const struct etm_ss_device *etm, *core;
	char name[64];

	if (!ss->is_capture) {
		etm_fail(err, errlen, "%s is already an OpenCSD snapshot", ss->dir);
		return -1;
	}
	if (mkdir(out_dir, 0755) < 0 && errno != EEXIST) {
		etm_fail(err, errlen, "%s: %s", out_dir, strerror(errno));
		return -1;
	}
	etm = &ss->devices[0];
	core = etm_snapshot_device(ss, "cpu_0");
	cpu = open_memstream(&cpu_ini, &cpu_len);
	if (!cpu) {
		etm_fail(err, errlen, "out of memory");
		return -1;
	}
	fprintf(cpu, "[device]\nname=cpu_0\nclass=core\ntype=%s\n\n[regs]\nPC=0\n", core->type);

	/* One dump file per loadable segment, at its virtual address. */
	fd = open(ss->elf_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		etm_fail(err, errlen, "%s: %s", ss->elf_path, strerror(errno));
		goto out;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !(raw = elf_rawfile(elf, &raw_size)) ||
	    elf_getphdrnum(elf, &nphdr) != 0) {
		etm_fail(err, errlen, "%s: not a readable ELF file: %s", ss->elf_path, elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0, n = 0; i < nphdr; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			etm_fail(err, errlen, "%s: program header %zu: %s", ss->elf_path, i, elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		if (ph.p_offset > raw_size || ph.p_filesz > raw_size - ph.p_offset) {
			etm_fail(err, errlen, "%s: segment %zu lies beyond the end of the file",
				ss->elf_path, i);
			goto out;
		}
		snprintf(name, sizeof(name), "segment%zu.bin", n);
		free(path);
		path = etm_snapshot_path(out_dir, name);
		if (!path || write_file(path, raw + ph.p_offset, (size_t)ph.p_filesz, err, errlen) < 0)
			goto out;
		fprintf(cpu, "\n[dump%zu]\nfile=%s\naddress=0x%llx\nlength=0x%llx\n", n, name,
			(unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_filesz);
		n++;
	}
	if (fclose(cpu) != 0) {
		cpu = NULL;
		etm_fail(err, errlen, "out of memory");
		goto out;
	}
	cpu = NULL;
	free(path);
	path = etm_snapshot_path(out_dir, "cpu_0.ini");
	if (!path || write_file(path, cpu_ini, cpu_len, err, errlen) < 0)
		goto out;

	free(path);
	path = etm_snapshot_path(out_dir, "etm.ini");
	if (!path || copy_file(etm->ini_file, path, err, errlen) < 0)
		goto out;
	free(path);
	path = etm_snapshot_path(out_dir, "trace.bin");
	{
		char *src = etm_snapshot_buffer_path(ss, 0);
		int crc = src ? copy_file(src, path, err, errlen) : -1;
		free(src);
		if (crc < 0)
			goto out;
	}

	static const char snapshot_ini[] =
		"[snapshot]\nversion=1.0\n\n[device_list]\ndevice0=cpu_0.ini\ndevice1=etm.ini\n\n"
		"[trace]\nmetadata=trace.ini\n";
	free(path);
	path = etm_snapshot_path(out_dir, "snapshot.ini");
	if (!path || write_file(path, snapshot_ini, sizeof(snapshot_ini) - 1, err, errlen) < 0)
		goto out;

	char trace_ini[512];
	int tl = snprintf(trace_ini, sizeof(trace_ini),
			  "[trace_buffers]\nbuffers=buffer0\n\n[buffer0]\nname=ETB_0\nfile=trace.bin\n"
			  "format=%s\n\n[source_buffers]\n%s=ETB_0\n\n[core_trace_sources]\ncpu_0=%s\n",
			  ss->buffers[0].format, etm->name, etm->name);
	free(path);
	path = etm_snapshot_path(out_dir, "trace.ini");
	if (tl < 0 || (size_t)tl >= sizeof(trace_ini) || !path ||
	    write_file(path, trace_ini, (size_t)tl, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	if (cpu)
		fclose(cpu);
	free(cpu_ini);
	free(path);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return rc;
}
