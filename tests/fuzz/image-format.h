/*
 * image-format.h - the input of fuzz-image: a process image as heapgrab
 * sees one after the stop (memory, regions, threads) plus where glibc's
 * allocator state is, in one flat little-endian record.
 *
 *   offset  size
 *   0       4     magic "HGFZ"
 *   4       1     version (1)
 *   5       1     glibc minor (the layout table's 2.26 .. 2.41)
 *   6       1     flags: bit 0 have_tpoff; bit 1 typing from DWARF
 *                 (typing_run), else from the synthetic types and the
 *                 typed roots below (typing_run_roots)
 *   7       1     number of threads (at most FZ_MAX_THREADS)
 *   8       8     main_arena
 *   16      8     mp_
 *   24      8     tcache TPOFF (signed)
 *   32      2     number of regions (at most FZ_MAX_REGIONS)
 *   34      2     number of typed roots (at most FZ_MAX_ROOTS)
 *   36      -     threads: u32 tid, then struct user_regs_struct (27 u64)
 *           -     typed roots: u64 address, u8 synthetic type, u8 kind
 *                 (enum root_kind), 6 bytes unused
 *           -     regions: u64 start, u64 end, u64 file offset, u8 prot
 *                 (TARGET_PROT_*), u8 file (0: anonymous, k: the k-th file
 *                 of the list the fuzzer was given), u16 unused, u32 length
 *                 of the bytes that follow (the first bytes of the region;
 *                 the rest is not in the image)
 *
 * The files are never named by the input: the fuzzer gets a fixed list
 * (HG_FUZZ_FILES, colon separated), so a mutated input cannot make
 * heapgrab open a device or a FIFO.
 */
#ifndef HEAPGRAB_FUZZ_IMAGE_FORMAT_H
#define HEAPGRAB_FUZZ_IMAGE_FORMAT_H

#include <stdint.h>
#include <sys/user.h>

#define FZ_MAGIC "HGFZ"
#define FZ_VERSION 1
#define FZ_MAX_THREADS 16
#define FZ_MAX_REGIONS 512
#define FZ_MAX_ROOTS 64
#define FZ_HEADER 36
#define FZ_THREAD (4 + (int)sizeof(struct user_regs_struct))
#define FZ_ROOT 16
#define FZ_REGION 32

#define FZ_HAVE_TPOFF 1
#define FZ_DWARF_TYPING 2

#endif /* HEAPGRAB_FUZZ_IMAGE_FORMAT_H */
