/**
 * A worker thread of the analysis pool (pool.ts): it reads and judges the pycs
 * it is sent (read.ts, analyze.ts) and sends back each verdict, the checked
 * bodies transferred, not copied — the first copy of a group's code in memory
 * shared with the other threads, which compare the other copies with it (those
 * equal to it come back without bytes of their own). The bodies on their way
 * are counted (transit.ts): before reading a pyc it waits while too many are,
 * after sending what it has judged so far of its batch. Everything it does is
 * per file; it keeps nothing between batches. A --fill run's workers also look
 * stored bodies up, through a read-only connection of their own to the ledger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { rawTransform } from '../canonical/raw.js';
import { canonicalTransform } from '../canonical/transform.js';
import type { InvalidationPolicy } from '../canonical/types.js';
import { initHash } from '../hash/xxhash.js';
import { openBodyLookup } from '../ledger/lookup.js';
import type { PycTask } from './analyze.js';
import type { BatchPart, WorkerSetup } from './pool.js';
import { judgeTask, threadState, type Answer } from './read.js';
import { transit } from './transit.js';

await initHash();
const setup = workerData as WorkerSetup;
const transform = setup.transform === 'raw' ? rawTransform : canonicalTransform(setup.policy as InvalidationPolicy);
const lookup = setup.store ? openBodyLookup(setup.store.ledgerFile) : undefined;
const state = threadState(lookup && setup.store ? { lookup, roots: new Map(setup.store.roots) } : undefined);
const gate = transit(setup.transit, setup.transitLimitKiB);
const port = parentPort!;

port.on('message', (msg: { readonly batch: number; readonly tasks: readonly PycTask[] }) => {
  let results: Answer[] = [];
  let transfer: ArrayBuffer[] = [];
  let kib = 0;
  const send = (done: boolean): void => {
    const part: BatchPart = { batch: msg.batch, results, kib, done };
    port.postMessage(part, transfer);
    results = [];
    transfer = [];
    kib = 0;
  };
  for (const t of msg.tasks) {
    if (kib > 0 && !gate.hasRoom()) send(false); // what this batch holds goes first: it may be what fills the way
    gate.waitForRoom();
    const judged = judgeTask(t, transform, state);
    results.push(judged.answer);
    for (const b of judged.transfer) if (!transfer.includes(b)) transfer.push(b);
    if (judged.bytes > 0) kib += gate.sending(judged.bytes);
  }
  send(true);
});
