#!/bin/sh
# out-completion.sh - the bash completion (completion/heapgrab) agrees
# with heapgrab itself (it asks the heapgrab being completed, here the
# build's: `heapgrab --completion-helper`, made from the option tables).
#
#  - the commands offered are the ones `heapgrab --help` lists;
#  - for each command, every long option its --help synopsis shows is
#    offered, and every option offered is accepted by heapgrab (with the
#    first value the completion offers for it, if it takes one);
#  - --format offers exactly the formats heapgrab's own error message
#    lists for that command, also in the --format=VALUE form;
#  - attach/watch offer the ids of processes the user may trace: a child
#    of this test, not a kernel thread; run as nobody, not root's
#    processes but nobody's own;
#  - files are completed whole, spaces included.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
command -v bash > /dev/null 2>&1 || skip_ "bash not installed"
COMP=$srcdir/../completion/heapgrab
[ -r "$COMP" ] || framework_failure_ "no $COMP"

# comp heapgrab WORD... : what completing the last WORD offers, sorted,
# one a line; the first word is the build's heapgrab.
comp() {
	shift
	# shellcheck disable=SC2016 # for the inner bash
	bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_heapgrab
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' \
		comp "$COMP" "$HG" "$@" | LC_ALL=C sort
}

mkdir -p snapdir	# a directory for the options that take one
run_hg --help
sed -n '/^Commands:/,/^$/p' hg.out | awk 'NR > 1 && NF { print $1 }' | LC_ALL=C sort > commands
[ -s commands ] || fail_ "no commands in heapgrab --help"
comp heapgrab '' | grep -v '^--' > offered
cmp commands offered || {
	diff commands offered >&2
	fail_ "the commands offered are not the ones heapgrab --help lists"
}

while read -r cmd; do
	run_hg "$cmd" --help
	expect_rc 0 "heapgrab $cmd --help"
	grep -oE -- '--[a-z][a-z-]*' hg.out | LC_ALL=C sort -u > "usage.$cmd"
	comp heapgrab "$cmd" - > "opts.$cmd"
	missing=$(LC_ALL=C comm -23 "usage.$cmd" "opts.$cmd")
	[ -z "$missing" ] || fail_ "$cmd: options not completed: $missing"
	while read -r opt; do
		val=$(comp heapgrab "$cmd" "$opt" '' | head -n 1)
		case $opt in
		--top|--retries|--count|--max-new|--pad|--timeout) val=1 ;;
		esac
		# shellcheck disable=SC2086 # val is empty or one word
		run_hg "$cmd" "$opt" $val --help
		[ "$hg_rc" -eq 0 ] || fail_ "completion offers '$cmd $opt $val', heapgrab refuses it: $(cat hg.err)"
	done < "opts.$cmd"

	# serve has no --format (its formats are HTTP paths)
	grep -qx -- --format "usage.$cmd" || continue
	run_hg "$cmd" --format bogus
	expect_rc 64 "heapgrab $cmd --format bogus"
	sed -n "s/.*unknown format 'bogus' (\\(.*\\)).*/\\1/p" hg.err | tr -d ' ' | tr , '\n' |
		LC_ALL=C sort > "formats.$cmd"
	[ -s "formats.$cmd" ] || fail_ "$cmd: no format list in: $(cat hg.err)"
	comp heapgrab "$cmd" --format '' > offered
	cmp "formats.$cmd" offered || fail_ "$cmd --format: offers $(tr '\n' ' ' < offered)"
	comp heapgrab "$cmd" --format = '' > offered
	cmp "formats.$cmd" offered || fail_ "$cmd --format=: offers $(tr '\n' ' ' < offered)"
done < commands
[ "$(comp heapgrab show --format = p)" = pprof ] || fail_ "--format=p does not complete to pprof"

sleep 60 &
sleeper=$!
bg_all_="$bg_all_ $sleeper"
comp heapgrab attach '' > pids
# operands, counted past option values: why's first is ADDR (nothing)
[ -z "$(comp heapgrab why --format json '')" ] || fail_ "why offers something for ADDR"
comp heapgrab why --format json 0x10 '' | grep -qx "$sleeper" ||
	fail_ "why does not offer a pid after ADDR"
comp heapgrab leaks --top 3 '' | grep -qx "$sleeper" || fail_ "leaks --top 3: no pid offered"
[ "$(comp heapgrab attach --fork = '')" = auto ] || fail_ "--fork= does not offer auto"
comp heapgrab attach --fork '' | grep -qx "$sleeper" || fail_ "attach --fork: no pid offered"
grep -qx "$sleeper" pids || fail_ "attach does not offer the pid of a child ($sleeper)"
comp heapgrab diff '' | grep -qx "$sleeper" || fail_ "diff does not offer the pid of a child"
if [ "$(cat /proc/2/comm 2> /dev/null)" = kthreadd ] && grep -qx 2 pids; then
	fail_ "attach offers a kernel thread (2, kthreadd)"
fi
as_nobody_() { setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null 2>&1 && id nobody > /dev/null 2>&1 &&
	! as_nobody_ test -r "$COMP" -a -x "$HG"; then
	# a tree checked out under a private directory (mktemp -d is 0700)
	log_ "as nobody: not checked: nobody cannot read $COMP or run $HG"
elif [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null 2>&1 && id nobody > /dev/null 2>&1; then
	setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups sleep 60 &
	nob=$!
	bg_all_="$bg_all_ $nob"
	for _ in $(seq 1 100); do
		[ "$(cat "/proc/$nob/comm" 2> /dev/null)" = sleep ] && break
		sleep 0.05
	done
	[ "$(proc_field_ "$nob" Uid)" = "$(id -u nobody)" ] ||
		framework_failure_ "cannot start a process as nobody"
	# shellcheck disable=SC2016
	setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups bash -c '. "$1"
		COMP_WORDS=("$2" attach ""); COMP_CWORD=2; _heapgrab
		printf "%s\n" "${COMPREPLY[@]}"' as-nobody "$COMP" "$HG" > nobody.pids
	grep -qx "$nob" nobody.pids || fail_ "as nobody: its own process $nob is not offered"
	! grep -qx "$sleeper" nobody.pids || fail_ "as nobody: root's process $sleeper is offered"
	log_ "as nobody: $(wc -l < nobody.pids) pids offered, its own included, root's not"
fi

: > 'my snap.hgs'
[ "$(comp heapgrab show my)" = 'my snap.hgs' ] ||
	fail_ "show does not complete 'my snap.hgs' whole: $(comp heapgrab show my)"
[ "$(comp heapgrab watch -o snapd)" = snapdir ] || fail_ "watch -o does not complete a directory"
