/*
 * t-nsperm.c - what heapgrab says when the kernel will not let it trace a
 * process (target/ptrace.c ptrace_perm_explain()), fed the facts of each
 * case: Yama's ptrace_scope 1, 2 and 3 (this machine may have no Yama at
 * all: the explanation is pure), other uids, set-uid ids, a non-dumpable
 * process, capabilities heapgrab lacks, another user namespace, heapgrab
 * under a seccomp filter, ptrace(2) refused before any check (by
 * heapgrab's own filter, or by a security module), and none of these. Each case must name its
 * cause (and the capability that would pass it) and not another's. Also
 * the live backend's ns_pid: this process, opened as a target, has the
 * pid the last NSpid field of its /proc status names.
 */
#include "config.h"
#include "tap.h"
#include "target/ptrace.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <unistd.h>

static struct ptrace_perm base(void)
{
	struct ptrace_perm p = {
		.uid = 1000, .gid = 1000,
		.t_uid = { 1000, 1000, 1000 }, .t_gid = { 1000, 1000, 1000 },
		.t_ids_known = true,
		.caps = 0, .t_caps = 0, .t_caps_known = true,
		.t_dumpable = true,
		.yama = -1,
		.seccomp = 0,
	};

	return p;
}

/* The explanation contains WANT and none of NOT (may be NULL). */
static void says(const struct ptrace_perm *p, const char *want, const char *not,
		 const char *what)
{
	struct strbuf sb = STRBUF_INIT;
	bool good;

	ptrace_perm_explain(p, &sb);
	good = strstr(sb.buf, want) && (!not || !strstr(sb.buf, not)) &&
	       !strncmp(sb.buf, "not permitted to trace it: ", 27) && !strchr(sb.buf, '\n');
	if (!ok(good, "%s", what))
		printf("#   got: %s\n#   want: %s%s%s\n", sb.buf, want, not ? ", not " : "",
		       not ? not : "");
	strbuf_release(&sb);
}

int main(void)
{
	struct ptrace_perm p;
	struct target *t = NULL;

	plan(18);
	p = base();
	p.yama = 3;
	says(&p, "ptrace_scope is 3", NULL, "Yama 3 is named first");
	p = base();
	p.t_uid[0] = p.t_uid[1] = p.t_uid[2] = 0;
	p.t_gid[0] = p.t_gid[1] = p.t_gid[2] = 0;
	says(&p, "it runs as uid 0 gid 0 and heapgrab as uid 1000 gid 1000, without "
	     "CAP_SYS_PTRACE", NULL, "another user: both uids and CAP_SYS_PTRACE");
	says(&p, "run heapgrab as that user, or run heapgrab as root, or give it CAP_SYS_PTRACE",
	     NULL, "another user, heapgrab not root: that user, root or the capability");
	p.t_uid[1] = 1000;
	says(&p, "real, effective and saved uids", NULL, "mixed ids (set-uid)");
	p.cap_sys_ptrace = true;
	says(&p, "security module", "uid", "another user, but CAP_SYS_PTRACE: not the uids");
	p = base();
	p.t_dumpable = false;
	says(&p, "not dumpable", "gid", "a non-dumpable process");
	p = base();
	p.caps = 1ull << 0;
	p.t_caps = (1ull << 0) | (1ull << 13) | (1ull << 21);
	says(&p, "capabilities heapgrab lacks (cap_net_raw, cap_sys_admin)", NULL,
	     "capabilities the process holds and heapgrab does not");
	p.uid = p.gid = 0;
	p.t_uid[0] = p.t_uid[1] = p.t_uid[2] = 0;
	p.t_gid[0] = p.t_gid[1] = p.t_gid[2] = 0;
	says(&p, "--cap-add SYS_PTRACE", "run heapgrab as root",
	     "root without CAP_SYS_PTRACE: the container's way to grant it");
	p = base();
	p.yama = 2;
	says(&p, "ptrace_scope is 2", NULL, "Yama 2 without CAP_SYS_PTRACE");
	p.cap_sys_ptrace = true;
	says(&p, "security module", "ptrace_scope", "Yama 2 with CAP_SYS_PTRACE: not Yama");
	p = base();
	p.yama = 1;
	says(&p, "ptrace_scope is 1", NULL, "Yama 1, not an ancestor");
	p.descendant = true;
	says(&p, "security module", "ptrace_scope", "Yama 1, an ancestor: not Yama");
	p = base();
	p.other_userns = true;
	p.cap_sys_ptrace = true;
	says(&p, "user namespace other than heapgrab's", NULL, "another user namespace");
	p = base();
	p.seccomp = 2;
	says(&p, "seccomp filter (Seccomp: 2", NULL, "heapgrab under a seccomp filter");
	p = base();
	says(&p, "security module", NULL, "nothing visible: an LSM");
	p = base();
	p.seccomp = 2;
	p.syscall_refused = 1;
	p.uid = p.gid = 0;
	p.t_uid[0] = p.t_uid[1] = p.t_uid[2] = 65534;
	p.t_gid[0] = p.t_gid[1] = p.t_gid[2] = 65534;
	says(&p, "ptrace(2) itself is refused to heapgrab here (Operation not permitted before "
	     "the kernel looks at either process): heapgrab runs under a seccomp filter "
	     "(Seccomp: 2", "uid 65534", "ptrace refused by heapgrab's own filter comes first");
	p.seccomp = 0;
	says(&p, "a security module (AppArmor, SELinux) forbids it", "seccomp",
	     "ptrace refused without a filter: a security module");

	ok(target_live_open(getpid(), &t) == 0 && t->ns_pid == getpid(),
	   "ns_pid of this process (in heapgrab's PID namespace) is its pid");
	target_close(t);
	return done();
}
