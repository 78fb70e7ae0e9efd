#!/bin/sh
# rss-trixie.sh - tests/rss-trim-run.sh under Debian 13's glibc 2.41, in
# the root that scripts/glibc-roots builds (make check-glibc). Skips
# without the root.
HG_GLIBC_RELEASE=trixie
# shellcheck source-path=SCRIPTDIR source=rss-trim-run.sh
. "${srcdir=.}/rss-trim-run.sh"
