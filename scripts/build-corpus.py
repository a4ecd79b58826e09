#!/usr/bin/env python3
"""Build a corpus of real venvs with real third-party pycs, offline, for pycstore's tests and benchmarks.

Packages are Debian bookworm `python3-*` packages (pure Python), fetched once with `apt-get download`
into .cache/debs/ and unpacked with `dpkg-deb -x` into .cache/site-src/. Venvs are made with real
CPython interpreters (pyenv builds, or .cache/pythons/3.X/) and `python -m venv`. Two layouts mimic
how installers lay out and compile files (see /work/shared/research/pyc-internals.md §4-5):

  pip  each venv: `python -m venv` (pip + setuptools from ensurepip, compiled by pip itself), fresh
       copies of the package files with this venv's install-time mtimes (whole seconds apart between
       venvs), then one process of the venv's python runs
       `compileall.compile_file(path, force=True, quiet=True)` on every installed .py, per package
       in sorted order, stdout captured and warnings ignored, as pip's wheel installer does.
  uv   one shared copy of each package in OUT/uv-cache/archive-v0/<key>/ is hard-linked into every
       venv's site-packages (`python -m venv --without-pip`: uv venvs have no pip), so all venvs
       share the sources' inodes and mtimes; then worker processes of the venv's python (2, like uv
       on a 2-core machine) compile site-packages as uv does: paths on stdin,
       `compileall.compile_file(path, invalidation_mode=mode, force=mode != TIMESTAMP, quiet=2)`.

Child processes get PYTHONDONTWRITEBYTECODE, PYTHONHASHSEED and every other PYTHON* variable,
SOURCE_DATE_EPOCH and VIRTUAL_ENV removed, so hash seeds vary per process as in real life.
Run `build-corpus.py --help` for the options; OUT/corpus.json describes the result.
"""
import argparse
import glob
import hashlib
import importlib.util
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.dont_write_bytecode = True  # never leave scripts/__pycache__ behind

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMAT = "pycstore-corpus-v1"
DIST_PACKAGES = "usr/lib/python3/dist-packages"
MARKER = ".pycstore-corpus"  # written first into OUT; --force only deletes directories that have it
BASE_TIME = 1_717_200_000  # 2024-06-01: sources get mtimes after this, chosen from --seed
UV_WORKERS = 2
# Default interpreters, round-robin: a main Python for most venvs (3.11, bookworm's own version), an older one
# (3.10: frozenset constants follow the hash seed, so the same source gives different pycs per process) and
# a newer one. Several versions, because pycs of different versions never dedup and real machines mix them.
DEFAULT_PYTHONS = "3.11,3.10,3.11,3.12"


@dataclass(frozen=True)
class Package:
    deb: str
    small: bool = False  # part of --packages small
    since: tuple = ()  # only installed for Python versions from this one on, e.g. (3, 9)
    below: tuple = ()  # only installed for Python versions below this, e.g. (3, 12)
    drop: tuple = ()  # top-level entries never installed
    needs_ext: tuple = ()  # (entry, ext module path without suffix): entry dropped when the ext is
    why: str = ""


# Bookworm versions. Pure Python except markupsafe, yaml, zope.interface, whose cpython-311 .so files
# are kept only where they load (the 3.11 venvs), each with a pure-Python fallback.
PACKAGES = [
    Package("python3-six", small=True),
    Package("python3-idna", small=True),
    Package("python3-certifi", small=True),
    Package("python3-urllib3", small=True),
    Package("python3-charset-normalizer", small=True),
    Package("python3-chardet", small=True),
    Package("python3-requests", small=True),
    Package("python3-packaging", small=True),
    Package("python3-pyparsing", small=True),
    Package("python3-attr", small=True),
    Package("python3-dateutil", small=True),
    Package("python3-tz", small=True, since=(3, 9), why="Debian's pytz uses zoneinfo (3.9+)"),
    Package("python3-markupsafe", small=True, why="has a cpython-311 .so with a pure fallback"),
    Package("python3-jinja2", small=True),
    Package("python3-yaml", small=True, needs_ext=(("_yaml", "yaml/_yaml"),),
            why="_yaml is a shim for the C extension yaml/_yaml*.so; dropped where that .so is not kept"),
    Package("python3-zope.interface", small=True, why="namespace package via -nspkg.pth, optional .so"),
    Package("python3-mpmath"),
    Package("python3-sympy"),
    Package("python3-asgiref"),
    Package("python3-sqlparse"),
    Package("python3-django"),
    Package("python3-pygments"),
    Package("python3-babel", why="locale data is a symlink to python-babel-localedata, not included"),
    Package("python3-roman"),
    Package("python3-docutils"),
    Package("python3-alabaster"),
    Package("python3-imagesize"),
    Package("python3-snowballstemmer"),
    Package("python3-sphinx"),
    Package("python3-networkx"),
    Package("python3-constantly"),
    Package("python3-incremental"),
    Package("python3-automat"),
    Package("python3-hyperlink"),
    Package("python3-twisted"),
    Package("python3-typing-extensions", below=(3, 12),
            why="4.4.0 fails to import on 3.12+ (TypeVar is not an acceptable base type); nothing here needs it there"),
    Package("python3-sortedcontainers"),
    Package("python3-exceptiongroup"),
    Package("python3-hypothesis"),
    Package("python3-pluggy"),
    Package("python3-iniconfig"),
    Package("python3-pytest"),
    Package("python3-sqlalchemy"),
    Package("python3-click"),
    Package("python3-mdurl"),
    Package("python3-markdown-it"),
    Package("python3-rich"),
]

# Written to a file and run by the venv's python: pip's wheel installer compiling a package.
PIP_COMPILE = r'''
import compileall, contextlib, io, json, sys, warnings
groups = json.load(open(sys.argv[1]))
ok = failed = 0
log = io.StringIO()
with contextlib.redirect_stdout(log):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        for paths in groups:
            for path in sorted(paths):
                if compileall.compile_file(path, force=True, quiet=True):
                    ok += 1
                else:
                    failed += 1
print(json.dumps({"ok": ok, "failed": failed, "log": log.getvalue()[-4000:]}))
'''

# Written to a file in the uv cache and run by each uv compile worker (cwd: site-packages).
UV_COMPILE_WORKER = r'''
import compileall, os, py_compile, sys, warnings
with warnings.catch_warnings():
    warnings.filterwarnings("ignore")
    print("Ready", flush=True)
    mode = os.environ.get("PYC_INVALIDATION_MODE")
    mode = py_compile.PycInvalidationMode[mode] if mode else py_compile._get_default_invalidation_mode()
    force = mode != py_compile.PycInvalidationMode.TIMESTAMP
    for line in sys.stdin:
        path = line.rstrip("\n")
        if path:
            compileall.compile_file(path, invalidation_mode=mode, force=force, quiet=2)
            print(path, flush=True)
'''

EXT_PROBE = r'''
import importlib, sys
try:
    importlib.import_module(sys.argv[1])
except BaseException as e:
    print(type(e).__name__ + ": " + str(e)); sys.exit(1)
'''


class CorpusError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def child_env(**extra):
    """The environment of every Python child: nothing inherited that changes compilation."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in ("SOURCE_DATE_EPOCH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if proc.returncode != 0:
        raise CorpusError("%s failed (%d):\n%s%s" % (" ".join(map(str, cmd)), proc.returncode, proc.stdout[-2000:],
                                                   proc.stderr[-4000:]))
    return proc


# ---------------------------------------------------------------------------------------------------
# Debian packages: download and unpack (cached)

@dataclass
class Source:
    """One unpacked Debian package: its dist-packages files, relative paths."""
    pkg: Package
    version: str
    root: str  # .../site-src/<deb stem>/usr/lib/python3/dist-packages
    files: list = field(default_factory=list)  # regular files (symlinks inside the package resolved)
    dropped_symlinks: list = field(default_factory=list)  # pointing outside the package

    @property
    def top_level(self):
        return sorted({f.split("/")[0] for f in self.files})


def cached_deb(debs_dir, name):
    found = sorted(glob.glob(os.path.join(debs_dir, glob.escape(name) + "_*.deb")))
    return found[-1] if found else None


def fetch_debs(packages, debs_dir):
    os.makedirs(debs_dir, exist_ok=True)
    missing = [p.deb for p in packages if not cached_deb(debs_dir, p.deb)]
    if missing:
        log("apt-get download %d package(s) into %s" % (len(missing), debs_dir))
        try:
            run(["apt-get", "download"] + missing, cwd=debs_dir)
        except CorpusError as e:
            raise CorpusError("%s\nhint: `apt-get update` may be needed, or copy the .debs into %s" % (e, debs_dir))
    return {p.deb: cached_deb(debs_dir, p.deb) for p in packages}


def unpack(pkg, deb_path, site_src):
    stem = os.path.basename(deb_path)[:-len(".deb")]
    dest = os.path.join(site_src, stem)
    if not os.path.exists(os.path.join(dest, ".complete")):
        tmp = dest + ".tmp-%d" % os.getpid()
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        run(["dpkg-deb", "-x", deb_path, tmp])
        with open(os.path.join(tmp, ".complete"), "w") as fh:
            fh.write(stem + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.rename(tmp, dest)
    src = Source(pkg, stem.split("_")[1].replace("%3a", ":"), os.path.join(dest, DIST_PACKAGES))
    if not os.path.isdir(src.root):
        raise CorpusError("%s has no %s" % (deb_path, DIST_PACKAGES))
    for top, dirs, files in os.walk(src.root):
        dirs.sort()
        for fn in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = os.path.join(top, fn)
            rel = os.path.relpath(path, src.root)
            if rel.split("/")[0] in pkg.drop or "/__pycache__/" in "/" + rel:
                continue
            if os.path.islink(path):
                target = os.path.realpath(path)
                if not (target.startswith(dest + os.sep) and os.path.isfile(target)):
                    src.dropped_symlinks.append(rel)
                    continue
            src.files.append(rel)
    return src


def load_sources(packages, cache):
    debs = fetch_debs(packages, os.path.join(cache, "debs"))
    site_src = os.path.join(cache, "site-src")
    os.makedirs(site_src, exist_ok=True)
    return [unpack(p, debs[p.deb], site_src) for p in packages]


# ---------------------------------------------------------------------------------------------------
# Interpreters

def find_python(spec):
    """'3.11' -> newest ~/.pyenv/versions/3.11.N/bin/python3.11, else .cache/pythons/3.11/bin/python3.11;
    a path is used as is."""
    if os.sep in spec:
        if not os.access(spec, os.X_OK):
            raise CorpusError("not an executable: %s" % spec)
        return os.path.abspath(spec)
    if not re.fullmatch(r"3\.\d+", spec):
        raise CorpusError("--pythons wants versions like 3.11 or interpreter paths, got %r" % spec)
    minor = int(spec.split(".")[1])
    versions = os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions")
    patches = []
    for name in os.listdir(versions) if os.path.isdir(versions) else []:
        m = re.fullmatch(r"3\.%d\.(\d+)" % minor, name)
        exe = os.path.join(versions, name, "bin", "python" + spec)
        if m and os.access(exe, os.X_OK):
            patches.append((int(m.group(1)), exe))
    if patches:
        return max(patches)[1]
    deb = os.path.join(os.environ.get("PYCSTORE_PYTHONS_DIR", os.path.join(REPO, ".cache", "pythons")),
                       spec, "bin", "python" + spec)
    if os.access(deb, os.X_OK):
        return deb
    raise CorpusError("no interpreter for Python %s (looked in %s and %s)" % (spec, versions, deb))


def describe_python(exe):
    code = ("import json, sys, importlib.machinery as m; print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
            " 'minor': list(sys.version_info[:2]), 'cache_tag': sys.implementation.cache_tag,"
            " 'ext_suffixes': m.EXTENSION_SUFFIXES,"
            " 'has_ensurepip': __import__('importlib.util').util.find_spec('ensurepip') is not None}))")
    return json.loads(run([exe, "-I", "-c", code], env=child_env()).stdout)


# ---------------------------------------------------------------------------------------------------
# Building one venv

@dataclass
class VenvPlan:
    index: int
    name: str
    path: str
    python: str
    info: dict
    layout: str
    sources: list  # Source objects installed here
    rng_seed: str


def site_packages_of(venv_python):
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return run([venv_python, "-I", "-c", code], env=child_env()).stdout.strip()


def make_venv(plan, opts):
    without_pip = plan.layout == "uv" or opts.without_pip
    cmd = [plan.python, "-m", "venv"] + (["--without-pip"] if without_pip else []) + [plan.path]
    run(cmd, env=child_env(**sde_env(opts)))
    venv_python = os.path.join(plan.path, "bin", "python")
    return venv_python, site_packages_of(venv_python)


def sde_env(opts):
    """pip has no invalidation-mode option: SOURCE_DATE_EPOCH is how real pip installs get checked-hash pycs."""
    return {"SOURCE_DATE_EPOCH": str(BASE_TIME)} if opts.invalidation_mode == "checked-hash" else {}


def make_parents(paths):
    """Create the directories the files `paths` go in, each once."""
    for d in sorted({os.path.dirname(p) for p in paths}):
        os.makedirs(d, exist_ok=True)


def copy_package(src, dest, t, rng):
    """Fresh copies of src's files under dest, modes kept, mtimes in second t plus sorted sub-second jitter."""
    stamps = sorted(rng.randrange(0, 10**9) for _ in src.files)
    make_parents(os.path.join(dest, rel) for rel in src.files)
    for rel, ns in zip(src.files, stamps):
        s, d = os.path.join(src.root, rel), os.path.join(dest, rel)
        shutil.copyfile(s, d)
        os.chmod(d, os.stat(s).st_mode & 0o777)
        os.utime(d, ns=(t * 10**9 + ns, t * 10**9 + ns))


def install_pip_like(plan, sp, rng):
    """Fresh copies, mtimes = this venv's install time (+ up to ~1 s per package, sub-second jitter)."""
    install_time = BASE_TIME + 86400 + plan.index * 3600 + rng.randrange(0, 1800)
    t = install_time
    groups = []
    for src in plan.sources:
        copy_package(src, sp, t, rng)
        groups.append([os.path.join(sp, rel) for rel in src.files if rel.endswith(".py")])
        t += rng.randrange(0, 2)
    return install_time, groups


def install_uv_like(plan, sp, uv_cache):
    for src in plan.sources:
        archive = uv_cache[src.pkg.deb]
        make_parents(os.path.join(sp, rel) for rel in src.files)
        for rel in src.files:
            os.link(os.path.join(archive, rel), os.path.join(sp, rel))


def fill_uv_cache(sources, out, seed):
    """One shared copy per package, like uv's archive bucket; mtimes = the cache fill time."""
    rng = random.Random("%s:uv-cache" % seed)
    cache = {}
    t = BASE_TIME + rng.randrange(0, 3600)
    for src in sources:
        key = hashlib.sha256(("%s %s" % (src.pkg.deb, src.version)).encode()).hexdigest()[:20]
        archive = os.path.join(out, "uv-cache", "archive-v0", key)
        copy_package(src, archive, t, rng)
        t += rng.randrange(0, 2)
        cache[src.pkg.deb] = archive
    return cache


def filter_extensions(plan, venv_python, sp):
    """Keep a .so only if it is built for this interpreter and imports; then drop shims of dropped ones."""
    suffixes = plan.info["ext_suffixes"]
    kept, dropped = [], []
    for src in plan.sources:
        for rel in src.files:
            if not rel.endswith(".so"):
                continue
            path = os.path.join(sp, rel)
            base = os.path.basename(rel)
            suffix = base[base.index("."):]  # "_speedups.cpython-311-x86_64-linux-gnu.so" -> ".cpython-311-..."
            reason = None
            if suffix not in suffixes:
                reason = "not built for %s" % plan.info["cache_tag"]
            else:
                mod = rel[:-len(suffix)].replace("/", ".")
                probe = subprocess.run([venv_python, "-I", "-B", "-c", EXT_PROBE, mod], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, env=child_env(), cwd=sp, timeout=120)
                if probe.returncode != 0:
                    reason = probe.stdout.strip().splitlines()[-1] if probe.stdout.strip() else "import failed"
            if reason:
                os.unlink(path)
                dropped.append({"path": rel, "reason": reason})
            else:
                kept.append(rel)
        for entry, ext in src.pkg.needs_ext:
            if not any(k.startswith(ext + ".") for k in kept):
                shutil.rmtree(os.path.join(sp, entry), ignore_errors=True)
                dropped.append({"path": entry + "/", "reason": "shim for %s, which is not kept" % ext})
    return kept, dropped


def compile_pip_like(venv_python, groups, workdir, opts):
    script = os.path.join(workdir, "pip-compile.py")
    lists = os.path.join(workdir, "pip-compile.json")
    with open(script, "w") as fh:
        fh.write(PIP_COMPILE)
    with open(lists, "w") as fh:  # files dropped after copying (shims of dropped extensions) are skipped
        json.dump([[p for p in paths if os.path.isfile(p)] for paths in groups], fh)
    try:
        out = run([venv_python, script, lists], env=child_env(**sde_env(opts)), cwd=workdir)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(script)
        os.unlink(lists)


def compile_uv_like(venv_python, sp, script, opts):
    """uv's compile_tree: walk site-packages (skipping __pycache__), feed each .py to a pool of workers."""
    env = child_env(PYTHONUNBUFFERED="1")
    if opts.invalidation_mode:
        env["PYC_INVALIDATION_MODE"] = opts.invalidation_mode.upper().replace("-", "_")
    paths = queue.Queue()
    count = 0
    for root, dirs, files in os.walk(sp):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for fn in files:
            if fn.endswith(".py") and os.path.isfile(os.path.join(root, fn)):
                paths.put(os.path.join(root, fn))
                count += 1
    errors = []

    def worker():
        proc = subprocess.Popen([venv_python, script], cwd=sp, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if proc.stdout.readline().strip() != "Ready":
                raise CorpusError("uv compile worker did not start: %s" % proc.stderr.read()[-2000:])
            while True:
                try:
                    path = paths.get_nowait()
                except queue.Empty:
                    break
                proc.stdin.write(path + "\n")
                proc.stdin.flush()
                echoed = proc.stdout.readline().rstrip("\n")
                if echoed != path:
                    raise CorpusError("uv compile worker answered %r for %r: %s" % (echoed, path,
                                                                                    proc.stderr.read()[-2000:]))
            proc.stdin.close()
            proc.wait(timeout=60)
        except BaseException as e:  # noqa: BLE001 (reported by the caller)
            errors.append(e)
            proc.kill()
            proc.wait()

    threads = [threading.Thread(target=worker) for _ in range(UV_WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return count


def count_files(sp, cache_tag):
    """pycs, their bytes, .py files, and .py files without a pyc (compile failures when compiled)."""
    pyc_paths, wanted = set(), []
    pyc_bytes = 0
    for root, _dirs, files in os.walk(sp):
        for fn in files:
            if fn.endswith(".pyc"):
                path = os.path.join(root, fn)
                pyc_paths.add(path)
                pyc_bytes += os.lstat(path).st_size
            elif fn.endswith(".py"):
                wanted.append(os.path.join(root, "__pycache__", "%s.%s.pyc" % (fn[:-3], cache_tag)))
    uncompiled = sum(p not in pyc_paths for p in wanted)
    return len(pyc_paths), pyc_bytes, len(wanted), uncompiled


def build_venv(plan, opts, uv_cache, uv_script, check_mod):
    started = time.monotonic()
    rng = random.Random(plan.rng_seed)
    venv_python, sp = make_venv(plan, opts)
    install_time = None
    if plan.layout == "pip":
        install_time, groups = install_pip_like(plan, sp, rng)
    else:
        install_uv_like(plan, sp, uv_cache)
    kept, dropped = filter_extensions(plan, venv_python, sp)
    if not opts.no_compile:
        if plan.layout == "pip":
            compile_pip_like(venv_python, groups, plan.path, opts)
        else:
            compile_uv_like(venv_python, sp, uv_script, opts)
    pycs, pyc_bytes, py, uncompiled = count_files(sp, plan.info["cache_tag"])
    record = {
        "name": plan.name,
        "path": plan.path,
        "python": plan.python,
        "python_version": plan.info["version"],
        "cache_tag": plan.info["cache_tag"],
        "venv_python": venv_python,
        "layout": plan.layout,
        "site_packages": sp,
        "compiled": not opts.no_compile,
        "pyc_count": pycs,
        "pyc_bytes": pyc_bytes,
        "py_count": py,
        "install_time": install_time,
        "packages": ["%s=%s" % (s.pkg.deb, s.version) for s in plan.sources],
        "modules": check_mod.top_level_modules(sp, plan.info["ext_suffixes"]),
        "extensions_kept": kept,
        "extensions_dropped": dropped,
        "py_without_pyc": uncompiled,
        "seconds": round(time.monotonic() - started, 2),
    }
    if opts.check:
        report = check_mod.check(venv_python, os.path.join(plan.path, "import-check.json"),
                                 dont_write_bytecode=True, jobs=1)
        record["import_failures"] = {n: r["error"] for n, r in sorted(report["modules"].items()) if not r["ok"]}
        os.unlink(os.path.join(plan.path, "import-check.json"))
    log("  %-22s %s %5d pycs %6.1f MiB  %5.1fs" % (plan.name, plan.info["version"], pycs, pyc_bytes / 2**20,
                                                   record["seconds"]))
    return record


# ---------------------------------------------------------------------------------------------------

def load_check_module():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-import-check.py")
    spec = importlib.util.spec_from_file_location("corpus_import_check", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def prepare_out(out, force):
    if os.path.exists(out) and os.listdir(out):
        if not force:
            raise CorpusError("%s exists and is not empty (use --force to replace a corpus built here)" % out)
        if not os.path.exists(os.path.join(out, MARKER)):
            raise CorpusError("refusing to delete %s: it has no %s marker, so it is not a corpus" % (out, MARKER))
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, MARKER), "w") as fh:
        fh.write("built by scripts/build-corpus.py; safe to delete\n")


def suits(pkg, info):
    version = tuple(info["minor"])
    return (not pkg.since or version >= pkg.since) and (not pkg.below or version < pkg.below)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Build a corpus of venvs with real pycs (offline, Debian packages).")
    ap.add_argument("--out", required=True, help="corpus directory (created; put it under /tmp or .cache/)")
    ap.add_argument("--layout", choices=("pip", "uv"), default="pip", help="default pip")
    ap.add_argument("--venvs", type=int, default=6, help="number of venvs (default 6)")
    ap.add_argument("--at", action="append", metavar="PATH",
                    help="build a venv at PATH instead of OUT/venvs/NAME (repeatable; then one venv per --at and "
                         "--venvs is ignored): real package venvs where a tool keeps its environments")
    ap.add_argument("--pythons", default=DEFAULT_PYTHONS,
                    help="interpreters assigned round-robin: versions (3.11) or paths; repeat one to weight it "
                         "(default %s: 3 x 3.11, 2 x 3.10, 1 x 3.12 for 6 venvs)" % DEFAULT_PYTHONS)
    ap.add_argument("--packages", choices=("small", "full"), default="full",
                    help="small: %d packages, a few hundred pycs per venv; full: %d packages (default full)"
                         % (sum(p.small for p in PACKAGES), len(PACKAGES)))
    ap.add_argument("--no-compile", action="store_true",
                    help="write no pycs for the packages (uv's default; pip's --no-compile)")
    ap.add_argument("--without-pip", action="store_true",
                    help="pip layout: no pip/setuptools from ensurepip in the venvs (saves ~4 s of CPU per venv; "
                         "uv venvs never have pip)")
    ap.add_argument("--invalidation-mode", choices=("timestamp", "checked-hash", "unchecked-hash"),
                    help="uv: PYC_INVALIDATION_MODE; pip: checked-hash only, through SOURCE_DATE_EPOCH "
                         "(default: py_compile's default, timestamp)")
    ap.add_argument("--seed", type=int, default=1, help="mtimes and jitter (default 1); hash seeds always vary")
    ap.add_argument("--jobs", type=int, default=2, help="venvs built at once (default 2)")
    ap.add_argument("--check", action="store_true",
                    help="import every top-level module of each venv afterwards (with -B) and record failures")
    ap.add_argument("--cache", default=os.path.join(REPO, ".cache"), help="download cache (default: <repo>/.cache)")
    ap.add_argument("--force", action="store_true", help="replace an existing corpus in --out")
    opts = ap.parse_args(argv)
    if opts.at:
        opts.venvs = len(opts.at)
    if opts.venvs < 1:
        ap.error("--venvs must be at least 1")
    if opts.layout == "pip" and opts.invalidation_mode == "unchecked-hash":
        ap.error("pip cannot write unchecked-hash pycs; use --layout uv")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    started = time.monotonic()
    out = os.path.abspath(opts.out)
    for where in [out] + [os.path.abspath(a) for a in opts.at or []]:
        if where == REPO or where.startswith(REPO + os.sep) and not where.startswith(os.path.join(REPO, ".cache") + os.sep):
            raise CorpusError("build corpora under /tmp or .cache/, not in the repository tree")
        if os.path.lexists(where) and where != out:
            raise CorpusError("%s exists: --at builds a new venv there" % where)
    packages = [p for p in PACKAGES if p.small or opts.packages == "full"]
    sources = load_sources(packages, os.path.abspath(opts.cache))
    check_mod = load_check_module()
    pythons = [find_python(s.strip()) for s in opts.pythons.split(",") if s.strip()]
    infos = {exe: describe_python(exe) for exe in set(pythons)}
    if opts.layout == "pip" and not opts.without_pip:
        lacking = [exe for exe in infos if not infos[exe]["has_ensurepip"]]
        if lacking:
            raise CorpusError("no ensurepip in %s: use --without-pip (or --layout uv)" % ", ".join(lacking))
    prepare_out(out, opts.force)

    plans = []
    for i in range(opts.venvs):
        exe = pythons[i % len(pythons)]
        info = infos[exe]
        name = "venv-%02d-%s" % (i, info["cache_tag"].replace("cpython-", "cp"))
        mine = [s for s in sources if suits(s.pkg, info)]
        where = os.path.abspath(opts.at[i]) if opts.at else os.path.join(out, "venvs", name)
        plans.append(VenvPlan(i, name, where, exe, info, opts.layout, mine, "%s:%d" % (opts.seed, i)))
    for plan in plans:
        os.makedirs(os.path.dirname(plan.path), exist_ok=True)

    uv_cache = uv_script = None
    if opts.layout == "uv":
        uv_cache = fill_uv_cache(sources, out, opts.seed)
        os.makedirs(os.path.join(out, "uv-cache", ".tmp-compile"))
        uv_script = os.path.join(out, "uv-cache", ".tmp-compile", "pip_compileall.py")
        with open(uv_script, "w") as fh:
            fh.write(UV_COMPILE_WORKER)

    log("building %d %s venvs (%s packages) in %s" % (opts.venvs, opts.layout, opts.packages, out))
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        venvs = list(pool.map(lambda p: build_venv(p, opts, uv_cache, uv_script, check_mod), plans))
    if uv_script:
        shutil.rmtree(os.path.dirname(uv_script))

    totals = {"venvs": len(venvs), "pycs": sum(v["pyc_count"] for v in venvs),
              "pyc_bytes": sum(v["pyc_bytes"] for v in venvs), "seconds": round(time.monotonic() - started, 1)}
    corpus = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "out": out,
        "layout": opts.layout,
        "package_set": opts.packages,
        "compiled": not opts.no_compile,
        "with_pip": opts.layout == "pip" and not opts.without_pip,
        "invalidation_mode": opts.invalidation_mode or "default",
        "seed": opts.seed,
        "uv_cache": os.path.join(out, "uv-cache") if uv_cache else None,
        "packages": [{"deb": s.pkg.deb, "version": s.version, "top_level": s.top_level,
                      "files": len(s.files), "py": sum(f.endswith(".py") for f in s.files),
                      "dropped_symlinks": s.dropped_symlinks, "since_python": list(s.pkg.since) or None,
                      "below_python": list(s.pkg.below) or None,
                      "note": s.pkg.why or None} for s in sources],
        "venvs": venvs,
        "totals": totals,
    }
    with open(os.path.join(out, "corpus.json.tmp"), "w") as fh:
        json.dump(corpus, fh, indent=1)
    os.replace(os.path.join(out, "corpus.json.tmp"), os.path.join(out, "corpus.json"))

    print("corpus %s: %d %s venvs (%s), %d pycs, %.1f MiB of pycs, %.1f s" % (
        out, totals["venvs"], opts.layout, ", ".join(sorted({v["python_version"] for v in venvs})), totals["pycs"],
        totals["pyc_bytes"] / 2**20, totals["seconds"]))
    failures = {v["name"]: v["import_failures"] for v in venvs if v.get("import_failures")}
    if failures:
        print("import failures: " + json.dumps(failures, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CorpusError as e:
        print("build-corpus: %s" % e, file=sys.stderr)
        sys.exit(1)
