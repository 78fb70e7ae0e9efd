/*
 * t-seccomp.c - the seccomp filter evaluator (inject/bpf.c,
 * inject/seccomp.c) against hand-made programs and against the kernel.
 *
 *  - bpf_check(): programs the kernel accepts and refuses, one rule each;
 *  - bpf_run() and seccomp_eval_data(): results with known input, unknown
 *    words taking both ways, RET of an unknown value, DIV by an unknown X,
 *    the budget, and the precedence of actions over several filters;
 *  - the verdict and call descriptions heapgrab prints;
 *  - the kernel as the oracle: random programs (and random stacks of two
 *    or three) are attached in a forked child with seccomp(2), which then
 *    makes getppid() with random arguments from a known instruction; what
 *    the kernel did (returned the parent's pid, returned -errno, sent
 *    SIGSYS, killed the child, refused the program) must be what
 *    heapgrab's evaluation of the same programs on the same seccomp_data
 *    predicts. The programs start with "nr != getppid -> ALLOW", so the
 *    child's other calls pass.
 *  - soundness with unknown words: a random program on partly unknown
 *    input must list the result of every concrete value of those words
 *    (checked on random fillings).
 * The seed is fixed (HG_T_SECCOMP_SEED overrides it) and printed.
 */
#include "config.h"
#include "tap.h"
#include "inject/bpf.h"
#include "inject/seccomp.h"
#include "util/strbuf.h"

#include <errno.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AUDIT_X86_64 0xc000003eu

/* A raw system call whose instruction pointer we know: the address after
 * its `syscall` is t_sys_after. */
__asm__(".text\n"
	".globl t_sys6\n"
	".type t_sys6, @function\n"
	"t_sys6:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	mov %r8, %r10\n"
	"	mov %r9, %r8\n"
	"	mov 8(%rsp), %r9\n"
	"	syscall\n"
	".globl t_sys_after\n"
	"t_sys_after:\n"
	"	ret\n"
	".size t_sys6, . - t_sys6\n");
long t_sys6(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f);
extern const char t_sys_after[];

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

#define I(c, t, f, kk) ((struct bpf_insn){ (uint16_t)(c), (t), (f), (kk) })

static int check(const struct bpf_insn *p, size_t n)
{
	return bpf_check(p, n, NULL);
}

static struct bpf_data data_for(long nr, const uint64_t args[6], uint64_t ip)
{
	struct bpf_data d;

	memset(&d, 0, sizeof(d));
	d.w[BPF_W_NR] = (uint32_t)nr;
	d.w[BPF_W_ARCH] = AUDIT_X86_64;
	d.known = 3;
	bpf_data_set64(&d, BPF_W_IP, ip, true);
	for (unsigned i = 0; i < 6; i++)
		bpf_data_set64(&d, BPF_W_ARG(i), args ? args[i] : 0, true);
	return d;
}

static struct seccomp_filters one_filter(struct bpf_insn *p, size_t n, struct bpf_insn **pp,
					 size_t *lp)
{
	struct seccomp_filters f = { 1, pp, lp };

	pp[0] = p;
	lp[0] = n;
	return f;
}

/* ---- hand-made programs ---- */

static void test_check(void)
{
	struct bpf_insn ok_prog[] = {
		I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SYS_clone),
		I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ERRNO | EPERM),
		I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW),
	};
	struct bpf_insn p[4];
	size_t pc = 0;

	ok(check(ok_prog, 4) == 0, "check: a plain filter is accepted");
	ok(check(ok_prog, 0) < 0 && check(NULL, 1) < 0, "check: empty program refused");
	ok(check(ok_prog, 3) < 0, "check: last instruction not a RET refused");
	{
		static struct bpf_insn big[BPF_PROG_MAX_INSNS + 1];

		for (size_t i = 0; i < ARRAY_SIZE(big); i++)
			big[i] = I(BPF_RET | BPF_K, 0, 0, 0);
		ok(check(big, BPF_PROG_MAX_INSNS) == 0 && check(big, BPF_PROG_MAX_INSNS + 1) < 0,
		   "check: 4096 instructions accepted, 4097 refused");
	}
	memcpy(p, ok_prog, sizeof(p));
	p[0].k = 64;
	ok(check(p, 4) < 0, "check: load past struct seccomp_data refused");
	p[0].k = 6;
	ok(bpf_check(p, 4, &pc) < 0 && pc == 0, "check: unaligned load refused at its pc");
	p[0] = I(BPF_LD | BPF_H | BPF_ABS, 0, 0, 0);
	ok(check(p, 4) < 0, "check: half-word load refused (seccomp loads words only)");
	p[0] = I(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 3);
	ok(check(p, 4) < 0, "check: BPF_MOD refused (not in seccomp's list)");
	p[0] = I(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0);
	ok(check(p, 4) < 0, "check: DIV by constant 0 refused");
	p[0] = I(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32);
	ok(check(p, 4) < 0, "check: shift by constant 32 refused");
	p[0] = I(BPF_ST, 0, 0, 16);
	ok(check(p, 4) < 0, "check: scratch word 16 refused");
	memcpy(p, ok_prog, sizeof(p));
	p[1].jf = 2;
	ok(check(p, 4) < 0, "check: conditional jump past the end refused");
	p[1] = I(BPF_JMP | BPF_JA, 0, 0, 2);
	ok(check(p, 4) < 0, "check: JA past the end refused");
	{
		struct bpf_insn q[] = {
			I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
			I(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 1),
			I(BPF_ST, 0, 0, 3),
			I(BPF_LD | BPF_MEM, 0, 0, 3),
			I(BPF_RET | BPF_A, 0, 0, 0),
		};

		ok(check(q, 5) < 0, "check: scratch word read on a path that did not write it");
		q[1].jf = 0;
		ok(check(q, 5) == 0, "check: scratch word written on every path accepted");
	}
}

static void test_run(void)
{
	/* args[0] == 0 ? ALLOW : ERRNO(EINVAL), for clone; others ALLOW */
	struct bpf_insn prog[] = {
		I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
		I(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, SYS_clone),
		I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16),
		I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0),
		I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ERRNO | EINVAL),
		I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW),
	};
	struct bpf_insn *pp[3];
	size_t lp[3];
	struct seccomp_filters f = one_filter(prog, ARRAY_SIZE(prog), pp, lp);
	uint64_t args[6] = { 0 };
	struct bpf_data d = data_for(SYS_clone, args, 0x1000);
	struct seccomp_verdict v;
	struct bpf_result r;
	unsigned long budget = 1000;

	ok(bpf_run(prog, ARRAY_SIZE(prog), &d, &budget, &r) == 0 && r.n == 1 &&
	   r.val[0] == HG_SECCOMP_RET_ALLOW && !r.any, "run: clone(0) allowed");
	args[0] = 0x11;
	d = data_for(SYS_clone, args, 0x1000);
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.n == 1 &&
	   v.ret[0] == (HG_SECCOMP_RET_ERRNO | EINVAL) && !seccomp_verdict_allows(&v) &&
	   seccomp_verdict_harmless(&v), "run: clone(0x11) gets EINVAL (harmless, not allowed)");
	d.known &= ~(3u << BPF_W_ARG(0));
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.n == 2 && !v.any && v.unknown_read &&
	   !seccomp_verdict_allows(&v), "run: clone(?) may be EINVAL or allowed");
	d = data_for(SYS_wait4, args, 0x1000);
	d.known &= ~(3u << BPF_W_ARG(0)) & ~(3u << BPF_W_IP);
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.n == 1 && seccomp_verdict_allows(&v) &&
	   !v.unknown_read, "run: wait4(?) allowed when nothing unknown is looked at");

	{
		/* RET A of an unknown value */
		struct bpf_insn q[] = {
			I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16),
			I(BPF_RET | BPF_A, 0, 0, 0),
		};

		budget = 1000;
		ok(bpf_run(q, 2, &d, &budget, &r) == 0 && r.any == BPF_ANY_RET_UNKNOWN,
		   "run: returning an unknown value is 'anything'");
	}
	{
		/* A / X with X unknown: X == 0 ends the program with 0 */
		struct bpf_insn q[] = {
			I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16),
			I(BPF_MISC | BPF_TAX, 0, 0, 0),
			I(BPF_LD | BPF_IMM, 0, 0, 100),
			I(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
			I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW),
		};
		bool zero = false;

		budget = 1000;
		ok(bpf_run(q, 5, &d, &budget, &r) == 0 && r.n == 2 && !r.any,
		   "run: DIV by an unknown X has two results");
		for (unsigned i = 0; i < r.n; i++)
			zero |= r.val[i] == 0;
		ok(zero, "run: one of them is 0 (SECCOMP_RET_KILL_THREAD)");
	}
	{
		/* 19 unknown tests in a row */
		struct bpf_insn q[41];

		for (int i = 0; i < 19; i++) {
			q[2 * i] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16 + 4 * (uint32_t)(i % 2));
			q[2 * i + 1] = I(BPF_JMP | BPF_JSET | BPF_K, 0, 0, 1u << i);
		}
		q[38] = I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW);
		q[39] = I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_LOG);
		budget = 100000;
		ok(bpf_run(q, 40, &d, &budget, &r) == 0 && r.n == 1 && !r.any &&
		   r.val[0] == HG_SECCOMP_RET_ALLOW, "run: a jump whose both ways meet is not a fork");
		for (int i = 0; i < 19; i++)
			q[2 * i + 1].jf = (uint8_t)(37 - 2 * i);	/* to the LOG */
		budget = 100000;
		ok(bpf_run(q, 40, &d, &budget, &r) == 0 && r.n == 2 && !r.any,
		   "run: 19 unknown tests that may each end in LOG: two results");
		/* 13 of (load unknown; maybe skip; X = i): 8192 paths */
		for (int i = 0; i < 13; i++) {
			q[3 * i] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 16);
			q[3 * i + 1] = I(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1u << i);
			q[3 * i + 2] = I(BPF_LDX | BPF_IMM, 0, 0, (uint32_t)i);
		}
		q[39] = I(BPF_MISC | BPF_TXA, 0, 0, 0);
		q[40] = I(BPF_RET | BPF_A, 0, 0, 0);
		budget = 1ul << 20;
		ok(bpf_run(q, 41, &d, &budget, &r) == 0 && r.n == 13 && !r.any,
		   "run: 8192 paths, 13 distinct results (X = 0..12), within the budget");
		budget = 200;
		ok(bpf_run(q, 41, &d, &budget, &r) == 0 && r.any == BPF_ANY_BUDGET,
		   "run: the budget bounds an explosion of paths");
	}
}

static void test_precedence(void)
{
	struct bpf_insn a[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ERRNO | 1) };
	struct bpf_insn b[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ERRNO | 2) };
	struct bpf_insn c[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_LOG) };
	struct bpf_insn kt[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_KILL_THREAD) };
	struct bpf_insn kp[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_KILL_PROCESS | 7) };
	struct bpf_insn *pp[3];
	size_t lp[3] = { 1, 1, 1 };
	struct seccomp_filters f = { 2, pp, lp };
	struct bpf_data d = data_for(SYS_getpid, NULL, 0x1000);
	struct seccomp_verdict v;
	struct strbuf sb = STRBUF_INIT;

	pp[0] = b;	/* newest */
	pp[1] = a;
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.n == 1 &&
	   v.ret[0] == (HG_SECCOMP_RET_ERRNO | 2), "precedence: equal actions: the newest wins");
	pp[0] = c;
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.ret[0] == (HG_SECCOMP_RET_ERRNO | 1),
	   "precedence: ERRNO beats LOG");
	seccomp_verdict_describe(&v, &sb);
	is_str(sb.buf, "EPERM", "describe: ERRNO 1 is EPERM");
	pp[0] = kt;
	pp[1] = kp;
	ok(seccomp_eval_data(&f, &d, &v) == 0 && v.ret[0] == (HG_SECCOMP_RET_KILL_PROCESS | 7),
	   "precedence: KILL_PROCESS (negative) beats KILL_THREAD (0)");
	strbuf_reset(&sb);
	seccomp_verdict_describe(&v, &sb);
	is_str(sb.buf, "killed (SECCOMP_RET_KILL_PROCESS)", "describe: KILL_PROCESS");
	f.n = 0;
	ok(seccomp_eval_data(&f, &d, &v) == 0 && seccomp_verdict_allows(&v),
	   "precedence: no filter allows");
	{
		uint64_t args[6] = { 0, 0, 0, 0, 0, 0 };
		struct seccomp_call call;

		seccomp_call_init(&call, SYS_clone, args, 0x3d, 0x1234);
		strbuf_reset(&sb);
		seccomp_call_describe(&call, &sb);
		is_str(sb.buf, "clone(flags=0x0, newsp=?, parent_tid=0x0, child_tid=0x0, tls=0x0)",
		       "describe: a call with an unknown argument");
	}
	strbuf_release(&sb);
}

/* ---- random programs ---- */

static const uint32_t actions[] = {
	HG_SECCOMP_RET_ALLOW, HG_SECCOMP_RET_LOG, HG_SECCOMP_RET_ERRNO, HG_SECCOMP_RET_TRAP,
	HG_SECCOMP_RET_KILL_THREAD, HG_SECCOMP_RET_KILL_PROCESS, HG_SECCOMP_RET_TRACE,
	HG_SECCOMP_RET_USER_NOTIF, 0x00010000u, 0x7ffe0000u,
};

static uint32_t random_ret(void)
{
	uint32_t a = actions[rnd_below(ARRAY_SIZE(actions))];
	uint32_t data = rnd_below(4) ? rnd_below(200) : (uint32_t)rnd() & 0xffff;

	return a | data;
}

/* A value to compare with: often one the input really has. */
static uint32_t random_k(const struct bpf_data *d)
{
	switch (rnd_below(4)) {
	case 0:
	case 1:
		return d->w[rnd_below(BPF_SD_WORDS)];
	case 2:
		return rnd_below(64);
	default:
		return (uint32_t)rnd();
	}
}

/* Random body of N instructions from pc START of a program of TOTAL,
 * mostly valid (VALID: only what the kernel accepts, except scratch-word
 * reads, which may be unwritten on some path). */
static void random_body(struct bpf_insn *p, size_t start, size_t total,
			const struct bpf_data *d, bool valid)
{
	static const uint16_t alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR,
					BPF_XOR, BPF_LSH, BPF_RSH };
	static const uint16_t jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };

	for (size_t pc = start; pc < total; pc++) {
		size_t left = total - pc - 1;	/* instructions after this one */
		struct bpf_insn *in = &p[pc];
		uint32_t pick = rnd_below(100);

		if (pc == total - 1 || pick < 8) {
			*in = rnd_below(5) ? I(BPF_RET | BPF_K, 0, 0, random_ret())
					   : I(BPF_RET | BPF_A, 0, 0, 0);
		} else if (pick < 30) {
			*in = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 4 * rnd_below(BPF_SD_WORDS));
		} else if (pick < 45 && left > 0) {
			uint16_t op = jmp[rnd_below(ARRAY_SIZE(jmp))];
			uint32_t lim = (uint32_t)MIN(left, 255u);

			*in = I(BPF_JMP | op | (rnd_below(4) ? BPF_K : BPF_X), (uint8_t)rnd_below(lim),
				(uint8_t)rnd_below(lim), random_k(d));
		} else if (pick < 48 && left > 1) {
			*in = I(BPF_JMP | BPF_JA, 0, 0, rnd_below((uint32_t)left));
		} else if (pick < 70) {
			uint16_t op = alu[rnd_below(ARRAY_SIZE(alu))];
			bool x = rnd_below(3) == 0;
			uint32_t k = rnd_below(3) ? rnd_below(40) : (uint32_t)rnd();

			if (valid && !x && op == BPF_DIV && k == 0)
				k = 1;
			if (valid && !x && (op == BPF_LSH || op == BPF_RSH))
				k %= 32;
			*in = I(BPF_ALU | op | (x ? BPF_X : BPF_K), 0, 0, k);
		} else if (pick < 74) {
			*in = I(BPF_ALU | BPF_NEG, 0, 0, 0);
		} else if (pick < 80) {
			*in = I(rnd_below(2) ? BPF_LD | BPF_IMM : BPF_LDX | BPF_IMM, 0, 0, random_k(d));
		} else if (pick < 84) {
			*in = I(rnd_below(2) ? BPF_MISC | BPF_TAX : BPF_MISC | BPF_TXA, 0, 0, 0);
		} else if (pick < 90) {
			*in = I(rnd_below(2) ? BPF_ST : BPF_STX, 0, 0, rnd_below(16));
		} else if (pick < 94) {
			*in = I(rnd_below(2) ? BPF_LD | BPF_MEM : BPF_LDX | BPF_MEM, 0, 0,
				rnd_below(16));
		} else if (pick < 96) {
			*in = I(rnd_below(2) ? BPF_LD | BPF_W | BPF_LEN : BPF_LDX | BPF_W | BPF_LEN,
				0, 0, 0);
		} else {
			/* sometimes something the kernel refuses */
			*in = valid ? I(BPF_LD | BPF_IMM, 0, 0, 7)
				    : I((uint16_t)rnd(), (uint8_t)rnd(), (uint8_t)rnd(), (uint32_t)rnd());
		}
	}
}

/* What the child saw. */
enum obs_kind { OBS_REFUSED, OBS_RETURNED, OBS_TRAPPED, OBS_KILLED, OBS_OTHER };

struct obs {
	volatile int installed, refused_errno, done, trapped, trap_errno;
	volatile long ret;
};

static struct obs *shared;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	shared->trapped = 1;
	shared->trap_errno = si->si_errno;
}

/* Attach the NF programs (oldest first) in a child, make getppid(ARGS)
 * there, and classify. *RET_VAL: the return value or the trap's data. */
static enum obs_kind kernel_run(struct bpf_insn **progs, const size_t *lens, size_t nf,
				const uint64_t args[6], long *ret_val)
{
	pid_t pid;
	int st;

	memset((void *)shared, 0, sizeof(*shared));
	pid = fork();
	if (pid < 0)
		return OBS_OTHER;
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		struct sigaction sa;

		setrlimit(RLIMIT_CORE, &rl);
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(3);
		for (size_t i = 0; i < nf; i++) {
			struct sock_fprog fp = { (unsigned short)lens[i], (struct sock_filter *)progs[i] };

			if (syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, &fp)) {
				shared->refused_errno = errno;
				_exit(0);
			}
		}
		shared->installed = 1;
		shared->ret = t_sys6(SYS_getppid, args[0], args[1], args[2], args[3], args[4],
				     args[5]);
		shared->done = 1;
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? OBS_KILLED : OBS_OTHER;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return OBS_OTHER;
	if (!shared->installed)
		return shared->refused_errno == EINVAL ? OBS_REFUSED : OBS_OTHER;
	if (shared->trapped) {
		*ret_val = shared->trap_errno;
		return OBS_TRAPPED;
	}
	*ret_val = shared->ret;
	return shared->done ? OBS_RETURNED : OBS_OTHER;
}

/* What heapgrab predicts the child sees. */
static enum obs_kind predicted(uint32_t ret, long *ret_val)
{
	uint32_t data = ret & HG_SECCOMP_RET_DATA;

	switch (ret & HG_SECCOMP_RET_ACTION_FULL) {
	case HG_SECCOMP_RET_ALLOW:
	case HG_SECCOMP_RET_LOG:
		*ret_val = getpid();	/* the child's parent */
		return OBS_RETURNED;
	case HG_SECCOMP_RET_ERRNO:
		*ret_val = -(long)MIN(data, 4095u);
		return OBS_RETURNED;
	case HG_SECCOMP_RET_TRACE:	/* no tracer */
	case HG_SECCOMP_RET_USER_NOTIF:	/* no listener */
		*ret_val = -ENOSYS;
		return OBS_RETURNED;
	case HG_SECCOMP_RET_TRAP:
		*ret_val = data;
		return OBS_TRAPPED;
	default:
		return OBS_KILLED;
	}
}

/* The guard every random program starts with: nr != getppid -> ALLOW. */
static size_t prefix(struct bpf_insn *p)
{
	p[0] = I(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0);
	p[1] = I(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SYS_getppid);
	p[2] = I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW);
	return 3;
}

/* Can this process attach a filter at all (seccomp built in, and not
 * refused here)? */
static bool kernel_has_seccomp(void)
{
	struct bpf_insn allow[] = { I(BPF_RET | BPF_K, 0, 0, HG_SECCOMP_RET_ALLOW) };
	struct bpf_insn *pp[1] = { allow };
	size_t len[1] = { 1 };
	uint64_t args[6] = { 0 };
	long v = 0;

	return kernel_run(pp, len, 1, args, &v) == OBS_RETURNED && v == getpid();
}

static void test_kernel(unsigned rounds, unsigned stacked)
{
	unsigned agree = 0, refused = 0, undecided = 0, compared = 0, other = 0;
	unsigned seen[5] = { 0 };
	static struct bpf_insn progs[3][64];

	if (!kernel_has_seccomp()) {
		ok(1, "kernel: # SKIP this process cannot attach a seccomp filter");
		ok(1, "kernel: # SKIP this process cannot attach a seccomp filter");
		return;
	}

	for (unsigned round = 0; round < rounds + stacked; round++) {
		size_t nf = round < rounds ? 1 : 2 + rnd_below(2);
		struct bpf_insn *pp[3];
		size_t lens[3], plens[3];
		uint64_t args[6];
		struct bpf_data d;
		struct seccomp_verdict v;
		struct seccomp_filters f = { nf, pp, plens };
		bool valid = true;
		enum obs_kind want = OBS_REFUSED, got;
		long want_val = 0, got_val = 0;

		for (int i = 0; i < 6; i++)
			args[i] = rnd_below(4) ? rnd_below(8) : rnd();
		d = data_for(SYS_getppid, args, (uint64_t)(uintptr_t)t_sys_after);
		for (size_t i = 0; i < nf; i++) {
			size_t n = prefix(progs[i]);
			size_t total = n + 1 + rnd_below(60 - (uint32_t)n);

			random_body(progs[i], n, total, &d, rnd_below(8) != 0);
			lens[i] = total;
			valid &= bpf_check(progs[i], total, NULL) == 0;
		}
		/* the kernel runs the newest first: pp[] is newest first */
		for (size_t i = 0; i < nf; i++) {
			pp[i] = progs[nf - 1 - i];
			plens[i] = lens[nf - 1 - i];
		}
		if (valid) {
			if (seccomp_eval_data(&f, &d, &v) < 0 || (v.n != 1 && !v.any)) {
				ok(0, "kernel: evaluation of round %u failed", round);
				return;
			}
			if (v.any) {
				undecided++;
				continue;	/* shift by X >= 32: no claim */
			}
			want = predicted(v.ret[0], &want_val);
		}
		{
			struct bpf_insn *oldest_first[3];

			for (size_t i = 0; i < nf; i++)
				oldest_first[i] = progs[i];
			got = kernel_run(oldest_first, lens, nf, args, &got_val);
		}
		if (got == OBS_OTHER) {
			other++;
			continue;
		}
		compared++;
		seen[got]++;
		if (got == OBS_REFUSED)
			refused++;
		if (got == want && (got == OBS_REFUSED || got == OBS_KILLED || got_val == want_val)) {
			agree++;
		} else if (compared - agree <= 3) {
			printf("# round %u (%zu filters): kernel %d/%ld, heapgrab %d/%ld\n", round,
			       nf, got, got_val, want, want_val);
		}
	}
	ok(agree == compared && compared > (rounds + stacked) * 3 / 4,
	   "kernel: %u of %u programs agree (%u refused by both, %u returned, %u trapped, "
	   "%u killed; %u undecidable shifts, %u unexplained child failures)", agree, compared,
	   refused, seen[OBS_RETURNED], seen[OBS_TRAPPED], seen[OBS_KILLED], undecided, other);
	ok(seen[OBS_REFUSED] && seen[OBS_RETURNED] && seen[OBS_TRAPPED] && seen[OBS_KILLED],
	   "kernel: every kind of outcome was exercised");
}

/* Unknown words: the result set covers every concrete filling. */
static void test_soundness(unsigned rounds)
{
	unsigned bad = 0, checked = 0, multi = 0;
	static struct bpf_insn p[64];

	for (unsigned round = 0; round < rounds; round++) {
		uint64_t args[6];
		struct bpf_data d, c;
		struct bpf_result r, rc;
		unsigned long budget = 1ul << 20;
		size_t len = 1 + rnd_below(60);

		for (int i = 0; i < 6; i++)
			args[i] = rnd_below(4) ? rnd_below(8) : rnd();
		d = data_for(rnd_below(400), args, rnd());
		random_body(p, 0, len, &d, true);
		if (bpf_check(p, len, NULL) < 0)
			continue;
		d.known = (uint32_t)rnd() & 0xffff;
		if (bpf_run(p, len, &d, &budget, &r) < 0 || r.any)
			continue;
		multi += r.n > 1;
		for (int k = 0; k < 8; k++) {
			bool found = false;

			c = d;
			for (unsigned w = 0; w < BPF_SD_WORDS; w++)
				if (!(d.known & (1u << w)))
					c.w[w] = rnd_below(2) ? random_k(&d) : (uint32_t)rnd();
			c.known = 0xffff;
			budget = 1ul << 20;
			if (bpf_run(p, len, &c, &budget, &rc) < 0 || rc.any || rc.n != 1) {
				if (!rc.any)
					bad++;
				continue;
			}
			checked++;
			for (unsigned i = 0; i < r.n; i++)
				found |= r.val[i] == rc.val[0];
			bad += !found;
		}
	}
	ok(bad == 0 && checked > rounds, "soundness: %u concrete runs, each result among the "
	   "abstract ones (%u programs had several), %u misses", checked, multi, bad);
}

int main(void)
{
	const char *seed = getenv("HG_T_SECCOMP_SEED");

	rng_state = seed ? strtoull(seed, NULL, 0) : 0x5eccbbf1a7e5ull;
	if (!rng_state)
		rng_state = 1;
	printf("# seed 0x%llx\n", (unsigned long long)rng_state);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 99;
	plan(36);
	test_check();
	test_run();
	test_precedence();
	test_soundness(20000);
	test_kernel(4000, 1000);
	return done();
}
