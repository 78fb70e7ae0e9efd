#!/usr/bin/env python3
"""make-seeds.py - shrink real cores into small fuzzer seeds.

  make-seeds.py OUTDIR CORE...

For each x86_64 core, writes OUTDIR/<name>.core: the same ELF header and
program headers, the CORE notes other than the bulky FP/XSAVE ones, and at
most KEEP bytes of each PT_LOAD's data (p_filesz shrunk, p_memsz kept, so
the reader's file and zero-tail paths are reached). NT_FILE paths are
rewritten to /a (the first library with an ELF header page, so that the
harness's sysroot copy of it has the matching build-id) and /b (the rest),
keeping lengths unchanged so the note layout stays valid. Also writes a few
hand-made edge cases (PN_XNUM, no notes, overlapping loads).
"""
import os
import struct
import sys

KEEP = 1024
EH = struct.Struct('<16sHHIQQQIHHHHHH')
PH = struct.Struct('<IIQQQQQQ')
NT_FILE = 0x46494c45
DROP = {2, 0x202, 0x205}     # NT_FPREGSET, NT_X86_XSTATE, 0x205


def notes(buf):
    pos = 0
    while pos + 12 <= len(buf):
        namesz, descsz, typ = struct.unpack_from('<III', buf, pos)
        name = buf[pos + 12:pos + 12 + namesz]
        d = pos + 12 + ((namesz + 3) & ~3)
        desc = buf[d:d + descsz]
        pos = d + ((descsz + 3) & ~3)
        yield name, typ, desc


def note(name, typ, desc):
    n = name + b'\0' * (-len(name) % 4)
    return struct.pack('<III', len(name), len(desc), typ) + n + desc + \
        b'\0' * (-len(desc) % 4)


def rewrite_file(desc, libpath):
    count, = struct.unpack_from('<Q', desc, 0)
    head = desc[:16 + 24 * count]
    paths = desc[16 + 24 * count:].split(b'\0')[:count]
    out = []
    for p in paths:
        new = b'/a' if p == libpath else b'/b'
        out.append(new)
    return head + b'\0'.join(out) + b'\0'


def shrink(path, out):
    data = open(path, 'rb').read()
    eh = list(EH.unpack_from(data, 0))
    phoff, phnum = eh[5], eh[10]
    phs = [list(PH.unpack_from(data, phoff + i * 56)) for i in range(phnum)]
    libpath = None
    for ph in phs:
        if ph[0] == 4:
            for name, typ, desc in notes(data[ph[2]:ph[2] + ph[5]]):
                if typ == NT_FILE:
                    count, = struct.unpack_from('<Q', desc, 0)
                    ps = desc[16 + 24 * count:].split(b'\0')[:count]
                    for p in ps:
                        if p.endswith(b'libc.so.6'):
                            libpath = p
    body = b''
    base = 64 + 56 * phnum
    for ph in phs:
        if ph[0] == 4:
            nb = b''.join(note(n.rstrip(b'\0'), t,
                               rewrite_file(d, libpath) if t == NT_FILE else d)
                          for n, t, d in notes(data[ph[2]:ph[2] + ph[5]])
                          if t not in DROP)
            ph[2], ph[5] = base + len(body), len(nb)
            body += nb
    for ph in phs:
        if ph[0] == 1:
            keep = min(ph[5], KEEP)
            chunk = data[ph[2]:ph[2] + keep]
            ph[2], ph[5] = base + len(body), keep
            body += chunk
    eh[5] = 64
    eh[6] = 0          # no section headers
    eh[11] = eh[12] = eh[13] = 0
    hdr = EH.pack(*eh) + b''.join(PH.pack(*ph) for ph in phs)
    open(out, 'wb').write(hdr + body)
    return hdr + body


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    last = None
    for c in sys.argv[2:]:
        last = shrink(c, os.path.join(outdir, os.path.basename(c) + '.core'))
    if last is None:
        return
    # Edge cases built from the last seed.
    eh = list(EH.unpack_from(last, 0))
    # PN_XNUM: real phnum in section 0's sh_info.
    phnum = eh[10]
    x = bytearray(last)
    shoff = len(x)
    x += struct.pack('<IIQQQQIIQQ', 0, 0, 0, 0, 0, 0, 0, phnum, 0, 0)
    eh2 = eh[:]
    eh2[6], eh2[10], eh2[11], eh2[12] = shoff, 0xffff, 64, 1
    x[:64] = EH.pack(*eh2)
    open(os.path.join(outdir, 'pnxnum.core'), 'wb').write(x)
    # Only the first two program headers.
    eh3 = eh[:]
    eh3[10] = 2
    open(os.path.join(outdir, 'two-phdrs.core'), 'wb').write(
        EH.pack(*eh3) + last[64:])


main()
