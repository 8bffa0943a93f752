# gotrace: GNU Make only.
#
#   make                 build/gotrace, build/libgosym.a, build/libdwunw.a
#   make check           install missing packages, build, run every test
#   make demo            trace a bundled Go program, write build/demo/trace.json
#   make screenshots     refresh docs/images/ (real traces in real viewers)
#   make bench           benchmarks (ratios measured side by side)
#   make install PREFIX=/usr/local
#   make ARCH=arm64      cross-build (libraries always; the CLI when the
#                        arm64 dev packages are installed) into build/arm64
#   make fuzz            run every fuzz target for FUZZ_SECONDS each
#   make asan            unit tests and the CLI under ASan/UBSan (build/asan)
#
# New source files are picked up by wildcard: gosym/*.c, unwind/*.c,
# gotrace/*.c, gotrace/*/*.c, bpf/*.bpf.c, tests/unit/test_*.c, tests/fuzz/fuzz_*.c.

VERSION      := 0.1.0
ARCH         ?= $(shell uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
HOST_ARCH    := $(shell uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
PREFIX       ?= /usr/local
FUZZ_SECONDS ?= 60

ifeq ($(ARCH),$(HOST_ARCH))
BUILD        ?= build
CC           ?= gcc
else ifeq ($(ARCH),arm64)
BUILD        ?= build/arm64
CC           := aarch64-linux-gnu-gcc
AR           := aarch64-linux-gnu-ar
PKG_CONFIG_PATH := /usr/lib/aarch64-linux-gnu/pkgconfig
export PKG_CONFIG_PATH
else
$(error unsupported ARCH=$(ARCH): use amd64 or arm64)
endif

CLANG        ?= clang
BPFTOOL      ?= bpftool
PYTHON       ?= python3

# The BPF target's __TARGET_ARCH_* name for bpf_tracing.h.
BPF_ARCH_x86_64 := x86
BPF_ARCH_amd64  := x86
BPF_ARCH_arm64  := arm64
BPF_ARCH     := $(BPF_ARCH_$(ARCH))

WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -Igosym -Iunwind -Ibpf -Igotrace -I$(BUILD) -DGOTRACE_VERSION='"$(VERSION)"' \
	    -DGOTRACE_ARCH='"$(ARCH)"'
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) -fno-strict-aliasing
LDLIBS   += -lbpf -lelf -ldw -ljansson -lcapstone -lncursesw -ltinfo -lz -lm -lpthread

GOSYM_SRC  := $(wildcard gosym/*.c)
UNWIND_SRC := $(wildcard unwind/*.c)
CLI_SRC    := $(wildcard gotrace/*.c gotrace/*/*.c)
BPF_SRC    := $(wildcard bpf/*.bpf.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)

GOSYM_OBJ  := $(GOSYM_SRC:%.c=$(BUILD)/obj/%.o)
UNWIND_OBJ := $(UNWIND_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
BPF_OBJ    := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKEL   := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCH_BIN  := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

LIBGOSYM   := $(BUILD)/libgosym.a
LIBDWUNW   := $(if $(UNWIND_SRC),$(BUILD)/libdwunw.a)

.PHONY: all libs cli check unit deps testprogs demo screenshots bench install fuzz asan clean examples
.DELETE_ON_ERROR:
.SECONDARY:

ifeq ($(ARCH),$(HOST_ARCH))
all: libs cli unit examples
else
# Cross builds: the libraries always; the CLI when the target's libbpf is there.
all: libs $(if $(wildcard /usr/lib/aarch64-linux-gnu/libbpf.so),cli)
endif

libs: $(LIBGOSYM) $(LIBDWUNW)
cli: $(BUILD)/gotrace
unit: $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBGOSYM): $(GOSYM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBDWUNW): $(UNWIND_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# --- BPF: %.bpf.c -> clang -target bpf -> bpftool gen skeleton -> %.skel.h
$(BUILD)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD) -Ibpf -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# The CLI's objects include the skeletons.
$(CLI_OBJ): $(BPF_SKEL)

# Linked aside and renamed, so tests running meanwhile never see a half-written CLI.
$(BUILD)/gotrace: $(CLI_OBJ) $(LIBDWUNW) $(LIBGOSYM)
	$(CC) $(CFLAGS) -o $@.tmp $^ $(LDFLAGS) $(LDLIBS) && mv $@.tmp $@

# Unit tests link every CLI object but main.o, then the libraries (static
# libraries must follow the objects that use them).
$(BUILD)/tests/%: tests/unit/%.c $(filter-out $(BUILD)/obj/gotrace/main.o,$(CLI_OBJ)) $(LIBDWUNW) $(LIBGOSYM)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Igotrace -Itests/unit $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Benchmarks may include CLI sources and skeletons directly: track their
# headers with -MMD like any object.
$(BUILD)/bench/%: tests/bench/%.c $(LIBDWUNW) $(LIBGOSYM) | $(BPF_SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Igotrace $(CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(filter %.a,$^) $(LDFLAGS) $(LDLIBS)

# --- examples/bpf_memleak (make examples): its own BPF object and skeleton,
# linked with the libraries; leaky is the C program its test traces.
ML_DIR := $(BUILD)/examples/bpf_memleak
ML_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %.bpf.c,$(wildcard examples/bpf_memleak/*.c)))
examples: $(ML_DIR)/bpf_memleak $(ML_DIR)/leaky

$(ML_DIR)/memleak.bpf.o: examples/bpf_memleak/memleak.bpf.c examples/bpf_memleak/memleak.h bpf/stack_capture.h unwind/dwunw_regs.h $(BUILD)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD) -Iunwind -Iexamples/bpf_memleak -c $< -o $@

$(ML_DIR)/memleak.skel.h: $(ML_DIR)/memleak.bpf.o
	$(BPFTOOL) gen skeleton $< name memleak_bpf > $@.tmp && mv $@.tmp $@

$(ML_OBJ): CPPFLAGS += -Iexamples/bpf_memleak -I$(ML_DIR)
$(ML_OBJ): $(ML_DIR)/memleak.skel.h

$(ML_DIR)/bpf_memleak: $(ML_OBJ) $(LIBDWUNW) $(LIBGOSYM)
	$(CC) $(CFLAGS) -o $@.tmp $^ $(LDFLAGS) $(LDLIBS) && mv $@.tmp $@

$(ML_DIR)/leaky: testprogs/leaky/leaky.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -pthread $(WARN) -o $@ $<

# --- fuzzing and sanitizers (clang: libFuzzer, ASan, UBSan)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# (fuzz_args includes the --args sources it tests: they are prerequisites,
# not compiled separately)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(GOSYM_SRC) $(UNWIND_SRC) $(wildcard gotrace/args/*.[ch] bpf/args.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer $(SAN_FLAGS) -o $@ $(filter-out gotrace/% bpf/%,$^) -lelf -ldw -lz

# The goroutine reader's target also needs gotrace/goruntime.
$(BUILD)/fuzz/fuzz_goroutines: tests/fuzz/fuzz_goroutines.c $(GOSYM_SRC) $(UNWIND_SRC) $(wildcard gotrace/goruntime/*.c)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer $(SAN_FLAGS) -o $@ $^ -lelf -ldw -lz

fuzz: $(FUZZ_BIN)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

asan:
	$(MAKE) BUILD=build/asan CC=$(CLANG) CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" unit cli

# --- top-level flows
deps:
	@bash scripts/deps.sh

testprogs:
	@bash scripts/build-testprogs.sh

# tests/run.py runs the fuzz targets (scripts/fuzz.sh) too, so their results
# are part of its summary.
check: deps
	$(MAKE) all
	$(MAKE) asan
	@bash scripts/build-testprogs.sh
	$(MAKE) $(FUZZ_BIN)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PYTHON) tests/run.py --fuzz

demo: deps
	$(MAKE) all
	@bash scripts/demo.sh

screenshots: all testprogs
	@bash scripts/screenshots.sh

bench: deps
	$(MAKE) all $(BENCH_BIN)
	@bash scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/gotrace
	install -m 755 $(BUILD)/gotrace $(DESTDIR)$(PREFIX)/bin/gotrace
	install -m 644 $(LIBGOSYM) $(LIBDWUNW) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 gosym/gosym.h $(wildcard unwind/dwunw.h unwind/dwunw_regs.h) $(DESTDIR)$(PREFIX)/include/gotrace/

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/bench -name '*.d' 2>/dev/null)
