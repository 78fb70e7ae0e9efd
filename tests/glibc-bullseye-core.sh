#!/bin/sh
# glibc-bullseye-core.sh - tests/glibc-core-run.sh (gcore and kernel core of a
# chrooted fixture, read with heapgrab core --sysroot) under Debian 11's glibc 2.31,
# in the root that scripts/glibc-roots builds (make check-glibc). Skips
# without the root.
HG_GLIBC_RELEASE=bullseye
# shellcheck source-path=SCRIPTDIR source=glibc-core-run.sh
. "${srcdir=.}/glibc-core-run.sh"
