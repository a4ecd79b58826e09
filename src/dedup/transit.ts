/**
 * Back-pressure between the analysis workers and this thread: the bodies a worker has judged
 * and this thread has not yet taken in (messages waiting in its port) are counted in a shared
 * counter; a worker about to read another pyc waits while they are over the limit. Without it,
 * workers faster than the thread that plans and links pile bodies up in its port (hundreds of
 * MiB of big pycs, seen in a heap snapshot); with it, memory in transit is the limit plus one pyc.
 */

/** KiB of bodies in transit before a worker waits (a worker sends what it holds before it waits; one body may go past it). */
export const TRANSIT_LIMIT_KIB = 8 * 1024;

export interface Transit {
  /** The bodies in transit are under the limit. */
  hasRoom(): boolean;
  /** A worker: wait (blocking this worker thread) until the bodies in transit are under the limit. */
  waitForRoom(): void;
  /** A worker: `bytes` of bodies are on their way; returns the KiB counted, for `arrived`. */
  sending(bytes: number): number;
  /** This thread: `kib` of bodies were taken in. */
  arrived(kib: number): void;
}

/** The shared counter (made by the pool, passed to each worker). */
export function transitCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

export function transit(counter: Int32Array, limitKiB = TRANSIT_LIMIT_KIB): Transit {
  return {
    hasRoom: () => Atomics.load(counter, 0) < limitKiB,
    waitForRoom() {
      for (;;) {
        const now = Atomics.load(counter, 0);
        if (now < limitKiB) return;
        Atomics.wait(counter, 0, now, 250); // woken by `arrived`; the timeout only guards against a missed wake
      }
    },
    sending(bytes) {
      const kib = Math.ceil(bytes / 1024);
      Atomics.add(counter, 0, kib);
      return kib;
    },
    arrived(kib) {
      if (kib === 0) return;
      Atomics.sub(counter, 0, kib);
      Atomics.notify(counter, 0);
    },
  };
}
