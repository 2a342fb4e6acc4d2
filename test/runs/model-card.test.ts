import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readJson, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-card-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = (args: string[]) => execa('node', [BIN, ...args], { cwd: work, reject: false });

let dir: string;
beforeAll(async () => {
  const r = await runner(['run', join(FIXTURES, 'tiny-mlp.yaml'), '--set', 'train.earlyStopping={patience: 5}']);
  expect(r.exitCode, r.stderr).toBe(0);
  dir = runDirOf(r.stdout, work);
});

describe('MODEL_CARD.md', () => {
  it('is written by every completed run, from what the run folder records', () => {
    const card = readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8');
    const record = readJson(join(dir, 'run.json')) as { id: string; model: { params: number }; data: { sha256: string; counts: Record<string, number> }; seed: number; specHash: string };
    const summary = readJson(join(dir, 'summary.json')) as { accuracy: number; perClass: { class: string; support: number }[] };
    expect(card).toContain(`Run \`${record.id}\``);
    expect(card).toContain(`- Parameters: ${record.model.params.toLocaleString('en-US')}; input shape [784].`);
    expect(card).toContain(`\`${record.data.sha256}\``);
    expect(card).toContain(`- Split sizes: train ${record.data.counts['train']}, validation ${record.data.counts['validation']}, test ${record.data.counts['test']}.`);
    expect(card).toContain(`| accuracy | ${summary.accuracy.toFixed(4)} |`);
    expect(card).toContain('1. `dense` { units: 16, activation: relu');
    expect(card).toMatch(/early stopping \{[^}]*patience: 5[^}]*\}/);
    expect(card).toContain(`Seed ${record.seed}; backend`);
    expect(card).toContain(`Spec hash \`${record.specHash}\``);
    for (const c of summary.perClass) expect(card).toMatch(new RegExp(`\\| ${c.class} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| ${c.support} \\|`));
    expect(card).toMatch(/runner reproduce \S+ --verify/);
    expect(card).toMatch(/## Intended use\n\n\*\*TODO\*\*/);
    expect(card).toMatch(/## Limitations\n\n\*\*TODO\*\*/);
  });

  it('is written again by runner card, and the HTML report links to it', async () => {
    rmSync(join(dir, 'MODEL_CARD.md'));
    const r = await runner(['card', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8')).toContain('# Model card: tiny-mlp');
    const report = await runner(['report', dir, '-o', 'reports/r.html']);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(readFileSync(join(work, 'reports/r.html'), 'utf8')).toMatch(/Model cards: <a href="\.\.\/runs\/[^"]+\/MODEL_CARD\.md">/);
  });

  it('is refused for a folder that is not a run, and for a run that did not complete (exit 2)', async () => {
    const notRun = await runner(['card', work]);
    expect(notRun.exitCode).toBe(2);
    expect(notRun.stderr).toContain('is not a run folder: it has no run.json');
    const failed = await runner(['run', join(FIXTURES, 'tiny-mlp.yaml'), '--set', 'compile.optimizer.adam.learningRate=1e30']);
    const failedDir = runDirOf(failed.stdout + failed.stderr, work);
    const r = await runner(['card', failedDir]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is failed: a model card describes a completed run/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
