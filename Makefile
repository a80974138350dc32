# csgdbserver — build, test, install.
#   make                 build csgdbserver and cstrace into $(BUILD)
#   make check           unit + integration tests, then the same under ASan+UBSan
#   make CC=aarch64-linux-gnu-gcc BUILD=build-aarch64   cross build
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# arch/<name>.c is chosen by the compiler's target triplet.
TRIPLET := $(shell $(CC) -dumpmachine)
ARCH    := $(firstword $(subst -, ,$(TRIPLET)))
ifneq ($(filter arm%,$(ARCH)),)
ARCH    := arm
endif

CFLAGS_BASE := -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -MMD -MP
# 64-bit off_t, ino_t on 32-bit arm too: /proc/PID/mem offsets are addresses
# (the stack is above 2 GiB), and readdir/stat fail with EOVERFLOW on 64-bit
# inode numbers and directory cookies otherwise.
CFLAGS_BASE += -D_FILE_OFFSET_BITS=64
CFLAGS  ?= -O2 -g
SANFLAGS ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS) $(SANFLAGS)
LDLIBS  := -lopencsd_c_api -lopencsd -lexpat -lelf -lpthread
# The software branch recorder disassembles with libcapstone, loaded on
# first use (arch/disasm.c).
LDLIBS  += -ldl
LDFLAGS ?=
# The dlopen()ed libthread_db calls back into the server (server/thread_db.c).
SERVER_LDFLAGS := -Wl,--dynamic-list=server/proc-service.list

# A cross compiler finds the target's libraries in the sysroot that
# testsuite/cross/setup.sh unpacks (see there why not :arm64 packages).
CROSS_ROOT ?= /opt/csgdbserver-cross
ifneq ($(ARCH),$(shell uname -m))
CROSS_SYSROOT := $(CROSS_ROOT)/$(TRIPLET)
ifneq ($(wildcard $(CROSS_SYSROOT)/usr/lib/$(TRIPLET)),)
CFLAGS_BASE += -isystem $(CROSS_SYSROOT)/usr/include
LDLIBS := -L$(CROSS_SYSROOT)/usr/lib/$(TRIPLET) \
	-Wl,-rpath-link,$(CROSS_SYSROOT)/usr/lib/$(TRIPLET):$(CROSS_SYSROOT)/lib/$(TRIPLET) $(LDLIBS)
endif
endif

# One static library per layer; a layer links only the layers below it:
# common <- protocol, arch, agent <- etm <- server, cstrace (agent: server only). The two mains are
# left out.
MAINS          := server/main.c cstrace/main.c
COMMON_SRCS    := $(wildcard common/*.c)
PROTOCOL_SRCS  := $(wildcard protocol/*.c)
# arch/x86_xsave.c and arch/aarch64-regfile.c are pure (no CPU access):
# built everywhere so that their unit tests run whatever machine runs the
# tests (and once only on their own architecture).
ARCH_PURE_SRCS := arch/x86_xsave.c arch/aarch64-regfile.c arch/arch_desc.c arch/core-tdesc.c
ARCH_SRCS      := arch/arch.c arch/$(ARCH).c \
	$(filter-out $(ARCH_PURE_SRCS),$(wildcard arch/$(ARCH)-*.c)) arch/disasm.c $(ARCH_PURE_SRCS)
AGENT_SRCS     := $(wildcard agent/*.c)
ETM_SRCS       := $(filter-out $(MAINS),$(wildcard etm/*.c))
SERVER_SRCS    := $(filter-out $(MAINS),$(wildcard server/*.c))
CSTRACE_SRCS   := $(filter-out $(MAINS),$(wildcard cstrace/*.c))
# build/cstrace is the program: the objects of cstrace/ go to build/cstrace.o.d/
objs = $(patsubst %.c,$(BUILD)/%.o,$(patsubst cstrace/%,cstrace.o.d/%,$(1)))
LIBCOMMON      := $(BUILD)/libcommon.a
LIBPROTOCOL    := $(BUILD)/libprotocol.a
LIBARCH        := $(BUILD)/libarch.a
LIBETM         := $(BUILD)/libetm.a
LIBAGENT       := $(BUILD)/libagent.a
LIBSERVER      := $(BUILD)/libserver.a
LIBCSTRACE     := $(BUILD)/libcstrace.a
UNIT_SRCS  := $(wildcard testsuite/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:testsuite/unit/%.c=$(BUILD)/unit/%)
PROG_SRCS  := $(wildcard testsuite/progs/*.c)
PROG_BINS  := $(PROG_SRCS:testsuite/progs/%.c=$(BUILD)/progs/%)

demo: all progs
	@testsuite/demo/run.sh $(BUILD)

.PHONY: demo all check check-unit check-integration check-asan fuzz bench gdb-testsuite install clean progs
all: $(BUILD)/csgdbserver $(BUILD)/cstrace

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/cstrace.o.d/%.o: cstrace/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCOMMON): $(call objs,$(COMMON_SRCS))
$(LIBPROTOCOL): $(call objs,$(PROTOCOL_SRCS))
$(LIBARCH): $(call objs,$(ARCH_SRCS))
$(LIBETM): $(call objs,$(ETM_SRCS))
$(LIBAGENT): $(call objs,$(AGENT_SRCS))
$(LIBSERVER): $(call objs,$(SERVER_SRCS))
$(LIBCSTRACE): $(call objs,$(CSTRACE_SRCS))
$(BUILD)/lib%.a:
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/csgdbserver: $(BUILD)/server/main.o $(LIBSERVER) $(LIBAGENT) $(LIBETM) $(LIBARCH) $(LIBPROTOCOL) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/cstrace: $(call objs,cstrace/main.c) $(LIBCSTRACE) $(LIBETM) $(LIBARCH) $(LIBPROTOCOL) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The tests' shared data is ../shared beside this tree (testsuite/unit/check.h;
# CSG_SHARED overrides it when they run).
$(BUILD)/testsuite/%.o: ALL_CFLAGS += -DCSG_SHARED_DIR='"$(abspath $(CURDIR)/../shared)"'

# Unit tests are named after the layer they test and link only what it needs:
# test_common_*, test_protocol_*, test_arch_*, test_etm_*, test_server_*,
# test_cstrace_*.
$(BUILD)/unit/test_common_%: $(BUILD)/testsuite/unit/test_common_%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^
$(BUILD)/unit/test_protocol_%: $(BUILD)/testsuite/unit/test_protocol_%.o $(LIBPROTOCOL) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/unit/test_arch_%: $(BUILD)/testsuite/unit/test_arch_%.o $(LIBARCH) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/unit/test_agent_%: $(BUILD)/testsuite/unit/test_agent_%.o $(LIBAGENT) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/unit/test_etm_%: $(BUILD)/testsuite/unit/test_etm_%.o $(LIBETM) $(LIBARCH) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/unit/test_server_%: $(BUILD)/testsuite/unit/test_server_%.o $(LIBSERVER) $(LIBAGENT) $(LIBETM) $(LIBARCH) $(LIBPROTOCOL) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit/test_cstrace_%: $(BUILD)/testsuite/unit/test_cstrace_%.o $(LIBCSTRACE) $(LIBETM) $(LIBARCH) $(LIBPROTOCOL) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every fuzz harness (testsuite/fuzz/fuzz_NAME.c) also as replay_NAME: its
# seed corpus (testsuite/fuzz/seeds/NAME/) replayed without libFuzzer by
# testsuite/fuzz/replay_main.c, in check-unit (the normal and ASan builds).
FUZZ_SRCS    := $(wildcard testsuite/fuzz/fuzz_*.c)
FUZZ_REPLAYS := $(FUZZ_SRCS:testsuite/fuzz/%.c=$(BUILD)/unit/replay_%)
$(BUILD)/testsuite/fuzz/replay_main.o: ALL_CFLAGS += -DFUZZ_SEEDS_DIR='"$(abspath $(CURDIR)/testsuite/fuzz/seeds)"'
$(BUILD)/unit/replay_%: $(BUILD)/testsuite/fuzz/%.o $(BUILD)/testsuite/fuzz/replay_main.o $(LIBSERVER) $(LIBAGENT) $(LIBCSTRACE) $(LIBETM) $(LIBARCH) $(LIBPROTOCOL) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LDLIBS)

# Test inferiors: no optimisation so line stepping is predictable.
$(BUILD)/progs/%: testsuite/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -g -O0 -Wall -Wextra -Werror -pthread -o $@ $< -ldl

progs: $(PROG_BINS)

check-unit: $(UNIT_BINS) $(FUZZ_REPLAYS) progs  # test_server_swfast records the test programs
	@testsuite/run-unit.sh $(UNIT_BINS) $(FUZZ_REPLAYS)

check-integration: all progs
	@testsuite/run-integration.sh $(BUILD)

# `make check`: normal build, then ASan+UBSan build, both complete suites.
check:
	@testsuite/check.sh

# aarch64 and arm: cross-build everything, unit tests under qemu-user
# (testsuite/cross/setup.sh installs what that needs).
.PHONY: check-cross
check-cross:
	@testsuite/cross/check.sh aarch64 && testsuite/cross/check.sh arm

# aarch64 and arm: the whole integration suite with the server in QEMU
# guests (Debian kernels; testsuite/qemu/setup.sh installs what it needs)
.PHONY: check-arm
check-arm:
	@testsuite/qemu/check.sh

# x86_64: the whole integration suite with this build's server in QEMU
# guests whose CPU models lack AVX-512 (max, Haswell-v4) or XSAVE (qemu64)
.PHONY: check-x86-cpus
check-x86-cpus: all progs
	@testsuite/qemu/check.sh x86_64

# The README's two commands (`sh .ci/setup && make demo`, `... make check`)
# on a fresh minimal Debian 12 root: debootstrap (cached), chroot, as root.
.PHONY: check-fresh
check-fresh:
	@testsuite/fresh/check.sh

# The include graph points one way (common <- protocol, arch <- etm <-
# server, cstrace), no include cycles, no file over 1000 lines or function
# over 120 without a written reason (testsuite/layout/check.py).
.PHONY: check-layout
check-layout:
	@python3 testsuite/layout/check.py

check-asan:
	$(MAKE) BUILD=build-asan SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check-unit check-integration

fuzz:
	@testsuite/fuzz/run.sh

bench: all progs
	@testsuite/bench/run.sh $(BUILD)

gdb-testsuite: all
	@testsuite/gdb-testsuite/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/csgdbserver $(BUILD)/cstrace $(DESTDIR)$(PREFIX)/bin/
	install -m 644 doc/csgdbserver.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	[ ! -f doc/cstrace.1 ] || install -m 644 doc/cstrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	@# gdb/csgdbserver.py where every gdb loads it at start-up: gdb's data
	@# directory (GDB_DATADIR, else as gdb says it), python/gdb/command/
	d="$(GDB_DATADIR)"; [ -n "$$d" ] || d=$$(gdb -nx -batch -ex 'show data-directory' 2>/dev/null | \
		sed -n 's/.*"\(.*\)".*/\1/p'); [ -n "$$d" ] || d=/usr/share/gdb; \
	install -d "$(DESTDIR)$$d/python/gdb/command" && \
	install -m 644 gdb/csgdbserver.py "$(DESTDIR)$$d/python/gdb/command/"

clean:
	rm -rf build build-asan build-aarch64 build-arm build-fuzz

# Only our own dependency files: gdb's testsuite runs in $(BUILD)/gdb-testsuite
-include $(shell find $(BUILD) -path '$(BUILD)/gdb*' -prune -o -name '*.d' -type f -print 2>/dev/null)
