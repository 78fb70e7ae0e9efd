#!/bin/sh
# cli-manpage.sh - --help and the man page agree.
#
# Every long option --help prints appears in doc/heapgrab.1, and so does
# every long option of every `heapgrab COMMAND --help`; the man page's
# SYNOPSIS of each command, rendered as troff sets it ([--format
# text|json] from a .RB and an .IR line), is word for word the synopsis
# `heapgrab COMMAND --help` prints (made from the command's option table);
# each command --help lists has a section; the EXIT STATUS section lists
# 0, 1, 2, 3 and 64.
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
sed -n '/^Commands:/,/^$/p' hg.out | awk 'NR > 1 && NF { print $1 }' > commands
[ "$(wc -l < commands)" -ge 9 ] || fail_ "heapgrab --help lists $(wc -l < commands) commands"

# The SYNOPSIS section as troff sets it, one line per command: "NAME
# WORDS" (.B/.I: one word; .RB, .IR ...: their words joined).
"$PYTHON3" - "$man" > man-synopsis <<'EOF'
import re, shlex, sys
text = open(sys.argv[1]).read()
syn = text[text.index(".SH SYNOPSIS"):text.index(".SH DESCRIPTION")]
out, cur = {}, None
for line in syn.splitlines():
    if line.startswith(".B heapgrab ") and len(line.split()) == 3:
        cur = line.split()[2]
        out[cur] = []
    elif cur is None or line.startswith(".br"):
        cur = None
    else:
        m = re.match(r"^\.(RB|IR|BR|RI|BI|IB|B|I)\s+(.*)$", line)
        if not m:
            continue
        words = m.group(2).replace("\\-", "-")
        out[cur].append(words if m.group(1) in ("B", "I") else "".join(shlex.split(words)))
for name, words in out.items():
    print(name, " ".join(words))
EOF
while read -r cmd; do
	grep -q "^\.SS heapgrab $cmd" "$man" || fail_ "the man page has no section 'heapgrab $cmd'"
	run_hg "$cmd" --help
	expect_rc 0 "heapgrab $cmd --help"
	help=$(grep -v '^ *(' hg.out | tr -s ' \n' '  ' | sed "s/^usage: heapgrab //; s/ *\$//")
	man_syn=$(grep "^$cmd " man-synopsis)
	[ -n "$man_syn" ] || fail_ "the man page SYNOPSIS has no 'heapgrab $cmd'"
	[ "$help" = "$man_syn" ] || {
		printf '  --help: %s\n  man:    %s\n' "$help" "$man_syn" >&2
		fail_ "heapgrab $cmd: the man page SYNOPSIS is not what --help prints"
	}
	grep -oE -- '--[a-z][a-z-]*' hg.out | sort -u > "options.$cmd"
	while read -r opt; do
		grep -q -- "$opt" man.txt || fail_ "$cmd $opt is in --help but not in the man page"
	done < "options.$cmd"
done < commands
sed -n '/^\.SH.*EXIT/,/^\.SH/p' man.txt > exit-status
[ -s exit-status ] || fail_ "the man page has no EXIT STATUS section"
for st in 0 1 2 3 64; do
	grep -Eq "(^|[^0-9])$st([^0-9]|\$)" exit-status ||
		fail_ "EXIT STATUS does not list $st"
done
