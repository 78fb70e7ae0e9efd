#!/usr/bin/env python3
"""bpf-seeds.py - seeds for fuzz-bpf (tests/fuzz/fuzz-bpf.c).

  bpf-seeds.py OUTDIR

Each seed is what the fuzzer reads: up to three programs (a length byte,
then 8-byte instructions: u16 code, u8 jt, u8 jf, u32 k), then 64 bytes of
struct seccomp_data and a 16-bit mask of its known words. The programs
are shaped like real filters: an architecture check and an allow-list
(libseccomp's shape), an argument test, ERRNO/TRACE/USER_NOTIF rules, a
DIV and the scratch memory.
"""
import os
import struct
import sys

LD_W_ABS, JEQ_K, JSET_K, RET_K, RET_A = 0x20, 0x15, 0x45, 0x06, 0x16
ST, LD_MEM, DIV_X, TAX, LD_IMM = 0x02, 0x60, 0x3c, 0x07, 0x00
ALLOW, KILL, ERRNO, TRACE, NOTIF = 0x7fff0000, 0x80000000, 0x50000, 0x7ff00000, 0x7fc00000
ARCH = 0xc000003e


def ins(code, jt=0, jf=0, k=0):
    return struct.pack('<HBBI', code, jt, jf, k)


def prog(*insns):
    return bytes([len(insns)]) + b''.join(insns)


def data(nr, args, ip=0x7f0000001234, known=0xffff):
    words = [nr, ARCH, ip & 0xffffffff, ip >> 32]
    for a in args:
        words += [a & 0xffffffff, a >> 32]
    return struct.pack('<16I', *words) + struct.pack('<H', known)


allow_list = prog(
    ins(LD_W_ABS, k=4), ins(JEQ_K, 1, 0, ARCH), ins(RET_K, k=KILL),
    ins(LD_W_ABS, k=0),
    ins(JEQ_K, 0, 1, 56), ins(RET_K, k=ALLOW),      # clone
    ins(JEQ_K, 0, 1, 61), ins(RET_K, k=ALLOW),      # wait4
    ins(JEQ_K, 0, 1, 15), ins(RET_K, k=ALLOW),      # rt_sigreturn
    ins(RET_K, k=ERRNO | 1))
arg_test = prog(
    ins(LD_W_ABS, k=0), ins(JEQ_K, 0, 5, 56),
    ins(LD_W_ABS, k=16), ins(JSET_K, 2, 0, 0x10000),
    ins(LD_W_ABS, k=20), ins(JEQ_K, 1, 0, 0),
    ins(RET_K, k=ERRNO | 22), ins(RET_K, k=ALLOW))
rules = prog(
    ins(LD_W_ABS, k=0), ins(JEQ_K, 0, 1, 110), ins(RET_K, k=TRACE | 7),
    ins(JEQ_K, 0, 1, 39), ins(RET_K, k=NOTIF), ins(RET_K, k=ALLOW))
scratch = prog(
    ins(LD_W_ABS, k=16), ins(ST, k=3), ins(TAX), ins(LD_IMM, k=1000),
    ins(DIV_X), ins(LD_MEM, k=3), ins(RET_A))

seeds = {
    'allow-list-clone': allow_list + data(56, [0, 0x7ffd0000, 0, 0, 0, 0]),
    'allow-list-madvise': allow_list + data(28, [0, 0, 4, 0, 0, 0], known=0xffff & ~0xf0),
    'arg-test-unknown': arg_test + data(56, [0x11, 0, 0, 0, 0, 0], known=0xffff & ~0x30),
    'three': allow_list + arg_test + rules + data(110, [1, 2, 3, 4, 5, 6]),
    'scratch-div': scratch + data(1, [0, 0, 0, 0, 0, 0], known=0xffff & ~0x10),
}
os.makedirs(sys.argv[1], exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join(sys.argv[1], name), 'wb') as f:
        f.write(blob)
