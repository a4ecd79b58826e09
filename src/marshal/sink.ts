/** A growable byte buffer for the writer. */
export class ByteSink {
  private buf: Uint8Array;
  len = 0;

  /** `reserve` bytes are left free in front of the output (take() returns the bytes after them, in the same buffer). */
  constructor(
    capacity = 256,
    private readonly reserve = 0,
  ) {
    this.buf = new Uint8Array(Math.max(16, capacity + reserve));
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
    // A view when little would be wasted, else a right-sized copy (the reserved room in front kept).
    const whole = this.len * 4 >= this.buf.length * 3 ? this.buf : this.buf.slice(0, this.len);
    return whole.subarray(this.reserve, this.len);
  }
}
