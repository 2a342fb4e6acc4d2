import { messageOf, RunPaused } from '../core/errors.js';
import type { StagePlan } from './graph.js';
import type { StageRecord } from '../runs/record.js';
import type { Stage } from '../stages/stage.js';

/** Optional hooks: outputs known in advance (the stage cache), a callback after each stage that ran, and a signal that stops the run between stages. */
export interface ExecuteHooks {
  readonly preset?: ReadonlyMap<string, unknown>;
  readonly onDone?: (stage: string, output: unknown) => void;
  /** Once aborted, no further stage starts: the next one fails as interrupted and what needs it is skipped. */
  readonly signal?: AbortSignal;
  /** The error a failed stage records, from the one it threw (the engine adds a spec value's place in the spec file). */
  readonly explain?: (error: unknown) => unknown;
}

/** The outcome of running a plan. */
export interface ExecutionResult {
  status: 'completed' | 'failed' | 'stopped';
  stages: StageRecord[];
  outputs: Map<string, unknown>;
  failed?: { stage: string; error: unknown };
  /** A stage ended the run early on purpose (fit at a sweep's rung): what needs it is skipped, nothing failed. */
  stopped?: { stage: string; epoch: number; message: string };
}

/** Runs the stages in planned order; a failure skips everything that depends on it. */
export async function executeStages<Ctx>(
  plan: StagePlan<Stage<unknown, never, Ctx>>,
  ctx: Ctx,
  onChange: (records: readonly StageRecord[]) => void = () => {},
  now: () => number = Date.now,
  hooks: ExecuteHooks = {},
): Promise<ExecutionResult> {
  const records: StageRecord[] = plan.map((s) => ({ name: s.name, status: 'pending' }));
  const outputs = new Map<string, unknown>();
  let failed: ExecutionResult['failed'];
  let stopped: ExecutionResult['stopped'];
  onChange(records);
  for (const [i, stage] of plan.entries()) {
    const rec = records[i]!;
    const blocked = stage.needs.find((n) => records.find((r) => r.name === n)?.status !== 'done');
    if (blocked !== undefined) {
      rec.status = 'skipped';
      rec.skippedBecause = blocked;
      onChange(records);
      continue;
    }
    if (hooks.preset?.has(stage.name)) {
      outputs.set(stage.name, hooks.preset.get(stage.name));
      Object.assign(rec, { status: 'done', cached: true, durationMs: 0 });
      onChange(records);
      continue;
    }
    if (hooks.signal?.aborted) {
      const error = new Error('interrupted before this stage started');
      Object.assign(rec, { status: 'failed', error: error.message });
      failed ??= { stage: stage.name, error };
      onChange(records);
      continue;
    }
    const started = now();
    rec.status = 'running';
    rec.startedAt = new Date(started).toISOString();
    onChange(records);
    try {
      const inputs = Object.fromEntries(stage.needs.map((n) => [n, outputs.get(n)]));
      outputs.set(stage.name, await stage.run(inputs as never, ctx));
      rec.status = 'done';
      hooks.onDone?.(stage.name, outputs.get(stage.name));
    } catch (error) {
      if (error instanceof RunPaused && !failed) {
        rec.status = 'stopped';
        stopped = { stage: stage.name, epoch: error.epoch, message: error.message };
        rec.durationMs = now() - started;
        onChange(records);
        continue;
      }
      const shown = hooks.explain ? hooks.explain(error) : error;
      rec.status = 'failed';
      rec.error = messageOf(shown);
      failed ??= { stage: stage.name, error: shown };
    }
    rec.durationMs = now() - started;
    onChange(records);
  }
  return { status: failed ? 'failed' : stopped ? 'stopped' : 'completed', stages: records, outputs, failed, ...(stopped ? { stopped } : {}) };
}
