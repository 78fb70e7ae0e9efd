/*
 * residency.h - which pages of a live process are resident: the kernel's
 * own figures, for the RSS accounting (analysis/rss.c).
 *
 * Two sources, read at two moments (doc/glibc-malloc.md §14, "Residency"):
 *
 *   residency_read_pagemap()  while the process is stopped, right before
 *                             the heap is copied (or forked): one bit per
 *                             page of every private writable mapping (the
 *                             brk heap, non-main heaps, mmapped chunks,
 *                             thread stacks, other allocators' memory, the
 *                             modules' data), from /proc/PID/pagemap:
 *                             present and not the shared zero page. These
 *                             are the pages the heap copy describes, at the
 *                             same instant, before the copy touches them.
 *   residency_read_smaps()    after the detach: /proc/PID/smaps (Rss, Swap,
 *                             Anonymous of every mapping: the file mappings,
 *                             shared memory and the rest, which the heap does
 *                             not describe) and smaps_rollup's Rss, the
 *                             total the accounting must add up to.
 *
 * Nothing here is guessed: a source that cannot be read leaves its fields
 * unknown and says why (pagemap_err, smaps_err). Without CAP_SYS_ADMIN
 * the kernel (4.2+) hides page frame numbers but still shows the present
 * and swapped bits; a page mapped to the shared zero page (a read of
 * memory never written: the kernel counts it in no Rss) then cannot be
 * told from a resident one, and pfn_visible is false.
 *
 * Ownership: residency_release() frees the maps; a struct residency is
 * plain data (a snapshot keeps it, a snapshot file stores it).
 */
#ifndef HEAPGRAB_TARGET_RESIDENCY_H
#define HEAPGRAB_TARGET_RESIDENCY_H

#include "util/compiler.h"

struct target;
struct target_region;

#define RESIDENCY_PAGE 4096ULL

/* residency_map.flags */
#define RESMAP_PAGED	0x1	/* pagemap was read for it: bits are valid */
#define RESMAP_SMAPS	0x2	/* smaps had it (rss, swap, anon valid) */
#define RESMAP_STOPPED	0x4	/* it was in the maps at the stop */

struct residency_map {
	taddr_t start, end;
	unsigned prot;			/* TARGET_PROT_* */
	bool shared;
	bool deleted;
	char *name;			/* path or pseudo name; NULL: anonymous */
	unsigned flags;			/* RESMAP_* */
	/* /proc/PID/smaps (after the detach), bytes */
	uint64_t rss, swap, anon;
	/* /proc/PID/pagemap (in the stop), RESMAP_PAGED only */
	uint64_t *bits;			/* bit i: page start + i*4096 is resident */
	uint64_t resident_pages;	/* bits set */
	uint64_t zero_pages;		/* present, but the shared zero page */
	uint64_t swapped_pages;		/* swapped out */
};

/* How the pagemap was read. */
enum residency_method {
	RESIDENCY_NONE,			/* not read */
	RESIDENCY_READ,			/* read(): one entry per page */
	RESIDENCY_SCAN,			/* the PAGEMAP_SCAN ioctl (Linux 6.7+) */
};

struct residency {
	bool live;			/* false: no residency (a core, a file without it) */
	int pagemap_err;		/* 0, or why pagemap was not read (-errno, -HG_E_*) */
	uint8_t method;			/* enum residency_method */
	bool pfn_visible;		/* zero-page mappings could be told apart */
	int smaps_err;			/* 0, or why smaps was not read */
	bool has_rollup;
	uint64_t rollup_rss, rollup_swap;	/* smaps_rollup, bytes */
	/* Rss of smaps mappings that overlap a mapping of the stop without
	 * being the same (the target remapped it after the detach) */
	uint64_t changed_rss;
	struct residency_map *maps;	/* sorted by start, not overlapping */
	size_t nr_maps, alloc_maps;
	/* what reading cost (not stored in files) */
	double pagemap_ms, smaps_ms;
	uint64_t pagemap_pages;		/* pagemap entries read in the stop */
};

/* Is R a mapping pagemap is read for (private and writable)? */
bool residency_paged(const struct target_region *r);

/*
 * In the stop (T live, every thread stopped, before the copy): the maps
 * of T and the pagemap bits of the paged ones, with the PAGEMAP_SCAN
 * ioctl where the kernel has it, else by read() (always, with NO_SCAN:
 * tests of that path). Returns 0, or -HG_E_TARGET_GONE; any other failure
 * leaves RET->pagemap_err set and the maps without bits. RET is
 * initialised here.
 */
MUST_CHECK int residency_read_pagemap(struct target *t, bool no_scan, struct residency *ret);
const char *residency_method_name(enum residency_method m);	/* "scan", "read", NULL */

/*
 * After the detach: smaps (matched to the maps by start and end; a
 * mapping that appeared since the stop is added without bits) and
 * smaps_rollup. Sets R->smaps_err on failure; returns 0 or
 * -HG_E_TARGET_GONE.
 */
MUST_CHECK int residency_read_smaps(int pid, struct residency *r);

/*
 * The environment process PID started with (/proc/PID/environ): the value
 * of GLIBC_TUNABLES (*RET_TUNABLES) and the MALLOC_* variables glibc
 * reads as aliases of tunables (*RET_MALLOC_ENV: "NAME=VALUE\n" each).
 * Each malloc'd, or NULL when absent or unreadable.
 */
void residency_environ(int pid, char **ret_tunables, char **ret_malloc_env);
/* CPUs online on this machine, and in PID's affinity mask; 0 when unknown
 * (what glibc's get_nprocs and get_nprocs_sched count). */
unsigned residency_online_cpus(void);
unsigned residency_affinity_cpus(int pid);

/* The map holding ADDR, or NULL. Borrowed. */
const struct residency_map *residency_map_of(const struct residency *r, taddr_t addr);

/*
 * Resident bytes in [START, END) (a byte range: a resident page counts
 * the bytes of it inside the range). *RET_UNKNOWN (may be NULL) gets the
 * bytes of the range for which no bits were read.
 */
uint64_t residency_bytes(const struct residency *r, taddr_t start, taddr_t end,
			 uint64_t *ret_unknown);

/* The same within one paged map M ([START, END) inside it). */
uint64_t residency_map_bytes(const struct residency_map *m, taddr_t start, taddr_t end);

/* Append a map (for the snapshot reader); takes NAME and BITS. */
struct residency_map *residency_add_map(struct residency *r);
void residency_release(struct residency *r);

#endif /* HEAPGRAB_TARGET_RESIDENCY_H */
