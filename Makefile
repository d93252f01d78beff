# fastcached — non-recursive Makefile.
#
#   make            release build: build/fastcached (-O2)
#   make debug      build/debug/fastcached (-O0 -g)
#   make asan       build/asan/fastcached (ASan + UBSan, -fno-sanitize-recover=all)
#   make run        install missing packages, build, run in the foreground (memory backend)
#   make test       install missing packages, build, run unit + integration tests
#   make check      the whole suite against the ASan+UBSan build
#   make bench      benchmarks against redis-server in the same run (bench/)
#   make bench-tools  the C helpers of bench/ (build/bench/latency_probe, loadgen, nullserver, ...)
#   make depcheck   verify the include arrows of ../shared/STYLE.md
#   make format     clang-format every source file
#   make clean
#
# Objects of each configuration live in build/<cfg>/ so flags never mix; -MMD -MP gives header
# dependencies.

PKGS     := libuv hiredis inih criterion
CC       ?= cc
WARN     := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Werror
BASE     := -std=c11 -D_GNU_SOURCE $(WARN) -I. -MMD -MP
PKGCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
SRV_LIBS  = $(shell pkg-config --libs libuv inih 2>/dev/null) -lm
TEST_LIBS = $(shell pkg-config --libs criterion hiredis inih 2>/dev/null)

CFG ?= release
ifeq ($(CFG),release)
  OUT     := build/release
  CFLAGS_CFG := -O2 -g
  LDFLAGS_CFG :=
else ifeq ($(CFG),debug)
  OUT     := build/debug
  CFLAGS_CFG := -O0 -g3
  LDFLAGS_CFG :=
else ifeq ($(CFG),asan)
  OUT     := build/asan
  CFLAGS_CFG := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDFLAGS_CFG := -fsanitize=address,undefined
else
  $(error unknown CFG=$(CFG))
endif

ALL_CFLAGS = $(BASE) $(CFLAGS_CFG) $(PKGCFLAGS) $(CFLAGS)

LIB_SRC   := $(wildcard protocol/*.c storage/*.c conf/*.c)
SRV_SRC   := $(filter-out server/main.c,$(wildcard server/*.c))
# The command layer has no libuv, so unit tests link it too (dispatch tested without sockets).
CMD_SRC   := server/util.c server/commands.c server/core.c server/session.c server/replyq.c \
             server/proxy_frame.c $(wildcard server/cmd_*.c)
UNIT_SRC  := $(wildcard tests/unit/*/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(OUT)/%.o)
SRV_OBJ   := $(SRV_SRC:%.c=$(OUT)/%.o)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(OUT)/%.o)
INTEG_OBJ := $(INTEG_SRC:%.c=$(OUT)/%.o)

BIN       := $(OUT)/fastcached
UNIT_BIN  := $(OUT)/unit_tests
INTEG_BIN := $(OUT)/integration_tests

.PHONY: all debug asan run test check valgrind bench bench-tools fuzz depcheck format clean deps tests-built turncpu
.DEFAULT_GOAL := all

all: $(BIN)
ifeq ($(CFG),release)
	@ln -sf release/fastcached build/fastcached
endif

debug:
	@$(MAKE) --no-print-directory CFG=debug all
asan:
	@$(MAKE) --no-print-directory CFG=asan all

$(BIN): $(OUT)/server/main.o $(SRV_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS_CFG) -o $@ $^ $(SRV_LIBS) $(LDFLAGS)

$(UNIT_BIN): $(UNIT_OBJ) $(LIB_OBJ) $(CMD_SRC:%.c=$(OUT)/%.o)
	$(CC) $(LDFLAGS_CFG) -o $@ $^ $(TEST_LIBS) -lm $(LDFLAGS)

$(INTEG_BIN): $(INTEG_OBJ) $(OUT)/server/upstream.o $(OUT)/server/sock.o $(OUT)/server/log.o \
              $(LIB_OBJ)
	$(CC) $(LDFLAGS_CFG) -o $@ $^ $(TEST_LIBS) $(SRV_LIBS) -lm $(LDFLAGS)

# `make V=1` shows the full compiler command lines.
Q := $(if $(V),,@)

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

tests-built: $(BIN) $(UNIT_BIN) $(INTEG_BIN)

# Installs what is missing (Debian 12): the libraries, redis-server/redis-tools as the reference,
# python3-redis for the example. Does nothing when everything is present.
deps:
	@./scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	./build/fastcached $(RUN_ARGS)

# The whole suite: unit tests (hermetic), then integration tests (real processes).
test: deps
	@$(MAKE) --no-print-directory tests-built
	@$(MAKE) --no-print-directory depcheck
	@$(MAKE) --no-print-directory turncpu bench-tools
	./scripts/run-tests.sh $(OUT)
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

check: deps
	@$(MAKE) --no-print-directory CFG=asan tests-built
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./scripts/run-tests.sh build/asan

# The integration suite against the debug daemon under valgrind memcheck (slow; not in CI).
# Left out: compat/cases, because valgrind computes long double in 64-bit precision (a documented
# valgrind limitation), so INCRBYFLOAT's 80-bit results differ from Redis's under it only; and the
# low-ulimit maxclients test, because valgrind keeps some of the process's file descriptors; and
# the mass-expiry test, whose 200k keys valgrind cannot expire before the test's deadline.
valgrind: deps
	@$(MAKE) --no-print-directory CFG=debug tests-built
	FASTCACHED_BIN=$(CURDIR)/scripts/valgrind-fastcached.sh ./build/debug/integration_tests \
	  --jobs 1 --filter '!(compat/cases|daemon_ops/maxclients_reduced_to_fit_low_open_files_limit|daemon_expiry/mass_expiry_keeps_cron_ticks_short)'

# bench/latency.py's probe: a GET load that times every request (hiredis, release flags).
PROBE := build/bench/latency_probe

$(PROBE): bench/latency_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 $(PKGCFLAGS) $(CFLAGS) -o $@ $< $(shell pkg-config --libs hiredis) $(LDFLAGS)

bench-tools: $(PROBE)

bench: bench-tools
	@./scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	./bench/run.sh

# bench/bench.py --client loadgen: a minimal epoll RESP load generator (no libraries).
LOADGEN := build/bench/loadgen

$(LOADGEN): bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 $(CFLAGS) -o $@ $< $(LDFLAGS)

bench-tools: $(LOADGEN)

# The diagnostic daemon of bench/latency.py's CPU column (-DFC_TURN_CPU: loop turns timed in
# thread CPU time, long ones logged), in its own tree since make does not track CFLAGS. `make
# test` builds it so that the diagnostic code keeps compiling.
turncpu:
	@$(MAKE) --no-print-directory OUT=build/turncpu CFLAGS="$(CFLAGS) -DFC_TURN_CPU" build/turncpu/fastcached

# bench/faultlat.c: how long a first touch of fresh memory takes here (README, "Latency").
FAULTLAT := build/bench/faultlat

$(FAULTLAT): bench/faultlat.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 $(CFLAGS) -o $@ $< $(LDFLAGS)

bench-tools: $(FAULTLAT)

# bench/nullserver.c: a RESP server that answers without doing any work (bench.py --floor).
NULLSERVER := build/bench/nullserver

$(NULLSERVER): bench/nullserver.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 $(CFLAGS) -o $@ $< $(LDFLAGS)

bench-tools: $(NULLSERVER)

# libFuzzer targets (clang), built into build/fuzz/ and run FUZZ_SECONDS each; new inputs go to
# build/fuzz/corpus/<target>/, seeds are read from tests/fuzz/corpus/. See tests/fuzz/README.md.
FUZZ_SECONDS ?= 20
# The short run inside `make test`.
TEST_FUZZ_SECONDS ?= 5
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE $(filter-out -Werror,$(WARN)) -I. -g -O1 \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

# fuzz_store: small leaves and job thresholds, so a few hundred keys burst and leave jobs (a
# glob over <= 32 keys runs at once over its subtree, often several leaves).
build/fuzz/fuzz_store: FUZZ_DEFS := -DFC_KT_BURST=8 -DFC_RECLAIM_SYNC_COUNT=4 -DFC_RECLAIM_SYNC_GLOB=32

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(CMD_SRC) $(wildcard */*.h)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS) -o $@ $< $(LIB_SRC) $(CMD_SRC) $$(pkg-config --libs inih) -lm

fuzz: $(FUZZ_BIN)
	@for b in $(FUZZ_BIN); do t=$${b#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -timeout=1 -print_final_stats=1 build/fuzz/corpus/$$t \
	    tests/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1 || { tail -n 60 build/fuzz/$$t.log; exit 1; }; \
	  grep -E '^(Done|stat::number_of_executed_units|#[0-9]+.*DONE)' build/fuzz/$$t.log; done

# protocol/, storage/ and conf/ know nothing of libuv, hiredis or each other.
depcheck:
	@! grep -nE '#include *[<"](uv|hiredis|server/|storage/|conf/)' protocol/*.[ch] || \
	  { echo "depcheck: protocol/ includes a forbidden header"; exit 1; }
	@! grep -nE '#include *[<"](uv|hiredis|server/|protocol/|conf/)' storage/*.[ch] || \
	  { echo "depcheck: storage/ includes a forbidden header"; exit 1; }
	@! grep -nE '#include *[<"](uv|hiredis|server/|protocol/|storage/)' conf/*.[ch] || \
	  { echo "depcheck: conf/ includes a forbidden header"; exit 1; }
	@! grep -nE '#include *[<"]uv' server/commands.[ch] server/backend.h || \
	  { echo "depcheck: the command layer includes uv.h"; exit 1; }
	@echo "depcheck: ok"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
