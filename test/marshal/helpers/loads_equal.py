"""Differential checker for the marshal tests: one long-lived process per interpreter.

stdin: frames of b"<length>\\t<path of the original pyc>\\n" + <length> bytes (a canonical
marshal body). For each frame, loads the original pyc's body and the canonical body with
this interpreter's marshal, applies importlib's _imp._fix_co_filename(canonical,
original.co_filename), and compares the two object trees structurally: same types, every
code-object attribute (co_filename included), floats and complexes bit for bit (so NaN
constants compare equal to themselves and -0.0 differs from 0.0), and finally the root
code == code (with NaN constants replaced by markers when needed), which covers what no
attribute exposes, such as 3.11+'s co_localspluskinds. Writes one line per frame: "ok" or
"FAIL\\t<path>\\t<reason>". Runs on CPython 3.8 and later.
"""
import _imp
import marshal
import operator
import struct
import sys
import types

V = sys.version_info[:2]
ATTRS = [
    'co_argcount', 'co_posonlyargcount', 'co_kwonlyargcount', 'co_nlocals', 'co_stacksize',
    'co_flags', 'co_code', 'co_consts', 'co_names', 'co_varnames', 'co_freevars',
    'co_cellvars', 'co_filename', 'co_name', 'co_firstlineno',
]
ATTRS += ['co_lnotab'] if V < (3, 10) else ['co_linetable']
if V >= (3, 11):
    ATTRS += ['co_qualname', 'co_exceptiontable']
PLAIN_ATTRS = [x for x in ATTRS if x != 'co_consts']
PLAIN = operator.attrgetter(*PLAIN_ATTRS)
SIMPLE = {str, bytes, int, bool, type(None), type(Ellipsis)}
FROZENDICT = getattr(__builtins__, 'frozendict', None) if not isinstance(__builtins__, dict) else __builtins__.get('frozendict')


def bits(x):
    return struct.pack('<d', x)


def norm(obj):
    """A copy in which NaN floats/complexes are markers, so that == is meaningful, and so
    are frozendicts (3.15's code == compares them by identity)."""
    t = type(obj)
    if FROZENDICT is not None and t is FROZENDICT:
        return ('<frozendict>', tuple((norm(k), norm(v)) for k, v in obj.items()))
    if t is float:
        return ('<nan>', bits(obj)) if obj != obj else obj
    if t is complex:
        return ('<nan>', bits(obj.real), bits(obj.imag)) if obj != obj else obj
    if t is tuple:
        return tuple(norm(x) for x in obj)
    if t is frozenset:
        return frozenset(norm(x) for x in obj)
    if t is types.CodeType:
        return obj.replace(co_consts=norm(obj.co_consts))
    return obj


def key(x):
    """A sort key that is equal exactly for structurally equal values (for set elements)."""
    t = type(x)
    if t is float:
        return ('float', bits(x))
    if t is complex:
        return ('complex', bits(x.real), bits(x.imag))
    if t is tuple:
        return ('tuple', tuple(key(e) for e in x))
    if t in (frozenset, set):
        return (t.__name__, tuple(sorted(key(e) for e in x)))
    if t is types.CodeType:
        return ('code', x.co_qualname if V >= (3, 11) else x.co_name, x.co_firstlineno)
    return (t.__name__, repr(x))


def diff(a, b, path):
    ta, tb = type(a), type(b)
    if ta is not tb:
        return '%s: %s became %s' % (path, ta.__name__, tb.__name__)
    if ta is types.CodeType:
        # Every attribute but co_consts holds an int, a str, bytes or a tuple of str:
        # compare them all at once, and look closer only when they differ.
        if PLAIN(a) != PLAIN(b):
            for attr in PLAIN_ATTRS:
                d = diff(getattr(a, attr), getattr(b, attr), path + '.' + attr)
                if d:
                    return d
        return diff(a.co_consts, b.co_consts, path + '.co_consts')
    if ta is float:
        return None if bits(a) == bits(b) else '%s: %r became %r' % (path, a, b)
    if ta is complex:
        same = bits(a.real) == bits(b.real) and bits(a.imag) == bits(b.imag)
        return None if same else '%s: %r became %r' % (path, a, b)
    if ta in (tuple, list):
        if len(a) != len(b):
            return '%s: length %d became %d' % (path, len(a), len(b))
        # Fast path: only str/bytes/int/None..., pairwise of the same type (1 == True!).
        if all(type(x) in SIMPLE for x in a):
            if a == b and all(type(x) is type(y) for x, y in zip(a, b)):
                return None
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, '%s[%d]' % (path, i))
            if d:
                return d
        return None
    if ta in (frozenset, set):
        xs, ys = sorted(a, key=key), sorted(b, key=key)
        if [key(x) for x in xs] != [key(y) for y in ys]:
            return '%s: %r became %r' % (path, a, b)
        for i, (x, y) in enumerate(zip(xs, ys)):
            d = diff(x, y, '%s{%d}' % (path, i))
            if d:
                return d
        return None
    if ta is slice:
        return diff((a.start, a.stop, a.step), (b.start, b.stop, b.step), path)
    if ta is dict or (FROZENDICT is not None and ta is FROZENDICT):
        return diff(tuple(a.items()), tuple(b.items()), path)
    return None if a == b else '%s: %r became %r' % (path, a, b)


def main():
    inp = sys.stdin.buffer
    out = sys.stdout
    while True:
        line = inp.readline()
        if not line:
            break
        n, path = line.rstrip(b'\n').split(b'\t', 1)
        data = inp.read(int(n))
        path = path.decode('utf-8', 'surrogateescape')
        try:
            with open(path, 'rb') as f:
                orig = marshal.loads(f.read()[16:])
            canon = marshal.loads(data)
            _imp._fix_co_filename(canon, orig.co_filename)
            d = diff(orig, canon, '')
            # code == code covers what no attribute shows (3.11+: co_localspluskinds); it
            # recurses into nested code objects, so once at the top is enough. NaN
            # constants (and 3.15 frozendicts) are never == a copy: compare with markers then.
            if d is None and orig != canon and norm(orig) != norm(canon):
                d = 'code objects are not == (attributes all equal)'
            out.write('ok\n' if d is None else 'FAIL\t%s\t%s\n' % (path, d.replace('\n', ' ')[:500]))
        except Exception as e:  # a load failure is a failure, reported like one
            out.write('FAIL\t%s\t%s: %s\n' % (path, type(e).__name__, str(e)[:500]))
    out.flush()


main()
