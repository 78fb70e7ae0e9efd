#!/bin/sh
# cli-usage.sh - usage errors exit 64; --help and --version exit 0.
#
# Each bad command line: status 64, nothing on stdout, stderr starts with a
# "heapgrab: " line (a second "Try 'heapgrab --help'" line is allowed, no
# more).  --help/-h: status 0, the synopsis of both commands and every
# attach option on stdout, nothing on stderr.  --version: status 0,
# "heapgrab" and a version number.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"

usage_case() {
	run_hg "$@"
	expect_rc 64 "heapgrab $*"
	expect_empty hg.out "stdout of heapgrab $*"
	n=$(wc -l < hg.err)
	head -n 1 hg.err | grep -q '^heapgrab: ' || {
		sed 's/^/    /' hg.err >&2
		fail_ "heapgrab $*: stderr does not start with 'heapgrab: '"
	}
	if [ "$n" -eq 2 ]; then
		sed -n 2p hg.err | grep -qi 'heapgrab --help' || {
			sed 's/^/    /' hg.err >&2
			fail_ "heapgrab $*: the second stderr line is not a --help hint"
		}
	elif [ "$n" -ne 1 ]; then
		sed 's/^/    /' hg.err >&2
		fail_ "heapgrab $*: $n lines on stderr (want 1, or 2 with a --help hint)"
	fi
}

usage_case
usage_case frobnicate
usage_case --bogus
usage_case attach
usage_case attach abc
usage_case attach 12abc
usage_case attach 0
usage_case attach -5
usage_case attach 99999999999999999999
usage_case attach 1 2
usage_case attach 1 --bogus
usage_case attach 1 --format
usage_case attach 1 --format xml
usage_case attach 1 --retries
usage_case attach 1 --retries x
usage_case attach 1 --retries -1
usage_case attach 1 -o
usage_case attach 1 --debug-dir
usage_case core
usage_case core a b
# every command: an unknown option, a missing value, a value on a flag,
# an ambiguous prefix, a format it does not offer (trim too)
for cmd in attach core show diff watch leaks why top trim; do
	usage_case "$cmd" --bogus 1
	usage_case "$cmd" 1 --format
	usage_case "$cmd" --verbose=1 1
	usage_case "$cmd" --format bogus 1
done
usage_case trim --format csv 1
usage_case diff --n a b		# --new or --no-debug-info
usage_case attach --quiet=yes 1
usage_case --completion-helper attach core
usage_case --completion-helper frob

for h in --help -h; do
	run_hg $h
	expect_rc 0 "heapgrab $h"
	expect_empty hg.err "stderr of heapgrab $h"
	for word in attach core --format --debug-dir --no-debug-info --retries \
		--exe --sysroot --help --version; do
		grep -q -- "$word" hg.out ||
			fail_ "heapgrab $h does not mention $word"
	done
done

# the parser's syntax: "--" ends the options, prefixes, --opt=value,
# options after operands; all before any work (a bad PID still wins)
run_hg attach --form=json -- 0
expect_rc 64 "attach --form=json -- 0"
grep -q "'0' is not a process id" hg.err || fail_ "attach -- 0: $(cat hg.err)"
run_hg attach 0 --he
expect_rc 0 "attach 0 --he (a prefix of --help)"
grep -q '^usage: heapgrab attach ' hg.out || fail_ "attach --he: no synopsis"
run_hg --completion-helper
expect_rc 0 "heapgrab --completion-helper"
[ "$(wc -l < hg.out)" -ge 9 ] || fail_ "--completion-helper lists $(wc -l < hg.out) commands"

run_hg --version
expect_rc 0 "heapgrab --version"
expect_empty hg.err "stderr of heapgrab --version"
grep -Eq 'heapgrab.*[0-9]+\.[0-9]+' hg.out ||
	fail_ "heapgrab --version: no 'heapgrab' and version: $(cat hg.out)"
