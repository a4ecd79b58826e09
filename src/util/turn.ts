/**
 * Let the event loop run (signal handlers, I/O callbacks) in the middle of a
 * long synchronous loop: a SIGINT handler can only set its flag when JavaScript
 * gets back to the loop. `every(n)` yields once per n calls.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A checkpoint for loops: `await checkpoint()` yields every `n`-th call, and is free otherwise. */
export function checkpointEvery(n: number): () => Promise<void> | undefined {
  let calls = 0;
  return () => (++calls % n === 0 ? nextTurn() : undefined);
}
