/* Shared libraries: a libc call and a function from a dlopen'ed library
 * (cbrt: a plain function; cos would be an IFUNC). */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

void libs_loaded(void)
{
	/* @libs-loaded */
}

int main(void)
{
	void *handle = dlopen("libm.so.6", RTLD_NOW);
	if (!handle)
		return 2;
	double (*cube_root)(double) = (double (*)(double))dlsym(handle, "cbrt");
	libs_loaded();
	double c = cube_root(27.0);  /* @call-cbrt */
	long pid = (long)getpid();   /* @call-getpid */
	printf("cbrt=%g pid=%ld\n", c, pid);
	dlclose(handle);
	return 0;
}
