#!/bin/sh
# real-cupt.sh - typing a real program: cupt (C++ on std containers) after `show bash`: its
# record of each installed package, against dpkg's status file.
# At least 90% of the live bytes typed, the counts within 2%
# (tests/real-lib.sh; runs with HG_REAL_TESTS=1).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-lib.sh
. "$srcdir/real-lib.sh"
real_test cupt
