# hg_sanitizers.m4 - instrumentation for heapgrab itself, never its targets.
#
# SANITIZER_CFLAGS and SANITIZER_LDFLAGS carry every kind of instrumentation
# meant for heapgrab's own code: sanitizers (--enable-sanitizers), the
# coverage feedback a fuzzer needs (--enable-fuzzers) and gcov
# (--enable-coverage). They are applied ONLY in src/, tests/unit/ and
# tests/helper/. The fixture programs in fixtures/ must never get them:
# ASan and valgrind replace glibc's malloc, and a fixture whose heap is not a
# glibc heap has nothing for heapgrab to walk. That is also why none of this
# goes into CFLAGS.
#
#   --enable-sanitizers[=LIST]  LIST defaults to address,undefined; every
#                               sanitizer is fatal (-fno-sanitize-recover=all)
#   --enable-fuzzers            clang only; builds tests/fuzz (ENABLE_FUZZERS),
#                               FUZZER_CFLAGS/FUZZER_LDFLAGS = -fsanitize=fuzzer,
#                               and instruments heapgrab with fuzzer-no-link
#                               (implies --enable-sanitizers if not given)
#   --enable-coverage           gcov; CFLAGS default to -g -O0; see
#                               `make coverage`

# HG_CHECK_LINK_FLAGS(CFLAGS, LDFLAGS, PROGRAM, IF-OK, IF-NOT)
AC_DEFUN([HG_CHECK_LINK_FLAGS],
[hg_save_CFLAGS=$CFLAGS
hg_save_LDFLAGS=$LDFLAGS
CFLAGS="$CFLAGS $1"
LDFLAGS="$LDFLAGS $2"
AC_LINK_IFELSE([$3], [$4], [$5])
CFLAGS=$hg_save_CFLAGS
LDFLAGS=$hg_save_LDFLAGS
])

# HG_COVERAGE_ARG: must be expanded before AC_PROG_CC, which picks the
# default CFLAGS.
AC_DEFUN([HG_COVERAGE_ARG],
[AC_BEFORE([$0], [AC_PROG_CC])dnl
AC_ARG_ENABLE([coverage],
	[AS_HELP_STRING([--enable-coverage],
		[instrument heapgrab with gcov (default CFLAGS become -g -O0)])],
	[AS_CASE([$enableval], [yes|no], [],
		[AC_MSG_ERROR([bad value '$enableval' for --enable-coverage])])],
	[enable_coverage=no])
AS_IF([test "x$enable_coverage" = xyes && test "x${CFLAGS+set}" != xset],
	[CFLAGS="-g -O0"])
])

AC_DEFUN([HG_SANITIZERS],
[AC_REQUIRE([AC_PROG_CC])dnl
AC_REQUIRE([HG_COVERAGE_ARG])dnl
AC_ARG_ENABLE([sanitizers],
	[AS_HELP_STRING([--enable-sanitizers@<:@=LIST@:>@],
		[build heapgrab (never the fixtures) with -fsanitize=LIST
		 @<:@default LIST: address,undefined@:>@])],
	[], [enable_sanitizers=no])
AC_ARG_ENABLE([fuzzers],
	[AS_HELP_STRING([--enable-fuzzers],
		[build the libFuzzer targets in tests/fuzz (clang only)])],
	[AS_CASE([$enableval], [yes|no], [],
		[AC_MSG_ERROR([bad value '$enableval' for --enable-fuzzers])])],
	[enable_fuzzers=no])

AS_IF([test "x$enable_fuzzers" = xyes && test "x$enable_sanitizers" = xno],
	[enable_sanitizers=yes])
AS_CASE([$enable_sanitizers],
	[no], [hg_sanitize=],
	[yes], [hg_sanitize=address,undefined],
	[*[[!a-z,]]*|,*|*,|*,,*],
		[AC_MSG_ERROR([bad sanitizer list '$enable_sanitizers' (example: address,undefined)])],
	[hg_sanitize=$enable_sanitizers])

SANITIZER_CFLAGS=
SANITIZER_LDFLAGS=
AS_IF([test -n "$hg_sanitize"], [
	hg_cflags="-fsanitize=$hg_sanitize -fno-sanitize-recover=all -fno-omit-frame-pointer"
	hg_ldflags="-fsanitize=$hg_sanitize"
	AC_MSG_CHECKING([whether $CC can build with -fsanitize=$hg_sanitize])
	HG_CHECK_LINK_FLAGS([$hg_cflags], [$hg_ldflags],
		[AC_LANG_PROGRAM([[#include <stdlib.h>]],
			[[char *p = malloc(4); free(p); return p == 0;]])],
		[AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$CC cannot link with -fsanitize=$hg_sanitize; for gcc install the libasan/libubsan runtimes (Debian: gcc pulls them in through libgcc-12-dev), for clang install libclang-rt-14-dev])])
	SANITIZER_CFLAGS=$hg_cflags
	SANITIZER_LDFLAGS=$hg_ldflags
])

FUZZER_CFLAGS=
FUZZER_LDFLAGS=
AS_IF([test "x$enable_fuzzers" = xyes], [
	AC_MSG_CHECKING([whether $CC is clang])
	AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#ifndef __clang__
#error not clang
#endif
]], [[]])], [AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([--enable-fuzzers needs clang: run configure with CC=clang])])
	AC_MSG_CHECKING([whether $CC can link a libFuzzer target])
	HG_CHECK_LINK_FLAGS([-fsanitize=fuzzer], [-fsanitize=fuzzer],
		[AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return size > 0 && data[0] == 'x';
}
]])],
		[AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$CC cannot link with -fsanitize=fuzzer; install libclang-rt-14-dev])])
	SANITIZER_CFLAGS="$SANITIZER_CFLAGS -fsanitize=fuzzer-no-link"
	FUZZER_CFLAGS="-fsanitize=fuzzer"
	FUZZER_LDFLAGS="-fsanitize=fuzzer"
])
AM_CONDITIONAL([ENABLE_FUZZERS], [test "x$enable_fuzzers" = xyes])

COVERAGE_CFLAGS=
COVERAGE_LDFLAGS=
AS_IF([test "x$enable_coverage" = xyes], [
	AC_CHECK_PROG([GCOV], [gcov], [gcov])
	AS_IF([test -z "$GCOV"],
		[AC_MSG_ERROR([--enable-coverage needs gcov (Debian package: gcc)])])
	AC_MSG_CHECKING([whether $CC can build with --coverage])
	HG_CHECK_LINK_FLAGS([--coverage], [--coverage],
		[AC_LANG_PROGRAM([[]], [[]])],
		[AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no])
		 AC_MSG_ERROR([$CC cannot build with --coverage])])
	COVERAGE_CFLAGS=--coverage
	COVERAGE_LDFLAGS=--coverage
	SANITIZER_CFLAGS="$SANITIZER_CFLAGS $COVERAGE_CFLAGS"
	SANITIZER_LDFLAGS="$SANITIZER_LDFLAGS $COVERAGE_LDFLAGS"
])
AM_CONDITIONAL([ENABLE_COVERAGE], [test "x$enable_coverage" = xyes])

AC_SUBST([SANITIZER_CFLAGS])
AC_SUBST([SANITIZER_LDFLAGS])
AC_SUBST([FUZZER_CFLAGS])
AC_SUBST([FUZZER_LDFLAGS])
AC_SUBST([COVERAGE_CFLAGS])
AC_SUBST([COVERAGE_LDFLAGS])
])
