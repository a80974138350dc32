/* Memory dumps: see memory.h. */
#include "cstrace/memory.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cstrace/drain.h"
#include "protocol/escape.h"

#define MAX_MAPPING (256u << 20)     /* larger executable mappings are not dumped */
#define MAX_ELF (256u << 20)
#define DUMP_PIECE (256u << 10)  /* memory read between two drains (non-stop) */

/* Whole file PATH on the server's machine via vFile (host I/O): 0, 1 if
 * it cannot be read (or is larger than MAX), or a failed rsp_status. */
static int vfile_read(struct cap *k, const char *path, size_t max, struct buf *out)
{
	struct buf r = BUF_INIT, hexpath = BUF_INIT;
	buf_reset(out);
	buf_hex(&hexpath, path, strlen(path));
	int rc = rsp_client_commandf(&k->c, &r, "vFile:open:%s,0,0", hexpath.data);
	buf_free(&hexpath);
	if (rc != RSP_OK || r.data[0] != 'F' || r.data[1] == '-') {
		buf_free(&r);
		return cap_link_failed(rc) ? rc : 1;
	}
	long fd = strtol(r.data + 1, NULL, 16);
	uint64_t off = 0;
	size_t chunk = k->c.packet_size > 64 ? (k->c.packet_size - 32) / 2 : 0x1000;
	int result = 0;
	for (;;) {
		rc = rsp_client_commandf(&k->c, &r, "vFile:pread:%lx,%zx,%llx", fd, chunk, (unsigned long long)off);
		if (cap_link_failed(rc)) {
			result = rc;
			break;
		}
		if (rc != RSP_OK || r.data[0] != 'F' || r.data[1] == '-') {
			result = 1;
			break;
		}
		char *semi = strchr(r.data, ';');
		long n = strtol(r.data + 1, NULL, 16);
		if (n <= 0 || !semi)
			break;          /* end of file */
		long got = bin_unescape(semi + 1, r.len - (size_t)(semi + 1 - r.data));
		if (got != n) {
			result = 1;
			break;
		}
		buf_append(out, semi + 1, (size_t)n);
		off += (uint64_t)n;
		if (out->len > max) {
			result = 1;
			break;
		}
		if (drain_dump_later(k)) {
			result = 1;     /* not now */
			break;
		}
		if (drain_if_due(k) < 0) {
			result = DRAIN_FAILED;
			break;
		}
	}
	if (result >= 0) {
		rc = rsp_client_commandf(&k->c, &r, "vFile:close:%lx", fd);
		if (cap_link_failed(rc))
			result = rc;
	}
	buf_free(&r);
	return result;
}

static bool dumped(struct cap *k, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < k->ndumps; i++)
		if (k->dumps[i].address == addr && k->dumps[i].length >= len)
			return true;
	return false;
}

int memory_save_dump(struct cap *k, uint64_t addr, const void *data, uint64_t len, const char *name)
{
	struct dump d = {.address = addr, .length = len};
	snprintf(d.file, sizeof(d.file), "mem/%llx.bin", (unsigned long long)addr);
	mkdir(cap_path(k, "mem"), 0755);
	FILE *f = fopen(cap_path(k, d.file), "wb");
	bool ok = f && fwrite(data, 1, (size_t)len, f) == (size_t)len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(k->error, sizeof(k->error), "%s: write failed: %s", d.file, strerror(errno));
		return -1;
	}
	d.name = strdup(name ? name : "");
	k->dumps = realloc(k->dumps, (k->ndumps + 1) * sizeof(*k->dumps));
	if (!k->dumps)
		abort();
	k->dumps[k->ndumps++] = d;
	k->dumped_bytes += len;
	return 0;
}

/* Read [ADDR, ADDR+LEN) over the protocol into mem/ADDR.bin. */
static int dump_region(struct cap *k, uint64_t addr, uint64_t len, const char *name)
{
	if (!len || len > MAX_MAPPING || dumped(k, addr, len))
		return 0;
	unsigned char *data = malloc((size_t)len);
	if (!data)
		return 0;
	/* Non-stop: the program runs on while a big mapping is read, so the
	 * trace is drained in between, on time, before the buffer wraps. */
	uint64_t got = 0;
	while (got < len) {
		size_t piece = len - got < DUMP_PIECE ? (size_t)(len - got) : DUMP_PIECE;
		long n = rsp_client_read_memory(&k->c, addr + got, piece, data + got);
		if (n < 0) {
			free(data);
			return cap_fail(k, (int)n, "reading memory");
		}
		got += (uint64_t)n;
		if ((size_t)n < piece)
			break;          /* unreadable from here on */
		if (drain_dump_later(k)) {
			free(data);
			return 0;       /* read whole once the program is stopped */
		}
		if (drain_if_due(k) < 0) {
			free(data);
			return -1;
		}
	}
	int rc = got > 0 ? memory_save_dump(k, addr, data, got, name) : 0;
	free(data);
	return rc;
}

/* Executable mappings of the live process from /proc/PID/maps. */
static int dump_maps(struct cap *k)
{
	char path[64];
	struct buf maps = BUF_INIT;
	snprintf(path, sizeof(path), "/proc/%ld/maps", k->pid);
	int rc = vfile_read(k, path, 16u << 20, &maps);
	if (rc != 0) {
		buf_free(&maps);
		return rc == DRAIN_FAILED ? -1 : rc < 0 ? cap_fail(k, rc, "reading the memory map") : 0;
	}
	for (char *line = maps.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		unsigned long long start, end;
		char perms[8];
		int name_at = 0;
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) >= 3 &&
		    perms[2] == 'x' && strncmp(line + name_at, "[vsyscall]", 10) != 0) {
			int drc = dump_region(k, start, end - start, name_at ? line + name_at : "");
			if (drc < 0) {
				buf_free(&maps);
				return drc;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_free(&maps);
	return 0;
}

/* A target with no process maps (a replayed capture): the loadable
 * segments of its executable file, read from memory. */
static int dump_exec_file(struct cap *k)
{
	struct buf path = BUF_INIT, elfdata = BUF_INIT;
	char annex[32];
	snprintf(annex, sizeof(annex), "%lx", k->pid);
	int rc = rsp_client_xfer_read(&k->c, "exec-file", annex, &path, NULL, NULL);
	if (rc != RSP_OK || !path.len) {
		buf_free(&path);
		return cap_link_failed(rc) ? cap_fail(k, rc, "reading the executable's name") : 0;
	}
	rc = vfile_read(k, path.data, MAX_ELF, &elfdata);
	if (rc != 0 || !elfdata.len) {
		buf_free(&path);
		buf_free(&elfdata);
		return rc == DRAIN_FAILED ? -1 : rc < 0 ? cap_fail(k, rc, "reading the executable") : 0;
	}
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(elfdata.data, elfdata.len);
	size_t nph = 0;
	int result = 0;
	if (elf && elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph && result == 0; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz ||
			    !(ph.p_flags & PF_X))
				continue;
			result = dump_region(k, ph.p_vaddr, ph.p_filesz, path.data);
		}
	}
	if (elf)
		elf_end(elf);
	buf_free(&path);
	buf_free(&elfdata);
	return result;
}

int memory_dump(struct cap *k)
{
	if (k->live && k->o->memory && dump_maps(k) < 0)
		return -1;
	if (!k->live && k->o->memory && dump_exec_file(k) < 0)
		return -1;
	return 0;
}
