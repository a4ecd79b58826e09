/**
 * The Python side of a compile worker, run as `python -I -c WORKER_SOURCE`.
 * One request per line on stdin, one answer per line on stdout (JSON). It
 * compiles the source bytes it is given exactly as importlib's
 * SourceLoader.source_to_code does (compile(data, path, 'exec',
 * dont_inherit=True, optimize=N)) and returns marshal.dumps of the code, with
 * the interpreter's magic number so the caller can check it is the right one.
 *
 * It ignores SIGINT and SIGTERM: a Ctrl-C in the terminal reaches the whole
 * process group, and pycstore decides how to stop (src/cli/interrupt.ts); the
 * worker ends when its stdin closes, which happens when pycstore exits.
 */
export const WORKER_SOURCE = String.raw`
import sys, json, marshal, base64, importlib.util, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
MAGIC = importlib.util.MAGIC_NUMBER.hex()
out = sys.stdout
out.write(json.dumps({"ready": True, "magic": MAGIC, "version": "%d.%d.%d" % sys.version_info[:3]}) + "\n")
out.flush()
for line in sys.stdin:
    req = json.loads(line)
    try:
        src = base64.b64decode(req["source"])
        code = compile(src, req["filename"], "exec", dont_inherit=True, optimize=req["optimize"])
        ans = {"id": req["id"], "ok": True, "body": base64.b64encode(marshal.dumps(code)).decode("ascii")}
    except BaseException as e:
        ans = {"id": req["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    out.write(json.dumps(ans) + "\n")
    out.flush()
`;
