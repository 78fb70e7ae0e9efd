/*
 * fuzz-bpf.c - libFuzzer target for the seccomp filter evaluator
 * (inject/bpf.c, inject/seccomp.c): the filters heapgrab reads from a
 * target are hostile input.
 *
 * The input is one to three programs (a length byte, then 8-byte
 * instructions), followed by 64 bytes of struct seccomp_data and two bytes
 * of "known" mask. For each program bpf_check() decides; accepted programs
 * are run by bpf_run() and must:
 *   - stay within the budget and never crash (ASan, UBSan);
 *   - with every word known, give exactly one result, the one a plain
 *     reference interpreter written here gives (or "anything" only for a
 *     shift by X >= 32, which the reference reports too);
 *   - with some words unknown, list among its results the result of the
 *     reference interpreter for the input's own values of those words.
 * seccomp_eval_data() on the accepted programs must agree with combining
 * the single results by the kernel's precedence. A violation aborts.
 *
 *   make -C tests fuzz-bpf-run FUZZ_SECONDS=300   (configure --enable-fuzzers)
 */
#include "config.h"
#include "inject/bpf.h"
#include "inject/seccomp.h"

#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 3
#define MAXLEN 255

/* The reference: straight classic BPF, known input, no cleverness. 0 and
 * the result, or -1 for a shift by X >= 32. */
static int reference(const struct bpf_insn *p, size_t len, const uint32_t w[16], uint32_t *ret)
{
	uint32_t a = 0, x = 0, m[16] = { 0 };
	size_t pc = 0;

	while (pc < len) {
		const struct bpf_insn *in = &p[pc++];
		uint32_t v = BPF_SRC(in->code) == BPF_X ? x : in->k;

		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS: a = w[in->k / 4]; break;
		case BPF_LD | BPF_W | BPF_LEN: a = 64; break;
		case BPF_LDX | BPF_W | BPF_LEN: x = 64; break;
		case BPF_LD | BPF_IMM: a = in->k; break;
		case BPF_LDX | BPF_IMM: x = in->k; break;
		case BPF_LD | BPF_MEM: a = m[in->k]; break;
		case BPF_LDX | BPF_MEM: x = m[in->k]; break;
		case BPF_ST: m[in->k] = a; break;
		case BPF_STX: m[in->k] = x; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_RET | BPF_K: *ret = in->k; return 0;
		case BPF_RET | BPF_A: *ret = a; return 0;
		case BPF_JMP | BPF_JA: pc += in->k; break;
		default:
			if (BPF_CLASS(in->code) == BPF_ALU) {
				switch (BPF_OP(in->code)) {
				case BPF_ADD: a += v; break;
				case BPF_SUB: a -= v; break;
				case BPF_MUL: a *= v; break;
				case BPF_DIV:
					if (!v) {
						*ret = 0;
						return 0;
					}
					a /= v;
					break;
				case BPF_AND: a &= v; break;
				case BPF_OR: a |= v; break;
				case BPF_XOR: a ^= v; break;
				case BPF_LSH:
					if (v >= 32)
						return -1;
					a <<= v;
					break;
				case BPF_RSH:
					if (v >= 32)
						return -1;
					a >>= v;
					break;
				case BPF_NEG: a = -a; break;
				default: abort();
				}
			} else if (BPF_CLASS(in->code) == BPF_JMP) {
				bool t;

				switch (BPF_OP(in->code)) {
				case BPF_JEQ: t = a == v; break;
				case BPF_JGT: t = a > v; break;
				case BPF_JGE: t = a >= v; break;
				case BPF_JSET: t = (a & v) != 0; break;
				default: abort();
				}
				pc += t ? in->jt : in->jf;
			} else {
				abort();	/* bpf_check() let through an opcode */
			}
		}
	}
	abort();	/* ran off the end: bpf_check() let it through */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bpf_insn progs[MAXP][MAXLEN];
	struct bpf_insn *pp[MAXP];
	size_t lens[MAXP], np = 0, off = 0;
	struct bpf_data d;
	uint32_t want[MAXP];
	bool shift = false;

	if (size < 1 + 66)
		return 0;
	/* the input data first, from the end */
	memset(&d, 0, sizeof(d));
	memcpy(d.w, data + size - 66, 64);
	d.known = (uint32_t)data[size - 2] | (uint32_t)data[size - 1] << 8;
	size -= 66;
	while (off < size && np < MAXP) {
		size_t n = data[off++], avail = (size - off) / 8;

		if (n > avail)
			n = avail;
		if (!n)
			break;
		memcpy(progs[np], data + off, n * 8);
		off += n * 8;
		lens[np] = n;
		np++;
	}
	for (size_t i = 0; i < np; i++) {
		struct bpf_data known = d;
		struct bpf_result r;
		unsigned long budget = 1ul << 16;
		size_t bad;
		bool found = false;
		int rc;

		if (bpf_check(progs[i], lens[i], &bad) < 0) {
			if (bad > lens[i])
				abort();
			if (bpf_run(progs[i], lens[i], &d, &budget, &r) == 0)
				abort();	/* a refused program must not run */
			lens[i] = 0;
			continue;
		}
		rc = reference(progs[i], lens[i], d.w, &want[i]);
		shift |= rc < 0;
		known.known = 0xffff;
		if (bpf_run(progs[i], lens[i], &known, &budget, &r) < 0)
			abort();
		if (rc < 0) {
			if (r.any != BPF_ANY_SHIFT)
				abort();
		} else if (r.any || r.n != 1 || r.val[0] != want[i]) {
			abort();
		}
		budget = 1ul << 16;
		if (bpf_run(progs[i], lens[i], &d, &budget, &r) < 0 || budget > (1ul << 16))
			abort();
		if (r.any || rc < 0)
			continue;
		for (unsigned k = 0; k < r.n; k++)
			found |= r.val[k] == want[i];
		if (!found)
			abort();	/* unsound: the real result is not listed */
	}
	/* precedence over the accepted programs, known input */
	{
		struct seccomp_filters f = { 0, pp, lens };
		struct seccomp_verdict v;
		uint32_t combined = HG_SECCOMP_RET_ALLOW;
		size_t j = 0;

		d.known = 0xffff;
		for (size_t i = 0; i < np; i++) {
			if (!lens[i])
				continue;
			pp[j] = progs[i];
			lens[j] = lens[i];
			want[j] = want[i];
			j++;
		}
		f.n = j;
		if (shift || seccomp_eval_data(&f, &d, &v) < 0)
			return 0;
		for (size_t i = 0; i < j; i++)
			if ((int32_t)(want[i] & HG_SECCOMP_RET_ACTION_FULL) <
			    (int32_t)(combined & HG_SECCOMP_RET_ACTION_FULL))
				combined = want[i];
		if (v.any || v.n != 1 || v.ret[0] != combined)
			abort();
	}
	return 0;
}
