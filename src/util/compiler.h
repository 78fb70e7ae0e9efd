/*
 * compiler.h - the one header every heapgrab file may include.
 *
 * Attribute wrappers, ARRAY_SIZE, and taddr_t: the type of an address in
 * the target's address space. A target address is never stored in a host
 * pointer and a host pointer is never used as a target address.
 */
#ifndef HEAPGRAB_COMPILER_H
#define HEAPGRAB_COMPILER_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

typedef uint64_t taddr_t;

#define MUST_CHECK	__attribute__((warn_unused_result))
#define ATTR_FORMAT(fmt, args)	__attribute__((format(printf, fmt, args)))
#define NORETURN	__attribute__((noreturn))
#define ATTR_MALLOC	__attribute__((malloc))
#define UNUSED		__attribute__((unused))

/* Fails to compile when given a pointer instead of an array. */
#define ARRAY_SIZE(a) \
	(sizeof(a) / sizeof((a)[0]) + \
	 0 * sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), \
							       __typeof__(&(a)[0]))]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* HEAPGRAB_COMPILER_H */
