#!/usr/bin/env python3
"""Independent check that a tree of venvs still runs what it ran: CPython's own rules, no pycstore code.

Usage:
  check-venv-equivalence.py snapshot SNAPSHOT.json ROOT...
  check-venv-equivalence.py compare SNAPSHOT.json [--allow-missing PATH]... [--ignore PATH]... [--allow-new] ROOT...
  check-venv-equivalence.py imports SITE_PACKAGES [--module NAME]...

Run it with the interpreter whose pycs it should judge (a venv's own python: pycs are
version-specific). Only pycs with this interpreter's cache tag are judged as code; every other
file under __pycache__ (other versions' pycs, sourceless pycs, symlinks, FIFOs) and every file
outside __pycache__ (the sources) must stay byte for byte as it was.

snapshot  records every file under the ROOTs: its kind, size, sha256 and, for each pyc of this
          interpreter, what importlib would make of it now -- "fresh" (its header is valid for its
          source by importlib's own rules: _classify_pyc, then _validate_timestamp_pyc against the
          source's st_mtime/st_size, or _validate_hash_pyc against importlib.util.source_hash for a
          checked-hash pyc; unchecked-hash pycs are accepted as CPython does; and marshal.loads gives
          a code object), "stale", "rejected" (bad magic, flags, too short) or "unloadable". The
          bytes of every pyc are kept beside the snapshot (SNAPSHOT.json.blobs/<sha256>).
compare   checks the ROOTs against the snapshot. A pyc that was fresh must still be a regular file,
          still be fresh for its (current) source, and load to code that equals the original's:
          both loaded with marshal.loads, both given the real source path with
          _imp._fix_co_filename, compared with == (CPython's code equality: bytecode, constants,
          names, line tables ...) and their co_filename compared recursively. Anything else must
          be byte-for-byte unchanged (same kind, same sha256). A file that is gone is "missing"
          unless --allow-missing names it (e.g. the pycs verify --repair removes on purpose); a
          pyc that appeared is judged fresh-and-equal to compiling its source (else "new-bad"),
          and any other new file is reported unless --allow-new. --ignore PATH leaves a path out of
          the comparison altogether (e.g. a pyc the test corrupted on purpose).
imports   imports each top-level module of SITE_PACKAGES (or each --module) in a fresh
          `python -I -B` process (SITE_PACKAGES appended to sys.path when it is not a venv's own)
          and reports the ones that fail.

Files above 64 MiB are compared by a streamed sha256 only (no real pyc comes near; a hostile one
must simply stay as it was).

Prints one JSON object; exit status 0 when nothing is wrong, 1 when something is, 2 on bad usage.
"""
import hashlib
import importlib.util
import json
import marshal
import os
import stat
import subprocess
import sys
import tempfile
import types

sys.dont_write_bytecode = True

import _imp  # noqa: E402
from importlib import _bootstrap_external as be  # noqa: E402

FORMAT = "pycstore-equivalence-v1"
# Files above this size are compared by a streamed sha256 only (never read whole, never judged as code:
# CPython would need the whole file in memory; no real pyc comes near).
LARGE = 64 << 20
TAG = sys.implementation.cache_tag


def kind_of(st):
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISLNK(st.st_mode):
        return "symlink"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISFIFO(st.st_mode):
        return "fifo"
    return "other"


def walk(roots):
    """Every path under the roots (no symlink followed), with its lstat."""
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in sorted(dirnames + filenames):
                p = os.path.join(dirpath, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    continue
                yield p, st
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


def source_of(pyc):
    """The source of a PEP 3147 pyc of this interpreter, or None."""
    if os.path.basename(os.path.dirname(pyc)) != "__pycache__" or ("." + TAG + ".") not in os.path.basename(pyc):
        return None
    try:
        return importlib.util.source_from_cache(pyc)
    except ValueError:
        return None


def judge(pyc, data, source):
    """What importlib makes of this pyc now: (state, detail, code or None)."""
    name = os.path.splitext(os.path.basename(source))[0]
    details = {"name": name, "path": pyc}
    try:
        flags = be._classify_pyc(data, name, details)
    except (ImportError, EOFError) as e:
        return "rejected", str(e), None
    try:
        if flags & 0b1:
            check = flags & 0b10
            mode = getattr(_imp, "check_hash_based_pycs", "default")
            if mode != "never" and (check or mode == "always"):
                with open(source, "rb") as fh:
                    be._validate_hash_pyc(data, importlib.util.source_hash(fh.read()), name, details)
        else:
            st = os.stat(source)
            be._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, name, details)  # as SourceLoader.get_code
    except (ImportError, EOFError) as e:
        return "stale", str(e), None
    except OSError as e:
        return "stale", "source: %s" % e, None
    try:
        code = marshal.loads(memoryview(data)[16:])
    except Exception as e:  # ValueError, EOFError, TypeError: what import would raise
        return "unloadable", "%s: %s" % (type(e).__name__, e), None
    if not isinstance(code, types.CodeType):
        return "unloadable", "not a code object: %s" % type(code).__name__, None
    _imp._fix_co_filename(code, source)
    return "fresh", "", code


def filenames(code):
    out = [code.co_filename]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out.extend(filenames(c))
    return out


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def same_content(p, rec, st):
    if st.st_size != rec.get("size"):
        return False
    return (sha256_file(p) if st.st_size > LARGE else sha256(read(p))) == rec["sha256"]


def snapshot(out, roots):
    blobs = out + ".blobs"
    os.makedirs(blobs, exist_ok=True)
    files = {}
    counts = {}
    for p, st in walk(roots):
        rec = {"kind": kind_of(st)}
        if rec["kind"] == "symlink":
            rec["target"] = os.readlink(p)
        if rec["kind"] == "file" and st.st_size > LARGE:
            rec["sha256"] = sha256_file(p)
            rec["size"] = st.st_size
            rec["large"] = True
        elif rec["kind"] == "file":
            data = read(p)
            rec["sha256"] = sha256(data)
            rec["size"] = len(data)
            source = source_of(p) if p.endswith(".pyc") else None
            if source is not None and os.path.isfile(source):
                rec["source"] = source
                rec["state"], rec["detail"], _ = judge(p, data, source)
                counts[rec["state"]] = counts.get(rec["state"], 0) + 1
                blob = os.path.join(blobs, rec["sha256"])
                if not os.path.exists(blob):
                    with open(blob, "wb") as fh:
                        fh.write(data)
        files[p] = rec
    with open(out, "w") as fh:
        json.dump({"format": FORMAT, "python": sys.version.split()[0], "cache_tag": TAG, "roots": roots, "files": files}, fh)
    return {"snapshot": out, "files": len(files), "pycs": counts}


def compare_fresh(p, rec, data, blobs):
    """A pyc that was fresh: must be fresh now and load to equal code. Returns a problem or None."""
    state, detail, code = judge(p, data, rec["source"])
    if state != "fresh":
        return {"path": p, "kind": state, "detail": detail}
    if sha256(data) == rec["sha256"]:
        return None
    _, _, before = judge(p, read(os.path.join(blobs, rec["sha256"])), rec["source"])
    if before is None:
        return {"path": p, "kind": "snapshot-unreadable", "detail": "the snapshot's copy no longer judges fresh (source changed?)"}
    if code != before:
        return {"path": p, "kind": "different", "detail": "loads to code that differs from the original's"}
    if filenames(code) != filenames(before):
        return {"path": p, "kind": "different", "detail": "co_filename differs after _fix_co_filename"}
    return None


def compare_new(p, st):
    """A file that was not there: a pyc must be fresh and equal to compiling its source."""
    source = source_of(p) if p.endswith(".pyc") and kind_of(st) == "file" and st.st_size <= LARGE else None
    if source is None or not os.path.isfile(source):
        return {"path": p, "kind": "new", "detail": kind_of(st)}
    data = read(p)
    state, detail, code = judge(p, data, source)
    if state != "fresh":
        return {"path": p, "kind": "new-bad", "detail": "%s: %s" % (state, detail)}
    base = os.path.basename(p)
    opt = base.split(".opt-")[1].split(".")[0] if ".opt-" in base else ""
    optimize = {"": 0, "1": 1, "2": 2}.get(opt, 0)
    compiled = compile(read(source), source, "exec", dont_inherit=True, optimize=optimize)
    if compiled != code:
        return {"path": p, "kind": "new-bad", "detail": "differs from compiling its source"}
    return None


def compare(snap_path, roots, allow_missing, allow_new, ignore):
    with open(snap_path) as fh:
        snap = json.load(fh)
    if snap.get("cache_tag") != TAG:
        raise SystemExit("snapshot was taken by %s, this is %s: run with the same interpreter" % (snap.get("cache_tag"), TAG))
    blobs = snap_path + ".blobs"
    before = snap["files"]
    now = dict(walk(roots))
    problems = []
    counts = {"equivalent": 0, "identical": 0, "missing-allowed": 0, "new": 0}
    for p, rec in sorted(before.items()):
        if p in ignore:
            counts["ignored"] = counts.get("ignored", 0) + 1
            continue
        st = now.get(p)
        if st is None:
            if p in allow_missing:
                counts["missing-allowed"] += 1
            else:
                problems.append({"path": p, "kind": "missing", "detail": rec["kind"]})
            continue
        k = kind_of(st)
        if rec.get("state") == "fresh":
            if k != "file":
                problems.append({"path": p, "kind": "not-a-file", "detail": k})
                continue
            prob = compare_fresh(p, rec, read(p), blobs)
            if prob:
                problems.append(prob)
            else:
                counts["equivalent"] += 1
            continue
        if k != rec["kind"] or (k == "symlink" and os.readlink(p) != rec["target"]) or (k == "file" and not same_content(p, rec, st)):
            problems.append({"path": p, "kind": "changed", "detail": "was %s%s, must be byte-for-byte unchanged" % (rec["kind"], " (" + rec["state"] + " pyc)" if "state" in rec else "")})
        else:
            counts["identical"] += 1
    for p, st in sorted(now.items()):
        if p in before or p in ignore:
            continue
        counts["new"] += 1
        prob = compare_new(p, st)
        if prob and not (allow_new and prob["kind"] == "new"):
            problems.append(prob)
    return {"python": sys.version.split()[0], "checked": len(before), "counts": counts, "problems": problems}


def imports(site_packages, modules):
    if not modules:
        for name in sorted(os.listdir(site_packages)):
            p = os.path.join(site_packages, name)
            if name.endswith(".py") and name != "__init__.py":
                modules.append(name[:-3])
            elif os.path.isfile(os.path.join(p, "__init__.py")) and name.isidentifier():
                modules.append(name)
    failed = []
    with tempfile.TemporaryDirectory() as cwd:
        for m in modules:
            child = "import importlib, sys\nif sys.argv[2] not in sys.path: sys.path.append(sys.argv[2])\nimportlib.import_module(sys.argv[1])"
            r = subprocess.run([sys.executable, "-I", "-B", "-c", child, m, os.path.abspath(site_packages)],
                               cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if r.returncode != 0:
                failed.append({"module": m, "error": (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]})
    return {"python": sys.version.split()[0], "modules": modules, "problems": failed}


def main(argv):
    if len(argv) < 2 or argv[0] not in ("snapshot", "compare", "imports"):
        sys.stderr.write(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    allow_missing, ignore, allow_new, modules, pos = set(), set(), False, [], []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--allow-missing" and i + 1 < len(rest):
            allow_missing.add(os.path.abspath(rest[i + 1]))
            i += 2
        elif a == "--ignore" and i + 1 < len(rest):
            ignore.add(os.path.abspath(rest[i + 1]))
            i += 2
        elif a == "--module" and i + 1 < len(rest):
            modules.append(rest[i + 1])
            i += 2
        elif a == "--allow-new":
            allow_new = True
            i += 1
        else:
            pos.append(a)
            i += 1
    if cmd == "imports":
        res = imports(pos[0], modules)
    elif len(pos) < 2:
        sys.stderr.write(__doc__)
        return 2
    elif cmd == "snapshot":
        res = snapshot(pos[0], [os.path.abspath(r) for r in pos[1:]])
    else:
        res = compare(pos[0], [os.path.abspath(r) for r in pos[1:]], allow_missing, allow_new, ignore)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 1 if res.get("problems") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
