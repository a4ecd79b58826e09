/**
 * SIGINT / SIGTERM while a command runs. The first signal aborts the
 * command's `ctx.signal`; a command that honours it stops at its next safe
 * point and reports what it did. One that can't stop part-way ('finishes')
 * gets a note saying so and runs to its end. A second signal stops the process
 * at once: every command's crash recovery (STORE_FORMAT.md) makes that as safe
 * as a kill -9. Either way the exit status is 130 (SIGINT) or 143 (SIGTERM).
 * Read-only runs ('dies') install nothing: the signal's default action ends
 * them at once (shells report that as 130/143 too).
 */
import type { InterruptHandling } from './command.js';
import { signalExit, type InterruptSignal } from './exit.js';

export interface Interrupts {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): InterruptSignal | undefined;
  /** Remove the handlers (the command has returned). */
  dispose(): void;
}

export interface InterruptOptions {
  readonly handling: InterruptHandling;
  readonly command: string;
  readonly note: (message: string) => void;
  /** Ends the process now (the second signal). */
  readonly exitNow: (code: number) => void;
}

export function watchInterrupts(opts: InterruptOptions): Interrupts {
  const controller = new AbortController();
  let first: InterruptSignal | undefined;
  if (opts.handling === 'dies') {
    return { signal: controller.signal, received: () => undefined, dispose: () => undefined };
  }
  const onSignal = (sig: InterruptSignal): void => {
    if (first !== undefined) {
      opts.note(`${sig} again: stopping at once (the next run completes what ${opts.command} left half-done)`);
      opts.exitNow(signalExit(first));
      return;
    }
    first = sig;
    if (opts.handling === 'finishes') {
      opts.note(
        `${sig}: ${opts.command} can't stop part-way; it finishes its run first. ` +
          `Send ${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to stop at once (safe: the next run completes the work).`,
      );
    }
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    received: () => first,
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
