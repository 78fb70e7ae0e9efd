/*
 * elf-note.h - walking ELF notes (PT_NOTE contents) in a buffer, and the
 * GNU build-id among them: the one walker for cores (target/core.c: the
 * CORE notes, the build-ids of mapped files) and libc files
 * (debuginfo/libcfile.c).
 *
 * A note is namesz, descsz, type (32-bit little-endian each), the name
 * padded to ALIGN, the descriptor padded to ALIGN (gABI: 4; the
 * .note.gnu.property segments use 8). The bytes are hostile: every size
 * is checked against the buffer before anything is read.
 */
#ifndef HEAPGRAB_ELF_NOTE_H
#define HEAPGRAB_ELF_NOTE_H

#include "util/compiler.h"

#include <stddef.h>
#include <stdint.h>

struct elf_note {
	uint32_t type;
	const char *name;	/* not necessarily NUL-terminated */
	size_t namesz;
	const unsigned char *desc;
	size_t descsz;
};

/*
 * The note at BUF[*POS..SIZE): fills *N, advances *POS and returns 1;
 * returns 0 at the end, -1 when the note is malformed (the rest of the
 * buffer cannot be trusted). ALIGN is 4 or 8.
 */
int elf_note_next(const unsigned char *buf, size_t size, size_t *pos, size_t align,
		  struct elf_note *n);

/* Whether N's name is NAME (namesz counts the NUL; writers that leave it
 * out are tolerated). */
bool elf_note_named(const struct elf_note *n, const char *name);

/*
 * The first NT_GNU_BUILD_ID note named "GNU" with a non-empty descriptor
 * in the notes BUF[0..SIZE): its length, with *RET_ID pointing at it in
 * BUF; 0 when there is none before the end or a malformed note.
 */
size_t elf_notes_build_id(const unsigned char *buf, size_t size, size_t align,
			  const unsigned char **ret_id);

#endif /* HEAPGRAB_ELF_NOTE_H */
