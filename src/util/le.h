/*
 * le.h - little-endian integers in byte buffers: ELF notes of cores and
 * libc files, words of a target's memory image, the snapshot file format.
 *
 * Every such buffer is hostile or at least foreign: these read and write
 * byte by byte, with no alignment needed and no host byte order assumed
 * (compilers turn them into single loads and stores on x86-64). The
 * caller checks the bounds.
 */
#ifndef HEAPGRAB_LE_H
#define HEAPGRAB_LE_H

#include <stdint.h>

static inline uint16_t get_le16(const void *buf)
{
	const unsigned char *p = buf;

	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const void *buf)
{
	const unsigned char *p = buf;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const void *buf)
{
	const unsigned char *p = buf;

	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(void *buf, uint16_t v)
{
	unsigned char *p = buf;

	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void put_le32(void *buf, uint32_t v)
{
	unsigned char *p = buf;

	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(void *buf, uint64_t v)
{
	unsigned char *p = buf;

	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif /* HEAPGRAB_LE_H */
