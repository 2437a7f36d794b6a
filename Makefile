# ltsnn -- C11 + make.  `make` builds libltsnn.a, libltsnn.so and ltsnn;
# `make test` builds and runs every tests/test_*.c and tests/test_*.sh;
# `make SANITIZE=1 test` does the same under ASan + UBSan (in build-san/);
# `make install PREFIX=...`; `make fuzz` runs each parser's libFuzzer harness.

CC      ?= cc
PREFIX  ?= /usr/local
ARCH    ?= -march=native
OPT     ?= -O3
BUILD   := build

CFLAGS_BASE = -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Iruntime \
              -fPIC -fopenmp $(ARCH) -Iinclude -Isrc -D_GNU_SOURCE
LDLIBS  = -ldnnl -lopenblas -lcjson -lz -lm -fopenmp

ifeq ($(SANITIZE),1)
BUILD   := build-san
OPT     := -O1 -g
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS  += -fsanitize=address,undefined
endif

CFLAGS  += $(CFLAGS_BASE) $(OPT)

LIB_SRC  := $(sort $(wildcard src/core/*.c src/kernels/*.c src/nn/*.c src/io/*.c src/events/*.c src/train/*.c src/quant/*.c runtime/ltsnn_rt.c))
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

tests: $(TEST_BIN) $(BUILD)/ltsnn

test: tests
	@LTSNN=$(BUILD)/ltsnn BUILD=$(BUILD) sh scripts/run-tests.sh $(TEST_BIN) $(sort $(wildcard tests/test_*.sh))

# ---- install ----
install: all
	install -d $(DESTDIR)$(PREFIX)/include/ltsnn $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ltsnn.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/ltsnn/*.h $(DESTDIR)$(PREFIX)/include/ltsnn/
	install -m 644 libltsnn.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 libltsnn.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 ltsnn $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' scripts/ltsnn.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ltsnn.pc

# ---- fuzzing (clang + libFuzzer, ASan + UBSan), bounded time per harness ----
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
# (fuzz_ltq takes the whole library: its loader, src/quant/qmodel.c, links against most of it)
FUZZ_LIB := $(filter src/core/% src/io/% src/events/% src/nn/model.c,$(LIB_SRC))
fuzz:
	@mkdir -p build-fuzz
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  lib="$(FUZZ_LIB)"; [ $$n = fuzz_ltq ] && lib="$(LIB_SRC)"; \
	  clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -Iinclude -Isrc -Iruntime -D_GNU_SOURCE -fopenmp -o build-fuzz/$$n $$f $$lib $(LDLIBS); \
	  mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 build-fuzz/corpus-$$n fuzz/seeds/$$n 2>&1 | tail -n 3; \
	done

clean:
	rm -rf build build-san build-fuzz libltsnn.a libltsnn.so ltsnn

.PHONY: all test tests install fuzz clean
.SECONDARY:
