#!/bin/sh
# live-corrupt.sh - a damaged chunk header is reported and the walk goes on.
#
# fx-corrupt overwrites the size field of an in-use chunk in the middle of
# the main heap (--mode zero, huge, misaligned), or of thread 0's arena
# (--where thread).  For each:
#  - heapgrab attach --format json exits 1 (output with warnings);
#  - stderr: every line starts "heapgrab: ", exactly one line names the
#    damaged chunk's header address (the "corrupt" note; the user pointer
#    is 16 bytes further), and that line is a "heapgrab: warning:" line;
#  - the JSON is complete (every field), "warnings" >= 1, all 3 arenas are
#    listed, the 74 marker chunks of the thread arenas are counted (and,
#    with --where thread, the main arena's 20 marker chunks);
#  - the target is untouched and its own checks pass (it restores the size
#    field first).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

lower() { tr 'A-F' 'a-f'; }

one_case() {
	tag=$1
	shift
	start_fixture fx-corrupt "$@"
	chunk=$(fx_note_ corrupt)
	mem=$(fx_note_ corrupt_mem)
	HG_OUT=$tag.json HG_ERR=$tag.err run_hg attach "$FX_PID" --format json
	sed 's/^/    /' "$tag.err" >&2
	HG_ERR=$tag.err expect_rc 1 "fx-corrupt $*"
	check_untouched "$FX_PID"

	if grep -v '^heapgrab: ' "$tag.err" | grep -q .; then
		fail_ "fx-corrupt $*: stderr has lines not starting 'heapgrab: '"
	fi
	# Addresses may be printed with or without leading zeros.
	pat=$(printf '%s' "$chunk" | lower | sed 's/^0x0*/0x0*/')
	mpat=$(printf '%s' "$mem" | lower | sed 's/^0x0*/0x0*/')
	n=$(lower < "$tag.err" | grep -Ec "$pat([^0-9a-f]|\$)") || :
	if [ "$n" -ne 1 ]; then
		if lower < "$tag.err" | grep -Eq "$mpat([^0-9a-f]|\$)"; then
			fail_ "fx-corrupt $*: the warning names the user pointer $mem, not the chunk $chunk"
		fi
		fail_ "fx-corrupt $*: expected one stderr line naming chunk $chunk, got $n"
	fi
	lower < "$tag.err" | grep -E "$pat([^0-9a-f]|\$)" | grep -q '^heapgrab: warning:' ||
		fail_ "fx-corrupt $*: the line naming $chunk is not a 'heapgrab: warning:'"

	where=main
	case " $* " in *" --where thread "*) where=thread ;; esac
	"$PYTHON3" "$srcdir/check-census.py" corrupt "$tag.json" --stderr "$tag.err" \
		--ready "$FX_READY" --where "$where" ||
		fail_ "fx-corrupt $*: census incomplete"
	finish_fixture
}

one_case zero --mode zero
one_case huge --mode huge
one_case misaligned --mode misaligned
one_case thread --mode zero --where thread
