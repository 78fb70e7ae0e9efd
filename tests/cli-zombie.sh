#!/bin/sh
# cli-zombie.sh - the target has exited but is not reaped yet (a zombie):
# heapgrab attach must exit 2 with one line saying the process exited (or
# is a zombie), print nothing on stdout, and not hang.  (PTRACE_SEIZE on a
# zombie fails with EPERM, which must not be reported as "not permitted".)
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

"$PYTHON3" -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
' > zombie.pid &
parent=$!
bg_all_="$bg_all_ $parent"
for _ in $(seq 100); do
	[ -s zombie.pid ] && break
	sleep 0.05
done
zombie=$(cat zombie.pid)
for _ in $(seq 100); do
	[ "$(proc_field_ "$zombie" State)" = Z ] && break
	sleep 0.05
done
[ "$(proc_field_ "$zombie" State)" = Z ] ||
	framework_failure_ "no zombie: $zombie is $(proc_field_ "$zombie" State)"
run_hg attach "$zombie"
expect_rc 2 "heapgrab attach on a zombie"
expect_one_error "exited|zombie" "heapgrab attach on a zombie"
expect_empty hg.out "stdout of heapgrab attach on a zombie"
kill "$parent"

