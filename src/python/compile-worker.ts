/**
 * The Python side of a compile worker, run as `python -I -c WORKER_SOURCE`.
 * One request per line on stdin, one answer per line on stdout (JSON). It
 * compiles the source bytes it is given exactly as importlib's
 * SourceLoader.source_to_code does (compile(data, path, 'exec',
 * dont_inherit=True, optimize=N)) and returns marshal.dumps of the code, with
 * the interpreter's magic number so the caller can check it is the right one.
 * Given an `original` (the marshalled code of an existing pyc), it first loads
 * that with this interpreter's marshal (`corrupt` when CPython can't), then
 * answers `code-differs` unless the compiled code == the original: CPython's
 * own code equality, which ignores co_filename as importlib's _fix_co_filename
 * would overwrite it anyway.
 *
 * It ignores SIGINT and SIGTERM: a Ctrl-C in the terminal reaches the whole
 * process group, and pycstore decides how to stop (src/cli/interrupt.ts); the
 * worker ends when its stdin closes, which happens when pycstore exits.
 */
export const WORKER_SOURCE = String.raw`
import sys, json, marshal, base64, importlib.util, signal, types
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
MAGIC = importlib.util.MAGIC_NUMBER.hex()
out = sys.stdout
out.write(json.dumps({"ready": True, "magic": MAGIC, "version": "%d.%d.%d" % sys.version_info[:3]}) + "\n")
out.flush()
def load_original(data):
    try:
        orig = marshal.loads(data)
    except BaseException as e:
        return None, "CPython cannot load it either (%s: %s)" % (type(e).__name__, e)
    if type(orig) is not types.CodeType:
        return None, "CPython loads a %s from it, not a code object" % type(orig).__name__
    return orig, None

def answer(req):
    orig = None
    if req.get("original") is not None:
        orig, why = load_original(base64.b64decode(req["original"]))
        if why:
            return {"ok": False, "kind": "corrupt", "error": why}
    try:
        src = base64.b64decode(req["source"])
        code = compile(src, req["filename"], "exec", dont_inherit=True, optimize=req["optimize"])
    except BaseException as e:
        return {"ok": False, "kind": "compile-error", "error": "%s: %s" % (type(e).__name__, e)}
    if orig is not None and orig != code:
        return {"ok": False, "kind": "code-differs", "error": "its code is not what its source compiles to"}
    return {"ok": True, "body": base64.b64encode(marshal.dumps(code)).decode("ascii")}

for line in sys.stdin:
    req = json.loads(line)
    try:
        ans = answer(req)
    except BaseException as e:
        ans = {"ok": False, "kind": "compile-error", "error": "%s: %s" % (type(e).__name__, e)}
    ans["id"] = req["id"]
    out.write(json.dumps(ans) + "\n")
    out.flush()
`;
