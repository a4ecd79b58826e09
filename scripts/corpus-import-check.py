#!/usr/bin/env python3
"""Import every top-level module of a venv's site-packages and record what happened.

Usage:
  corpus-import-check.py VENV_PYTHON OUT.json [--modules a,b] [--timeout S] [--jobs N]
                         [--dont-write-bytecode] [--load-all]
  corpus-import-check.py --compare BEFORE.json AFTER.json

Check mode runs with any Python 3.7+ (the system python3 or the venv's own). Each top-level
module is imported in a fresh `VENV_PYTHON -I` process (isolated: no PYTHON* variables, no user
site, no cwd on sys.path; stdin is /dev/null; cwd is an empty temporary directory). For each
module it records `__file__`, success or the exception's type and message, the site-packages
modules the import loaded, and functions whose co_filename is relative (a canonical pyc that
importlib did not fix up). Bytecode writing stays ON unless --dont-write-bytecode (-B), so
CPython rewrites any pyc it rejects; the (inode, mtime_ns, size) of every .pyc under
site-packages is recorded before and after, and the differences are written to
`pyc_changes` (rewritten / created / removed).

--load-all also loads the code object of every .py under site-packages through importlib's
own SourceFileLoader.get_code (the import path: pyc validation against the source, unmarshal,
co_filename fix-up, or recompile + write when the pyc is rejected) without executing
anything, and records modules whose code is not accepted or whose co_filename (recursively)
is not the source path.

Compare mode prints the differences between two check results that matter for "imports
exactly as before" (per module: ok, error type and message, __file__, loaded modules,
relative co_filenames; and the --load-all results) and exits 1 if there are any. It also
exits 1 if AFTER shows pycs rewritten or removed by the imports.

Exit status of check mode: 0 when the checks ran (import failures are data, not errors),
2 when VENV_PYTHON cannot be run.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True

FORMAT = "pycstore-import-check-v1"

# Runs inside VENV_PYTHON (3.7+). argv: module, result path, site-packages dir.
IMPORT_CHILD = r'''
import importlib, json, os, sys, types
name, out, sp = sys.argv[1], sys.argv[2], sys.argv[3]
prefix = sp.rstrip(os.sep) + os.sep
res = {"ok": False, "file": None, "error": None}
try:
    mod = importlib.import_module(name)
    res["ok"] = True
    res["file"] = getattr(mod, "__file__", None)
except BaseException as e:
    res["error"] = {"type": type(e).__module__ + "." + type(e).__qualname__, "message": str(e)[:2000]}
loaded, relative = [], []
for mname, m in sorted(list(sys.modules.items())):
    f = getattr(m, "__file__", None)
    if not isinstance(f, str) or not f.startswith(prefix):
        continue
    loaded.append(mname)
    try:
        objs = list(vars(m).values())
    except Exception:
        continue
    for obj in objs:
        funcs = [obj] if isinstance(obj, types.FunctionType) else []
        if isinstance(obj, type) and getattr(obj, "__module__", None) == mname:
            funcs += [v for v in vars(obj).values() if isinstance(v, types.FunctionType)]
        for fn in funcs:
            cf = fn.__code__.co_filename
            if fn.__module__ == mname and not cf.startswith("<") and not os.path.isabs(cf):
                relative.append(mname + ":" + fn.__qualname__ + " -> " + cf)
res["loaded"] = loaded
res["relative_co_filenames"] = sorted(set(relative))[:50]
with open(out, "w") as fh:
    json.dump(res, fh)
'''

# Runs inside VENV_PYTHON. argv: site-packages dir, result path.
LOAD_ALL_CHILD = r'''
import importlib.machinery, json, os, sys, warnings
sp, out = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")
def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_filename"):
            for x in codes(c):
                yield x
loaded, errors, wrong = 0, {}, {}
for root, dirs, files in os.walk(sp):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for fn in sorted(files):
        if not fn.endswith(".py"):
            continue
        path = os.path.join(root, fn)
        rel = os.path.relpath(path, sp)
        name = rel[:-3].replace(os.sep, ".")
        try:
            code = importlib.machinery.SourceFileLoader(name, path).get_code(name)
        except BaseException as e:
            errors[rel] = type(e).__name__ + ": " + str(e)[:300]
            continue
        loaded += 1
        bad = sorted(set(c.co_filename for c in codes(code) if c.co_filename != path))
        if bad:
            wrong[rel] = bad[:5]
with open(out, "w") as fh:
    json.dump({"loaded": loaded, "errors": errors, "wrong_co_filename": wrong}, fh)
'''

SITE_CHILD = 'import json, sys, sysconfig; print(json.dumps({"purelib": sysconfig.get_paths()["purelib"], ' \
             '"version": "%d.%d.%d" % sys.version_info[:3], "cache_tag": sys.implementation.cache_tag, ' \
             '"ext_suffixes": __import__("importlib.machinery").machinery.EXTENSION_SUFFIXES}))'

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def child_env():
    """A minimal environment: nothing that changes imports or bytecode writing."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def describe_python(python):
    out = subprocess.run([python, "-I", "-c", SITE_CHILD], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=child_env(), universal_newlines=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("cannot run %s: %s" % (python, out.stderr.strip()))
    return json.loads(out.stdout)


def top_level_modules(site_packages, ext_suffixes=(".so",)):
    """Names importable from the top of site-packages: packages (with or without __init__.py,
    i.e. namespace packages if they contain .py files), .py modules and extension modules."""
    names = set()
    for name in os.listdir(site_packages):
        path = os.path.join(site_packages, name)
        if name.startswith(".") or name == "__pycache__":
            continue
        if os.path.isdir(path):
            if name.isidentifier() and contains_python(path):
                names.add(name)
        elif name.endswith(".py") and name[:-3].isidentifier():
            names.add(name[:-3])
        else:
            for suffix in ext_suffixes:
                if name.endswith(suffix) and name[:-len(suffix)].isidentifier():
                    names.add(name[:-len(suffix)])
    return sorted(names)


def contains_python(directory):
    for _root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        if any(f.endswith(".py") for f in files):
            return True
    return False


def snapshot_pycs(site_packages):
    """{relative path: [inode, mtime_ns, size]} for every .pyc under site-packages."""
    snap = {}
    for root, _dirs, files in os.walk(site_packages):
        for fn in files:
            if fn.endswith(".pyc"):
                path = os.path.join(root, fn)
                st = os.lstat(path)
                snap[os.path.relpath(path, site_packages)] = [st.st_ino, st.st_mtime_ns, st.st_size]
    return snap


def diff_snapshots(before, after):
    return {
        "rewritten": sorted(p for p in before if p in after and before[p] != after[p]),
        "created": sorted(p for p in after if p not in before),
        "removed": sorted(p for p in before if p not in after),
    }


def run_child(python, flags, code, args, timeout, workdir):
    fd, out = tempfile.mkstemp(suffix=".json", dir=workdir)
    os.close(fd)
    started = time.monotonic()
    try:
        proc = subprocess.run([python] + flags + ["-c", code] + args[:1] + [out] + args[1:],
                              cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=child_env(), timeout=timeout)
        with open(out) as fh:
            text = fh.read()
        res = json.loads(text) if text else {"ok": False, "error": {"type": "NoResult", "message": ""}}
        res["exit_code"] = proc.returncode
        res["stderr"] = normalise(proc.stderr.decode("utf-8", "replace"))[-4000:]
    except subprocess.TimeoutExpired:
        res = {"ok": False, "error": {"type": "Timeout", "message": "after %ss" % timeout}}
    finally:
        os.unlink(out)
    res["seconds"] = round(time.monotonic() - started, 3)
    return res


def normalise(text):
    return ADDRESS.sub("0x?", text)


def resolve_python(python):
    """Absolute, but not through symlinks: a venv's bin/python must stay the venv's."""
    if os.sep in python:
        return os.path.abspath(python)
    found = shutil.which(python)
    if not found:
        raise RuntimeError("not found on PATH: %s" % python)
    return found


def check(python, out_path, modules=None, timeout=120, jobs=1, dont_write_bytecode=False, load_all=False):
    python = resolve_python(python)
    info = describe_python(python)
    sp = info["purelib"]
    exts = [s for s in info["ext_suffixes"] if s != ".pyd"]
    names = modules or top_level_modules(sp, exts)
    flags = ["-I"] + (["-B"] if dont_write_bytecode else [])
    started = time.monotonic()
    before = snapshot_pycs(sp)
    with tempfile.TemporaryDirectory(prefix="import-check-") as workdir:
        def one(name):
            res = run_child(python, flags, IMPORT_CHILD, [name, sp], timeout, workdir)
            if res.get("error"):
                res["error"]["message"] = normalise(res["error"]["message"])
            return name, res
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = dict(pool.map(one, names))
        load = run_child(python, flags, LOAD_ALL_CHILD, [sp], max(timeout, 600), workdir) if load_all else None
    after = snapshot_pycs(sp)
    report = {
        "format": FORMAT,
        "python": python,
        "python_version": info["version"],
        "cache_tag": info["cache_tag"],
        "site_packages": sp,
        "write_bytecode": not dont_write_bytecode,
        "modules": results,
        "load_all": load,
        "pycs_before": len(before),
        "pycs_after": len(after),
        "pyc_changes": diff_snapshots(before, after),
        "seconds": round(time.monotonic() - started, 2),
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(report, fh, indent=1, sort_keys=True)
    os.replace(tmp, out_path)
    return report


def compare(before, after):
    """Differences that break "imports exactly as before"; [] when none."""
    problems = []
    keys = ("ok", "file", "error", "loaded", "relative_co_filenames")
    for name in sorted(set(before["modules"]) | set(after["modules"])):
        b, a = before["modules"].get(name), after["modules"].get(name)
        if b is None or a is None:
            problems.append("%s: only in %s" % (name, "after" if b is None else "before"))
            continue
        for key in keys:
            if b.get(key) != a.get(key):
                problems.append("%s: %s differs: %s -> %s" % (name, key, short(b.get(key)), short(a.get(key))))
    lb, la = before.get("load_all"), after.get("load_all")
    if lb and la:
        for key in ("loaded", "errors", "wrong_co_filename"):
            if lb.get(key) != la.get(key):
                problems.append("load_all: %s differs: %s -> %s" % (key, short(lb.get(key)), short(la.get(key))))
    changes = after.get("pyc_changes", {})
    for kind in ("rewritten", "removed"):
        if changes.get(kind):
            problems.append("pycs %s by the imports: %d, e.g. %s" % (kind, len(changes[kind]), changes[kind][:3]))
    return problems


def short(value, limit=300):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", action="store_true", help="compare two check results: BEFORE.json AFTER.json")
    ap.add_argument("python", metavar="VENV_PYTHON|BEFORE.json")
    ap.add_argument("out", metavar="OUT.json|AFTER.json")
    ap.add_argument("--modules", help="comma-separated top-level modules (default: all in site-packages)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per import (default 120)")
    ap.add_argument("--jobs", type=int, default=1, help="imports run in parallel (default 1)")
    ap.add_argument("-B", "--dont-write-bytecode", action="store_true",
                    help="run the imports with -B (leaves the venv untouched, e.g. a --no-compile corpus)")
    ap.add_argument("--load-all", action="store_true", help="also load the code of every .py under site-packages")
    args = ap.parse_args(argv)

    if args.compare:
        try:
            with open(args.python) as fb, open(args.out) as fa:
                problems = compare(json.load(fb), json.load(fa))
        except (OSError, ValueError, KeyError) as e:
            print("corpus-import-check: cannot compare: %s" % e, file=sys.stderr)
            return 2
        for p in problems:
            print(p)
        print("%d difference(s)" % len(problems))
        return 1 if problems else 0

    try:
        report = check(args.python, args.out, modules=args.modules.split(",") if args.modules else None,
                       timeout=args.timeout, jobs=args.jobs, dont_write_bytecode=args.dont_write_bytecode,
                       load_all=args.load_all)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("corpus-import-check: %s" % e, file=sys.stderr)
        return 2
    failed = sorted(n for n, r in report["modules"].items() if not r["ok"])
    ch = report["pyc_changes"]
    print("%s: %d modules, %d failed%s; pycs %d -> %d (rewritten %d, created %d, removed %d); %.1fs" % (
        args.python, len(report["modules"]), len(failed), (" (" + ", ".join(failed) + ")") if failed else "",
        report["pycs_before"], report["pycs_after"], len(ch["rewritten"]), len(ch["created"]), len(ch["removed"]),
        report["seconds"]))
    if report["load_all"]:
        la = report["load_all"]
        print("load-all: %s code objects, %d errors, %d with a wrong co_filename" % (
            la.get("loaded"), len(la.get("errors", {})), len(la.get("wrong_co_filename", {}))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
