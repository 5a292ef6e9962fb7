# smail: plain GNU make.  `make` builds every command into $(O)/;
# `make check` installs what is missing (Debian), builds, runs the suite;
# `make check SANITIZE=1` does the same under ASan and UBSan.

CFLAGS ?= -g -O2
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-Wno-missing-field-initializers -pthread -Ilib
PKGS = libsodium libarchive libcurl gmime-3.0
PKG_CFLAGS = pkg-config --cflags $(PKGS)
override CFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsodium -larchive -lcurl -lgmime-3.0 -lgobject-2.0 -lglib-2.0) -lgdbm -pthread

ifeq ($(VALGRIND),1)
O ?= build-vg
TESTBIN = $(abspath $(O))/vg
else ifeq ($(SANITIZE),1)
O ?= build-san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
O ?= build
endif
TESTBIN ?= $(abspath $(O))
TESTS ?= t/

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CMDS = smail-admin smail-register smail-reset smail-send smail-inbox smail-fetch \
	smail-addr
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=$(O)/obj/%.o) $(O)/obj/commonpw.o
UNITS = $(patsubst t/unit/%.c,$(O)/unit/%,$(wildcard t/unit/*.c))
HELPERS = $(patsubst t/helpers/%.c,$(O)/helpers/%,$(wildcard t/helpers/*.c))
FUZZERS = $(filter-out replay,$(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c)))
REPLAYS = $(FUZZERS:%=$(O)/fuzz/%)
MAN1 = $(CMDS:%=man/%.1)
MAN5 = man/smail-config.5
MAN7 = man/smail.7

all: $(CMDS:%=$(O)/%) $(UNITS) $(HELPERS) $(REPLAYS)

$(O)/obj $(O)/unit $(O)/helpers $(O)/fuzz:
	mkdir -p $@

$(O)/obj/%.o: lib/%.c lib/smail.h | $(O)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/obj/commonpw.c: data/common-passwords.txt | $(O)/obj
	{ echo '#include <stddef.h>'; \
	  echo 'const char *const sm_common_passwords[] = {'; \
	  grep -v '^#' $< | sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&",/'; \
	  echo '};'; \
	  echo 'const size_t sm_common_passwords_n = sizeof sm_common_passwords / sizeof sm_common_passwords[0];'; \
	} > $@.tmp && mv $@.tmp $@

$(O)/obj/commonpw.o: $(O)/obj/commonpw.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libsmail.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/%: cmd/%.c $(O)/libsmail.a lib/smail.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libsmail.a $(LDLIBS)

$(O)/unit/%: t/unit/%.c t/unit/tap.h $(O)/libsmail.a lib/smail.h | $(O)/unit
	$(CC) $(CFLAGS) -It/unit $(LDFLAGS) -o $@ $< $(O)/libsmail.a $(LDLIBS)

$(O)/helpers/%: t/helpers/%.c $(O)/libsmail.a lib/smail.h | $(O)/helpers
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libsmail.a $(LDLIBS)

# The fuzz harnesses as plain programs that replay saved inputs.
$(O)/fuzz/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(O)/libsmail.a lib/smail.h | $(O)/fuzz
	$(CC) $(CFLAGS) -Ifuzz $(LDFLAGS) -o $@ $< fuzz/replay.c $(O)/libsmail.a $(LDLIBS)

deps:
	@sh tools/deps

check: deps
	$(MAKE) all
ifeq ($(VALGRIND),1)
	@sh tools/deps valgrind
	sh tools/vgwrap $(abspath $(O)) $(TESTBIN)
endif
	SMAIL_BUILD=$(TESTBIN) SMAIL_VALGRIND=$(VALGRIND) prove -j2 $(TESTS)

demo: deps
	$(MAKE) all
	SMAIL_BUILD=$(abspath $(O)) sh tools/demo

# libFuzzer under ASan and UBSan: every harness for FUZZ_TIME seconds,
# starting from its seed corpus; a crash fails and is kept in
# build-fuzz/crashes/ (add it to fuzz/corpus/NAME/ as a regression).
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -Ifuzz -fno-omit-frame-pointer
fuzz: deps
	@sh tools/deps fuzz
	rm -rf build-fuzz && mkdir -p build-fuzz/obj build-fuzz/crashes
	for f in $(LIBSRC) $(O)/obj/commonpw.c; do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		$$($(PKG_CFLAGS)) -c -o build-fuzz/obj/$$(basename $$f .c).o $$f || exit 1; \
	done
	for h in $(FUZZERS); do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/$$h fuzz/$$h.c build-fuzz/obj/*.o $(LDLIBS) || exit 1; \
	done
	for h in $(FUZZERS); do \
		echo "fuzz: $$h for $(FUZZ_TIME)s"; \
		mkdir -p build-fuzz/corpus/$$h && \
		build-fuzz/$$h -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build-fuzz/crashes/$$h- \
		build-fuzz/corpus/$$h fuzz/corpus/$$h 2>build-fuzz/$$h.log || \
		{ tail -40 build-fuzz/$$h.log; exit 1; }; \
		grep -h 'stat::number_of_executed_units' build-fuzz/$$h.log; \
	done

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)

# A staged install (DESTDIR) is what a Debian package would ship.  The
# commands are built first, as an unprivileged user would: `make`, then
# `make install` (as root, or with DESTDIR).
install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR)
	for c in $(CMDS); do install -m 755 $(O)/$$c $(DESTDIR)$(BINDIR)/$$c; done
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	for c in $(CMDS); do install -m 644 completions/smail.bash \
		$(DESTDIR)$(BASHCOMPDIR)/$$c; done
	install -m 644 completions/_smail $(DESTDIR)$(ZSHCOMPDIR)/_smail
	for c in $(CMDS); do install -m 644 completions/smail.fish \
		$(DESTDIR)$(FISHCOMPDIR)/$$c.fish; done

uninstall:
	for c in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$c \
		$(DESTDIR)$(MANDIR)/man1/$$c.1 $(DESTDIR)$(BASHCOMPDIR)/$$c \
		$(DESTDIR)$(FISHCOMPDIR)/$$c.fish; done
	rm -f $(DESTDIR)$(MANDIR)/man5/smail-config.5 \
		$(DESTDIR)$(MANDIR)/man7/smail.7 $(DESTDIR)$(ZSHCOMPDIR)/_smail

clean:
	rm -rf build build-san build-vg build-fuzz demo

.PHONY: all deps check demo fuzz lint install uninstall clean
.SECONDARY:
