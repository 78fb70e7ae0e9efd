"""real-python.py - drive CPython into a known heap and count it from
Python itself (the oracle for tests/real-python.sh and
bench/typing-real.sh).

  PYTHONMALLOC=malloc python3.11d real-python.py [N] < fifo

Builds N (default 20000) instances of a user class Session, each with an
int id, a str name and a list [id, float, str], kept in a dict by id, plus
a list of N floats. Then it collects, counts and prints, one "py KIND N"
line each:

  py gc.TYPE N        objects of TYPE among gc.get_objects() (the objects
                      the collector tracks: every list and Session;
                      dicts only once they hold a tracked object)
  py ref.TYPE N       distinct objects of TYPE among the tracked objects
                      and everything they refer to (gc.get_referents),
                      which also reaches floats, strs, ints and the dicts
                      the collector does not track
  py len.NAME N       len() of the driver's containers
  py blocks N         sys.getallocatedblocks()
  ready

and blocks reading its standard input until it ends. The counting's own
objects are dropped and collected before the lines are printed; the
printing allocates nothing that stays.
"""
import gc
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000


class Session:
    def __init__(self, i):
        self.id = i
        self.name = "session-%d" % i
        self.data = [i, i * 2.5, str(i)]


sessions = {i: Session(i) for i in range(N)}
readings = [i + 0.5 for i in range(N)]

KINDS = ("dict", "list", "float", "str", "int", "tuple", "Session", "function",
         "code", "type")


def count():
    gc.collect()
    tracked = gc.get_objects()
    by_gc = {}
    for o in tracked:
        k = type(o).__name__
        by_gc[k] = by_gc.get(k, 0) + 1
    seen = set()
    by_ref = {}
    todo = list(tracked)
    todo.append(sessions)
    while todo:
        o = todo.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        k = type(o).__name__
        by_ref[k] = by_ref.get(k, 0) + 1
        for r in gc.get_referents(o):
            if id(r) not in seen:
                todo.append(r)
    lines = []
    for k in KINDS:
        lines.append("py gc.%s %d" % (k, by_gc.get(k, 0)))
    for k in KINDS:
        lines.append("py ref.%s %d" % (k, by_ref.get(k, 0)))
    lines.append("py len.sessions %d" % len(sessions))
    lines.append("py len.readings %d" % len(readings))
    return "\n".join(lines)


out = count()
gc.collect()
gc.disable()
out += "\npy blocks %d\nready\n" % sys.getallocatedblocks()
sys.stdout.write(out)
sys.stdout.flush()
sys.stdin.read()
