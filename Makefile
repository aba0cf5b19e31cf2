# DoReFa-Net training accelerator: top-level build.
#   make            build the golden-model library, the dorefa CLI and the test runner
#   make demo       the main job: golden-model self-test and a demo GEMM / f_gamma run
#   make test       the whole test suite (check, ASan + UBSan)
#   make bench      golden-model GEMM throughput (bit-serial vs naive)
#   make clean
# Tool variables can be overridden: make CC=clang

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build

CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g $(WARN) -Isw_reference
REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN)

REF_SRC := $(wildcard sw_reference/*.c)
REF_REL_OBJ := $(REF_SRC:%.c=$(BUILD)/rel/%.o)
REF_SAN_OBJ := $(REF_SRC:%.c=$(BUILD)/san/%.o)
HOST_SRC := $(wildcard host/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
SUITES := $(patsubst tests/test_%.c,%,$(filter-out tests/test_main.c,$(TEST_SRC)))

LIBREF := $(BUILD)/libdorefa_ref.a
LIBREF_SAN := $(BUILD)/san/libdorefa_ref.a
DOREFA := $(BUILD)/dorefa
TEST_RUNNER := $(BUILD)/san/test_runner
BENCH_GEMM := $(BUILD)/bench_gemm

# Check's default 4 s per test is too short under the sanitizers.
CK_DEFAULT_TIMEOUT ?= 300
export CK_DEFAULT_TIMEOUT

.PHONY: all demo test bench clean help
all: $(LIBREF) $(DOREFA) $(TEST_RUNNER)

help:
	@sed -n '2,7p' Makefile | sed 's/^# \{0,1\}//'

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(LIBREF): $(REF_REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBREF_SAN): $(REF_SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(DOREFA): $(HOST_SRC:%.c=$(BUILD)/rel/%.o) $(LIBREF)
	$(CC) $(REL_CFLAGS) -o $@ $^ -lm

# The runner calls every suite_<area>() found as tests/test_<area>.c.
$(BUILD)/suites.h: $(TEST_SRC) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach s,$(SUITES),'SUITE($(s))') > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/san/tests/test_main.o: $(BUILD)/suites.h
$(BUILD)/san/tests/%.o: CHECK_CFLAGS += -I$(BUILD) -Itests

$(TEST_RUNNER): $(TEST_SRC:%.c=$(BUILD)/san/%.o) $(LIBREF_SAN)
	@if [ -z "$(CHECK_LIBS)" ]; then echo "check (libcheck) not found: run scripts/deps.sh" >&2; exit 1; fi
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lz -lm

$(BENCH_GEMM): bench/bench_gemm.c $(LIBREF)
	$(CC) $(REL_CFLAGS) -o $@ $^ -lm

demo: $(DOREFA)
	$(DOREFA) selftest
	$(DOREFA) demo

test: $(TEST_RUNNER)
	$(TEST_RUNNER)

bench: $(BENCH_GEMM)
	$(BENCH_GEMM)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
