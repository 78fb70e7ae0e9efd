/*
 * file.h - saving a struct snapshot to a file and loading it back.
 *
 * A loaded snapshot is the same struct snapshot a live attach or a core
 * produced, so `heapgrab show` prints exactly what attach printed. What
 * the snapshot struct does not carry (when it was taken, by which
 * heapgrab, how many warnings the walk reported) travels beside it in
 * struct snapshot_file_info.
 *
 * The format (magic, versions, section table, CRC32 per section, zstd) is
 * in snapshot/format.h and doc/snapshot-format.md. Chunks are stored in
 * address order: a loaded snapshot's chunk array is sorted by address,
 * whatever order the walk produced (nothing depends on the walk order).
 *
 *   snapshot_encode()      snapshot -> bytes in a strbuf (pure)
 *   snapshot_write_file()  ... -> a new file, mode 0600, atomically
 *   snapshot_decode()      bytes -> snapshot; never trusts the bytes
 *   snapshot_read_file()   file -> snapshot
 *
 * Errors: 0 or a negative code. -HG_E_BAD_SNAPSHOT for anything wrong
 * with the bytes (WHY says what: "truncated", "section 4: checksum
 * mismatch", ...), -HG_E_UNSUPPORTED for a newer major version (WHY says
 * which), -errno for I/O. Never prints, never crashes on any input.
 */
#ifndef HEAPGRAB_SNAPSHOT_FILE_H
#define HEAPGRAB_SNAPSHOT_FILE_H

#include "util/compiler.h"

struct snapshot;
struct strbuf;

struct snapshot_file_info {
	int64_t taken;		/* unix seconds when the snapshot was taken */
	char version[32];	/* heapgrab version that took it */
	unsigned warnings;	/* diagnostics the walk reported */
	unsigned major, minor;	/* file format version (read only) */
};

/* Fill INFO for a snapshot taken now by this heapgrab. */
void snapshot_file_info_now(struct snapshot_file_info *info, unsigned warnings);

/* Append the file image of S to OUT. */
void snapshot_encode(const struct snapshot *s, const struct snapshot_file_info *info,
		     struct strbuf *out);

/*
 * Write S to PATH: a temporary file in the same directory, created
 * O_EXCL with mode 0600 (snapshots may later hold chunk contents), then
 * renamed over PATH. Returns 0 or -errno; the temporary file is removed
 * on failure.
 */
MUST_CHECK int snapshot_write_file(const struct snapshot *s,
				   const struct snapshot_file_info *info, const char *path);

/*
 * Parse LEN bytes at BUF. On success *RET_SNAP is a new snapshot (free
 * with snapshot_free()) and *RET_INFO (may be NULL) is filled. On failure
 * WHY (may be NULL) gets a short reason.
 */
MUST_CHECK int snapshot_decode(const void *buf, size_t len, struct strbuf *why,
			       struct snapshot **ret_snap, struct snapshot_file_info *ret_info);

/* Read and decode PATH (see snapshot_decode). */
MUST_CHECK int snapshot_read_file(const char *path, struct strbuf *why,
				  struct snapshot **ret_snap,
				  struct snapshot_file_info *ret_info);

/* True when the LEN bytes at BUF start with the snapshot magic. */
bool snapshot_is_magic(const void *buf, size_t len);

#endif /* HEAPGRAB_SNAPSHOT_FILE_H */
