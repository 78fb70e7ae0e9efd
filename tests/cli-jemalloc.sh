#!/bin/sh
# cli-jemalloc.sh - malloc is not glibc's: fx-messy with libjemalloc.so.2
# preloaded.  heapgrab must exit 2 with one line saying the malloc is not
# glibc's (naming jemalloc), nothing on stdout, target untouched.  Skips
# when libjemalloc.so.2 is not installed (Debian: libjemalloc2).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
if [ -z "$JEMALLOC_SO" ] || [ ! -f "$JEMALLOC_SO" ]; then
	for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		[ -f "$d/libjemalloc.so.2" ] && JEMALLOC_SO=$d/libjemalloc.so.2 && break
	done
fi
if [ -z "$JEMALLOC_SO" ] || [ ! -f "$JEMALLOC_SO" ]; then
	skip_ "libjemalloc.so.2 not installed (Debian: apt-get install libjemalloc2)"
fi

LD_PRELOAD=$JEMALLOC_SO
export LD_PRELOAD
start_fixture fx-messy --threads 1 --big-mib 0
unset LD_PRELOAD
grep -q jemalloc "/proc/$FX_PID/maps" ||
	framework_failure_ "jemalloc is not mapped in the fixture"

run_hg attach "$FX_PID"
expect_rc 2 "heapgrab attach on a jemalloc program"
expect_one_error "not glibc.*jemalloc|jemalloc.*not glibc" "heapgrab attach on a jemalloc program"
expect_empty hg.out "stdout of heapgrab attach on a jemalloc program"
check_untouched "$FX_PID"
finish_fixture
