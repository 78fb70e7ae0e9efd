/*
 * inject.c - run one system call or one function call in a stopped thread,
 * and leave the thread exactly as it was.
 *
 * This is the only code in heapgrab that writes to another process
 * (build-aux/check-no-poke). What it writes, and in which order, is the
 * save/restore protocol below; every step is chosen so that the thread is
 * in a state it can safely resume from at every instant, including the
 * instant heapgrab is SIGKILLed.
 *
 * The thread starts parked in the ptrace-stop heapgrab caused
 * (PTRACE_EVENT_STOP after PTRACE_INTERRUPT). That stop sits inside the
 * kernel's get_signal(): when the thread is resumed, get_signal() returns,
 * and then the kernel applies the system call restart rule to the
 * registers as they are at that moment (arch_do_signal_or_restart(): if
 * orig_rax >= 0 and rax is -ERESTARTSYS/-ERESTARTNOINTR/-ERESTARTNOHAND,
 * rax = orig_rax and rip -= 2; -ERESTART_RESTARTBLOCK becomes
 * restart_syscall). That is how a thread stopped in read(), nanosleep() or
 * sigsuspend() goes back into its call. The protocol keeps that property:
 * the original registers are put back only in a stop inside get_signal().
 *
 *   save     PTRACE_GETREGS; PTRACE_GETSIGMASK (which, for a thread in
 *            sigsuspend/ppoll/pselect, returns its saved real mask, and
 *            PTRACE_SETSIGMASK then clears TIF_RESTORE_SIGMASK: kernel
 *            ptrace.c, done so for CRIU); the FP/SSE/AVX state with
 *            PTRACE_GETREGSET NT_X86_XSTATE (PTRACE_GETFPREGS where that
 *            fails).
 *   gate     a thread under a seccomp filter: its filters are read and
 *            run on every system call this injection will make
 *            (inject/seccomp.c; the calls of each injection are listed in
 *            doc/containers.md); one that is not answered ALLOW or LOG
 *            refuses the injection before anything is written.
 *   stack    below the 128-byte red zone, 64-byte aligned: the saved
 *            xstate, an optional buffer for a struct return value, and an
 *            rt_sigframe (pretcode + ucontext + siginfo) holding the
 *            original registers, mask and FP state; the bytes there are
 *            read first and written back at the end.
 *   inject   PTRACE_SETREGS with rip = the target's own `syscall`
 *            instruction (or the function), rsp = the frame, orig_rax =
 *            -1 (no restart of the interrupted call now); then
 *            PTRACE_SETSIGMASK with every signal blocked but the
 *            synchronous ones (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
 *            SIGSYS: force_sig() would reset a blocked one to SIG_DFL);
 *            PTRACE_O_TRACESYSGOOD (+ TRACECLONE for clone);
 *            PTRACE_SYSCALL.
 *   run      a system call: its entry and exit stops; a clone also its
 *            PTRACE_EVENT_CLONE. A function call: every system call the
 *            function makes is let through; the function's return lands
 *            on the frame's return address, glibc's __restore_rt (`mov
 *            rax,15; syscall`), and the entry stop of that rt_sigreturn is
 *            our "it returned" trap: there it is skipped (orig_rax = -1)
 *            and rip is pointed back at __restore_rt. (Letting it run
 *            would be simpler, but rt_sigreturn resets the thread's
 *            restart block: a thread stopped in nanosleep() would then
 *            wake up early with EINTR.)
 *            In a thread under a seccomp filter the function runs under
 *            PTRACE_SYSEMU: each system call it makes stops before the
 *            filter sees it and is not made; heapgrab runs the filter on
 *            it (exact arguments, exact instruction pointer) and, when
 *            the kernel would leave the thread alive (ALLOW, LOG, ERRNO,
 *            TRACE), rewinds the thread onto the `syscall` instruction and
 *            lets it make the call for real. A call the filter would answer
 *            by killing, trapping or asking a supervisor (one the function
 *            was not expected to make: the expected ones were checked at
 *            the gate) is never made: it returns -ENOSYS, the function
 *            goes on, and the injection is reported as refused. The
 *            return's rt_sigreturn is skipped by PTRACE_SYSEMU itself, so
 *            the filter never sees the number -1 either (which a filter
 *            may well kill for).
 *   park     from the exit stop (which is not inside get_signal()):
 *            PTRACE_INTERRUPT then PTRACE_CONT, and the thread parks in
 *            PTRACE_EVENT_STOP again.
 *   restore  PTRACE_SETSIGMASK (the mask), the xstate, PTRACE_SETREGS (the
 *            registers), PTRACE_SETOPTIONS 0, the stack bytes. The thread
 *            is parked as before, with the same registers; when heapgrab
 *            resumes it, the kernel restarts its system call as it would
 *            have.
 *
 * Why a signal frame: if heapgrab dies (SIGKILL, or a detach from its
 * signal handler) after the inject step, the kernel lets the thread run
 * from wherever it is. The injected syscall instruction is followed by
 * `ret` (glibc's syscall(): `syscall; cmp rax,-4095; jae err; ret`), which
 * pops __restore_rt from the frame, and rt_sigreturn restores the
 * original registers, FP state and mask from the frame: the thread goes
 * on where it was stopped, its interrupted system call restarted (the
 * frame holds the registers with the restart rule already applied, since
 * rt_sigreturn turns the rule off). A called function returns to the same
 * place. After the trap, rip is put back on __restore_rt for the same
 * reason. The order of the restore step keeps this true to the end: the
 * mask first, the registers next, the frame's bytes last. What such a
 * rescue cannot give back: an interrupted nanosleep() returns EINTR
 * (rt_sigreturn clears the restart block), and the thread's errno may hold
 * a failed clone's error.
 *
 * The clone of a fork snapshot gets a child stack pointer (clone's newsp)
 * pointing at a word holding _exit: should the child ever run (heapgrab
 * died before it set PTRACE_O_EXITKILL on it), it leaves the same `ret`
 * into _exit(0) (its rdi is clone's flags, 0) and never runs the program.
 *
 * No signal is ever generated by the protocol itself (system call stops
 * are not signals), so no disposition can be changed by force_sig(), and
 * signals that arrive meanwhile stay pending (blocked) and are delivered
 * after the restore. A synchronous fault inside a called function stops
 * the thread in a signal-delivery-stop: it is reported, the signal is
 * discarded, the thread restored. A SIGSTOP that arrives during the call
 * leaves the thread in a group-stop: restored there, it stays stopped as
 * the sender wanted. Time is bounded: past the deadline the thread is
 * interrupted and restored, whatever it was doing.
 *
 * NEEDSWORK: a thread stopped inside an rseq critical section would have
 * its rseq_cs cleared by the kernel when it resumes at the injected rip
 * (rseq_ip_fixup), so the critical section would not be aborted after the
 * restore. glibc's malloc has none; programs with their own (tcmalloc's
 * per-CPU caches) are not glibc-malloc targets.
 */
#include "config.h"
#include "inject/inject.h"
#include "inject/inject-internal.h"
#include "inject/arch-x86_64.h"
#include "inject/seccomp.h"
#include "target/target.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Stack a called function may use below the frame (mallinfo2 and
 * malloc_trim need well under 1 KiB in glibc 2.26-2.41). */
#define CALL_STACK_ROOM (16u << 10)
/* Largest xstate we accept: AMX tile data makes it about 11 KiB. */
#define XSTATE_MAX (32u << 10)
/* Deadline for bringing the thread back into a stop after the work. */
#define PARK_TIMEOUT_MS 5000

long inject_now_ms(void)
{
	return (long)monotonic_ms();
}

int inject_wait(int tid, long deadline, int *ret_status)
{
	unsigned round = 0;

	for (;;) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL | WNOHANG);

		if (r == tid) {
			*ret_status = st;
			return 0;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -HG_E_TARGET_GONE : -errno;
		}
		if (inject_now_ms() > deadline)
			return -HG_E_TIMEOUT;
		backoff_sleep(backoff_injected_call, round++);
	}
}

/* ---- target memory ---- */

int inject_mem_io(int pid, taddr_t addr, void *buf, size_t len, bool write)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
			  : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	char path[64];
	size_t done = 0;
	int fd, err = 0;

	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ESRCH)
		return -HG_E_TARGET_GONE;
	/* process_vm_*v refused (ENOSYS, a policy) or a short transfer:
	 * /proc/PID/mem, which ptrace access also opens. */
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -HG_E_TARGET_GONE : -errno;
	while (done < len) {
		ssize_t k = write ? pwrite(fd, (char *)buf + done, len - done, (off_t)(addr + done))
				  : pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)k;
	}
	close(fd);
	return err;
}

/* ---- stops ---- */

enum stop_kind {
	STOP_GONE,		/* exited or killed */
	STOP_SYSCALL,		/* syscall-enter or -exit stop (TRACESYSGOOD) */
	STOP_CLONE,		/* PTRACE_EVENT_CLONE/FORK/VFORK */
	STOP_PARKED,		/* PTRACE_EVENT_STOP, SIGTRAP: an interrupt */
	STOP_GROUP,		/* PTRACE_EVENT_STOP, a stop signal: group-stop */
	STOP_SIGNAL,		/* signal-delivery-stop */
	STOP_OTHER,		/* an event we did not ask for */
};

static enum stop_kind classify(int st, int *ret_sig)
{
	int sig, event;

	if (!WIFSTOPPED(st))
		return STOP_GONE;
	sig = WSTOPSIG(st);
	event = (st >> 16) & 0xff;
	*ret_sig = sig;
	if (sig == (SIGTRAP | 0x80))
		return STOP_SYSCALL;
	switch (event) {
	case 0:
		return STOP_SIGNAL;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		return STOP_CLONE;
	case PTRACE_EVENT_STOP:
		return sig == SIGTRAP ? STOP_PARKED : STOP_GROUP;
	default:
		return STOP_OTHER;
	}
}

static int ptrace_err(void)
{
	return errno == ESRCH ? -HG_E_TARGET_GONE : -errno;
}

/* ---- one injection ---- */

struct run {
	struct target *t;
	int pid, tid;
	const struct inject_libc *lc;
	const struct inject_req *req;
	struct strbuf *why;

	struct user_regs_struct saved;	/* registers at the start */
	uint64_t saved_mask;
	unsigned char *xstate;		/* NT_X86_XSTATE (or fxsave) image */
	size_t xlen;
	bool xsave;			/* xstate is an XSAVE image, else fxsave */

	taddr_t lo, top;		/* stack area [lo, top) we write */
	unsigned char *orig;		/* its bytes before */
	taddr_t frame, xaddr, sret, exitword;

	/* The thread's seccomp filters (NULL: none). With them a called
	 * function runs guarded (PTRACE_SYSEMU, see the opening comment). */
	struct seccomp_filters *filters;
	bool guard;
	unsigned guard_failed;		/* calls the guard failed with ENOSYS */

	bool regs_set, mask_set, opts_set, stack_written, fp_dirty;
	bool gone;
	int child;
};

static void why_add(struct run *r, const char *fmt, ...) ATTR_FORMAT(2, 3);

static void why_add(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->why)
		return;
	if (r->why->len)
		strbuf_addstr(r->why, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(r->why, fmt, ap);
	va_end(ap);
}

static const char *what(const struct run *r)
{
	return r->req->name ? r->req->name : "injected call";
}

static int run_save(struct run *r)
{
	struct iovec iov;

	if (ptrace(PTRACE_GETREGS, r->tid, 0, &r->saved) < 0)
		return ptrace_err();
	if (r->saved.cs != ARCH_USER_CS_64) {
		why_add(r, "thread %d is not running 64-bit code (cs 0x%llx)", r->tid,
			(unsigned long long)r->saved.cs);
		return -HG_E_UNSUPPORTED;
	}
	if (ptrace(PTRACE_GETSIGMASK, r->tid, sizeof(r->saved_mask), &r->saved_mask) < 0)
		return ptrace_err();
	r->xstate = xcalloc(1, XSTATE_MAX);
	iov.iov_base = r->xstate;
	iov.iov_len = XSTATE_MAX;
	if (ptrace(PTRACE_GETREGSET, r->tid, NT_X86_XSTATE, &iov) == 0 &&
	    iov.iov_len >= ARCH_FXSAVE_SIZE + 64) {
		uint32_t magic1;

		r->xlen = iov.iov_len;
		memcpy(&magic1, r->xstate + ARCH_FX_SW_RESERVED_OFF, sizeof(magic1));
		/* The regset carries the kernel's fpx_sw_bytes (magic1,
		 * sizes); rt_sigreturn checks them and then magic2 at the end. */
		r->xsave = magic1 == ARCH_FP_XSTATE_MAGIC1;
		if (!r->xsave)
			r->xlen = ARCH_FXSAVE_SIZE;
		return 0;
	}
	if (errno == ESRCH)
		return -HG_E_TARGET_GONE;
	if (ptrace(PTRACE_GETFPREGS, r->tid, 0, r->xstate) < 0)
		return ptrace_err();
	r->xlen = ARCH_FXSAVE_SIZE;
	r->xsave = false;
	return 0;
}

/* Lay the area out below the red zone and check it fits the stack. */
static int run_layout(struct run *r)
{
	const struct inject_req *q = r->req;
	const struct target_region *reg;
	taddr_t rsp = r->saved.rsp, p, need_lo;

	if (rsp < (1u << 20)) {
		why_add(r, "thread %d has an implausible stack pointer 0x%llx", r->tid,
			(unsigned long long)rsp);
		return -ENOSPC;
	}
	r->top = (rsp - ARCH_RED_ZONE) & ~(taddr_t)63;
	r->xaddr = (r->top - (r->xlen + 4)) & ~(taddr_t)63;
	p = r->xaddr;
	if (q->sret_len) {
		r->sret = (p - q->sret_len) & ~(taddr_t)15;
		p = r->sret;
	}
	/* At a function's entry rsp % 16 == 8 (a call just pushed the
	 * return address): the frame's pretcode is that address. */
	r->frame = ((p - sizeof(struct k_rt_sigframe)) & ~(taddr_t)15) - 8;
	p = r->frame;
	if (q->ret_child) {
		r->exitword = (p - 16) & ~(taddr_t)15;
		p = r->exitword;
	}
	r->lo = p & ~(taddr_t)15;
	need_lo = r->lo - (q->fn ? CALL_STACK_ROOM : 0);
	reg = target_region_of(r->t, r->top - 1);
	if (!reg || !(reg->prot & TARGET_PROT_WRITE) || reg->start > need_lo ||
	    r->top > reg->end) {
		why_add(r, "no room on the stack of thread %d (sp 0x%llx) for the %zu bytes "
			"an injection needs", r->tid, (unsigned long long)rsp,
			(size_t)(r->top - need_lo));
		return -ENOSPC;
	}
	return 0;
}

/* The arguments of the injected system call, as run_start() sets them. */
static void syscall_args(const struct run *r, uint64_t ret_args[6])
{
	memcpy(ret_args, r->req->args, 6 * sizeof(ret_args[0]));
	/* clone's newsp: the child, should it run, pops _exit */
	if (r->req->ret_child)
		ret_args[1] = r->exitword;
}

/*
 * May this injection run in this thread? Under a seccomp filter, every
 * call it will make must be allowed (the opening comment): the system
 * call itself with its exact arguments, the calls its caller planned (a
 * called function's, the wait4 that will reap a fork's child), and the
 * rt_sigreturn from the frame (the rescue, should heapgrab die: while it
 * lives, a function's return is skipped before the filter sees it). Nothing
 * has been written yet.
 */
static int run_gate(struct run *r)
{
	const struct inject_req *q = r->req;
	struct seccomp_call calls[INJECT_MAX_PLAN + 2];
	size_t n = 0;
	int mode = seccomp_thread_mode(r->pid, r->tid), err;

	if (mode == 0)
		return 0;
	if (mode < 0)
		return -HG_E_TARGET_GONE;
	if (mode == 1) {
		why_add(r, "thread %d runs in seccomp strict mode, which kills it for any "
			"system call but read, write, _exit and sigreturn: heapgrab injects "
			"nothing into it", r->tid);
		return -HG_E_SECCOMP;
	}
	err = seccomp_filters_read(r->tid, &r->filters, r->why);
	if (err < 0 || !r->filters)
		return err;
	if (!q->fn) {
		uint64_t args[6];

		syscall_args(r, args);
		seccomp_call_init(&calls[n++], q->nr, args, 0x3f,
				  r->lc->syscall_insn + ARCH_SYSCALL_INSN_LEN);
	}
	for (size_t k = 0; k < q->nplan && n < INJECT_MAX_PLAN; k++)
		calls[n++] = q->plan[k];
	seccomp_call_init(&calls[n], SYS_rt_sigreturn, NULL, 0,
			  r->lc->restore_rt + INJECT_RESTORE_RT_LEN);
	calls[n++].where = "(the way back through heapgrab's signal frame, should heapgrab "
			   "die)";
	err = seccomp_check_calls(r->filters, calls, n, r->why);
	r->guard = err == 0 && q->fn;
	return err;
}

static int run_write_area(struct run *r)
{
	size_t len = (size_t)(r->top - r->lo);
	unsigned char *buf;
	struct k_rt_sigframe fr;
	int err;

	r->orig = xmalloc(len);
	err = inject_mem_io(r->pid, r->lo, r->orig, len, false);
	if (err < 0) {
		why_add(r, "cannot read the stack of thread %d: %s", r->tid, hg_strerror(err));
		return err;
	}
	buf = xmalloc(len);
	memcpy(buf, r->orig, len);

	arch_sigframe_fill(&fr, &r->saved, r->saved_mask, r->xaddr, r->xsave, r->lc->restore_rt);
	memcpy(buf + (r->frame - r->lo), &fr, sizeof(fr));

	memcpy(buf + (r->xaddr - r->lo), r->xstate, r->xlen);
	if (r->xsave) {
		uint32_t magic2 = ARCH_FP_XSTATE_MAGIC2;

		memcpy(buf + (r->xaddr - r->lo) + r->xlen, &magic2, sizeof(magic2));
	} else {
		/* No magic1: rt_sigreturn restores the fxsave part only. */
		memset(buf + (r->xaddr - r->lo) + ARCH_FX_SW_RESERVED_OFF, 0,
		       ARCH_FXSAVE_SIZE - ARCH_FX_SW_RESERVED_OFF);
	}
	if (r->req->sret_len)
		memset(buf + (r->sret - r->lo), 0, r->req->sret_len);
	if (r->exitword)
		memcpy(buf + (r->exitword - r->lo), &r->lc->exit_fn, sizeof(r->lc->exit_fn));

	err = inject_mem_io(r->pid, r->lo, buf, len, true);
	free(buf);
	if (err < 0) {
		why_add(r, "cannot write the stack of thread %d: %s", r->tid, hg_strerror(err));
		return err;
	}
	r->stack_written = true;
	return 0;
}

/* Every signal blocked except the synchronous ones (see the opening
 * comment). Bit N-1 is signal N. */
static uint64_t injection_mask(void)
{
	static const int sync[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	uint64_t m = ~(uint64_t)0;

	for (size_t k = 0; k < ARRAY_SIZE(sync); k++)
		m &= ~((uint64_t)1 << (sync[k] - 1));
	return m;
}

static int run_start(struct run *r)
{
	const struct inject_req *q = r->req;
	struct user_regs_struct inj = r->saved;
	uint64_t mask = injection_mask();
	long opts = PTRACE_O_TRACESYSGOOD;

	inj.orig_rax = (uint64_t)-1;
	inj.rsp = r->frame;
	arch_clear_flags(&inj);
	if (q->fn) {
		uint64_t a[6] = { 0 };
		size_t n = 0;

		if (q->sret_len)
			a[n++] = r->sret;
		for (size_t k = 0; k < q->nargs && n < 6; k++)
			a[n++] = q->args[k];
		arch_regs_call(&inj, q->fn, a);
	} else {
		uint64_t a[6];

		syscall_args(r, a);
		arch_regs_syscall(&inj, r->lc->syscall_insn, q->nr, a);
	}
	if (q->ret_child)
		opts |= PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;

	/* Order: registers before the mask (see the opening comment). */
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &inj) < 0)
		return ptrace_err();
	r->regs_set = true;
	r->fp_dirty = q->fn != 0;
	if (ptrace(PTRACE_SETSIGMASK, r->tid, sizeof(mask), &mask) < 0)
		return ptrace_err();
	r->mask_set = true;
	if (ptrace(PTRACE_SETOPTIONS, r->tid, 0, opts) < 0)
		return ptrace_err();
	r->opts_set = true;
	if (ptrace(r->guard ? PTRACE_SYSEMU : PTRACE_SYSCALL, r->tid, 0, 0) < 0)
		return ptrace_err();
	return 0;
}

/*
 * Bring the thread from wherever it is (running, or in a syscall stop) to
 * a stop inside get_signal(): PTRACE_INTERRUPT, then let it run with
 * PTRACE_CONT until the interrupt (or a group-stop, or a fault) stops it.
 * STOPPED says whether it is in a ptrace-stop now. A fault seen on the way
 * is reported in *RET_FAULT (0 if none).
 */
static int run_park(struct run *r, bool stopped, int *ret_fault)
{
	long deadline = inject_now_ms() + PARK_TIMEOUT_MS;

	*ret_fault = 0;
	if (ptrace(PTRACE_INTERRUPT, r->tid, 0, 0) < 0)
		return ptrace_err();
	if (stopped && ptrace(PTRACE_CONT, r->tid, 0, 0) < 0)
		return ptrace_err();
	for (;;) {
		int st, sig = 0, err = inject_wait(r->tid, deadline, &st);

		if (err < 0)
			return err;
		switch (classify(st, &sig)) {
		case STOP_GONE:
			r->gone = true;
			return -HG_E_TARGET_GONE;
		case STOP_PARKED:
		case STOP_GROUP:
			return 0;
		case STOP_SIGNAL:
			/* A fault (the others are blocked): it is inside
			 * get_signal(), so this is a place to restore, and
			 * the signal is dropped with the state that caused
			 * it. */
			*ret_fault = sig;
			return 0;
		case STOP_CLONE: {
			unsigned long msg = 0;

			if (ptrace(PTRACE_GETEVENTMSG, r->tid, 0, &msg) == 0 && !r->child)
				r->child = (int)msg;
			break;
		}
		case STOP_SYSCALL:
		case STOP_OTHER:
			break;
		}
		if (ptrace(PTRACE_CONT, r->tid, 0, 0) < 0)
			return ptrace_err();
	}
}

/* Put everything back; the thread is in a stop inside get_signal(). */
static int run_restore(struct run *r)
{
	int err = 0;

	if (r->gone)
		return -HG_E_TARGET_GONE;
	if (r->mask_set && ptrace(PTRACE_SETSIGMASK, r->tid, sizeof(r->saved_mask),
				  &r->saved_mask) < 0)
		err = ptrace_err();
	if (r->fp_dirty) {
		struct iovec iov = { r->xstate, r->xlen };
		long rc = r->xsave ? ptrace(PTRACE_SETREGSET, r->tid, NT_X86_XSTATE, &iov)
				   : ptrace(PTRACE_SETFPREGS, r->tid, 0, r->xstate);

		if (rc < 0 && !err)
			err = ptrace_err();
	}
	if (r->regs_set && ptrace(PTRACE_SETREGS, r->tid, 0, &r->saved) < 0 && !err)
		err = ptrace_err();
	if (r->opts_set && ptrace(PTRACE_SETOPTIONS, r->tid, 0, 0) < 0 && !err)
		err = ptrace_err();
	if (r->stack_written) {
		int e = inject_mem_io(r->pid, r->lo, r->orig, (size_t)(r->top - r->lo), true);

		if (e < 0 && !err)
			err = e;
	}
	if (err < 0)
		why_add(r, "restoring thread %d after %s failed: %s", r->tid, what(r),
			hg_strerror(err));
	return err;
}

static void describe_fault(struct run *r, int sig)
{
	siginfo_t si;
	struct user_regs_struct cur;
	unsigned long long rip = 0, addr = 0;

	if (ptrace(PTRACE_GETREGS, r->tid, 0, &cur) == 0)
		rip = cur.rip;
	if (ptrace(PTRACE_GETSIGINFO, r->tid, 0, &si) == 0)
		addr = (unsigned long long)(uintptr_t)si.si_addr;
	why_add(r, "thread %d got %s at pc 0x%llx (address 0x%llx) inside %s; the call was "
		"abandoned and the thread restored, but an allocator lock it took may stay held",
		r->tid, strsignal(sig), rip, addr, what(r));
}

/* The system call: entry stop, maybe the clone event, exit stop. */
static int run_syscall(struct run *r, long deadline, long *ret_result)
{
	bool entered = false;

	for (;;) {
		int st, sig = 0, err = inject_wait(r->tid, deadline, &st);
		struct user_regs_struct cur;

		if (err == -HG_E_TIMEOUT) {
			why_add(r, "%s did not finish within %u ms", what(r), r->req->timeout_ms);
			return err;
		}
		if (err < 0)
			return err;
		switch (classify(st, &sig)) {
		case STOP_GONE:
			r->gone = true;
			return -HG_E_TARGET_GONE;
		case STOP_SYSCALL:
			if (!entered) {
				entered = true;
				break;
			}
			if (ptrace(PTRACE_GETREGS, r->tid, 0, &cur) < 0)
				return ptrace_err();
			*ret_result = (long)cur.rax;
			return 0;
		case STOP_CLONE: {
			unsigned long msg = 0;

			if (ptrace(PTRACE_GETEVENTMSG, r->tid, 0, &msg) < 0)
				return ptrace_err();
			r->child = (int)msg;
			break;
		}
		case STOP_GROUP:
			why_add(r, "a stop signal arrived before %s ran", what(r));
			return -HG_E_INJECT_STOPPED;
		case STOP_SIGNAL:
			describe_fault(r, sig);
			return -HG_E_INJECT_CRASH;
		case STOP_PARKED:
		case STOP_OTHER:
			why_add(r, "unexpected stop 0x%x of thread %d during %s", st, r->tid, what(r));
			return -EPROTO;
		}
		if (ptrace(PTRACE_SYSCALL, r->tid, 0, 0) < 0)
			return ptrace_err();
	}
}

/* At a syscall-entry stop: the function's return (the rt_sigreturn of
 * __restore_rt with our frame under the stack pointer)? */
static bool is_return(const struct run *r, const struct user_regs_struct *cur)
{
	return arch_syscall_nr(cur) == SYS_rt_sigreturn && cur->rsp == r->frame + 8 &&
	       cur->rip == r->lc->restore_rt + INJECT_RESTORE_RT_LEN;
}

/*
 * Guarded function call, at the entry stop of a call PTRACE_SYSEMU kept
 * from being made: may the kernel see it? True when the filter would leave
 * the thread alive (the call is then made for real). Otherwise the call
 * stays skipped: it returns -ENOSYS, what a kernel without the call would
 * answer and what glibc copes with (getrandom falls back to the clock,
 * madvise's result is ignored, a failed brk is a failed sbrk), the
 * function goes on, and the injection is reported as refused when it
 * returns (guard_failed).
 */
static bool guard_call(struct run *r, const struct user_regs_struct *cur)
{
	struct seccomp_call c;
	struct seccomp_verdict v;
	uint64_t args[6];

	arch_syscall_args(cur, args);
	seccomp_call_init(&c, arch_syscall_nr(cur), args, 0x3f, cur->rip);
	if (seccomp_eval(r->filters, &c, &v) == 0 && seccomp_verdict_harmless(&v))
		return true;
	if (r->why && r->guard_failed < 3) {
		if (r->why->len)
			strbuf_addstr(r->why, "; ");
		strbuf_addf(r->why, "%s made a system call heapgrab did not expect, ", what(r));
		seccomp_call_describe(&c, r->why);
		strbuf_addstr(r->why, ", which the target's seccomp filter would answer with ");
		seccomp_verdict_describe(&v, r->why);
		strbuf_addstr(r->why, ": heapgrab did not let the filter see it, failed it with "
			      "ENOSYS instead, and let the function finish");
	}
	r->guard_failed++;
	return false;
}

/*
 * The function call. Each system call the function makes is a pair of
 * stops, entry and exit, and is let through; the rt_sigreturn of our
 * frame's __restore_rt is the return: skipped (orig_rax = -1), rip put
 * back on __restore_rt, and its exit stop ends the call. Guarded (a
 * filtered thread), the function runs under PTRACE_SYSEMU between calls:
 * at an entry stop the call has been skipped already; the return ends the
 * call right there (the caller parks the thread from that stop), any
 * other call goes to guard_call(), and one it lets through is rewound onto
 * its `syscall` instruction and resumed with PTRACE_SYSCALL. The skipped
 * call's own exit stop may come first (its rip is still on the
 * instruction), then the real call's entry and exit.
 */
static int run_call(struct run *r, long deadline)
{
	enum { BETWEEN, REWOUND, ENTERED } state = BETWEEN;
	bool returning = false;
	taddr_t rewound_rip = 0;

	for (;;) {
		int st, sig = 0, err = inject_wait(r->tid, deadline, &st);
		struct user_regs_struct cur;

		if (err == -HG_E_TIMEOUT) {
			why_add(r, "%s did not return within %u ms; it was abandoned, and an "
				"allocator lock it took may stay held", what(r), r->req->timeout_ms);
			return err;
		}
		if (err < 0)
			return err;
		switch (classify(st, &sig)) {
		case STOP_GONE:
			r->gone = true;
			return -HG_E_TARGET_GONE;
		case STOP_SYSCALL:
			if (ptrace(PTRACE_GETREGS, r->tid, 0, &cur) < 0)
				return ptrace_err();
			switch (state) {
			case BETWEEN:		/* an entry stop */
				returning = is_return(r, &cur);
				if (returning) {
					/* Skip the sigreturn and point rip
					 * back at __restore_rt, so that the
					 * thread is safe to let go even now. */
					if (!r->guard)
						cur.orig_rax = (uint64_t)-1;
					cur.rip = r->lc->restore_rt;
					if (ptrace(PTRACE_SETREGS, r->tid, 0, &cur) < 0)
						return ptrace_err();
					if (r->guard)
						return 0;	/* skipped by SYSEMU */
					state = ENTERED;
					break;
				}
				if (!r->guard) {
					state = ENTERED;
					break;
				}
				if (!guard_call(r, &cur))
					break;	/* stays skipped: -ENOSYS */
				arch_syscall_rewind(&cur);
				if (ptrace(PTRACE_SETREGS, r->tid, 0, &cur) < 0)
					return ptrace_err();
				rewound_rip = cur.rip;
				state = REWOUND;
				break;
			case REWOUND:
				/* the skipped call's exit stop, or the real
				 * call's entry stop */
				if (cur.rip != rewound_rip)
					state = ENTERED;
				break;
			case ENTERED:		/* the exit stop */
				if (returning)
					return 0;
				state = BETWEEN;
				break;
			}
			break;
		case STOP_SIGNAL:
			describe_fault(r, sig);
			return -HG_E_INJECT_CRASH;
		case STOP_GROUP:
			why_add(r, "a stop signal arrived while %s ran; the call was abandoned, "
				"and an allocator lock it took may stay held", what(r));
			return -HG_E_INJECT_STOPPED;
		case STOP_CLONE:
		case STOP_PARKED:
		case STOP_OTHER:
			why_add(r, "unexpected stop 0x%x of thread %d during %s", st, r->tid, what(r));
			return -EPROTO;
		}
		if (ptrace(state == BETWEEN && r->guard ? PTRACE_SYSEMU : PTRACE_SYSCALL, r->tid,
			   0, 0) < 0)
			return ptrace_err();
	}
}

static void run_release(struct run *r)
{
	free(r->xstate);
	free(r->orig);
	seccomp_filters_free(r->filters);
}

int inject_run(struct target *t, int tid, const struct inject_libc *lc,
	       const struct inject_req *req, struct strbuf *why)
{
	struct run r = {
		.t = t, .pid = t->pid, .tid = tid, .lc = lc, .req = req, .why = why,
	};
	long deadline;
	long result = 0;
	int err, err2, fault = 0;
	bool in_get_signal = true;	/* parked, where we started */

	if (!lc->restore_rt || (!req->fn && !lc->syscall_insn) ||
	    (req->ret_child && !lc->exit_fn))
		return -HG_E_NO_GADGET;
	err = run_save(&r);
	if (err < 0)
		goto out;
	err = run_layout(&r);
	if (err < 0)
		goto out;
	err = run_gate(&r);
	if (err < 0)
		goto out;
	err = run_write_area(&r);
	if (err < 0)
		goto restore;
	err = run_start(&r);
	if (err < 0)
		goto restore;
	in_get_signal = false;
	deadline = inject_now_ms() + (req->timeout_ms ? req->timeout_ms : 5000);
	err = req->fn ? run_call(&r, deadline) : run_syscall(&r, deadline, &result);
	if (r.gone)
		goto out;
	if (err == -HG_E_INJECT_CRASH || err == -HG_E_INJECT_STOPPED) {
		in_get_signal = true;	/* signal-delivery-stop or group-stop */
	} else {
		/* From a syscall stop, or from a running thread after a
		 * timeout: get it parked. */
		err2 = run_park(&r, err != -HG_E_TIMEOUT, &fault);
		if (err2 < 0) {
			if (!err)
				err = err2;
			if (r.gone)
				goto out;
			why_add(&r, "thread %d could not be parked again after %s: %s", tid,
				what(&r), hg_strerror(err2));
			goto out;	/* not in a stop: nothing can be restored */
		}
		in_get_signal = true;
		if (fault && !err) {
			describe_fault(&r, fault);
			err = -HG_E_INJECT_CRASH;
		}
	}
	if (!err && req->sret_len && req->ret_sret) {
		err = inject_mem_io(r.pid, r.sret, req->ret_sret, req->sret_len, false);
		if (err < 0)
			why_add(&r, "cannot read the result of %s: %s", what(&r), hg_strerror(err));
	}
	if (!err && req->ret_area) {
		*req->ret_area_lo = r.lo;
		*req->ret_area_len = (size_t)(r.top - r.lo);
		*req->ret_area = xmalloc(*req->ret_area_len);
		memcpy(*req->ret_area, r.orig, *req->ret_area_len);
	}
restore:
	if (in_get_signal) {
		err2 = run_restore(&r);
		if (!err)
			err = err2;
	}
	if (!err && r.guard_failed)
		err = -HG_E_SECCOMP;	/* it finished, but not as it would have */
out:
	if (req->ret_child)
		*req->ret_child = r.child;
	if (!err && req->ret_result)
		*req->ret_result = result;
	run_release(&r);
	if (r.gone)
		return -HG_E_TARGET_GONE;
	return err;
}
