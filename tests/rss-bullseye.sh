#!/bin/sh
# rss-bullseye.sh - tests/rss-trim-run.sh under Debian 11's glibc 2.31, in
# the root that scripts/glibc-roots builds (make check-glibc). Skips
# without the root.
HG_GLIBC_RELEASE=bullseye
# shellcheck source-path=SCRIPTDIR source=rss-trim-run.sh
. "${srcdir=.}/rss-trim-run.sh"
