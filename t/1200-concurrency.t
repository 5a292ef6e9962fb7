#!/bin/sh
# Concurrency: four batch senders (different senders, one shared
# recipient) and three reader loops at once all succeed and lose
# nothing; a command that cannot get the store within store_wait exits
# 75 saying the store is busy, and one that starts while the lock is
# held for less than store_wait waits and succeeds.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

# Background processes are stopped at exit, by PID.
trap 'for _f in "$scratch"/*.bg; do [ -f "$_f" ] && kill "$(cat "$_f")" 2>/dev/null; done
cd /; rm -rf "$scratch"' EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
# bg NAME CMD...: CMD in the background, its PID in NAME.bg.
bg() {
	_n=$1
	shift
	"$@" &
	echo $! >"$_n.bg"
}
# reap NAME: waits for it; $? its exit status.
reap() {
	_p=$(cat "$1.bg")
	rm -f "$1.bg"
	wait "$_p"
}

S1=ann@agency.gov S2=ben@agency.gov S3=cid@agency.gov S4=dot@agency.gov
R=rcpt@partner.example X=xena@partner.example Y=yuri@partner.example
new_portal
for u in $S1 $S2 $S3 $S4; do add_user $u 'Kite#Zebra42x'; done
add_user $R 'Tulip&River77q'
add_user $X 'Maple@Stone31z'
add_user $Y 'Cedar!Brook55k'
for u in $S1 $S2 $S3 $S4 $R $X $Y; do
	smail-register --login --password-file pw.$u $u 2>/dev/null
done
printf 'A body for the concurrency tests\n' >body.txt

# Messages the reader loops of X and Y read over and over.
printf 'attachment for the readers\n' >reader.txt
for i in 1 2 3 4 5; do
	smail-send -u $S1 -s "For X $i" -a reader.txt -m body.txt $X >/dev/null 2>&1
	smail-send -u $S2 -s "For Y $i" -a reader.txt -m body.txt $Y >/dev/null 2>&1
done
same "X holds five messages" 5 "$(smail-inbox --user $X 2>/dev/null | wc -l | tr -d ' ')"
same "Y holds five messages" 5 "$(smail-inbox --user $Y 2>/dev/null | wc -l | tr -d ' ')"

# Four manifests of 50 lines to R; every fifth line has an attachment
# note.txt (each in its own directory) saying which line it belongs to.
n=0
for s in 1 2 3 4; do
	: >manifest.$s
	k=0
	while [ $k -lt 50 ]; do
		k=$((k + 1))
		if [ $((k % 5)) = 0 ]; then
			mkdir -p att/$s.$k
			printf 'attachment of sender %s line %s\n' $s $k >att/$s.$k/note.txt
			printf '%s\tConc %s line %s\tbody.txt\tatt/%s.%s/note.txt\n' $R $s $k $s $k
		else
			printf '%s\tConc %s line %s\tbody.txt\n' $R $s $k
		fi >>manifest.$s
	done
done

# --- readers: loops until "stop" exists; one "COMMAND STATUS" line a
# command in rN.log, stderr in rN.err ---
reader1() {
	# R's inbox while it fills, and R's newest message.
	while [ ! -e stop ]; do
		smail-inbox --user $R >r1.list 2>>r1.err
		echo "inbox $?" >>r1.log
		id=$(head -n 1 r1.list | cut -f1)
		if [ -n "$id" ]; then
			smail-fetch -u $R "$id" >r1.view 2>>r1.err
			echo "fetch $?" >>r1.log
		fi
	done
}
reader2() {
	# X: the listing, then every message.
	while [ ! -e stop ]; do
		smail-inbox --user $X >r2.list 2>>r2.err
		echo "inbox $?" >>r2.log
		cut -f1 r2.list >r2.ids
		smail-fetch -u $X - <r2.ids >r2.view 2>>r2.err
		echo "fetch $?" >>r2.log
	done
}
reader3() {
	# Y: the three newest, and an attachment of each.
	while [ ! -e stop ]; do
		smail-inbox --user $Y -n 3 >r3.list 2>>r3.err
		echo "inbox $?" >>r3.log
		for id in $(cut -f1 r3.list); do
			smail-fetch -u $Y -a reader.txt "$id" >r3.att 2>>r3.err
			echo "fetch-a $?" >>r3.log
			cmp -s r3.att reader.txt
			echo "same $?" >>r3.log
		done
	done
}

: >r1.log
: >r2.log
: >r3.log
t0=$(ms)
bg reader1 reader1
bg reader2 reader2
bg reader3 reader3
for s in 1 2 3 4; do
	eval "u=\$S$s"
	bg send$s smail-send -u "$u" -b manifest.$s >send.$s.out 2>send.$s.err
done
for s in 1 2 3 4; do
	reap send$s
	same "batch sender $s exits 0" 0 "$?"
	diag <send.$s.err
done
touch stop
for r in 1 2 3; do reap reader$r; done
echo "# four batches of 50 with three reader loops: $(( $(ms) - t0 )) ms"
for r in 1 2 3; do
	same "reader $r: every command succeeded ($(wc -l <r$r.log | tr -d ' ') commands)" "" \
		"$(grep -v ' 0$' r$r.log | sort | uniq -c)"
	check "reader $r: ran while the batches did" test -s r$r.log
	if [ -s r$r.err ]; then echo "reader $r stderr:" | diag; diag <r$r.err; fi
done

cat send.1.out send.2.out send.3.out send.4.out >printed
same "200 ids printed in all" 200 "$(wc -l <printed | tr -d ' ')"
same "each as ID<TAB>RCPT" "" "$(grep -Ev "^[A-Za-z0-9_][A-Za-z0-9_-]*	$R\$" printed)"
cut -f1 printed | sort >printed.ids
same "no id printed twice" "" "$(uniq -d printed.ids)"
run 0 "R's inbox" smail-inbox --user $R
cp out listing
same "R lists exactly the sum of the batches" 200 "$(wc -l <listing | tr -d ' ')"
same "and exactly the printed ids" "" "$(cut -f1 listing | sort | diff - printed.ids)"
same "each line once (by subject)" 200 "$(cut -f5 listing | sort -u | wc -l | tr -d ' ')"
run 0 "every printed id reads back" smail-fetch -u $R - <printed.ids
same "200 text views" 200 "$(grep -c '^Subject: Conc [1-4] line [0-9]*$' out)"
awk -F '\t' '$5 ~ / line [0-9]*[05]$/ { print $1 }' listing | sort >att.ids
same "40 of them with an attachment" 40 "$(wc -l <att.ids | tr -d ' ')"
mkdir got
run 0 "every attachment reads back" smail-fetch -u $R -a note.txt -o got - <att.ids
bad=
while IFS="$(printf '\t')" read -r id date flags from subj; do
	case $subj in *line*[05]) ;; *) continue ;; esac
	set -- $subj
	[ "$(cat "got/$id.bin" 2>/dev/null)" = "attachment of sender $2 line $4" ] ||
		bad="$bad $id"
done <listing
same "each one its own line's" "" "$bad"
run 0 "smail-admin check passes" smail-admin check

# --- a lock held past store_wait: 75, "store busy", after about 1 s ---
setcfg store_wait 1s
# The holder keeps the lock for $long s, longer than two commands take to
# start and wait their second; a refusal comes after store_wait plus the
# command's own start, at most $late ms in all.  Under valgrind a command
# needs a second or two to start: everything stretches.
long=3 late=2000 short=0.6 waited=300
slow && long=20 late=8000 short=6 waited=3000
# held: the lock is taken by someone else (flock -n cannot get it).
held() { ! flock -n "$SMAIL_DIR/lock" true; }
wait_held() {
	_i=0
	while ! held && [ $_i -lt 300 ]; do sleep 0.01; _i=$((_i + 1)); done
	held
}
bg holder flock "$SMAIL_DIR/lock" sleep $long
check "flock holds the store's lock for $long s" wait_held
t0=$(ms)
run 75 "smail-inbox cannot get the store within store_wait: 75" smail-inbox --user $R
t=$(($(ms) - t0))
err_has "saying the store is busy" 'store busy'
check "after about a second (${t} ms)" test "$t" -ge 900 -a "$t" -le "$late"
check "(the lock was held all the while)" held
t0=$(ms)
run 75 "smail-send too: 75" smail-send -u $S1 -s 'Busy' -m body.txt $R
t=$(($(ms) - t0))
err_has "saying the store is busy" 'store busy'
check "after about a second (${t} ms)" test "$t" -ge 900 -a "$t" -le "$late"
check "(the lock was held all the while)" held
reap holder
bg holder flock "$SMAIL_DIR/lock" sleep $long
check "flock holds it again" wait_held
t0=$(ms)
run 75 "smail-admin check: 75" smail-admin check
t=$(($(ms) - t0))
err_has "saying the store is busy" 'store busy'
check "after about a second (${t} ms)" test "$t" -ge 900 -a "$t" -le "$late"
t0=$(ms)
run 75 "smail-fetch: 75" smail-fetch -u $R "$(head -n 1 printed.ids)"
t=$(($(ms) - t0))
err_has "saying the store is busy" 'store busy'
check "after about a second (${t} ms)" test "$t" -ge 900 -a "$t" -le "$late"
reap holder
same "the refused send stored nothing" 200 \
	"$(smail-inbox --user $R 2>/dev/null | wc -l | tr -d ' ')"

# --- a lock held for less than store_wait: the command waits ---
slow && setcfg store_wait 30s
bg holder flock "$SMAIL_DIR/lock" sleep $short
check "flock holds the lock for $short s" wait_held
t0=$(ms)
run 0 "smail-inbox started meanwhile waits and lists" smail-inbox --user $R
t=$(($(ms) - t0))
check "it waited for the lock (${t} ms)" test "$t" -ge "$waited"
same "all 200" 200 "$(wc -l <out | tr -d ' ')"
reap holder
bg holder flock "$SMAIL_DIR/lock" sleep $short
check "flock holds the lock for $short s" wait_held
t0=$(ms)
run 0 "smail-send started meanwhile waits and sends" \
	smail-send -u $S1 -s 'Waited' -m body.txt $R
t=$(($(ms) - t0))
check "it waited for the lock (${t} ms)" test "$t" -ge "$waited"
W=$(cat out)
reap holder
run 0 "the message reads" smail-fetch -u $R "$W"
check "it is the one sent" grep -qx 'Subject: Waited' out

# --- a batch fed slowly through a pipe does not hold the store ---
gap=4
slow && gap=20
( printf '%s\tSlow 1\tbody.txt\n' $R; sleep $gap
  printf '%s\tSlow 2\tbody.txt\n' $R ) |
	smail-send -u $S1 -b - >slow.out 2>slow.err &
slowpid=$!
i=0
while [ ! -s slow.out ] && [ $i -lt $((gap * 10 - 20)) ]; do
	sleep 0.1; i=$((i + 1))
done
same "the first line's id is out before the second line comes" 1 \
	"$(wc -l <slow.out | tr -d ' ')"
run 0 "meanwhile another command gets the store at once" smail-admin list
wait $slowpid
same "the batch ends well" 0 "$?"
same "with both ids" 2 "$(wc -l <slow.out | tr -d ' ')"
run 0 "smail-admin check passes" smail-admin check
done_testing
