#!/bin/sh
# glibc-trixie-live.sh - tests/glibc-live-run.sh under Debian 13's glibc
# 2.41 (the newest layout heapgrab knows), in the root that
# scripts/glibc-roots builds (make check-glibc). Skips without the root.
HG_GLIBC_RELEASE=trixie
# shellcheck source-path=SCRIPTDIR source=glibc-live-run.sh
. "${srcdir=.}/glibc-live-run.sh"
