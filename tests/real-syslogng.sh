#!/bin/sh
# real-syslogng.sh - typing a real program: syslog-ng with 50,000 messages queued to a dead TCP destination:
# one LogMessage chunk per queued message and the stats clusters, as
# syslog-ng-ctl stats counts them.
# At least 90% of the live bytes typed, the counts within 2%
# (tests/real-lib.sh; runs with HG_REAL_TESTS=1).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-lib.sh
. "$srcdir/real-lib.sh"
real_test syslogng
