/*
 * arch-x86_64.c - the x86-64 pieces of injection: the signal frame
 * rt_sigreturn reads, and the register conventions of a system call and of
 * a function call (arch-x86_64.h). inject.c's protocol uses only these.
 */
#include "config.h"
#include "inject/arch-x86_64.h"

#include <errno.h>
#include <string.h>

/* include/uapi/asm-generic/ucontext.h and arch/x86 ucontext flags */
#define UC_FP_XSTATE		0x1
#define UC_SIGCONTEXT_SS	0x2
#define UC_STRICT_RESTORE_SS	0x4

/* include/linux/errno.h (kernel-internal restart codes) */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

/* EFLAGS: TF (bit 8) and DF (bit 10). */
#define EFLAGS_TF_DF 0x500

/*
 * The registers the frame restores: the saved ones with the kernel's
 * no-handler restart rule applied (arch_do_signal_or_restart(): if
 * orig_rax >= 0 and rax is -ERESTARTSYS/-ERESTARTNOINTR/-ERESTARTNOHAND,
 * rax = orig_rax and rip -= 2).
 */
static void frame_regs(const struct user_regs_struct *s, struct k_sigcontext *sc)
{
	uint64_t rax = s->rax, rip = s->rip;

	if ((int64_t)s->orig_rax >= 0) {
		switch ((int64_t)s->rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
			rax = s->orig_rax;
			rip -= ARCH_SYSCALL_INSN_LEN;
			break;
		case -ERESTART_RESTARTBLOCK:
			/* restart_syscall after rt_sigreturn would find the
			 * restart block cleared and return EINTR: say it. */
			rax = (uint64_t)-EINTR;
			break;
		default:
			break;
		}
	}
	memset(sc, 0, sizeof(*sc));
	sc->r8 = s->r8;
	sc->r9 = s->r9;
	sc->r10 = s->r10;
	sc->r11 = s->r11;
	sc->r12 = s->r12;
	sc->r13 = s->r13;
	sc->r14 = s->r14;
	sc->r15 = s->r15;
	sc->rdi = s->rdi;
	sc->rsi = s->rsi;
	sc->rbp = s->rbp;
	sc->rbx = s->rbx;
	sc->rdx = s->rdx;
	sc->rax = rax;
	sc->rcx = s->rcx;
	sc->rsp = s->rsp;
	sc->rip = rip;
	sc->eflags = s->eflags;
	sc->cs = (uint16_t)s->cs;
	sc->ss = (uint16_t)s->ss;
}

void arch_sigframe_fill(struct k_rt_sigframe *fr, const struct user_regs_struct *saved,
			uint64_t mask, taddr_t fpstate, bool xsave, taddr_t pretcode)
{
	memset(fr, 0, sizeof(*fr));
	fr->pretcode = pretcode;
	fr->uc.uc_flags = (xsave ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/* An invalid ss_flags: rt_sigreturn's restore_altstack() then
	 * leaves the thread's sigaltstack as it is (do_sigaltstack() returns
	 * -EINVAL, which restore_altstack() ignores). */
	fr->uc.uc_stack.ss_flags = 3;
	frame_regs(saved, &fr->uc.uc_mcontext);
	fr->uc.uc_mcontext.fpstate = fpstate;
	fr->uc.uc_sigmask = mask;
}

void arch_regs_syscall(struct user_regs_struct *regs, taddr_t insn, long nr,
		       const uint64_t args[6])
{
	regs->rip = insn;
	regs->rax = (uint64_t)nr;
	regs->rdi = args[0];
	regs->rsi = args[1];
	regs->rdx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

void arch_regs_call(struct user_regs_struct *regs, taddr_t fn, const uint64_t args[6])
{
	regs->rip = fn;
	regs->rdi = args[0];
	regs->rsi = args[1];
	regs->rdx = args[2];
	regs->rcx = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
	regs->rax = 0;	/* vector registers used by a variadic call */
}

long arch_syscall_nr(const struct user_regs_struct *regs)
{
	return (long)regs->orig_rax;
}

void arch_syscall_args(const struct user_regs_struct *regs, uint64_t ret_args[6])
{
	ret_args[0] = regs->rdi;
	ret_args[1] = regs->rsi;
	ret_args[2] = regs->rdx;
	ret_args[3] = regs->r10;
	ret_args[4] = regs->r8;
	ret_args[5] = regs->r9;
}

void arch_syscall_rewind(struct user_regs_struct *regs)
{
	regs->rax = regs->orig_rax;
	regs->rip -= ARCH_SYSCALL_INSN_LEN;
}

void arch_clear_flags(struct user_regs_struct *regs)
{
	regs->eflags &= ~(uint64_t)EFLAGS_TF_DF;
}
