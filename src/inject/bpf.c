/*
 * bpf.c - the validator and the evaluator of bpf.h.
 *
 * Validation mirrors what the kernel does when a filter is attached, in
 * this order (Linux 4.14 to 6.x; the rules have not changed since seccomp
 * filters appeared in 3.5, except that seccomp never took BPF_MOD):
 *   bpf_check_basics_ok()     1 <= len <= BPF_MAXINSNS (4096)
 *   bpf_check_classic()       every opcode known; DIV by K 0, shifts by
 *                             K >= 32, scratch memory index >= 16 refused;
 *                             jumps forward and inside the program; the
 *                             last instruction a RET;
 *                             check_load_and_stores(): no path reads a
 *                             scratch word it has not written
 *   seccomp_check_filter()    only the opcodes seccomp allows (no packet
 *                             loads, no BPF_MOD, no BPF_MSH); a word load
 *                             (LD|W|ABS) 4-aligned inside struct
 *                             seccomp_data; LD|W|LEN and LDX|W|LEN load
 *                             sizeof(struct seccomp_data), 64
 * The kernel keeps the program as it was given (orig_prog) and that is
 * what PTRACE_SECCOMP_GET_FILTER returns, so the opcodes seen here are the
 * ones checked above.
 *
 * Evaluation follows the classic-to-eBPF conversion the kernel runs the
 * filter as (net/core/filter.c bpf_convert_filter()): 32-bit arithmetic
 * that wraps; a DIV by an X of 0 ends the program returning 0
 * (SECCOMP_RET_KILL_THREAD); everything else as in bpf(4). A shift by an X
 * of 32 or more is left undecided: C leaves it undefined and the JIT and
 * the interpreter need not agree.
 *
 * Unknown words: registers and scratch words carry a "known" bit. An
 * operation on an unknown value gives an unknown value; a conditional jump
 * on one is followed both ways (a JEQ taken makes A known: it equals the
 * operand); a RET of an unknown A makes the result "anything". The paths
 * still to explore wait on a small stack; when it or the step budget runs
 * out, the result is "anything" too, which callers treat as "cannot be
 * decided". The set of results is exact for known input and a superset of
 * the possible results otherwise (tests/fuzz/fuzz-bpf.c checks both).
 */
#include "config.h"
#include "inject/bpf.h"

#include <errno.h>
#include <linux/filter.h>
#include <string.h>

#define SD_SIZE (BPF_SD_WORDS * 4)	/* sizeof(struct seccomp_data) */
#define MEMWORDS 16			/* BPF_MEMWORDS */
/* Paths waiting to be explored (each a forked state). */
#define MAX_PENDING 256

void bpf_data_set64(struct bpf_data *d, unsigned i, uint64_t v, bool known)
{
	if (i + 1 >= BPF_SD_WORDS)
		return;
	d->w[i] = (uint32_t)v;
	d->w[i + 1] = (uint32_t)(v >> 32);
	if (known)
		d->known |= 3u << i;
	else
		d->known &= ~(3u << i);
}

static bool is_cond_jump(uint16_t code)
{
	switch (code) {
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	default:
		return false;
	}
}

/* The opcodes seccomp_check_filter() lets through (after the classic
 * checker accepted them). */
static bool seccomp_code_ok(const struct bpf_insn *in)
{
	switch (in->code) {
	case BPF_LD | BPF_W | BPF_ABS:
		return in->k < SD_SIZE && !(in->k & 3);
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_JMP | BPF_JA:
		return true;
	default:
		return is_cond_jump(in->code);
	}
}

/* check_load_and_stores(): the scratch words valid on every path. */
static int check_memory(const struct bpf_insn *p, size_t len, size_t *ret_pc)
{
	uint16_t masks[BPF_PROG_MAX_INSNS], valid = 0;

	memset(masks, 0xff, len * sizeof(masks[0]));
	for (size_t pc = 0; pc < len; pc++) {
		const struct bpf_insn *in = &p[pc];

		valid &= masks[pc];
		switch (in->code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1u << in->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(valid & (1u << in->k))) {
				*ret_pc = pc;
				return -EINVAL;
			}
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + in->k] &= valid;
			valid = 0xffff;
			break;
		default:
			if (is_cond_jump(in->code)) {
				masks[pc + 1 + in->jt] &= valid;
				masks[pc + 1 + in->jf] &= valid;
				valid = 0xffff;
			}
			break;
		}
	}
	return 0;
}

int bpf_check(const struct bpf_insn *p, size_t len, size_t *ret_pc)
{
	size_t bad = len;

	if (!ret_pc)
		ret_pc = &bad;
	*ret_pc = len;
	if (!p || len == 0 || len > BPF_PROG_MAX_INSNS)
		return -EINVAL;
	for (size_t pc = 0; pc < len; pc++) {
		const struct bpf_insn *in = &p[pc];

		*ret_pc = pc;
		if (!seccomp_code_ok(in))
			return -EINVAL;
		switch (in->code) {
		case BPF_ALU | BPF_DIV | BPF_K:
			if (in->k == 0)
				return -EINVAL;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (in->k >= 32)
				return -EINVAL;
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (in->k >= MEMWORDS)
				return -EINVAL;
			break;
		case BPF_JMP | BPF_JA:
			if (in->k >= len - pc - 1)
				return -EINVAL;
			break;
		default:
			if (is_cond_jump(in->code) &&
			    (pc + in->jt + 1 >= len || pc + in->jf + 1 >= len))
				return -EINVAL;
			break;
		}
	}
	*ret_pc = len;
	if (p[len - 1].code != (BPF_RET | BPF_K) && p[len - 1].code != (BPF_RET | BPF_A))
		return -EINVAL;
	return check_memory(p, len, ret_pc);
}

/* ---- evaluation ---- */

#define K_A 1u
#define K_X 2u
#define K_M(i) (4u << (i))

struct state {
	uint32_t a, x, m[MEMWORDS];
	uint32_t known;
	uint32_t pc;
};

struct eval {
	const struct bpf_insn *p;
	size_t len;
	const struct bpf_data *d;
	struct bpf_result *res;
	struct state pending[MAX_PENDING];
	size_t npending;
};

static void add_result(struct bpf_result *res, uint32_t v)
{
	for (unsigned i = 0; i < res->n; i++)
		if (res->val[i] == v)
			return;
	if (res->n == BPF_MAX_RESULTS) {
		res->any = BPF_ANY_TOO_MANY;
		return;
	}
	res->val[res->n++] = v;
}

/* Queue state S at PC; false when the stack is full. */
static bool fork_to(struct eval *r, const struct state *s, uint32_t pc)
{
	if (r->npending == MAX_PENDING)
		return false;
	r->pending[r->npending] = *s;
	r->pending[r->npending].pc = pc;
	r->npending++;
	return true;
}

/* Outcome of a conditional jump: 1 taken, 0 not, -1 unknown. */
static int cond(uint16_t op, uint32_t a, uint32_t v, bool known)
{
	if (!known)
		return -1;
	switch (op) {
	case BPF_JEQ:
		return a == v;
	case BPF_JGT:
		return a > v;
	case BPF_JGE:
		return a >= v;
	default:	/* BPF_JSET */
		return (a & v) != 0;
	}
}

/* ALU on known operands. */
static uint32_t alu(uint16_t op, uint32_t a, uint32_t v)
{
	switch (op) {
	case BPF_ADD:
		return a + v;
	case BPF_SUB:
		return a - v;
	case BPF_MUL:
		return a * v;
	case BPF_DIV:
		return a / v;	/* v != 0: checked by the caller */
	case BPF_AND:
		return a & v;
	case BPF_OR:
		return a | v;
	case BPF_XOR:
		return a ^ v;
	case BPF_LSH:
		return a << v;	/* v < 32: checked by the caller */
	case BPF_RSH:
		return a >> v;
	default:		/* BPF_NEG */
		return (uint32_t)-a;
	}
}

/* Run one path from S until it returns; 0, or 1 when the whole result is
 * decided as "anything" (stop). */
static int run_path(struct eval *r, struct state s, unsigned long *budget)
{
	for (;;) {
		const struct bpf_insn *in;
		uint16_t code;
		int c;

		if (*budget == 0) {
			r->res->any = BPF_ANY_BUDGET;
			return 1;
		}
		(*budget)--;
		in = &r->p[s.pc];
		code = in->code;
		switch (BPF_CLASS(code)) {
		case BPF_LD:
			if (code == (BPF_LD | BPF_W | BPF_ABS)) {
				unsigned w = in->k / 4;

				s.a = r->d->w[w];
				if (r->d->known & (1u << w)) {
					s.known |= K_A;
				} else {
					s.known &= ~K_A;
					r->res->unknown_read = true;
				}
			} else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
				s.a = SD_SIZE;
				s.known |= K_A;
			} else if (code == (BPF_LD | BPF_IMM)) {
				s.a = in->k;
				s.known |= K_A;
			} else {	/* BPF_LD | BPF_MEM */
				s.a = s.m[in->k];
				s.known = (s.known & ~K_A) | ((s.known & K_M(in->k)) ? K_A : 0);
			}
			s.pc++;
			break;
		case BPF_LDX:
			if (code == (BPF_LDX | BPF_W | BPF_LEN)) {
				s.x = SD_SIZE;
				s.known |= K_X;
			} else if (code == (BPF_LDX | BPF_IMM)) {
				s.x = in->k;
				s.known |= K_X;
			} else {	/* BPF_LDX | BPF_MEM */
				s.x = s.m[in->k];
				s.known = (s.known & ~K_X) | ((s.known & K_M(in->k)) ? K_X : 0);
			}
			s.pc++;
			break;
		case BPF_ST:
			s.m[in->k] = s.a;
			s.known = (s.known & ~K_M(in->k)) | ((s.known & K_A) ? K_M(in->k) : 0);
			s.pc++;
			break;
		case BPF_STX:
			s.m[in->k] = s.x;
			s.known = (s.known & ~K_M(in->k)) | ((s.known & K_X) ? K_M(in->k) : 0);
			s.pc++;
			break;
		case BPF_ALU: {
			uint16_t op = BPF_OP(code);
			bool xsrc = BPF_SRC(code) == BPF_X && op != BPF_NEG;
			uint32_t v = xsrc ? s.x : in->k;
			bool vknown = !xsrc || (s.known & K_X);

			if (op == BPF_DIV && xsrc) {
				if (vknown && v == 0) {
					add_result(r->res, 0);	/* the converted program's exit */
					return r->res->any ? 1 : 0;
				}
				if (!vknown) {
					/* X may be 0: that path returns 0. */
					add_result(r->res, 0);
					if (r->res->any)
						return 1;
					s.known &= ~K_A;
					s.pc++;
					break;
				}
			}
			if ((op == BPF_LSH || op == BPF_RSH) && xsrc && vknown && v >= 32) {
				r->res->any = BPF_ANY_SHIFT;
				return 1;
			}
			if ((s.known & K_A) && vknown)
				s.a = alu(op, s.a, v);
			else
				s.known &= ~K_A;
			s.pc++;
			break;
		}
		case BPF_JMP:
			if (code == (BPF_JMP | BPF_JA)) {
				s.pc += 1 + in->k;
				break;
			}
			{
				bool xsrc = BPF_SRC(code) == BPF_X;
				uint32_t v = xsrc ? s.x : in->k;
				bool vknown = !xsrc || (s.known & K_X);
				uint32_t tpc = s.pc + 1 + in->jt, fpc = s.pc + 1 + in->jf;

				c = cond(BPF_OP(code), s.a, v, (s.known & K_A) && vknown);
				if (c < 0 && tpc == fpc)
					c = 1;
				if (c >= 0) {
					s.pc = c ? tpc : fpc;
					break;
				}
				/* Both ways: the false branch waits. */
				if (!fork_to(r, &s, fpc)) {
					r->res->any = BPF_ANY_BUDGET;
					return 1;
				}
				if (BPF_OP(code) == BPF_JEQ && vknown) {
					s.a = v;
					s.known |= K_A;
				}
				s.pc = tpc;
			}
			break;
		case BPF_RET:
			if (code == (BPF_RET | BPF_K)) {
				add_result(r->res, in->k);
			} else if (s.known & K_A) {
				add_result(r->res, s.a);
			} else {
				r->res->any = BPF_ANY_RET_UNKNOWN;
				return 1;
			}
			return r->res->any ? 1 : 0;
		default:	/* BPF_MISC */
			if (code == (BPF_MISC | BPF_TAX)) {
				s.x = s.a;
				s.known = (s.known & ~K_X) | ((s.known & K_A) ? K_X : 0);
			} else {
				s.a = s.x;
				s.known = (s.known & ~K_A) | ((s.known & K_X) ? K_A : 0);
			}
			s.pc++;
			break;
		}
	}
}

int bpf_run(const struct bpf_insn *p, size_t len, const struct bpf_data *d,
	    unsigned long *budget, struct bpf_result *ret)
{
	struct eval *r, rbuf;
	struct state s;

	memset(ret, 0, sizeof(*ret));
	if (bpf_check(p, len, NULL) < 0)
		return -EINVAL;
	r = &rbuf;
	r->p = p;
	r->len = len;
	r->d = d;
	r->res = ret;
	r->npending = 0;
	memset(&s, 0, sizeof(s));
	/* A, X and the scratch words start at 0 (the converted program
	 * clears A and X; bpf_check() guarantees no scratch word is read
	 * before it is written). */
	s.known = K_A | K_X | 0xffffu << 2;
	for (;;) {
		if (run_path(r, s, budget))
			break;
		if (!r->npending)
			break;
		s = r->pending[--r->npending];
	}
	if (ret->any)
		ret->n = 0;
	return 0;
}
