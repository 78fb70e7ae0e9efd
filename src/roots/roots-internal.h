/*
 * roots-internal.h - what the files of roots/ share: the x86-64 thread
 * and TLS layout (roots/tls.c is its one model). Not for other layers.
 */
#ifndef HEAPGRAB_ROOTS_INTERNAL_H
#define HEAPGRAB_ROOTS_INTERNAL_H

#include "util/compiler.h"

struct dw_index;
struct modset;
struct target;

/* x86-64 SysV ABI: a leaf function may keep live data this far below rsp. */
#define RED_ZONE 128

/*
 * The thread pointer (fs_base) points at glibc's struct pthread, whose
 * first member is tcbhead_t (sysdeps/x86_64/nptl/tls.h): its second word
 * is the DTV pointer, which points at dtv[1], 16 bytes into the DTV's
 * chunk (INSTALL_DTV). Static TLS blocks lie below the thread pointer
 * (TLS variant II).
 */
#define TLS_DTV_SLOT	8
#define TLS_DTV_BIAS	16
/* Bytes above the thread pointer taken as the thread's descriptor when
 * no DWARF gives sizeof(struct pthread) (2368 in glibc 2.36). */
#define TCB_WINDOW	2560
/* At least glibc's static TLS surplus (elf/dl-tls.c: 1664 to 1760 bytes),
 * below the modules' static blocks. */
#define TLS_SURPLUS	2048

/* A module's static TLS block: roundup(MEMSZ, ALIGN) bytes (ALIGN 0 is
 * taken as 1; UINT64_MAX when it overflows). */
uint64_t tls_block_size(uint64_t memsz, uint64_t align);

/*
 * The executable's block offset below the thread pointer: glibc gives the
 * first module (the executable, module id 1) roundup(p_memsz, p_align)
 * (elf/dl-tls.c _dl_determine_tlsoffset, TLS_TCB_AT_TP, with
 * l_tls_firstbyte_offset 0 as for every executable); 0 without PT_TLS.
 */
uint64_t tls_exe_offset(uint64_t memsz, uint64_t align);

/*
 * Every module's static TLS offset below the thread pointer, as ld.so
 * recorded it: OFFSETS[i] for MS's module i (0: unknown, or no static
 * block). Starts from tls_exe_offset() for the executable and overwrites
 * with ld.so's link_map records where ld.so's DWARF describes them.
 */
void tls_module_offsets(struct target *image, const struct modset *ms,
			const struct dw_index *idx, uint64_t *offsets);

#endif /* HEAPGRAB_ROOTS_INTERNAL_H */
