# smail: plain GNU make.  `make` builds every command into $(O)/;
# `make check` installs what is missing (Debian), builds, runs the suite;
# `make check SANITIZE=1` does the same under ASan and UBSan.

CFLAGS ?= -g -O2
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-Wno-missing-field-initializers -Ilib
PKGS = libsodium libarchive libcurl
override CFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsodium -larchive -lcurl) -lgdbm

ifeq ($(SANITIZE),1)
O ?= build-san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
O ?= build
endif

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

CMDS = smail-admin smail-register smail-reset smail-send smail-inbox smail-fetch \
	smail-addr
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=$(O)/obj/%.o) $(O)/obj/commonpw.o
UNITS = $(patsubst t/unit/%.c,$(O)/unit/%,$(wildcard t/unit/*.c))
HELPERS = $(patsubst t/helpers/%.c,$(O)/helpers/%,$(wildcard t/helpers/*.c))
MAN1 = $(CMDS:%=man/%.1)
MAN7 = man/smail.7

all: $(CMDS:%=$(O)/%) $(UNITS) $(HELPERS)

$(O)/obj $(O)/unit $(O)/helpers:
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

deps:
	@sh tools/deps

check: deps
	$(MAKE) all
	SMAIL_BUILD=$(abspath $(O)) prove -j2 t/

demo: deps
	$(MAKE) all
	SMAIL_BUILD=$(abspath $(O)) sh tools/demo

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	for c in $(CMDS); do install -m 755 $(O)/$$c $(DESTDIR)$(BINDIR)/$$c; done
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	for c in $(CMDS); do install -m 644 completions/smail.bash \
		$(DESTDIR)$(BASHCOMPDIR)/$$c; done
	install -m 644 completions/_smail $(DESTDIR)$(ZSHCOMPDIR)/_smail

uninstall:
	for c in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$c \
		$(DESTDIR)$(MANDIR)/man1/$$c.1 $(DESTDIR)$(BASHCOMPDIR)/$$c; done
	rm -f $(DESTDIR)$(MANDIR)/man7/smail.7 $(DESTDIR)$(ZSHCOMPDIR)/_smail

clean:
	rm -rf build build-san demo

.PHONY: all deps check demo lint install uninstall clean
.SECONDARY:
