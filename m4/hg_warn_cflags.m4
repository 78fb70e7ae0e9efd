# hg_warn_cflags.m4 - heapgrab's warning list, probed flag by flag.
#
# Every flag is tried alone with -Werror on a trivial program, so a flag the
# compiler does not know (clang has no -Wlogical-op, -Wduplicated-cond,
# -Wjump-misses-init, ...) is dropped instead of turning into an
# "unknown warning option" diagnostic in every compile. The result is
# WARN_CFLAGS, which every Makefile.am puts in AM_CFLAGS; it never goes into
# CFLAGS, so configure's own probes are not affected by it.
#
# The list follows STYLE.md section 12 (the minimum) plus the stricter parts
# of elfutils' config/eu.am and git's config.mak.dev. Flags that were left
# out on purpose, and why:
#   -Wjump-misses-init  fires on every "goto out" that skips a declaration
#                       with an initialiser; heapgrab uses goto cleanup.
#   -Wconversion        thousands of false alarms on size arithmetic that is
#                       already range-checked with st_add/st_mult.
#   -Wcast-qual         libdw and capstone APIs take non-const pointers.
#   -Wformat-signedness too noisy for printf of enum and bit-field values.
#   -Wmissing-format-attribute  gcc-only; clang's -Wformat-nonliteral (in
#                       -Wformat=2) already demands ATTR_FORMAT(n, 0) on
#                       every va_list printf wrapper, so CI catches it.
#
# --enable-werror appends -Werror. CI turns it on; release tarballs leave it
# off so a newer compiler with new warnings does not break a user's build.

# HG_WARN_ADD(FLAG, [VARIABLE = WARN_CFLAGS])
# Append FLAG to VARIABLE if the C compiler accepts it without a diagnostic.
AC_DEFUN([HG_WARN_ADD],
[AS_VAR_PUSHDEF([hg_cv], [hg_cv_warn_$1])dnl
AC_CACHE_CHECK([whether $CC accepts $1], [hg_cv],
	[hg_save_CFLAGS=$CFLAGS
	 CFLAGS="$CFLAGS -Werror $1"
	 AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[]], [[]])],
		[AS_VAR_SET([hg_cv], [yes])], [AS_VAR_SET([hg_cv], [no])])
	 CFLAGS=$hg_save_CFLAGS])
AS_VAR_IF([hg_cv], [yes],
	[m4_default([$2], [WARN_CFLAGS])="$m4_default([$2], [WARN_CFLAGS]) $1"])
AS_VAR_POPDEF([hg_cv])dnl
])

# HG_WARN_CFLAGS: fill and AC_SUBST WARN_CFLAGS; handle --enable-werror.
AC_DEFUN([HG_WARN_CFLAGS],
[AC_REQUIRE([AC_PROG_CC])dnl
AC_ARG_ENABLE([werror],
	[AS_HELP_STRING([--enable-werror],
		[treat compiler warnings as errors (CI turns this on)])],
	[AS_CASE([$enableval], [yes|no], [],
		[AC_MSG_ERROR([bad value '$enableval' for --enable-werror])])],
	[enable_werror=no])

WARN_CFLAGS=
AC_LANG_PUSH([C])
m4_foreach_w([hg_flag], [
	-Wall
	-Wextra
	-Wshadow
	-Wformat=2
	-Wformat-security
	-Wstrict-prototypes
	-Wmissing-prototypes
	-Wold-style-definition
	-Wwrite-strings
	-Wpointer-arith
	-Wvla
	-Wundef
	-Wnull-dereference
	-Wlogical-op
	-Wduplicated-cond
	-Wduplicated-branches
	-Winit-self
	-Wnested-externs
	-Wredundant-decls
	-Wrestrict
	-Wtrampolines
	-Walloca
	-Wshift-overflow=2
	-Wdate-time
	-fno-common
], [HG_WARN_ADD(hg_flag)])

# gcc's level 5 accepts only __attribute__((fallthrough)), which is also the
# only form clang understands: the same code is then clean with both.
HG_WARN_ADD([-Wimplicit-fallthrough=5])
AS_CASE([" $WARN_CFLAGS "], [*" -Wimplicit-fallthrough=5 "*], [],
	[HG_WARN_ADD([-Wimplicit-fallthrough])])
AC_LANG_POP([C])

AS_IF([test "x$enable_werror" = xyes],
	[WARN_CFLAGS="$WARN_CFLAGS -Werror"])
AC_MSG_CHECKING([for warning flags])
AC_MSG_RESULT([$WARN_CFLAGS])
AC_SUBST([WARN_CFLAGS])
])
