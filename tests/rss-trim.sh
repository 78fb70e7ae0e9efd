#!/bin/sh
# rss-trim.sh - tests/rss-trim-run.sh under this machine's glibc.
HG_GLIBC_RELEASE=
# shellcheck source-path=SCRIPTDIR source=rss-trim-run.sh
. "${srcdir=.}/rss-trim-run.sh"
