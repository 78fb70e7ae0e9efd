# shellcheck shell=sh
# real-interp-lib.sh - start an interpreter on a driver script and wait
# until it has built its heap (sourced by tests/real-lua.sh,
# tests/real-python.sh and bench/typing-real-interp.sh).
#
#   real_start OUT CMD [ARGS...]   runs CMD with its standard input on a
#                                  fifo this shell holds open and its
#                                  output in OUT; waits (REAL_TIMEOUT s,
#                                  default 120) for a line "ready" in
#                                  OUT; sets REAL_PID. Returns 1 when the
#                                  program exits or times out first.
#   real_stop                      closes the fifo (the driver's read
#                                  ends, so it exits) and waits for it;
#                                  returns its exit status.
#   real_gate WHAT                 skips the test unless HG_REAL_TESTS=1
#                                  (the CI sets it in one build flavour
#                                  only: each real interpreter costs
#                                  5-10 s, more under ASan).
#
# The drivers (real-lua.lua, real-python.py) print their own counts before
# "ready" and then block reading standard input: between the two, their
# heap does not change.

real_gate() {
	[ "${HG_REAL_TESTS:-}" = 1 ] ||
		skip_ "set HG_REAL_TESTS=1 to run it ($1; 5-10 s)"
}

real_start() {
	real_out_=$1
	shift
	real_fifo_=$real_out_.fifo
	rm -f "$real_fifo_" "$real_out_"
	mkfifo "$real_fifo_" || return 1
	"$@" < "$real_fifo_" > "$real_out_" 2>&1 &
	REAL_PID=$!
	# opening the writer end lets the program's open of the reader end
	# return
	exec 9> "$real_fifo_"
	real_t_=0
	while ! grep -q '^ready$' "$real_out_" 2> /dev/null; do
		if ! kill -0 "$REAL_PID" 2> /dev/null ||
		   [ "$real_t_" -ge "$((${REAL_TIMEOUT:-120} * 10))" ]; then
			real_stop
			return 1
		fi
		sleep 0.1
		real_t_=$((real_t_ + 1))
	done
	return 0
}

real_stop() {
	exec 9>&-
	rm -f "$real_fifo_"
	real_rc_=0
	wait "$REAL_PID" 2> /dev/null || real_rc_=$?
	return "$real_rc_"
}

# real_debug_file BIN: the separate debug file of BIN by build-id under
# /usr/lib/debug, or nothing.
real_debug_file() {
	real_bid_=$(readelf -n "$1" 2> /dev/null | awk '/Build ID:/ { print $3; exit }')
	[ -n "$real_bid_" ] || return 0
	real_f_=/usr/lib/debug/.build-id/$(printf '%s' "$real_bid_" | cut -c1-2)/$(printf '%s' "$real_bid_" | cut -c3-).debug
	[ -r "$real_f_" ] && printf '%s\n' "$real_f_"
	return 0
}
