/*
 * hg-tracer.c - a minimal ptrace user for the shell tests.
 *
 *   hg-tracer probe PID        PTRACE_SEIZE + PTRACE_INTERRUPT + wait +
 *                              PTRACE_DETACH on PID.  Exit 0 if ptrace works
 *                              here, 77 if it is not permitted (EPERM), 1 on
 *                              other errors.  Used by require_ptrace_.
 *   hg-tracer hold PID FILE    PTRACE_SEIZE every thread of PID (without
 *                              stopping it), write "held" to FILE, then
 *                              sleep until SIGTERM/SIGINT and exit; the
 *                              kernel detaches on exit.  Makes PID "already
 *                              traced by another program" for heapgrab.
 *
 *   hg-tracer wait-traced PID MS
 *                              poll /proc/PID/status as fast as possible
 *                              until TracerPid is non-zero; print it and
 *                              exit 0, or exit 1 after MS milliseconds or
 *                              when PID is gone.  Lets a test signal
 *                              heapgrab while it holds the target (a shell
 *                              loop is too slow for a 10 ms window).
 *   hg-tracer kill-when-traced PID MS SIG VICTIM DELAY_US
 *                              as wait-traced, then sleep DELAY_US
 *                              microseconds, read TracerPid again, send
 *                              signal number SIG to VICTIM and print
 *                              "TRACERPID" as read just before the kill
 *                              (0: the target was no longer traced).
 *                              Exit 1 (nothing sent) on timeout.
 *
 * Caution for callers of hold: a seized tracee stops when a signal is
 * delivered to it and nobody here resumes it; end hold (and wait until
 * TracerPid is 0) before signalling the tracee.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

static pid_t parse_pid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0) {
		fprintf(stderr, "hg-tracer: bad pid '%s'\n", s);
		exit(2);
	}
	return (pid_t)v;
}

static int probe(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) {
		fprintf(stderr, "PTRACE_SEIZE %d: %s\n", (int)pid,
			strerror(errno));
		return errno == EPERM ? 77 : 1;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0 ||
	    waitpid(pid, &status, __WALL) != pid) {
		fprintf(stderr, "PTRACE_INTERRUPT/wait %d: %s\n", (int)pid,
			strerror(errno));
		return 1;
	}
	if (ptrace(PTRACE_DETACH, pid, 0, 0) != 0) {
		fprintf(stderr, "PTRACE_DETACH %d: %s\n", (int)pid,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int hold(pid_t pid, const char *file)
{
	char path[64];
	struct dirent *de;
	struct sigaction sa;
	DIR *d;
	int n = 0, fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "hg-tracer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		pid_t tid;

		if (de->d_name[0] == '.')
			continue;
		tid = (pid_t)atoi(de->d_name);
		if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
			fprintf(stderr, "hg-tracer: PTRACE_SEIZE %d: %s\n",
				(int)tid, strerror(errno));
			closedir(d);
			return errno == EPERM ? 77 : 1;
		}
		n++;
	}
	closedir(d);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "held\n", 5) != 5 || close(fd) != 0) {
		fprintf(stderr, "hg-tracer: cannot write %s\n", file);
		return 1;
	}
	fprintf(stderr, "hg-tracer: holding %d thread(s) of %d\n", n,
		(int)pid);
	while (!done)
		pause();
	return 0;
}

static long tracer_of(const char *path)
{
	char buf[4096];
	const char *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nTracerPid:");
	return p ? strtol(p + 11, NULL, 10) : -1;
}

static int wait_traced(pid_t pid, const char *ms_arg, int quiet)
{
	char path[64];
	struct timespec t0, t;
	long ms = atol(ms_arg), tp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		tp = tracer_of(path);
		if (tp < 0)
			return 1;
		if (tp > 0) {
			if (!quiet)
				printf("%ld\n", tp);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return 1;
	}
}

static int kill_when_traced(char **argv)
{
	pid_t pid = parse_pid(argv[2]);
	int sig = atoi(argv[4]);
	pid_t victim = parse_pid(argv[5]);
	long delay = atol(argv[6]);
	char path[64];
	struct timespec ts;
	long tp;

	if (wait_traced(pid, argv[3], 1))
		return 1;
	ts.tv_sec = delay / 1000000;
	ts.tv_nsec = (delay % 1000000) * 1000;
	nanosleep(&ts, NULL);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	tp = tracer_of(path);
	if (kill(victim, sig) != 0) {
		fprintf(stderr, "hg-tracer: kill %d: %s\n", (int)victim,
			strerror(errno));
		return 1;
	}
	printf("%ld\n", tp < 0 ? 0 : tp);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "probe"))
		return probe(parse_pid(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(parse_pid(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "wait-traced"))
		return wait_traced(parse_pid(argv[2]), argv[3], 0);
	if (argc == 7 && !strcmp(argv[1], "kill-when-traced"))
		return kill_when_traced(argv);
	fputs("usage: hg-tracer probe PID | hold PID FILE | "
	      "wait-traced PID MS |\n"
	      "       kill-when-traced PID MS SIG VICTIM DELAY_US\n", stderr);
	return 2;
}
