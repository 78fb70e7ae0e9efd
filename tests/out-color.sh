#!/bin/sh
# out-color.sh - --color=auto|always|never on text output.
#
#  - always: SGR sequences (headings bold; in a diff growth red, shrink
#    green), and removing them gives exactly the --color=never text, whose
#    numbers equal the JSON's (tests/check-text.py);
#  - auto: colour on a terminal (a pty), none into a pipe or file, none
#    with NO_COLOR set (https://no-color.org) or TERM=dumb; an explicit
#    --color=always wins over NO_COLOR; the terminal checks come last and
#    skip (77) where no pseudo-terminal can be opened;
#  - the diff's growth line is red, a shrink line green.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
require_ptrace_

ESC=$(printf '\033')
strip_() { sed "s/$ESC\\[[0-9;]*m//g" "$1"; }
has_esc_() { grep -q "$ESC\\[" "$1"; }

out_live_hook() {
	HG_OUT=watch.txt run_hg watch "$SG_PID" --interval 100ms --count 2 --color=always
	expect_rc 0 "watch --color=always"
}
grow_snapshots 500

for what in "show new.hgs" "diff old.hgs new.hgs" "diff new.hgs old.hgs"; do
	# shellcheck disable=SC2086 # a command line
	HG_OUT=always.txt run_hg $what --color=always
	expect_rc 0 "$what --color=always"
	# shellcheck disable=SC2086
	HG_OUT=never.txt run_hg $what --color=never
	expect_rc 0 "$what --color=never"
	# shellcheck disable=SC2086
	HG_OUT=auto.txt run_hg $what
	has_esc_ always.txt || fail_ "$what --color=always: no colour"
	! has_esc_ never.txt || fail_ "$what --color=never: colour"
	! has_esc_ auto.txt || fail_ "$what into a file: colour (auto)"
	strip_ always.txt > stripped.txt
	cmp stripped.txt never.txt || {
		diff stripped.txt never.txt >&2
		fail_ "$what: --color=always minus its SGR sequences is not the plain text"
	}
	cmp auto.txt never.txt || fail_ "$what: auto into a file differs from never"
done

HG_OUT=always.txt run_hg show new.hgs --color=always
strip_ always.txt > stripped.txt
"$PYTHON3" "$srcdir/check-text.py" stripped.txt new.json >&2 ||
	fail_ "coloured text (stripped) does not say what the JSON says"
grep -q "^${ESC}\\[1mkind " always.txt || fail_ "the census table heading is not bold"

HG_OUT=grow.txt run_hg diff old.hgs new.hgs --color=always
grep -q "^${ESC}\\[31m+500 chunks of 208 bytes, " grow.txt || {
	cat -v grow.txt >&2
	fail_ "the growth line is not red"
}
HG_OUT=shrink.txt run_hg diff new.hgs old.hgs --color=always
grep -q "^${ESC}\\[32m-500 chunks of 208 bytes, " shrink.txt || {
	cat -v shrink.txt >&2
	fail_ "the shrink line is not green"
}

NO_COLOR=1
export NO_COLOR
HG_OUT=always.txt run_hg show new.hgs --color=always
unset NO_COLOR
has_esc_ always.txt || fail_ "--color=always with NO_COLOR=1: no colour"

# auto on a terminal: last, it needs a pseudo-terminal (skip without one)
require_pty_
pty_ "$HG" show new.hgs > tty.txt || fail_ "show on a terminal failed"
has_esc_ tty.txt || fail_ "show on a terminal: no colour (auto)"
pty_ NO_COLOR=1 "$HG" show new.hgs > tty.txt || fail_ "show on a terminal failed"
! has_esc_ tty.txt || fail_ "NO_COLOR=1 on a terminal: colour"
pty_ TERM=dumb "$HG" show new.hgs > tty.txt || fail_ "show on a terminal failed"
! has_esc_ tty.txt || fail_ "TERM=dumb on a terminal: colour"
pty_ "$HG" show new.hgs --color=never > tty.txt || fail_ "show on a terminal failed"
! has_esc_ tty.txt || fail_ "--color=never on a terminal: colour"
