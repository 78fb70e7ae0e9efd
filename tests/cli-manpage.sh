#!/bin/sh
# cli-manpage.sh - --help and the man page agree.
#
# Every long option --help prints appears in doc/heapgrab.1, both commands
# have a section there, and the EXIT STATUS section lists 0, 1, 2, 3 and 64.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
man=$srcdir/../doc/heapgrab.1
[ -f "$man" ] || fail_ "no man page at doc/heapgrab.1"
[ -s "$man" ] || fail_ "doc/heapgrab.1 is empty"
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$man" > man.txt

run_hg --help
expect_rc 0 "heapgrab --help"
grep -oE -- '--[a-z][a-z-]*' hg.out | sort -u > help-options
[ -s help-options ] || fail_ "heapgrab --help lists no long option"
while read -r opt; do
	grep -q -- "$opt" man.txt || fail_ "$opt is in --help but not in the man page"
done < help-options
for cmd in attach core; do
	grep -q "heapgrab $cmd\|^$cmd\|\"$cmd\"\|^\.B $cmd" man.txt ||
		fail_ "the man page does not describe 'heapgrab $cmd'"
done
sed -n '/^\.SH.*EXIT/,/^\.SH/p' man.txt > exit-status
[ -s exit-status ] || fail_ "the man page has no EXIT STATUS section"
for st in 0 1 2 3 64; do
	grep -Eq "(^|[^0-9])$st([^0-9]|\$)" exit-status ||
		fail_ "EXIT STATUS does not list $st"
done
