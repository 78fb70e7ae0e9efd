/*
 * elf-note.c - the ELF note walker and the build-id finder (elf-note.h).
 */
#include "config.h"
#include "util/elf-note.h"
#include "util/le.h"

#include <elf.h>
#include <string.h>

/* True if [off, off + len) lies inside an object of SIZE bytes. */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int elf_note_next(const unsigned char *buf, size_t size, size_t *pos, size_t align,
		  struct elf_note *n)
{
	uint64_t namesz, descsz, name_off, desc_off, end;

	if (*pos >= size || size - *pos < 12)
		return *pos >= size ? 0 : -1;
	namesz = get_le32(buf + *pos);
	descsz = get_le32(buf + *pos + 4);
	n->type = get_le32(buf + *pos + 8);
	name_off = *pos + 12;
	if (!in_bounds(name_off, namesz, size))
		return -1;
	desc_off = (name_off + namesz + align - 1) & ~(uint64_t)(align - 1);
	if (!in_bounds(desc_off, descsz, size))
		return -1;
	n->name = (const char *)buf + name_off;
	n->namesz = namesz;
	n->desc = buf + desc_off;
	n->descsz = descsz;
	end = (desc_off + descsz + align - 1) & ~(uint64_t)(align - 1);
	*pos = end < size ? end : size;
	return 1;
}

bool elf_note_named(const struct elf_note *n, const char *name)
{
	size_t len = strlen(name);

	return (n->namesz == len + 1 || n->namesz == len) &&
	       !memcmp(n->name, name, len) &&
	       (n->namesz == len || n->name[len] == '\0');
}

size_t elf_notes_build_id(const unsigned char *buf, size_t size, size_t align,
			  const unsigned char **ret_id)
{
	struct elf_note n;
	size_t pos = 0;

	while (elf_note_next(buf, size, &pos, align, &n) > 0) {
		if (n.type == NT_GNU_BUILD_ID && elf_note_named(&n, "GNU") && n.descsz > 0) {
			*ret_id = n.desc;
			return n.descsz;
		}
	}
	return 0;
}
