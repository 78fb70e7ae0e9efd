#!/bin/sh
# glibc-bullseye-live.sh - tests/glibc-live-run.sh under Debian 11's glibc
# 2.31 (no safe-linking, tcache key = the tcache struct), in the root that
# scripts/glibc-roots builds (make check-glibc). Skips without the root.
HG_GLIBC_RELEASE=bullseye
# shellcheck source-path=SCRIPTDIR source=glibc-live-run.sh
. "${srcdir=.}/glibc-live-run.sh"
