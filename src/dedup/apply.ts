/**
 * Step 5, apply, for one group's plan: each planned object made to exist and
 * durable (objects.ts), then its files linked (link.ts). Objects of a group are
 * handled side by side; a new object's files wait for its batch's durability
 * barrier while other groups go on.
 */
import { makeLinker, type Linker, type LinkMode } from '../fs/link.js';
import { mountPointOf } from '../fs/mounts.js';
import { skipped, stopping, type RunContext } from './context.js';
import { jobOf, linkToObject, type LinkContext, type LinkJob } from './link.js';
import { ObjectStore, type NotReady, type ObjectState } from './objects.js';
import type { Plan } from './plan.js';
import { countSkip } from './report.js';

export class Applier {
  readonly objects: ObjectStore;
  private readonly linkers = new Map<number, Linker>();
  private readonly ctx: LinkContext;
  private readonly mounts = new Map<string, { mount: string; files: number; bytes: number }>();

  constructor(
    private readonly run: RunContext,
    linkMode: LinkMode,
  ) {
    this.objects = new ObjectStore(run);
    this.ctx = {
      run,
      objects: this.objects,
      linkerOf: (root) => this.linkers.get(root.id) ?? this.linkers.set(root.id, makeLinker(linkMode)).get(root.id)!,
      replaced: new Map(),
    };
  }

  /** What a plan skips or refuses, counted. */
  note(plan: Plan): void {
    const report = this.run.report;
    for (const s of plan.skips) countSkip(report, s.reason);
    for (const c of plan.collisions) {
      report.failures.push(c);
      countSkip(report, c.reason);
    }
    for (const o of plan.otherFilesystems) {
      const seen = this.mounts.get(o.dev) ?? { mount: mountPointOf(o.example), files: 0, bytes: 0 };
      seen.files += o.files;
      seen.bytes += o.bytes;
      this.mounts.set(o.dev, seen);
    }
  }

  /**
   * Apply one group's plan (its objects side by side). Nothing waiting here holds the plan: an
   * object's bytes are let go of once it is written, while it waits for its durability barrier.
   */
  apply(plan: Plan): Promise<void> {
    this.note(plan);
    if (stopping(this.run)) return Promise.resolve(); // no new objects, no new links
    return Promise.all(plan.objects.map((obj) => this.linkWhenReady(this.objects.ready(obj), obj.links.map(jobOf)))).then(() => undefined);
  }

  private async linkWhenReady(ready: Promise<ObjectState | NotReady>, jobs: readonly LinkJob[]): Promise<void> {
    const state = await ready;
    if ('reason' in state) this.notReady(jobs, state);
    else await linkToObject(state, jobs, this.ctx);
  }

  private notReady(jobs: readonly LinkJob[], why: NotReady): void {
    const run = this.run;
    if (why.reason === 'no-space') {
      run.stop ??= { kind: 'no-space', root: this.run.storeRoots[0]?.path ?? '', errno: why.detail };
      for (const j of jobs) skipped(run, j.path, 'no-space');
      return;
    }
    for (const j of jobs) {
      run.report.failures.push({ path: j.path, reason: why.reason, detail: why.detail });
      countSkip(run.report, why.reason);
    }
  }

  /** Make every new object waiting for its barrier durable now (their files are linked then). */
  kick(): void {
    this.objects.kick();
  }

  /** The end: every object durable, every link made; the report's totals. */
  async finish(): Promise<void> {
    await this.objects.drain();
    const report = this.run.report;
    report.objectsCreated = this.objects.created;
    report.bytesSaved -= this.objects.bytesTaken;
    report.otherFilesystems = [...this.mounts.values()];
    for (const [id, l] of this.linkers) {
      const kind = l.settled();
      const root = this.run.storeRoots.find((r) => r.id === id);
      if (kind && root) report.linkKinds[root.path] = kind;
    }
  }
}
