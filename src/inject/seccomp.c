/*
 * seccomp.c - reading a thread's seccomp filters and answering, for one
 * system call, what they would do (seccomp.h).
 *
 * Reading. PTRACE_SECCOMP_GET_FILTER(tid, index, buf) copies filter INDEX
 * of a thread the caller traces and has stopped: index 0 is the oldest
 * (get_nth_filter() counts back from the newest), and past the last the
 * kernel answers ENOENT. The kernel gives it only to a caller that has
 * CAP_SYS_ADMIN in the initial user namespace and runs under no seccomp
 * filter itself (EACCES otherwise), and only when it was built with
 * CONFIG_CHECKPOINT_RESTORE (else the request is unknown: EIO). What comes
 * back is the program as it was attached (orig_prog), which bpf_check()
 * accepts like the kernel did. A thread's filters total at most 32768
 * instructions plus 4 per filter (MAX_INSNS_PER_PATH): more is refused.
 *
 * Combining. For each call the kernel runs every filter, newest first, and
 * keeps the result whose action (ret & SECCOMP_RET_ACTION_FULL, compared
 * as a signed number) is lowest; among equal actions the newest filter's
 * result stands (kernel/seccomp.c seccomp_run_filters()). So KILL_PROCESS
 * (0x80000000) beats KILL_THREAD (0) beats TRAP, ERRNO, USER_NOTIF, TRACE,
 * LOG, ALLOW. An action the kernel does not know is treated as
 * KILL_PROCESS (__seccomp_filter()'s default case), and an ERRNO's data is
 * capped at 4095 (MAX_ERRNO). With unknown input a filter may have several
 * results; every combination of them is a possible result of the call.
 */
#include "config.h"
#include "inject/seccomp.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

/* kernel/seccomp.c: 256 KiB of instructions on any path, 4 extra for each
 * filter. */
#define MAX_INSNS_PER_PATH ((1u << 18) / 8)
#define FILTER_PENALTY 4
/* Instructions one call's evaluation may run over every path of every
 * filter: far more than any real filter needs (nspawn's five filters run
 * about 100 on a known call). */
#define EVAL_BUDGET (1ul << 22)
#define MAX_ERRNO 4095
/* bit 21 of CapEff; the inode of the initial user namespace
 * (include/linux/proc_ns.h PROC_USER_INIT_INO) */
#define CAP_SYS_ADMIN_BIT 21
#define PROC_USER_INIT_INO 0xEFFFFFFDu

void seccomp_filters_free(struct seccomp_filters *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->prog[i]);
	free(f->prog);
	free(f->len);
	free(f);
}

/* A "Name: value" field of a /proc status file; false when absent. */
static bool status_field(const char *path, const char *name, char *buf, size_t size)
{
	char line[256];
	size_t n = strlen(name);
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, name, n) || line[n] != ':')
			continue;
		v = line + n + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, size, "%s", v);
		found = true;
	}
	fclose(f);
	return found;
}

int seccomp_thread_mode(int pid, int tid)
{
	char path[80], v[32];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (!status_field(path, "Seccomp", v, sizeof(v)))
		return -1;
	return atoi(v);
}

int seccomp_can_read(struct strbuf *why)
{
	char v[64], ns[64];
	ssize_t n;
	unsigned long long cap = 0;
	unsigned long ino = 0;

	if (status_field("/proc/self/status", "Seccomp", v, sizeof(v)) && atoi(v) != 0) {
		if (why)
			strbuf_addf(why, "heapgrab itself runs under a seccomp filter (Seccomp: %s "
				    "in /proc/self/status), and the kernel shows a process's "
				    "filters only to a tracer that runs under none "
				    "(PTRACE_SECCOMP_GET_FILTER)", v);
		return -HG_E_SECCOMP;
	}
	if (status_field("/proc/self/status", "CapEff", v, sizeof(v)))
		cap = strtoull(v, NULL, 16);
	n = readlink("/proc/self/ns/user", ns, sizeof(ns) - 1);
	if (n > 0) {
		ns[n] = '\0';
		(void)sscanf(ns, "user:[%lu]", &ino);
	}
	if (!(cap & (1ull << CAP_SYS_ADMIN_BIT)) || (ino && ino != PROC_USER_INIT_INO)) {
		if (why)
			strbuf_addstr(why, ino && ino != PROC_USER_INIT_INO ?
				      "heapgrab runs in a user namespace of its own, and the kernel "
				      "shows a process's seccomp filters only to a tracer with "
				      "CAP_SYS_ADMIN in the initial user namespace "
				      "(PTRACE_SECCOMP_GET_FILTER)" :
				      "heapgrab lacks CAP_SYS_ADMIN, which the kernel requires to "
				      "show a process's seccomp filters (PTRACE_SECCOMP_GET_FILTER)");
		return -HG_E_SECCOMP;
	}
	return 0;
}

/* Filter INDEX (0 = oldest) of TID into a new buffer. */
static long get_filter(int tid, unsigned long index, struct bpf_insn **ret_prog)
{
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, NULL), m;
	struct bpf_insn *p;

	if (n < 0)
		return -errno;
	if (n == 0 || n > BPF_PROG_MAX_INSNS)
		return -EPROTO;
	p = xcalloc((size_t)n, sizeof(*p));
	m = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, p);
	if (m != n) {
		int e = m < 0 ? -errno : -EPROTO;

		free(p);
		return e;
	}
	*ret_prog = p;
	return n;
}

static int read_error(int tid, int err, unsigned long index, struct strbuf *why)
{
	if (err == -ESRCH)
		return -HG_E_TARGET_GONE;
	if (!why)
		return -HG_E_SECCOMP;
	switch (err) {
	case -EACCES:
		if (seccomp_can_read(why) == 0)
			strbuf_addstr(why, "the kernel refused to show the thread's seccomp "
				      "filter (PTRACE_SECCOMP_GET_FILTER: EACCES)");
		break;
	case -EIO:
		strbuf_addstr(why, "this kernel cannot show a process's seccomp filters "
			      "(PTRACE_SECCOMP_GET_FILTER needs CONFIG_CHECKPOINT_RESTORE)");
		break;
	case -EMEDIUMTYPE:
		strbuf_addf(why, "filter %lu of thread %d is not a classic BPF program", index,
			    tid);
		break;
	default:
		strbuf_addf(why, "cannot read seccomp filter %lu of thread %d: %s", index, tid,
			    hg_strerror(err));
		break;
	}
	return -HG_E_SECCOMP;
}

int seccomp_filters_read(int tid, struct seccomp_filters **ret_f, struct strbuf *why)
{
	struct bpf_insn **prog = NULL;
	size_t *len = NULL, n = 0, alloc = 0, total = 0;
	struct seccomp_filters *f;
	int err = 0;

	*ret_f = NULL;
	for (unsigned long index = 0;; index++) {
		struct bpf_insn *p = NULL;
		long k = get_filter(tid, index, &p);
		size_t bad;

		if (k == -ENOENT && index > 0)
			break;
		if (k == -EINVAL && index == 0)
			return 0;	/* not in filter mode: no filter */
		if (k == -EPROTO) {
			if (why)
				strbuf_addf(why, "seccomp filter %lu of thread %d has an "
					    "impossible length", index, tid);
			err = -HG_E_SECCOMP;
			goto fail;
		}
		if (k < 0) {
			err = read_error(tid, (int)k, index, why);
			goto fail;
		}
		total += (size_t)k + FILTER_PENALTY;
		if (total > MAX_INSNS_PER_PATH + FILTER_PENALTY) {
			free(p);
			if (why)
				strbuf_addf(why, "thread %d's seccomp filters hold more "
					    "instructions than the kernel allows", tid);
			err = -HG_E_SECCOMP;
			goto fail;
		}
		if (bpf_check(p, (size_t)k, &bad) < 0) {
			free(p);
			if (why)
				strbuf_addf(why, "seccomp filter %lu of thread %d does not pass "
					    "heapgrab's check of what the kernel accepts "
					    "(instruction %zu)", index, tid, bad);
			err = -HG_E_SECCOMP;
			goto fail;
		}
		ALLOC_GROW(prog, n + 1, alloc);
		len = xrealloc(len, alloc * sizeof(*len));
		prog[n] = p;
		len[n] = (size_t)k;
		n++;
	}
	f = xcalloc(1, sizeof(*f));
	f->n = n;
	f->prog = xcalloc(n, sizeof(*f->prog));
	f->len = xcalloc(n, sizeof(*f->len));
	for (size_t i = 0; i < n; i++) {
		/* newest first */
		f->prog[i] = prog[n - 1 - i];
		f->len[i] = len[n - 1 - i];
	}
	free(prog);
	free(len);
	*ret_f = f;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(prog[i]);
	free(prog);
	free(len);
	return err;
}

/* ---- calls ---- */

static const char *const clone_args[] = { "flags", "newsp", "parent_tid", "child_tid", "tls" };
static const char *const wait4_args[] = { "pid", "wstatus", "options", "rusage" };
static const char *const madvise_args[] = { "addr", "len", "advice" };
static const char *const brk_args[] = { "addr" };
static const char *const getrandom_args[] = { "buf", "buflen", "flags" };

static const struct {
	long nr;
	const char *name;
	const char *const *argnames;
	unsigned nargs;
} call_names[] = {
	{ SYS_clone, "clone", clone_args, ARRAY_SIZE(clone_args) },
	{ SYS_wait4, "wait4", wait4_args, ARRAY_SIZE(wait4_args) },
	{ SYS_madvise, "madvise", madvise_args, ARRAY_SIZE(madvise_args) },
	{ SYS_brk, "brk", brk_args, ARRAY_SIZE(brk_args) },
	{ SYS_rt_sigreturn, "rt_sigreturn", NULL, 0 },
	{ SYS_getrandom, "getrandom", getrandom_args, ARRAY_SIZE(getrandom_args) },
};

void seccomp_call_init(struct seccomp_call *c, long nr, const uint64_t *args, unsigned known,
		       taddr_t ip)
{
	memset(c, 0, sizeof(*c));
	c->nr = nr;
	c->nargs = 6;
	for (size_t i = 0; i < ARRAY_SIZE(call_names); i++) {
		if (call_names[i].nr != nr)
			continue;
		c->name = call_names[i].name;
		c->argnames = call_names[i].argnames;
		c->nargs = call_names[i].nargs;
	}
	for (unsigned i = 0; args && i < 6; i++)
		c->args[i] = args[i];
	c->args_known = args ? known & 0x3f : 0;
	c->ip = ip;
	c->ip_known = ip != 0;
}

/* ---- evaluation ---- */

static int32_t action_of(uint32_t ret)
{
	return (int32_t)(ret & HG_SECCOMP_RET_ACTION_FULL);
}

static void verdict_add(struct seccomp_verdict *v, uint32_t r)
{
	for (unsigned i = 0; i < v->n; i++)
		if (v->ret[i] == r)
			return;
	if (v->n == BPF_MAX_RESULTS) {
		v->any = BPF_ANY_TOO_MANY;
		return;
	}
	v->ret[v->n++] = r;
}

int seccomp_eval_data(const struct seccomp_filters *f, const struct bpf_data *d,
		      struct seccomp_verdict *ret)
{
	unsigned long budget = EVAL_BUDGET;
	struct seccomp_verdict v;

	memset(&v, 0, sizeof(v));
	v.ret[v.n++] = HG_SECCOMP_RET_ALLOW;
	for (size_t i = 0; f && i < f->n && !v.any; i++) {
		struct bpf_result r;
		struct seccomp_verdict next;
		int err = bpf_run(f->prog[i], f->len[i], d, &budget, &r);

		if (err < 0)
			return err;
		v.unknown_read |= r.unknown_read;
		if (r.any) {
			v.any = r.any;
			break;
		}
		memset(&next, 0, sizeof(next));
		for (unsigned a = 0; a < v.n && !next.any; a++)
			for (unsigned b = 0; b < r.n && !next.any; b++)
				verdict_add(&next, action_of(r.val[b]) < action_of(v.ret[a]) ?
					    r.val[b] : v.ret[a]);
		if (next.any) {
			v.any = next.any;
			break;
		}
		memcpy(v.ret, next.ret, sizeof(v.ret));
		v.n = next.n;
	}
	if (v.any)
		v.n = 0;
	*ret = v;
	return 0;
}

int seccomp_eval(const struct seccomp_filters *f, const struct seccomp_call *c,
		 struct seccomp_verdict *ret)
{
	struct bpf_data d;

	memset(&d, 0, sizeof(d));
	d.w[BPF_W_NR] = (uint32_t)c->nr;
	d.w[BPF_W_ARCH] = 0xc000003eu;	/* AUDIT_ARCH_X86_64 */
	d.known = 1u << BPF_W_NR | 1u << BPF_W_ARCH;
	bpf_data_set64(&d, BPF_W_IP, c->ip, c->ip_known);
	for (unsigned i = 0; i < 6; i++)
		bpf_data_set64(&d, BPF_W_ARG(i), c->args[i], c->args_known & (1u << i));
	return seccomp_eval_data(f, &d, ret);
}

bool seccomp_verdict_allows(const struct seccomp_verdict *v)
{
	if (v->any || !v->n)
		return false;
	for (unsigned i = 0; i < v->n; i++) {
		uint32_t a = v->ret[i] & HG_SECCOMP_RET_ACTION_FULL;

		if (a != HG_SECCOMP_RET_ALLOW && a != HG_SECCOMP_RET_LOG)
			return false;
	}
	return true;
}

bool seccomp_verdict_harmless(const struct seccomp_verdict *v)
{
	if (v->any || !v->n)
		return false;
	for (unsigned i = 0; i < v->n; i++) {
		switch (v->ret[i] & HG_SECCOMP_RET_ACTION_FULL) {
		case HG_SECCOMP_RET_ALLOW:
		case HG_SECCOMP_RET_LOG:
		case HG_SECCOMP_RET_ERRNO:
		case HG_SECCOMP_RET_TRACE:
			break;
		default:
			return false;
		}
	}
	return true;
}

static void errno_name(int e, struct strbuf *sb)
{
	const char *name = e ? strerrorname_np(e) : NULL;

	if (name)
		strbuf_addstr(sb, name);
	else
		strbuf_addf(sb, "errno %d", e);
}

static void describe_one(uint32_t r, struct strbuf *sb)
{
	uint32_t data = r & HG_SECCOMP_RET_DATA;

	switch (r & HG_SECCOMP_RET_ACTION_FULL) {
	case HG_SECCOMP_RET_ALLOW:
		strbuf_addstr(sb, "allowed");
		break;
	case HG_SECCOMP_RET_LOG:
		strbuf_addstr(sb, "allowed and logged");
		break;
	case HG_SECCOMP_RET_ERRNO:
		errno_name((int)MIN(data, (uint32_t)MAX_ERRNO), sb);
		break;
	case HG_SECCOMP_RET_TRACE:
		strbuf_addstr(sb, "ENOSYS (SECCOMP_RET_TRACE, and heapgrab, the tracer, takes "
			      "no seccomp events)");
		break;
	case HG_SECCOMP_RET_USER_NOTIF:
		strbuf_addstr(sb, "SECCOMP_RET_USER_NOTIF (a supervisor would answer it)");
		break;
	case HG_SECCOMP_RET_TRAP:
		strbuf_addstr(sb, "SIGSYS (SECCOMP_RET_TRAP)");
		break;
	case HG_SECCOMP_RET_KILL_THREAD:
		strbuf_addstr(sb, "killed (SECCOMP_RET_KILL_THREAD)");
		break;
	case HG_SECCOMP_RET_KILL_PROCESS:
		strbuf_addstr(sb, "killed (SECCOMP_RET_KILL_PROCESS)");
		break;
	default:
		strbuf_addf(sb, "killed (action 0x%08x, unknown to the kernel, which kills)",
			    r & HG_SECCOMP_RET_ACTION_FULL);
		break;
	}
}

void seccomp_verdict_describe(const struct seccomp_verdict *v, struct strbuf *sb)
{
	if (v->any) {
		strbuf_addstr(sb, v->any == BPF_ANY_RET_UNKNOWN || v->any == BPF_ANY_TOO_MANY ?
			      "undecidable (the answer depends on a value heapgrab cannot know "
			      "before the call)" :
			      v->any == BPF_ANY_SHIFT ?
			      "undecidable (a shift by 32 or more, which architectures treat "
			      "differently)" :
			      "undecidable (too complex to evaluate within heapgrab's budget)");
		return;
	}
	for (unsigned i = 0; i < v->n; i++) {
		if (i)
			strbuf_addstr(sb, i + 1 == v->n ? " or " : ", ");
		describe_one(v->ret[i], sb);
	}
	if (v->n > 1)
		strbuf_addstr(sb, ", depending on a value heapgrab cannot know before the call,");
}

void seccomp_call_describe(const struct seccomp_call *c, struct strbuf *sb)
{
	if (c->name)
		strbuf_addf(sb, "%s(", c->name);
	else
		strbuf_addf(sb, "syscall %ld(", c->nr);
	for (unsigned i = 0; i < c->nargs && i < 6; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		if (c->argnames)
			strbuf_addf(sb, "%s=", c->argnames[i]);
		else
			strbuf_addf(sb, "arg%u=", i);
		if (c->args_known & (1u << i))
			strbuf_addf(sb, "0x%llx", (unsigned long long)c->args[i]);
		else
			strbuf_addch(sb, '?');
	}
	strbuf_addch(sb, ')');
}

int seccomp_check_calls(const struct seccomp_filters *f, const struct seccomp_call *calls,
			size_t n, struct strbuf *why)
{
	for (size_t i = 0; f && i < n; i++) {
		struct seccomp_verdict v;
		int err = seccomp_eval(f, &calls[i], &v);

		if (err < 0) {
			if (why)
				strbuf_addstr(why, "heapgrab cannot run the target's seccomp filter");
			return -HG_E_SECCOMP;
		}
		if (seccomp_verdict_allows(&v))
			continue;
		if (why) {
			if (why->len)
				strbuf_addstr(why, "; ");
			seccomp_call_describe(&calls[i], why);
			if (calls[i].where)
				strbuf_addf(why, " %s", calls[i].where);
			strbuf_addstr(why, " -> ");
			seccomp_verdict_describe(&v, why);
			strbuf_addstr(why, " by the target's seccomp filter");
		}
		return -HG_E_SECCOMP;
	}
	return 0;
}
