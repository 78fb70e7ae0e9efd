#!/bin/sh
# live-mmap-aligned.sh - mmapped chunks from the aligned allocators
# (fx-mmap-aligned): memalign'd chunks shrunk and grown by realloc (the
# stale header at the mapping start then gives a wrong size), an 8 MiB
# alignment, a chunk whose VMA the kernel split in three (madvise) with
# a header-like pair of words in its data, plain ones next to them, and
# header-like pairs in memory another allocator mmapped itself (as a
# JVM's metaspace holds). The
# mmapped scan must find exactly mallinfo2's hblks and hblkhd, every other
# relation exact, no warning (census_test_, init.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-mmap-aligned
