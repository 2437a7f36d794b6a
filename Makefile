# ltsnn -- C11 + make.  `make` builds libltsnn.a, libltsnn.so and ltsnn;
# `make test` builds and runs every tests/test_*.c and tests/test_*.sh;
# `make SANITIZE=1 test` does the same under ASan + UBSan (in build-san/);
# `make install PREFIX=...`; `make fuzz` runs each parser's libFuzzer harness;
# `make fuzz-ci` runs each for FUZZ_CI_SECONDS (20 s) and fails on a finding.

CC      ?= cc
PREFIX  ?= /usr/local
ARCH    ?= -march=native
OPT     ?= -O3
BUILD   := build

CFLAGS_BASE = -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Iruntime \
              -fPIC -fopenmp $(ARCH) -Iinclude -Isrc -D_GNU_SOURCE
LDLIBS  = -ldnnl -lopenblas -lcjson -llz4 -lzstd -lz -lstb -lm -fopenmp

ifeq ($(SANITIZE),1)
BUILD   := build-san
OPT     := -O1 -g
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS  += -fsanitize=address,undefined
endif

CFLAGS  += $(CFLAGS_BASE) $(OPT)

# MPI (data-parallel training, src/dist/): on when mpicc is found, `make
# MPI=0` forces it off.  Only src/dist/ is compiled against mpi.h; without
# MPI the same file builds a group of one and ltsnn behaves as before.
# Flags from Open MPI's wrapper (Debian's libopenmpi-dev); for another MPI
# pass MPI_CFLAGS and MPI_LIBS.
ifeq ($(origin MPI),undefined)
MPI := $(if $(shell command -v mpicc 2>/dev/null),1,0)
endif
export MPI
ifeq ($(MPI),1)
ifeq ($(origin MPI_CFLAGS),undefined)
MPI_CFLAGS := $(shell mpicc --showme:compile)
endif
ifeq ($(origin MPI_LIBS),undefined)
MPI_LIBS   := $(shell mpicc --showme:link)
endif
LDLIBS  += $(MPI_LIBS)
$(info ltsnn: MPI support on ($(shell mpicc --showme:version 2>/dev/null | head -n 1)): mpirun -np N ltsnn train)
else
$(info ltsnn: MPI support off (MPI=0 or no mpicc; scripts/install-deps.sh installs Open MPI): ltsnn train runs one process)
endif

LIB_SRC  := $(sort $(wildcard src/core/*.c src/kernels/*.c src/nn/*.c src/io/*.c src/events/*.c src/train/*.c \
                               src/dist/*.c src/detect/*.c src/quant/*.c runtime/ltsnn_rt.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
HDRS     := $(wildcard include/*.h include/ltsnn/*.h src/*/*.h tests/*.h runtime/*.h)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

ifeq ($(SANITIZE),1)
all: $(BUILD)/libltsnn.a $(BUILD)/ltsnn $(BUILD)/rt_classify
else
all: libltsnn.a libltsnn.so ltsnn $(BUILD)/rt_classify
endif

# the integer runtime on its own (runtime/README.md): strict C99, no libltsnn;
# tests/test_runtime.sh also builds it -m32 and freestanding
RT_CFLAGS = -std=c99 -pedantic -Wall -Wextra -Werror -Wshadow -Wconversion $(OPT) -Iruntime
$(BUILD)/rt_classify: examples/rt_classify.c runtime/ltsnn_rt.c runtime/ltsnn_rt.h
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -o $@ examples/rt_classify.c runtime/ltsnn_rt.c

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# the one file that includes mpi.h
ifeq ($(MPI),1)
$(BUILD)/src/dist/%.o: CFLAGS += $(MPI_CFLAGS) -DLT_HAVE_MPI
endif
# an object built with the other MPI setting is rebuilt (the stamp changes with it)
$(BUILD)/src/dist/dist.o: $(BUILD)/mpi.stamp
$(BUILD)/mpi.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo "$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)" | cmp -s - $@ || echo "$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)" > $@
FORCE:

$(BUILD)/libltsnn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# only what the public headers declare is exported (scripts/exports.sh)
$(BUILD)/ltsnn.map: scripts/exports.sh include/ltsnn.h $(wildcard include/ltsnn/*.h)
	@mkdir -p $(dir $@)
	sh scripts/exports.sh include/ltsnn.h include/ltsnn/*.h > $@

$(BUILD)/libltsnn.so: $(LIB_OBJ) $(BUILD)/ltsnn.map
	$(CC) -shared -Wl,--version-script=$(BUILD)/ltsnn.map -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/ltsnn: $(CLI_OBJ) $(BUILD)/libltsnn.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libltsnn.a $(LDLIBS)

libltsnn.a: $(BUILD)/libltsnn.a
	cp $< $@
libltsnn.so: $(BUILD)/libltsnn.so
	cp $< $@
ltsnn: $(BUILD)/ltsnn
	cp $< $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libltsnn.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libltsnn.a $(LDLIBS)

# bench/*.c programs link like the tests: `make build/bench/rt_bench` (the bench scripts do)
$(BUILD)/bench/%: bench/%.c $(BUILD)/libltsnn.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libltsnn.a $(LDLIBS)

tests: $(TEST_BIN) $(BUILD)/ltsnn

# TEST_SKIP: test files left out of this run (.ci/run's sanitizer pass leaves out the timing test).
test: tests
	@LTSNN=$(BUILD)/ltsnn BUILD=$(BUILD) sh scripts/run-tests.sh $(filter-out $(TEST_SKIP),$(TEST_BIN) \
	    $(sort $(wildcard tests/test_*.sh)))

# ---- install ----
install: all
	install -d $(DESTDIR)$(PREFIX)/include/ltsnn $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ltsnn.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/ltsnn/*.h $(DESTDIR)$(PREFIX)/include/ltsnn/
	install -m 644 libltsnn.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 libltsnn.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 ltsnn $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@MPI_LIBS@|$(MPI_LIBS)|' scripts/ltsnn.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ltsnn.pc

# ---- fuzzing (clang + libFuzzer, ASan + UBSan) ----
# The library is compiled once into build-fuzz/ with fuzzer coverage, then
# linked into one binary per fuzz/fuzz_*.c.  `make fuzz` runs each harness for
# FUZZ_SECONDS; `make fuzz-ci` for FUZZ_CI_SECONDS and fails when one finds a
# crash, leak, UB or hang (the finding is left in build-fuzz/ci-NAME/).  The
# long campaign behind docs/reliability.md is fuzz/campaign.sh.
FUZZ_SECONDS ?= 30
FUZZ_CI_SECONDS ?= 20
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer -Iinclude -Isrc -Iruntime -D_GNU_SOURCE -fopenmp

build-fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# the whole library as an archive: each harness links only what its parser needs
build-fuzz/libltsnn-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libltsnn-fuzz.a $(HDRS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libltsnn-fuzz.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@set -e; for b in $(FUZZ_BIN); do n=$$(basename $$b); mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -artifact_prefix=build-fuzz/$$n- \
	    build-fuzz/corpus-$$n fuzz/seeds/$$n 2>&1 | tail -n 3; \
	done

fuzz-ci: $(FUZZ_BIN)
	@fail=0; for b in $(FUZZ_BIN); do n=$$(basename $$b); d=build-fuzz/ci-$$n; rm -rf $$d; mkdir -p $$d/corpus; \
	  if $$b -max_total_time=$(FUZZ_CI_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	       -artifact_prefix=$$d/ $$d/corpus fuzz/seeds/$$n > $$d/log 2>&1; then \
	    echo "fuzz-ci: $$n ok ($$(grep -o 'Done [0-9]* runs' $$d/log))"; \
	  else echo "fuzz-ci: $$n FAILED (log and input in $$d/)"; tail -n 30 $$d/log; fail=1; fi; \
	done; exit $$fail

clean:
	rm -rf build build-san build-fuzz libltsnn.a libltsnn.so ltsnn

.PHONY: all test tests install fuzz fuzz-build fuzz-ci clean FORCE
.SECONDARY:
