/** Where the writer's output goes. */
export interface Sink {
  byte(b: number): void;
  i32(v: number): void;
  bytes(data: Uint8Array): void;
  range(src: Uint8Array, start: number, len: number): void;
  /** What was written; the sink must not be written to afterwards. */
  take(): Uint8Array;
}

/** A growable byte buffer for the writer. */
export class ByteSink implements Sink {
  private buf: Uint8Array;
  len = 0;

  /** The caller's buffer, written into while the output fits in it (take() is then a view of it). */
  private readonly into: Uint8Array | undefined;

  /**
   * `reserve` bytes are left free in front of the output (take() returns the bytes after them, in the
   * same buffer). `into`: a buffer of the caller's to write into, when it holds capacity + reserve.
   */
  constructor(
    capacity = 256,
    private readonly reserve = 0,
    into?: Uint8Array,
  ) {
    const size = Math.max(16, capacity + reserve);
    this.into = into && into.length >= size ? into : undefined;
    this.buf = this.into ?? new Uint8Array(size);
    this.len = reserve;
  }

  private grow(extra: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }

  i32(v: number): void {
    if (this.len + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    const p = this.len;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.len = p + 4;
  }

  bytes(data: Uint8Array): void {
    if (this.len + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** `src[start .. start+len)`; short ranges are copied by hand (no view allocated). */
  range(src: Uint8Array, start: number, len: number): void {
    if (this.len + len > this.buf.length) this.grow(len);
    if (len > 32) this.buf.set(src.subarray(start, start + len), this.len);
    else {
      const b = this.buf;
      const p = this.len;
      for (let i = 0; i < len; i++) b[p + i] = src[start + i]!;
    }
    this.len += len;
  }

  /** What was written; the sink must not be written to afterwards. */
  take(): Uint8Array {
    // A view when little would be wasted (or in the caller's buffer), else a right-sized copy (the reserved room in front kept).
    const whole = this.buf === this.into || this.len * 4 >= this.buf.length * 3 ? this.buf : this.buf.slice(0, this.len);
    return whole.subarray(this.reserve, this.len);
  }
}

/**
 * A sink that compares what is written with `expected` (an output made before, e.g. of another copy
 * of the same code), keeping nothing while they agree: take() is then `expected` itself. From the
 * first difference on it writes into a ByteSink (`capacity`, `reserve`, `room` as ByteSink's),
 * the agreed bytes copied in first. Copies of one pyc are compared without a buffer of their own.
 */
export class ExpectSink implements Sink {
  private pos = 0;
  private out: ByteSink | undefined;

  constructor(
    private readonly expected: Uint8Array,
    private readonly capacity: number,
    private readonly reserve: number,
    private readonly room?: (size: number) => Uint8Array,
  ) {}

  private diverge(): ByteSink {
    const capacity = Math.max(this.capacity, this.pos + 64);
    const out = new ByteSink(capacity, this.reserve, this.room?.(capacity + this.reserve));
    out.range(this.expected, 0, this.pos);
    this.out = out;
    return out;
  }

  byte(b: number): void {
    if (!this.out && this.pos < this.expected.length && this.expected[this.pos] === b) this.pos++;
    else (this.out ?? this.diverge()).byte(b);
  }

  i32(v: number): void {
    const e = this.expected;
    const p = this.pos;
    if (!this.out && p + 4 <= e.length && e[p] === (v & 0xff) && e[p + 1] === ((v >>> 8) & 0xff) && e[p + 2] === ((v >>> 16) & 0xff) && e[p + 3] === ((v >>> 24) & 0xff)) this.pos = p + 4;
    else (this.out ?? this.diverge()).i32(v);
  }

  bytes(data: Uint8Array): void {
    this.range(data, 0, data.length);
  }

  range(src: Uint8Array, start: number, len: number): void {
    if (!this.out && this.agrees(src, start, len)) this.pos += len;
    else (this.out ?? this.diverge()).range(src, start, len);
  }

  private agrees(src: Uint8Array, start: number, len: number): boolean {
    const e = this.expected;
    const p = this.pos;
    if (p + len > e.length) return false;
    if (len > 32) return Buffer.compare(Buffer.from(src.buffer, src.byteOffset + start, len), Buffer.from(e.buffer, e.byteOffset + p, len)) === 0;
    for (let i = 0; i < len; i++) if (e[p + i] !== src[start + i]) return false;
    return true;
  }

  take(): Uint8Array {
    if (!this.out && this.pos === this.expected.length) return this.expected;
    return (this.out ?? this.diverge()).take();
  }
}
