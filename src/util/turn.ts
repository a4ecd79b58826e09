/**
 * Let the event loop run (signal handlers, I/O callbacks) in the middle of a
 * long synchronous loop: a SIGINT handler can only run when JavaScript gets
 * back to the event loop, and promise callbacks alone never do.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Two turns: between two setImmediate callbacks the loop always passes its poll phase, where a
 * signal that arrived meanwhile is read (one turn may run in the check phase of the current pass).
 */
export async function settle(): Promise<void> {
  await nextTurn();
  await nextTurn();
}

/** A checkpoint for loops: `await checkpoint()` yields every `n`-th call, and is free otherwise. */
export function checkpointEvery(n: number): () => Promise<void> | undefined {
  let calls = 0;
  return () => (++calls % n === 0 ? settle() : undefined);
}
