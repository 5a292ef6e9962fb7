#!/bin/sh
# make install / make uninstall into a staging DESTDIR: the commands, the
# manuals and the completions land where the README says, work from
# there, and go again without leaving anything behind.
. "$(dirname "$0")/lib.sh"
top=$(cd "$T_SRC/.." && pwd)
CMDS="smail-admin smail-register smail-reset smail-send smail-inbox smail-fetch smail-addr"

# The directory holding the real binaries (under valgrind, SMAIL_BUILD
# holds wrappers and the binaries sit one level up).
bin=$SMAIL_BUILD
[ -n "${SMAIL_VALGRIND:-}" ] && bin=$(dirname "$SMAIL_BUILD")
command -v make >/dev/null 2>&1 || { echo "1..0 # SKIP no make"; exit 0; }

dest=$scratch/dest
run 0 "make install DESTDIR=... PREFIX=/usr" \
	make -s -C "$top" install O="$bin" DESTDIR="$dest" PREFIX=/usr
for c in $CMDS; do
	check "$c in /usr/bin, mode 755" sh -c \
	    "[ \"\$(stat -c %a '$dest/usr/bin/$c')\" = 755 ]"
	run 0 "$c --version runs from there" "$dest/usr/bin/$c" --version
	out_has "and names itself" "^$c "
	check "$c(1) installed" test -f "$dest/usr/share/man/man1/$c.1"
	check "bash completion under $c's name" \
	    test -f "$dest/usr/share/bash-completion/completions/$c"
	check "fish completion under $c's name (fish loads CMD.fish)" \
	    test -f "$dest/usr/share/fish/vendor_completions.d/$c.fish"
done
check "smail-config(5) installed" test -f "$dest/usr/share/man/man5/smail-config.5"
check "smail(7) installed" test -f "$dest/usr/share/man/man7/smail.7"
check "zsh completion installed" test -f "$dest/usr/share/zsh/site-functions/_smail"
if command -v mandoc >/dev/null 2>&1; then
	for m in "$dest"/usr/share/man/man*/*; do
		run 0 "$(basename "$m") formats" mandoc -Tmarkdown "$m"
		out_has "with a NAME section" '^# NAME'
	done
else
	skip "installed manuals format" "no mandoc"
fi
check "nothing is group or world writable" sh -c \
	"[ -z \"\$(find '$dest' -perm /022 -type f)\" ]"

# The man pages and the commands from the installed tree work together:
# a command's usage names only options its manual documents.
for c in $CMDS; do
	"$dest/usr/bin/$c" --help >out 2>&1
	missing=
	for o in $(grep -oE -- '--[a-z][a-z-]+' out | sort -u); do
		grep -q -- "Fl -${o#--}" "$dest/usr/share/man/man1/$c.1" ||
			missing="$missing $o"
	done
	same "$c: every long option in --help is in $c(1)" "" "$missing"
done

# fish finds a command's completion by the command's name.
if command -v fish >/dev/null 2>&1; then
	run 0 "fish completes from the installed file" env HOME="$scratch/home" \
	    XDG_DATA_DIRS="$dest/usr/share:/usr/share" PATH="$dest/usr/bin:$PATH" \
	    fish -c 'complete -C "smail-send --rec"'
	out_has "smail-send's --recall" '^--recall'
else
	skip "fish completes from the installed file" "no fish"
fi

run 0 "make uninstall with the same DESTDIR and PREFIX" \
	make -s -C "$top" uninstall O="$bin" DESTDIR="$dest" PREFIX=/usr
same "leaves no file behind" "" "$(find "$dest" -type f)"

# BINDIR and MANDIR may be set on their own.
run 0 "make install with BINDIR and MANDIR of their own" \
	make -s -C "$top" install O="$bin" DESTDIR="$dest" PREFIX=/opt/x \
	BINDIR=/opt/bin MANDIR=/opt/man
check "commands in BINDIR" test -x "$dest/opt/bin/smail-send"
check "manuals in MANDIR" test -f "$dest/opt/man/man1/smail-send.1"
check "completions under PREFIX" \
	test -f "$dest/opt/x/share/bash-completion/completions/smail-send"
run 0 "and uninstall with the same" \
	make -s -C "$top" uninstall O="$bin" DESTDIR="$dest" PREFIX=/opt/x \
	BINDIR=/opt/bin MANDIR=/opt/man
same "leaves no file behind" "" "$(find "$dest" -type f)"
done_testing
