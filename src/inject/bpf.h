/*
 * bpf.h - classic BPF as seccomp accepts and runs it: a validator and an
 * evaluator over partly known input.
 *
 * A seccomp filter is a classic BPF program (struct sock_filter, 8 bytes
 * an instruction) run on a struct seccomp_data (64 bytes: nr, arch,
 * instruction_pointer, args[6]) that returns a 32-bit action. heapgrab
 * reads a target's filters (inject/seccomp.c) and runs them itself, here,
 * on the system calls an injection would make, to know before it injects
 * what the kernel would answer.
 *
 *   bpf_check()   the rules the kernel applies when a filter is attached
 *                 (net/core/filter.c bpf_check_classic() and
 *                 check_load_and_stores(), then kernel/seccomp.c
 *                 seccomp_check_filter()): a program it accepts runs here
 *                 as in the kernel, any other is refused.
 *   bpf_run()     runs a checked program on a struct bpf_data, whose words
 *                 may be unknown (an argument heapgrab cannot know before
 *                 the call, such as the pid a clone will return). A jump
 *                 that depends on an unknown word takes both ways, so the
 *                 result is the set of values the program may return for
 *                 some value of the unknown words, or "anything" when that
 *                 set cannot be bounded (a return of an unknown value, a
 *                 shift the kernel's JIT and interpreter might treat
 *                 differently, the step budget). With every word known the
 *                 set has exactly one value: the kernel's.
 *
 * Time and memory are bounded whatever the program: classic BPF jumps only
 * forward, every path runs at most LEN instructions, and *BUDGET caps the
 * instructions run over all paths together. Pure computation: no system
 * calls, no allocation.
 */
#ifndef HEAPGRAB_INJECT_BPF_H
#define HEAPGRAB_INJECT_BPF_H

#include "util/compiler.h"

/* One instruction, laid out as the kernel's struct sock_filter. */
struct bpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

#define BPF_PROG_MAX_INSNS 4096		/* BPF_MAXINSNS */
#define BPF_SD_WORDS 16			/* sizeof(struct seccomp_data) / 4 */

/*
 * The input: struct seccomp_data as 16 native (little-endian) 32-bit
 * words, the way a BPF_LD|BPF_W|BPF_ABS of offset 4*i reads word i:
 *   0 nr, 1 arch, 2/3 instruction_pointer low/high,
 *   4+2i / 5+2i args[i] low/high.
 */
struct bpf_data {
	uint32_t w[BPF_SD_WORDS];
	uint32_t known;			/* bit i: w[i] is known */
};

#define BPF_W_NR 0
#define BPF_W_ARCH 1
#define BPF_W_IP 2
#define BPF_W_ARG(i) (4 + 2 * (i))

/* Set the 64-bit value at word index I (low word I, high word I + 1),
 * known or not. */
void bpf_data_set64(struct bpf_data *d, unsigned i, uint64_t v, bool known);

/*
 * Would the kernel attach this program as a seccomp filter? 0, or -EINVAL
 * with *RET_PC (may be NULL) the first instruction it refuses (LEN when the
 * program's length or its end is wrong).
 */
MUST_CHECK int bpf_check(const struct bpf_insn *prog, size_t len, size_t *ret_pc);

/* Why a result is "anything". */
enum bpf_any {
	BPF_ANY_NONE = 0,
	BPF_ANY_RET_UNKNOWN,	/* returned a value computed from an unknown word */
	BPF_ANY_SHIFT,		/* shift by X >= 32 (architecture-dependent) */
	BPF_ANY_BUDGET,		/* more steps than the budget allowed */
	BPF_ANY_TOO_MANY,	/* more distinct results than BPF_MAX_RESULTS */
};

#define BPF_MAX_RESULTS 16

/* The values a program may return; N >= 1 unless ANY is set. */
struct bpf_result {
	uint32_t val[BPF_MAX_RESULTS];	/* distinct, in the order first met */
	unsigned n;
	enum bpf_any any;
	bool unknown_read;		/* some path read an unknown word */
};

/*
 * Run PROG (LEN instructions, accepted by bpf_check()) on D. *BUDGET is the
 * number of instructions it may run over all paths; it is decreased by what
 * was used. 0, or -EINVAL for a program bpf_check() refuses (checked here
 * again: a refused program is never run).
 */
MUST_CHECK int bpf_run(const struct bpf_insn *prog, size_t len, const struct bpf_data *d,
		       unsigned long *budget, struct bpf_result *ret);

#endif /* HEAPGRAB_INJECT_BPF_H */
