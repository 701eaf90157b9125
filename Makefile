# SPDX-License-Identifier: MIT
# hvtax: build, test, install. Libraries are found with pkg-config; WITH_X=0|1 overrides.

CC      ?= cc
PREFIX  ?= /usr/local
O       ?= build
CUDA_HOME ?= /usr/local/cuda

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -fno-strict-aliasing $(EXTRA_CFLAGS)

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

pc_has = $(shell pkg-config --exists $(1) 2>/dev/null && echo 1 || echo 0)
hdr_has = $(shell echo 'int main(void){return 0;}' | $(CC) -include $(1) -x c - -o /dev/null $(2) >/dev/null 2>&1 && echo 1 || echo 0)

# Required libraries.
REQ_PKGS := jansson inih sqlite3 hwloc
# Optional libraries (detected).
WITH_URING ?= $(call pc_has,liburing)
WITH_NUMA  ?= $(call pc_has,numa)
WITH_PFM   ?= $(call hdr_has,perfmon/pfmlib_perf_event.h,-lpfm)
WITH_VERBS ?= $(call pc_has,libibverbs)
WITH_CAIRO ?= $(call pc_has,cairo)
WITH_CMOCKA ?= $(call pc_has,cmocka)
# CUDA/NCCL: headers only (the libraries are opened at run time); MPI: mpicc (see the block below).
MPICC      ?= mpicc
WITH_CUDA  ?= $(shell test -f $(CUDA_HOME)/include/cuda_runtime_api.h && test -f $(CUDA_HOME)/include/nccl.h && echo 1 || echo 0)
WITH_MPI   ?= $(shell command -v $(MPICC) >/dev/null 2>&1 && echo 1 || echo 0)

PKGS := $(REQ_PKGS)
DEFS := -DHVT_VERSION='"$(VERSION)"' -DHVT_COMMIT='"$(COMMIT)"' -DHVT_DATADIR='"$(PREFIX)/share/hvtax"'
ifeq ($(WITH_URING),1)
PKGS += liburing
DEFS += -DHAVE_URING=1
endif
ifeq ($(WITH_NUMA),1)
PKGS += numa
DEFS += -DHAVE_NUMA=1
endif
ifeq ($(WITH_VERBS),1)
PKGS += libibverbs
DEFS += -DHAVE_VERBS=1
endif
ifeq ($(WITH_CAIRO),1)
PKGS += cairo
DEFS += -DHAVE_CAIRO=1
endif
EXTRA_LIBS :=
ifeq ($(WITH_PFM),1)
DEFS += -DHAVE_PFM=1
EXTRA_LIBS += -lpfm
endif

# ---- CUDA/NCCL and MPI (optional) ----
# CUDA: compiled against $(CUDA_HOME)/include; libcudart, libnccl and libnvidia-ml are
# dlopen'ed by bench/cuda_dl.c, so hvtax-bench links none of them and runs (skipping GPU
# cases with the reason) where they are absent. MPI: a second program, hvtax-bench-mpi,
# built from the same bench sources with $(MPICC) and -DHAVE_MPI=1.
ifeq ($(WITH_CUDA),1)
DEFS += -DHAVE_CUDA=1 -DHVT_CUDA_HOME='"$(CUDA_HOME)"'
CUDA_CFLAGS := -isystem $(CUDA_HOME)/include
EXTRA_LIBS += -ldl
endif
# ---- end CUDA/NCCL and MPI ----

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS     := $(PKG_LIBS) $(EXTRA_LIBS) -lpthread -lm

CFLAGS_FULL = $(CFLAGS_ALL) $(DEFS) $(PKG_CFLAGS) $(CUDA_CFLAGS)

COMMON_SRC  := $(sort $(wildcard common/*.c))
BENCH_SRC   := $(sort $(filter-out bench/main.c,$(wildcard bench/*.c)))
HARNESS_SRC := $(sort $(filter-out harness/main.c,$(wildcard harness/*.c)))
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(O)/%.o,$(1))

LIB_COMMON  := $(O)/libhvtcommon.a
LIB_BENCH   := $(O)/libhvtbench.a
LIB_HARNESS := $(O)/libhvtharness.a
LIBS_ALL    := $(LIB_HARNESS) $(LIB_BENCH) $(LIB_COMMON)

BIN_BENCH := $(O)/hvtax-bench
BIN_HVTAX := $(O)/hvtax
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

.PHONY: all run test unit asan lint format install config clean deps e2e check-deps
all: $(BIN_BENCH) $(BIN_HVTAX)

# ---- MPI: hvtax-bench-mpi (only rank 0 writes records) ----
BIN_BENCH_MPI := $(O)/hvtax-bench-mpi
ifeq ($(WITH_MPI),1)
MPI_OBJ := $(patsubst %.c,$(O)/mpi/%.o,$(BENCH_SRC) bench/main.c)
all: $(BIN_BENCH_MPI)
$(O)/mpi/%.o: %.c
	@mkdir -p $(dir $@)
	OMPI_CC="$(CC)" $(MPICC) $(CFLAGS_FULL) -DHAVE_MPI=1 -MMD -MP -c $< -o $@
$(BIN_BENCH_MPI): $(MPI_OBJ) $(LIB_COMMON)
	OMPI_CC="$(CC)" $(MPICC) $(CFLAGS_FULL) -DHAVE_MPI=1 -o $@ $^ $(LDLIBS)
endif
# ---- end MPI ----

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_FULL) -MMD -MP -c $< -o $@

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIB_BENCH): $(call obj,$(BENCH_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIB_HARNESS): $(call obj,$(HARNESS_SRC))
	@rm -f $@; ar rcs $@ $^

$(BIN_BENCH): $(O)/bench/main.o $(LIB_BENCH) $(LIB_COMMON)
	$(CC) $(CFLAGS_FULL) -o $@ $^ $(LDLIBS)
$(BIN_HVTAX): $(O)/harness/main.o $(LIBS_ALL)
	$(CC) $(CFLAGS_FULL) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_FULL) -o $@ $^ $(LDLIBS) -lcmocka

# keep the test objects: make would delete them as intermediates, after the test summary line
.SECONDARY:

unit: all $(UNIT_BINS)

# The test command: builds, runs every unit and end-to-end test in its own
# process under a timeout, then the unit tests again under ASan/UBSan.
test: all $(UNIT_BINS)
	@$(MAKE) --no-print-directory asan-build
	@HVT_BUILD=$(O) HVT_ASAN_BUILD=$(O)-asan tests/run.sh

asan-build:
	@$(MAKE) --no-print-directory O=$(O)-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" all unit >/dev/null

asan: asan-build
	@HVT_BUILD=$(O)-asan HVT_ONLY_UNIT=1 tests/run.sh

deps:
	@scripts/install-deps.sh

# The main job: install what is missing, build, measure this machine, report.
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-main.sh $(O)

lint:
	@command -v cppcheck >/dev/null && cppcheck -q --std=c11 --enable=warning,performance,portability \
		--inline-suppr --error-exitcode=1 -D_GNU_SOURCE $(DEFS) common bench harness || true
	@bash -n scripts/*.sh tests/run.sh tests/e2e/*.sh

format:
	clang-format -i common/*.[ch] bench/*.[ch] harness/*.[ch] tests/unit/*.[ch]

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/hvtax/configs
	install -m 755 $(BIN_BENCH) $(BIN_HVTAX) $(DESTDIR)$(PREFIX)/bin/
	if [ -x $(BIN_BENCH_MPI) ]; then install -m 755 $(BIN_BENCH_MPI) $(DESTDIR)$(PREFIX)/bin/; fi
	cp -r configs/. $(DESTDIR)$(PREFIX)/share/hvtax/configs/

config:
	@echo "required: $(REQ_PKGS)"
	@echo "WITH_URING=$(WITH_URING) WITH_NUMA=$(WITH_NUMA) WITH_PFM=$(WITH_PFM) WITH_VERBS=$(WITH_VERBS)"
	@echo "WITH_CAIRO=$(WITH_CAIRO) WITH_CMOCKA=$(WITH_CMOCKA) WITH_CUDA=$(WITH_CUDA) WITH_MPI=$(WITH_MPI)"
	@echo "CUDA_HOME=$(CUDA_HOME) MPICC=$(MPICC)"
	@echo "CC=$(CC) CFLAGS=$(CFLAGS_FULL)"
	@echo "LDLIBS=$(LDLIBS)"

clean:
	rm -rf $(O) $(O)-asan

-include $(shell find $(O) -name '*.d' 2>/dev/null)
