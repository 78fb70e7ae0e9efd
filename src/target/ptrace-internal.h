/*
 * ptrace-internal.h - the live backend's state, shared by its two files:
 * ptrace.c (seize, stop, read, detach, open, close) and ptrace-copy.c
 * (the copy under the stop, its buffers, and reading a fork snapshot's
 * child in place). Not for other files.
 */
#ifndef HEAPGRAB_PTRACE_INTERNAL_H
#define HEAPGRAB_PTRACE_INTERNAL_H

#include "target/ptrace.h"

#include <sys/types.h>

/* process_vm_readv piece size: 1 MiB pieces measured fastest here. */
#define COPY_PIECE (1u << 20)

struct memimage;
struct populate;
struct stream;
struct workers;

struct live_thread {
	int tid;
	bool stopped;		/* in a ptrace-stop we caused or accepted */
	bool group_stop;	/* that stop is a group-stop: never resume */
	bool gone;		/* exited while we held it */
};

/* A destination mapping allocated and faulted in before the stop. */
struct prebuf {
	taddr_t start, end;
	unsigned char *buf;	/* BUF_ALIGN aligned inside the mapping */
	void *map;
	size_t map_len;
	/* pre-copied (ptrace-precopy.c): these ranges (sorted, pages) were
	 * filled with the running process's bytes, not zeros */
	struct target_range *filled;
	size_t nr_filled;
};

struct live {
	int pid;
	int read_pid;		/* whose memory raw_read() reads: pid, or a
				 * fork snapshot's child (live_freeze_from) */
	struct prebuf *pre;
	size_t nr_pre;
	struct workers *workers;	/* copy threads, or NULL */
	struct populate *populating;	/* live_prepare() still at work */
	struct stream *stream;		/* live_stream(): reading in place */
	struct live_thread *th;	/* parallel to target->threads */
	size_t nr, alloc;
	bool stopped;
	struct memimage *frozen;
	int memfd;		/* /proc/PID/mem, opened on first need */
	bool use_memfd;		/* process_vm_readv unusable here */
	bool saved_use_memfd;	/* the target's, while reading a child */
	/* pre-copy (ptrace-precopy.c): one scratch piece per copy thread,
	 * faulted in before the stop; the bytes pre-copied and the bytes
	 * found changed (and copied again) under the stop */
	bool no_precopy;	/* live_set_precopy(t, false) */
	unsigned char *scratch;
	size_t scratch_len;
	unsigned nr_scratch;
	uint64_t precopied, changed;
};

/*
 * Whose memory a read goes to, and how. live_live_raw_read() settles the way on the
 * first read (process_vm_readv, or /proc/PID/mem where that is refused)
 * and opens the file; after that a copy of the struct is all the copy
 * threads need (live_live_reader_read() changes nothing, pread is positional).
 */
struct reader {
	int pid;
	bool use_memfd;
	int memfd;
};

static inline struct live *live_of(const struct target *t)
{
	return t->priv;
}

/* ptrace.c */
int live_errno_to_hg(int e);
bool live_proc_exists(int pid);
/* Bytes read (maybe short), 0 when nothing is left (the process lost the
 * memory), or a negative error. Thread-safe. */
ssize_t live_reader_read(const struct reader *r, taddr_t addr, void *buf, size_t len);
/* The same for L's process, settling how it is read on the first call. */
ssize_t live_raw_read(struct live *l, taddr_t addr, void *buf, size_t len);

/* ptrace-copy.c */
/* Is R's memory copied (private, readable and writable)? */
bool live_worth_copying(const struct target_region *r);
/* Reads and maps of a target read in place (live_stream()). */
int live_stream_read(struct target *t, taddr_t addr, void *buf, size_t len);
const void *live_stream_map(struct target *t, taddr_t addr, size_t len);
/* Wait for a live_prepare() still faulting in. */
void live_populate_wait(struct live *l);
/* Free the copy's state: buffers, threads, a stream (live_close()). */
void live_copy_release(struct live *l);

/* ptrace-precopy.c */
/* Scratch pieces of PRECOPY_PIECE bytes: the in-stop reads of pre-copied
 * memory, compared with the pre-copy. */
#define PRECOPY_PIECE (1u << 20)
/* Is pre-copying on (off unless HEAPGRAB_PRECOPY=1 or =direct)? */
bool live_precopy_enabled(void);
/* Are pre-copied jobs compared under the stop (else read again directly:
 * HEAPGRAB_PRECOPY=direct)? */
bool live_precopy_compare(void);
/* Before the stop, in a copy thread: fill [P, P + LEN) with the bytes at
 * ADDR of the running process; what does not read is faulted in as
 * zeros. Returns the bytes read. */
uint64_t live_precopy_fill(const struct reader *rd, taddr_t addr, unsigned char *p, size_t len);
/* Under the stop: read up to LEN bytes at ADDR into SCRATCH and copy into
 * DST the pages that differ from it; *CHANGED grows by their bytes.
 * Returns what live_reader_read() returns. */
ssize_t live_precopy_refresh(const struct reader *rd, taddr_t addr, unsigned char *dst,
			     size_t len, unsigned char *scratch, uint64_t *changed);
/* Zero what PB holds of the pre-copy in [START, END) outside KEEP
 * (sorted, not overlapping): a zero range reads zeros there. */
void live_precopy_clear(const struct prebuf *pb, taddr_t start, taddr_t end,
			const struct target_range *keep, size_t nr_keep);
/* One scratch piece per thread for N threads (before the stop). */
void live_precopy_scratch(struct live *l, unsigned n);

#endif /* HEAPGRAB_PTRACE_INTERNAL_H */
