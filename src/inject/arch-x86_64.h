/*
 * arch-x86_64.h - what injection needs to know about x86-64 Linux, kept
 * apart from the protocol (inject.c) the way CRIU's compel keeps its
 * arch/x86 directory apart: another architecture would bring a file like
 * this one and leave inject.c as it is.
 *
 *   the red zone                 bytes below rsp a leaf function may use
 *   the kernel's signal frame    what rt_sigreturn reads (struct
 *                                rt_sigframe), filled from saved registers
 *                                with the kernel's restart rule applied
 *   the register conventions     a system call (rax, rdi, rsi, rdx, r10,
 *                                r8, r9) and a function call (rdi, rsi,
 *                                rdx, rcx, r8, r9) set up in a copy of the
 *                                saved registers
 *   the syscall instruction      `syscall` is 2 bytes; after it rip points
 *                                past it, which is the instruction pointer
 *                                a seccomp filter sees
 *   AUDIT_ARCH_X86_64            the arch word of a filter's seccomp_data
 *
 * Not for use outside src/inject/.
 */
#ifndef HEAPGRAB_INJECT_ARCH_X86_64_H
#define HEAPGRAB_INJECT_ARCH_X86_64_H

#include "util/compiler.h"

#include <sys/user.h>

/* The x86_64 red zone: 128 bytes below rsp a leaf function may use
 * without moving rsp (SysV ABI 3.2.2; gdb's amd64 frame code). */
#define ARCH_RED_ZONE 128
/* __USER_CS on x86_64 Linux: a 64-bit process. */
#define ARCH_USER_CS_64 0x33
/* `syscall` (0f 05). */
#define ARCH_SYSCALL_INSN_LEN 2
/* include/uapi/linux/audit.h: EM_X86_64 | __AUDIT_ARCH_64BIT | LE */
#define ARCH_AUDIT_ARCH 0xc000003eu
/* The xsave area's legacy (fxsave) part, and where in it the kernel keeps
 * its software bytes (struct _fpx_sw_bytes: magic1, sizes). */
#define ARCH_FXSAVE_SIZE 512
#define ARCH_FX_SW_RESERVED_OFF 464
/* arch/x86/include/uapi/asm/sigcontext.h */
#define ARCH_FP_XSTATE_MAGIC1 0x46505853u
#define ARCH_FP_XSTATE_MAGIC2 0x46505845u

/*
 * The kernel's 64-bit signal frame, as rt_sigreturn reads it
 * (arch/x86/include/asm/sigframe.h struct rt_sigframe; uapi struct
 * sigcontext; asm-generic struct ucontext with the kernel's 8-byte sigset_t
 * and 24-byte stack_t). Written out here rather than taken from <signal.h>,
 * whose ucontext_t is glibc's, not the kernel's.
 *
 *   frame+0     pretcode            return address of the handler
 *   frame+8     uc_flags
 *   frame+16    uc_link
 *   frame+24    uc_stack            ss_sp, ss_flags, ss_size
 *   frame+48    uc_mcontext         struct sigcontext, 256 bytes
 *   frame+304   uc_sigmask          8 bytes
 *   frame+312   siginfo             128 bytes
 *   frame+440   (end)
 */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	unsigned char info[128];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(sizeof(struct k_ucontext) == 304, "struct ucontext is 304 bytes");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "struct rt_sigframe is 440 bytes");

/*
 * Fill *FR so that rt_sigreturn from it puts back SAVED (the registers of
 * a thread parked in a stop inside get_signal(), with the kernel's
 * no-handler restart rule applied, since rt_sigreturn sets orig_rax to -1
 * and the rule would not run after it), the signal mask MASK and the FP
 * state at FPSTATE (an XSAVE image when XSAVE, else fxsave only), and
 * leaves the thread's sigaltstack alone. PRETCODE is the frame's return
 * address (glibc's __restore_rt).
 */
void arch_sigframe_fill(struct k_rt_sigframe *fr, const struct user_regs_struct *saved,
			uint64_t mask, taddr_t fpstate, bool xsave, taddr_t pretcode);

/* REGS (a copy of the saved ones) set up to make system call NR(ARGS) at
 * the `syscall` instruction INSN. */
void arch_regs_syscall(struct user_regs_struct *regs, taddr_t insn, long nr,
		       const uint64_t args[6]);
/* REGS set up to call FN with the integer arguments ARGS[0..5] (the
 * vector-register count of a variadic call in rax is 0). */
void arch_regs_call(struct user_regs_struct *regs, taddr_t fn, const uint64_t args[6]);
/* At a syscall-entry stop: the call's number and arguments as the kernel
 * (and a seccomp filter) sees them; its instruction pointer is regs->rip. */
long arch_syscall_nr(const struct user_regs_struct *regs);
void arch_syscall_args(const struct user_regs_struct *regs, uint64_t ret_args[6]);
/* At a syscall-entry stop whose call was skipped (PTRACE_SYSEMU): REGS
 * changed so that the thread, resumed, makes the same call again. */
void arch_syscall_rewind(struct user_regs_struct *regs);
/* Clear the direction and trap flags for code we start (the ABI wants DF
 * clear at a call; TF would single-step it). */
void arch_clear_flags(struct user_regs_struct *regs);

#endif /* HEAPGRAB_INJECT_ARCH_X86_64_H */
