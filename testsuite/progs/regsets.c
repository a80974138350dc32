/* The optional register sets of the CPU in known states, for
 * test_regsets.py: on AArch64 SVE registers filled just before
 * regs_ready() (no system call in between: one would drop the SVE state),
 * and with MTE a PROT_MTE page whose first granule has allocation tag 3,
 * reached through g_tagged (logical tag 3). Prints what the CPU lacks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif
#endif

void *g_tp;                 /* the thread pointer (tpidr / tpidruro) */
char *g_tagged;             /* MTE: tagged pointer into a PROT_MTE page */
unsigned long g_tag_ctl;    /* what prctl(PR_SET_TAGGED_ADDR_CTRL) was given */
int g_sve, g_mte;
volatile int g_after;

void regs_ready(void)
{
	g_after = 1;   /* @regs-ready */
}

#if defined(__aarch64__)
static void setup_mte(void)
{
	if (!(getauxval(AT_HWCAP2) & HWCAP2_MTE)) {
		printf("regsets: no MTE on this CPU\n");
		return;
	}
	/* tagged addresses, synchronous tag-check faults, any tag but 0 */
	g_tag_ctl = PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC | (0xfffeUL << PR_MTE_TAG_SHIFT);
	if (prctl(PR_SET_TAGGED_ADDR_CTRL, g_tag_ctl, 0, 0, 0) != 0) {
		perror("regsets: PR_SET_TAGGED_ADDR_CTRL");
		return;
	}
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_MTE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("regsets: mmap PROT_MTE");
		return;
	}
	register char *p __asm__("x0") = (char *)((uintptr_t)page | (3ULL << 56));
	/* stg x0, [x0]: allocation tag of the granule = the pointer's (the
	 * assembler takes it only for armv8.5-a+memtag) */
	__asm__ volatile(".inst 0xd9200800" : : "r"(p) : "memory");
	strcpy(p, "tagged");
	g_tagged = p;
	g_mte = 1;
	printf("regsets: MTE page at %p\n", (void *)page);
}

/* z0 = 1, 2, 3... (32-bit lanes), z31 bytes 0x5a, p0 = ptrue.s, p1 all
 * false, ffr all true. */
static void fill_sve(void)
{
	__asm__ volatile(".arch_extension sve\n\t"
			 "index z0.s, #1, #1\n\t"
			 "dup z31.b, #0x5a\n\t"
			 "ptrue p0.s\n\t"
			 "pfalse p1.b\n\t"
			 "setffr\n\t"
			 ::: "memory");
}
#endif

int main(void)
{
	g_tp = __builtin_thread_pointer();
#if defined(__aarch64__)
	setup_mte();
	g_sve = (getauxval(AT_HWCAP) & HWCAP_SVE) != 0;
	if (!g_sve)
		printf("regsets: no SVE on this CPU\n");
	fflush(stdout);
	if (g_sve)
		fill_sve();
#endif
	regs_ready();
	return g_after == 1 ? 0 : 1;
}
