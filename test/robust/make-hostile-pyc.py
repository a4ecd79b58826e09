# Writes a hostile pyc for SRC at PYC, with the running interpreter's magic.
# usage: python make-hostile-pyc.py KIND SRC PYC
# Unless the kind says otherwise the header is fresh for SRC by importlib's rules (timestamp:
# SRC's mtime and size), so the body is the only thing wrong.
import importlib.util, marshal, os, random, sys

kind, src, pyc = sys.argv[1], sys.argv[2], sys.argv[3]
st = os.stat(src)
MAGIC = importlib.util.MAGIC_NUMBER


def header(flags=0, magic=MAGIC, mtime=None):
    mt = int(st.st_mtime) if mtime is None else mtime
    return magic + flags.to_bytes(4, "little") + (mt & 0xFFFFFFFF).to_bytes(4, "little") + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")


def good_body():
    return marshal.dumps(compile(open(src, "rb").read(), src, "exec", dont_inherit=True))


def shared_filename_code(text):
    """Code compiled from TEXT (not SRC's content), whose co_filename object is also its first constant."""
    code = compile(text, src, "exec", dont_inherit=True)
    fn = code.co_filename
    code = code.replace(co_consts=tuple(fn if (isinstance(c, str) and c == fn) else c for c in code.co_consts))
    assert code.co_consts[0] is code.co_filename
    return marshal.dumps(code)


rng = random.Random(7)
if kind == "truncated":  # a valid pyc cut in the middle of its marshal stream
    body = good_body()
    data = header() + body[: len(body) // 2]
elif kind == "garbage":  # a fresh header, then random bytes
    data = header() + bytes(rng.randrange(256) for _ in range(400))
elif kind == "trailing":  # a valid pyc followed by bytes marshal.loads never reads
    data = header() + good_body() + b"\x00trailing garbage\xff" * 8
elif kind == "tuple-bomb":  # 1e6 nested 1-tuples: marshal refuses depth > 2000
    data = header() + b")\x01" * 1_000_000 + b"N"
elif kind == "string-bomb":  # a string that claims 2^31 - 1 bytes and has 16
    data = header() + b"s" + (2**31 - 1).to_bytes(4, "little") + b"x" * 16
elif kind == "code-differs":  # fresh header, but the code of other source text (X = '<path>'), co_filename shared
    data = header() + shared_filename_code("X = %r\n" % src)
elif kind == "empty":
    data = b""
elif kind == "wrong-magic":  # not a pyc at all: an ELF header where the magic goes
    data = b"\x7fELF" + header()[4:] + good_body()
elif kind == "prerelease-magic":  # 3.11a7's magic (3494): not a final release
    data = (3494).to_bytes(2, "little") + b"\r\n" + header()[4:] + good_body()
elif kind == "bad-flags":
    data = header(flags=4) + good_body()
elif kind == "stale":  # the header names another mtime
    data = header(mtime=int(st.st_mtime) - 3600) + good_body()
elif kind == "wrong-hash":  # checked-hash pyc whose hash is not the source's
    data = MAGIC + (3).to_bytes(4, "little") + b"\x01" * 8 + good_body()
elif kind == "too-large":  # a fresh header at the start of a 1.9 GiB sparse file
    with open(pyc, "wb") as fh:
        fh.write(header() + good_body())
        fh.truncate(1900 << 20)
    sys.exit(0)
else:
    sys.exit("unknown kind " + kind)
os.makedirs(os.path.dirname(pyc), exist_ok=True)
with open(pyc, "wb") as fh:
    fh.write(data)
