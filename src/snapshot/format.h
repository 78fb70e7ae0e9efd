/*
 * format.h - the on-disk constants of heapgrab snapshot files (.hgs).
 *
 * Everything here is FROZEN: a value written to disk never changes
 * meaning. In-memory enums (enum chunk_state, ...) may be reordered; the
 * tables in write.c/read.c translate between them and these numbers. The
 * byte-level layout, with pictures, is in doc/snapshot-format.md; this
 * header is its C mirror. All integers are little-endian.
 *
 *   +---------------------------+  offset 0
 *   | file header (48 bytes)    |  magic, version, section count, CRCs
 *   +---------------------------+  offset 48
 *   | section table             |  nr_sections x 40-byte entries
 *   +---------------------------+
 *   | section payloads          |  each: raw or one zstd frame, CRC32'd
 *   +---------------------------+  file_size
 *
 * Versioning: SNAP_MAJOR changes when an old reader would misread a new
 * file (a required section changes shape, a new section must not be
 * ignored); readers refuse a newer major. SNAP_MINOR changes for
 * additions an old reader can safely ignore: a new optional section id,
 * fields appended at the end of a section's record (readers ignore
 * trailing bytes they do not know, and use the record sizes stored in the
 * file).
 *
 * When you add a section:
 *   1. give it the next free id below (never reuse a retired id);
 *   2. bump SNAP_MINOR if old readers can ignore it, SNAP_MAJOR otherwise;
 *   3. write it in write.c (encode_*) and read it in read.c (decode_*),
 *      rejecting duplicates and bounding every count by the section size;
 *   4. describe it byte by byte in doc/snapshot-format.md (layout picture,
 *      limits, the version that introduced it);
 *   5. extend tests/unit/t-snapshot.c (round trip of every field) and add
 *      a seed for tests/fuzz/fuzz-snapshot.c.
 */
#ifndef HEAPGRAB_SNAPSHOT_FORMAT_H
#define HEAPGRAB_SNAPSHOT_FORMAT_H

/* "\x89HGSNAP\n": the high byte catches 7-bit transfers, the trailing LF a
 * CRLF conversion (the PNG trick); "HGSNAP" for file(1) and people. */
#define SNAP_MAGIC		"\x89HGSNAP\n"
#define SNAP_MAGIC_LEN		8

#define SNAP_MAJOR		1
#define SNAP_MINOR		3

/* File header: 48 bytes. */
#define SNAP_HDR_SIZE		48
#define SNAP_HDR_OFF_MAGIC	0	/* 8 bytes */
#define SNAP_HDR_OFF_MAJOR	8	/* u16 */
#define SNAP_HDR_OFF_MINOR	10	/* u16 */
#define SNAP_HDR_OFF_HDR_SIZE	12	/* u32: offset of the section table */
#define SNAP_HDR_OFF_NR_SECT	16	/* u32 */
#define SNAP_HDR_OFF_ENT_SIZE	20	/* u32: size of one table entry */
#define SNAP_HDR_OFF_FILE_SIZE	24	/* u64: the whole file */
#define SNAP_HDR_OFF_FLAGS	32	/* u32: 0 in 1.0 */
#define SNAP_HDR_OFF_TABLE_CRC	36	/* u32: CRC32 of the section table */
#define SNAP_HDR_OFF_RESERVED	40	/* u32: 0 */
#define SNAP_HDR_OFF_HDR_CRC	44	/* u32: CRC32 of bytes 0..43 */

/* Section table entry: 40 bytes. */
#define SNAP_ENT_SIZE		40
#define SNAP_ENT_OFF_ID		0	/* u32: SNAP_SEC_* */
#define SNAP_ENT_OFF_FLAGS	4	/* u32: SNAP_SECF_* */
#define SNAP_ENT_OFF_OFFSET	8	/* u64: from the start of the file */
#define SNAP_ENT_OFF_STORED	16	/* u64: bytes in the file */
#define SNAP_ENT_OFF_RAW	24	/* u64: bytes after decompression */
#define SNAP_ENT_OFF_CRC	32	/* u32: CRC32 of the stored bytes */
#define SNAP_ENT_OFF_RESERVED	36	/* u32: 0 */

#define SNAP_SECF_ZSTD		0x1	/* payload is one zstd frame */
#define SNAP_SECF_KNOWN		SNAP_SECF_ZSTD

/* Section ids. Frozen; never reuse a number. */
#define SNAP_SEC_META		1	/* 1.0: pid, exe, glibc, time, version */
#define SNAP_SEC_ARENAS		2	/* 1.0: one record per arena */
#define SNAP_SEC_TOTALS		3	/* 1.0: totals per kind, overhead */
#define SNAP_SEC_CHUNKS		4	/* 1.0: every chunk, delta-encoded */
/* 5..7: the memory image of --contents, all or none (see below) */
#define SNAP_SEC_MEMORY		5	/* 1.1: image bytes, zstd pieces */
#define SNAP_SEC_REGIONS	6	/* 1.1: the image's memory map */
#define SNAP_SEC_THREADS	7	/* 1.1: the image's threads */
#define SNAP_SEC_TYPES		8	/* 1.2: each chunk's type (optional) */
#define SNAP_SEC_RSS		9	/* 1.3: residency, malloc's parameters (optional) */

/* Chunk kinds as stored (enum chunk_state may change; these may not). */
#define SNAP_KIND_INUSE		0
#define SNAP_KIND_TCACHE	1
#define SNAP_KIND_FASTBIN	2
#define SNAP_KIND_BIN		3
#define SNAP_KIND_TOP		4
#define SNAP_KIND_MMAPPED	5
#define SNAP_NR_KINDS		6

/* META: fixed part, then four strings (u32 length, bytes, no NUL;
 * length SNAP_STR_NULL = absent): heapgrab version, exe, glibc version,
 * libc symbol source; 1.3 appends a fifth, the memory the walk read
 * (snapshot_meta.memory). */
#define SNAP_META_FIXED		24	/* i64 taken, i32 pid, u32 threads,
					 * u32 warnings, u32 ns_pid (0:
					 * unknown; the word was reserved, always
					 * 0, in files written before it) */
#define SNAP_STR_NULL		0xffffffffu

/* ARENAS: u32 count, u32 record size, then records of (at least) 128
 * bytes: u64 addr, u32 flags, u32 heaps, u64 system_bytes, u64 overhead,
 * SNAP_NR_KINDS x (u64 count, u64 bytes). */
#define SNAP_ARENA_REC		128
#define SNAP_ARENAF_MAIN	0x1

/* TOTALS: SNAP_NR_KINDS x (u64 count, u64 bytes), u64 overhead,
 * u64 system_bytes: 112 bytes. */
#define SNAP_TOTALS_SIZE	(SNAP_NR_KINDS * 16 + 16)

/* CHUNKS: a 40-byte head (u64 count, u8 shift, 7 reserved bytes,
 * u64 x 3 stream lengths), then three varint streams: address gaps,
 * sizes, tags. See doc/snapshot-format.md. */
#define SNAP_CHUNKS_HEAD	40
#define SNAP_TAG_KIND_BITS	3	/* tag = kind | (arena + 1) << 3 */

/*
 * The memory image (1.1, `--contents`): MEMORY, REGIONS and THREADS are
 * all present or all absent. They hold what heapgrab read the heap from,
 * so that later offline analyses (leaks, why) have the chunks' bytes and
 * the roots.
 *
 * REGIONS (zstd): u32 count, u32 record size, count records of (at least)
 * 32 bytes: u64 start, u64 end (exclusive), u64 file offset, u32 flags
 * (SNAP_REGF_*), u32 path length (SNAP_STR_NULL = anonymous); then the
 * paths' bytes, concatenated in record order. Sorted, non-overlapping.
 */
#define SNAP_REGION_REC		32
#define SNAP_REGF_READ		0x1
#define SNAP_REGF_WRITE		0x2
#define SNAP_REGF_EXEC		0x4
#define SNAP_REGF_SHARED	0x100
#define SNAP_REGF_DELETED	0x200
#define SNAP_REGF_KNOWN		0x307

/* THREADS (raw): u32 count, u32 record size, count records of (at least)
 * 224 bytes: i32 tid, u32 reserved, the 27 u64 words of x86_64's struct
 * user_regs_struct in its order (r15 .. gs). threads[0] is the main or
 * faulting thread. */
#define SNAP_THREAD_REC		224
#define SNAP_NR_REGS		27

/*
 * MEMORY (raw; its pieces are compressed): a 16-byte head (u64 segment
 * count, u32 piece size, u32 reserved), count x (u64 start, u64 length)
 * in address order, then for each segment in order its pieces: the
 * segment cut into piece-size parts (the last one shorter), each stored
 * as u32 frame length + one zstd frame whose content size is the part's
 * length; with SNAP_PIECE_RAW set in the length word, the part's bytes
 * follow as they are (the low 31 bits are then the part's length). Every
 * segment lies inside one region of REGIONS.
 */
#define SNAP_PIECE_RAW		0x80000000u
#define SNAP_MEMORY_HEAD	16
#define SNAP_MEMORY_PIECE	(1u << 20)
#define SNAP_MEMORY_PIECE_MIN	4096u
#define SNAP_MEMORY_PIECE_MAX	(64u << 20)

/*
 * RSS (1.3, zstd; attach --rss, rss -o): what the RSS accounting needs
 * beside the chunks (snapshot.h struct snapshot_rss). A 64-byte head
 * (flags SNAP_RSSF_*, i32 pagemap error, i32 smaps error, u32 online
 * CPUs, u32 affinity CPUs, u16 glibc major, u16 minor, u64 rollup Rss,
 * u64 rollup Swap, u64 changed Rss, u64 __curbrk, u64 narenas_limit),
 * 8 u64 parameters (trim_threshold, top_pad, mmap_threshold, arena_test,
 * arena_max, n_mmaps_max as i64, thp_pagesize, 0), three strings
 * (tunables, MALLOC_* lines, why malloc was not walked), then three
 * tables, each u32 count + u32 record size: threads (i32 tid, u32 0,
 * u64 sp, u64 thread_arena), the allocator's ranges (u64 start, u64 end,
 * u32 arena or 0xffffffff, u32 kind: 0 arena, 1 slack, 2 mmapped), maps
 * (u64 start, u64 end, u32 flags SNAP_RMAPF_*, u32 path length, u64 rss,
 * swap, anonymous, resident pages, zero pages, swapped pages); then the
 * maps' paths, then for each map with SNAP_RMAPF_PAGED its bits, one per
 * page, in ceil(pages / 64) u64 words.
 */
#define SNAP_RSS_HEAD		64
#define SNAP_RSS_PARAMS		8
#define SNAP_RSS_THREAD_REC	24
#define SNAP_RSS_RANGE_REC	24
#define SNAP_RSS_MAP_REC	72
#define SNAP_RSSF_LIVE		0x1
#define SNAP_RSSF_PFN		0x2
#define SNAP_RSSF_ROLLUP	0x4
#define SNAP_RSSF_THRESHOLDS	0x8
#define SNAP_RSSF_THP		0x10
#define SNAP_RSSF_CURBRK	0x20
#define SNAP_RSSF_NARENAS	0x40
#define SNAP_RSSF_THREAD_ARENAS	0x80
#define SNAP_RSSF_NO_DYN	0x100
#define SNAP_RSSF_SCAN		0x200	/* pagemap read with PAGEMAP_SCAN */
#define SNAP_RSSF_READ		0x400	/* pagemap read with read() */
#define SNAP_RSSF_KNOWN		0x7ff
#define SNAP_RMAPF_READ		0x1
#define SNAP_RMAPF_WRITE	0x2
#define SNAP_RMAPF_EXEC		0x4
#define SNAP_RMAPF_SHARED	0x100
#define SNAP_RMAPF_DELETED	0x200
#define SNAP_RMAPF_PAGED	0x10000
#define SNAP_RMAPF_SMAPS	0x20000
#define SNAP_RMAPF_STOPPED	0x40000
#define SNAP_RMAPF_KNOWN	0x70307
/* A map's bits are read only up to this many pages (residency.c reads no
 * more than 2^26 per mapping): a larger claim is a damaged file. */
#define SNAP_RSS_MAX_PAGES	(1ULL << 26)

#endif /* HEAPGRAB_SNAPSHOT_FORMAT_H */
