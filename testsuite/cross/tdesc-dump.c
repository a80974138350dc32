/* Write the_arch's target description files into DIR and print its
 * register table as "name number offset size" (the 'g' registers only),
 * for testsuite/cross/gdb-tdesc.sh to compare with what gdb makes of the
 * files. Usage: tdesc-dump DIR */
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"

int main(int argc, char **argv)
{
	if (arch_init() < 0)
		return 1;
	if (argc != 2) {
		fprintf(stderr, "usage: tdesc-dump DIR\n");
		return 2;
	}
	for (size_t i = 0; i < the_regfile.nfeatures; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", argv[1], the_regfile.features[i].annex);
		FILE *f = fopen(path, "w");
		if (!f || fputs(the_regfile.features[i].xml, f) == EOF || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	for (size_t i = 0; i < the_regfile.nregs; i++)
		if (the_regfile.regs[i].in_g && the_regfile.regs[i].size)
			printf("%s %zu %u %u\n", the_regfile.regs[i].name, i,
			       (unsigned)the_regfile.regs[i].offset, (unsigned)the_regfile.regs[i].size);
	return 0;
}
