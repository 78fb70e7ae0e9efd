/*
 * errors.h - heapgrab's error codes and the CLI message helpers.
 *
 * Library functions return 0 on success or a negative code: -errno for OS
 * failures, or -HG_E_* (all above MAX_ERRNO = 4095) for heapgrab's own.
 * hg_strerror() turns either into a message. The codes come from one X-macro
 * list so the enum and the messages cannot drift apart.
 *
 * error_msg() and friends print "heapgrab: ..." to stderr. They are for the
 * CLI layer (main.c, cmd/) only: library code never prints.
 */
#ifndef HEAPGRAB_ERRORS_H
#define HEAPGRAB_ERRORS_H

#include "util/compiler.h"

#define HG_ERRORS \
	E(NO_PROCESS,       "no such process") \
	E(NOT_PERMITTED,    "not permitted to trace the process (ptrace denied)") \
	E(ALREADY_TRACED,   "process is already traced by another program") \
	E(TARGET_GONE,      "target process exited during the snapshot") \
	E(ZOMBIE,           "process has exited (it is a zombie)") \
	E(NO_LIBC,          "no glibc found in the target (static binary or another libc)") \
	E(FOREIGN_MALLOC,   "target's malloc is not glibc's") \
	E(NO_LIBC_LAYOUT,   "no known malloc layout for this glibc") \
	E(NO_MAIN_ARENA,    "cannot locate glibc's main_arena") \
	E(NO_MP,            "cannot locate glibc's mp_ parameters") \
	E(NO_TCACHE,        "cannot locate glibc's tcache TLS variable") \
	E(CORRUPT_HEAP,     "corrupted heap") \
	E(UNREADABLE,       "target memory not readable") \
	E(BUSY,             "a thread stayed inside the allocator") \
	E(SECCOMP,          "target runs under a seccomp filter: no code is injected into it") \
	E(NO_GADGET,        "no usable syscall instruction in the target's libc") \
	E(INJECT_CRASH,     "target crashed inside the injected call") \
	E(INJECT_STOPPED,   "target was stopped by a signal during the injected call") \
	E(BAD_ELF,          "not a valid ELF file") \
	E(NOT_CORE,         "ELF file is not a core dump") \
	E(TRUNCATED,        "file is truncated") \
	E(BUILD_ID_MISMATCH, "build-id does not match") \
	E(FILE_NOT_FOUND,   "mapped file not found") \
	E(UNSUPPORTED,      "unsupported target") \
	E(BAD_SNAPSHOT,     "damaged snapshot file") \
	E(INTERRUPTED,      "interrupted by a signal") \
	E(TIMEOUT,          "timed out")

enum hg_error {
	HG_E__BASE = 4096,
#define E(name, msg) HG_E_##name,
	HG_ERRORS
#undef E
	HG_E__END
};

/* Message for 0, -errno or -HG_E_*; never NULL, static storage. */
const char *hg_strerror(int err);

/* CLI-only helpers (main.c and cmd/). */
void error_msg(const char *fmt, ...) ATTR_FORMAT(1, 2);
void warning_msg(const char *fmt, ...) ATTR_FORMAT(1, 2);
void NORETURN die(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* Prints the message, then "Try 'heapgrab --help'", returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* Verbosity for debug_msg(); set by main from -v. */
extern int hg_verbose;
void debug_msg(const char *fmt, ...) ATTR_FORMAT(1, 2);

/*
 * Exit statuses (documented in --help and heapgrab(1)):
 *   0  complete
 *   1  output produced, but with warnings (corrupt chunks skipped, ...)
 *   2  nothing useful could be produced (no process, no permission, ...)
 *   3  the target was busy in its allocator for the whole retry budget
 *  64  usage error
 */
enum {
	EXIT_OK = 0,
	EXIT_WARNINGS = 1,
	EXIT_FAILURE_HG = 2,
	EXIT_BUSY = 3,
	EXIT_USAGE = 64,
};

#define BUG(...) hg_bug(__FILE__, __LINE__, __VA_ARGS__)
void NORETURN hg_bug(const char *file, int line, const char *fmt, ...)
	ATTR_FORMAT(3, 4);

#endif /* HEAPGRAB_ERRORS_H */
