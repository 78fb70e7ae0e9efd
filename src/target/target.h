/*
 * target.h - where the bytes come from: one interface, three backends.
 *
 * A struct target is a process image: its memory regions (as in
 * /proc/PID/maps or a core's PT_LOAD + NT_FILE), its threads with their
 * registers, and a way to read its memory. The heap walker and everything
 * above it see only this interface and never know whether the bytes come
 * from a live process (target/ptrace.c), an ELF core (target/core.c) or an
 * in-memory image built by a unit test (target/memimage.c).
 *
 * Backends:
 *   ptrace    live process; after live_freeze() reads come from a private
 *             copy of the process's writable memory taken while all threads
 *             were stopped, so the walk after detach sees one instant.
 *   core      ELF core file, memory-mapped; bytes the core left out are read
 *             from the mapped files (NT_FILE), checked by build-id.
 *   memimage  segments added by the caller (tests, fuzzers).
 *
 * Ownership: target_close() frees everything reachable from the struct;
 * pointers into regions/threads stay valid until then. A live target is
 * detached by target_close() on every path.
 */
#ifndef HEAPGRAB_TARGET_H
#define HEAPGRAB_TARGET_H

#include "util/compiler.h"
#include <sys/types.h>
#include <sys/user.h>

struct target;

#define TARGET_PROT_READ	1u
#define TARGET_PROT_WRITE	2u
#define TARGET_PROT_EXEC	4u

struct target_region {
	taddr_t start;
	taddr_t end;		/* exclusive */
	unsigned prot;		/* TARGET_PROT_* */
	bool shared;		/* MAP_SHARED ('s' in maps) */
	bool deleted;		/* backing file shown as "(deleted)" */
	uint64_t offset;	/* file offset in bytes */
	char *path;		/* as the target sees it; NULL when anonymous;
				 * pseudo names kept: "[heap]", "[stack]", ... */
};

struct target_thread {
	int tid;
	/* x86_64 general registers; fs_base locates the thread's TLS. */
	struct user_regs_struct regs;
};

struct target_ops {
	const char *name;	/* "ptrace", "core", "memimage" */
	/* Read exactly LEN bytes at ADDR or fail: 0, -HG_E_UNREADABLE,
	 * -HG_E_TARGET_GONE, -errno. */
	int (*read)(struct target *t, taddr_t addr, void *buf, size_t len);
	/* Optional: a host pointer to LEN bytes at ADDR, valid until
	 * target_close(), or NULL when the range is not held contiguously. */
	const void *(*map)(struct target *t, taddr_t addr, size_t len);
	/* Free backend state; a live target is detached here. */
	void (*close)(struct target *t);
	/* Optional: target_read_strided() in fewer system calls. */
	long (*read_strided)(struct target *t, taddr_t addr, size_t stride, size_t len,
			     size_t count, void *buf);
	/* Optional: true when read and map may be called from several
	 * threads at once (nothing in the backend changes on a read). */
	bool (*concurrent)(const struct target *t);
};

/* A range of target addresses [start, end). */
struct target_range {
	taddr_t start;
	taddr_t end;
};

struct target {
	const struct target_ops *ops;
	int pid;			/* target's pid (from the core for cores) */
	/* Its pid inside its own PID namespace (the last number of NSpid in
	 * /proc/PID/status: a container's own pid); equal to pid when it is
	 * in ours; 0 when unknown (cores, images). */
	int ns_pid;
	char *exe;			/* executable path as the target sees it, or NULL */
	/* Host prefix for the target's paths: "/proc/PID/root" for live
	 * targets (containers, chroots), the --sysroot for cores, "" else. */
	char *root;
	struct target_region *regions;	/* sorted by start, non-overlapping */
	size_t nr_regions;
	struct target_thread *threads;	/* threads[0] is the main/faulting thread */
	size_t nr_threads;
	uint64_t *auxv;			/* AT_* pairs (type, value), or NULL */
	size_t nr_auxv;			/* number of pairs */
	void *priv;			/* backend state */
};

/* Read LEN bytes at ADDR; see target_ops.read for the return values. */
MUST_CHECK int target_read(struct target *t, taddr_t addr, void *buf, size_t len);
#define target_read_obj(t, addr, objp) target_read((t), (addr), (objp), sizeof(*(objp)))
MUST_CHECK int target_read_u64(struct target *t, taddr_t addr, uint64_t *ret_val);

/*
 * COUNT pieces of LEN bytes, the I-th at ADDR + I * STRIDE, into BUF one
 * after the other (the header of every page of a mapping, say). Returns
 * how many pieces were read, in order, before the first one that could
 * not be read (COUNT when all were), or a negative error (-HG_E_TARGET_GONE).
 */
MUST_CHECK long target_read_strided(struct target *t, taddr_t addr, size_t stride, size_t len,
				    size_t count, void *buf);

/* May target_read() and target_map() of T run in several threads at once? */
bool target_concurrent_reads(const struct target *t);

/* Host pointer to LEN bytes at ADDR if the backend holds them contiguously,
 * else NULL (then use target_read). Valid until target_close(). */
const void *target_map(struct target *t, taddr_t addr, size_t len);

/* The region containing ADDR, or NULL. Borrowed; valid until close. */
const struct target_region *target_region_of(const struct target *t, taddr_t addr);
/*
 * Parses one line of /proc/PID/maps (or a mapping's header line in
 * /proc/PID/smaps) into *R: range, protection, shared, offset, path (a
 * new string, NULL when anonymous; " (deleted)" taken off into
 * R->deleted). Returns false, R untouched, for a line of another shape.
 */
bool target_parse_maps_line(const char *line, struct target_region *r);

/* Host path for a path as the target sees it: root + path. Malloc'd. */
char *target_host_path(const struct target *t, const char *path);

/* Detach (live), free everything. Accepts NULL. */
void target_close(struct target *t);

/* Helpers for backends: take ownership of a region array and sort it. */
void target_set_regions(struct target *t, struct target_region *regions, size_t nr);
void target_region_release(struct target_region *r);

/* ---- memimage backend (target/memimage.c) ---- */

/* A new empty image (pid 0, no threads, no regions). */
struct target *memimage_new(void);
/* Add a segment: COPY the bytes (copy=true) or take ownership of a malloc'd
 * buffer (copy=false). Segments must not overlap. Also adds a matching
 * anonymous rw region unless one already covers it. */
void memimage_add(struct target *t, taddr_t start, void *data, size_t len, bool copy);
/* Add a thread with the given registers. */
void memimage_add_thread(struct target *t, int tid, const struct user_regs_struct *regs);

/* Memimage internals reused by the ptrace backend for its frozen copy. */
struct memimage;
struct memimage *memimage_create(void);
void memimage_put(struct memimage *m, taddr_t start, void *data, size_t len);
/* The same, but DATA stays the caller's: it must outlive the image. */
void memimage_put_borrowed(struct memimage *m, taddr_t start, void *data, size_t len);
/* 0 if fully read, -HG_E_UNREADABLE if some byte is not held. */
int memimage_read(const struct memimage *m, taddr_t addr, void *buf, size_t len);
const void *memimage_map(const struct memimage *m, taddr_t addr, size_t len);
size_t memimage_bytes(const struct memimage *m);
/* Hand M a mapping to munmap() when it is destroyed (segments put with
 * memimage_put_borrowed() may point into it). */
void memimage_own_mapping(struct memimage *m, void *map, size_t len);
/* Segments in address order: I < memimage_nr_segments(M). */
size_t memimage_nr_segments(const struct memimage *m);
const void *memimage_segment(const struct memimage *m, size_t i, taddr_t *ret_start,
			     size_t *ret_len);
/* The image behind a memimage target, NULL for other backends. */
struct memimage *memimage_of(struct target *t);
/*
 * The lowest address >= ADDR whose byte T may hold: ADDR itself when T is
 * not a memimage or holds it, else the start of the next segment, or
 * UINT64_MAX when no segment lies above. Lets a scan over a region the
 * image holds little of (a hostile or sparse mapping) skip the holes in
 * one step instead of page by page.
 */
taddr_t target_next_held(struct target *t, taddr_t addr);
void memimage_destroy(struct memimage *m);

#endif /* HEAPGRAB_TARGET_H */
