import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeRun } from '../fixtures/runs.js';
import { readJson, readJsonl, runDirOf } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const SPEC = new URL('../../experiments/mnist-mlp.yaml', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'runner-cmp-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const runner = (args: string[], cwd = work) => execa('node', [BIN, ...args], { cwd, reject: false });
// The seed experiment, shrunk: 600 digits, 2 epochs, on the wasm backend.
const SMALL = ['--set', 'data.trainLimit=600', '--set', 'data.testLimit=200', '--set', 'train.epochs=2', '--backend', 'wasm'];

let base: string;
let other: string;
beforeAll(async () => {
  const a = await runner(['run', SPEC, ...SMALL]);
  const b = await runner(['run', SPEC, ...SMALL, '--set', 'compile.optimizer.adam.learningRate=0.003']);
  expect(a.exitCode, a.stderr).toBe(0);
  expect(b.exitCode, b.stderr).toBe(0);
  // From each run's own output: two runs started in the same second cannot be told apart by their folder names' order.
  [base, other] = [runDirOf(a.stdout, work), runDirOf(b.stdout, work)];
});

describe('runner compare on two runs of the seed experiment that differ in learning rate', () => {
  it('shows exactly that key as changed, in every format', async () => {
    const json = JSON.parse((await runner(['compare', base, other, '--format', 'json'])).stdout);
    expect(json.params).toEqual([{ key: 'compile.optimizer.adam.learningRate', values: [0.001, 0.003], changed: true }]);
    const table = (await runner(['compare', base, other])).stdout;
    expect(table).toMatch(/compile\.optimizer\.adam\.learningRate\s+0\.001\s+0\.003/);
    const md = (await runner(['compare', base, other, '--format', 'md'])).stdout;
    expect(md).toContain('| compile.optimizer.adam.learningRate | 0.001 | 0.003 |');
    const csvHeader = (await runner(['compare', base, other, '--format', 'csv'])).stdout.split('\n')[0]!;
    expect(csvHeader.split(',').filter((h) => h.startsWith('param:'))).toEqual(['param:compile.optimizer.adam.learningRate']);
  });

  it('reports deltas that match the runs’ own summary.json and metrics.jsonl', async () => {
    const json = JSON.parse((await runner(['compare', base, other, '--format', 'json'])).stdout);
    const [sa, sb] = [base, other].map((d) => readJson(join(d, 'summary.json')) as { accuracy: number; loss: number });
    const [ma, mb] = [base, other].map((d) => readJsonl(join(d, 'metrics.jsonl')));
    expect(json.runs[0].values['test.accuracy']).toBe(sa!.accuracy);
    expect(json.runs[1].deltas['test.accuracy']).toBe(sb!.accuracy - sa!.accuracy);
    expect(json.runs[1].deltas['test.loss']).toBe(sb!.loss - sa!.loss);
    expect(json.runs[1].values['final.val_loss']).toBe(mb!.at(-1)!['val_loss']);
    expect(json.runs[0].curve.values).toEqual(ma!.map((m) => m['val_loss']));
    const md = (await runner(['compare', base, other, '--format', 'md'])).stdout;
    const delta = sb!.accuracy - sa!.accuracy;
    expect(md).toContain(`| test.accuracy | ${sa!.accuracy.toFixed(4)} | ${sb!.accuracy.toFixed(4)} (${delta >= 0 ? '+' : ''}${delta.toFixed(4)}) |`);
  });

  it('exits 0 when a gate holds and 1 when it breaks, naming the run', async () => {
    const ok = await runner(['compare', base, other, '--fail-if', 'test.accuracy < 0']);
    expect(ok.exitCode).toBe(0);
    const broken = await runner(['compare', base, other, '--fail-if', 'test.accuracy <= 1']);
    expect(broken.exitCode).toBe(1);
    expect(broken.stdout).toContain(`FAIL ${other.split('/').pop()}: test.accuracy <= 1  (test.accuracy = `);
    const typo = await runner(['compare', base, other, '--fail-if', 'test.acc < 1']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("unknown value 'test.acc'");
  });

  it('accepts a glob and id prefixes', async () => {
    const hex = other.slice(-6);
    const r = await runner(['compare', 'runs/*', '--baseline', hex, '--format', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).baseline).toBe(other.split('/').pop());
  });

  it('exits 2 with a clear message on bad input and leaves run folders untouched', async () => {
    const before = readdirSync(base).map((f) => statSync(join(base, f)).mtimeMs);
    const one = await runner(['compare', base]);
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain('compare needs at least two runs, got 1');
    const notRun = await runner(['compare', base, work + '/nothing-here']);
    expect(notRun.exitCode).toBe(2);
    expect(notRun.stderr).not.toMatch(/^\s+at /m);
    expect(readdirSync(base).map((f) => statSync(join(base, f)).mtimeMs)).toEqual(before);
  });
});

describe('runner ls', () => {
  it('lists completed, failed and crashed runs, newest first', async () => {
    const dir = join(work, 'ls-runs');
    mkdirSync(dir);
    writeFakeRun(dir, { id: '20261121-100000-mlp-aaa001', accuracy: 0.9123 });
    writeFakeRun(dir, { id: '20261122-100000-mlp-aaa002', status: 'failed', summary: false, extra: { durationMs: 1500 } });
    // A run whose process is gone: run.json still says running.
    const dead = execa('node', ['-e', '0']);
    const deadPid = dead.pid!;
    await dead;
    writeFakeRun(dir, { id: '20261123-100000-mlp-aaa003', status: 'running', pid: deadPid, summary: false, extra: { durationMs: undefined } });
    writeFakeRun(dir, { id: '20261124-100000-mlp-aaa004', status: 'running', pid: process.pid, summary: false, extra: { durationMs: undefined } });
    const r = await runner(['ls', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+status\s+age\s+duration\s+metric$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '20261124-100000-mlp-aaa004 mlp running',
      '20261123-100000-mlp-aaa003 mlp crashed',
      '20261122-100000-mlp-aaa002 mlp failed',
      '20261121-100000-mlp-aaa001 mlp completed',
    ]);
    expect(lines[4]).toMatch(/20\.0s\s+test\.accuracy 0\.9123$/);
    expect(lines[3]).toMatch(/1\.5s\s+-$/);
  });

  it('lists the real runs as JSON', async () => {
    const r = await runner(['ls', 'runs', '--format', 'json']);
    const rows = JSON.parse(r.stdout) as { id: string; status: string; metric: { value: number } }[];
    expect(rows.map((x) => x.id)).toEqual([other, base].map((d) => d.split('/').pop()));
    expect(rows[0]!.metric.value).toBe((readJson(join(other, 'summary.json')) as { accuracy: number }).accuracy);
  });

  it('says when the folder does not exist', async () => {
    const r = await runner(['ls', 'nowhere']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("'nowhere' does not exist");
  });
});

describe('runner report', () => {
  // CI installs Chromium (.ci/run); anywhere else the test runs when it is installed, and says so when it is not.
  // In CI a missing Chromium is a failure, not a skip.
  const hasChromium = existsSync(CHROMIUM) || process.env['CI'] === 'true';
  if (!hasChromium) console.warn(`${CHROMIUM} is not installed: the browser test of runner report is skipped (apt-get install chromium runs it)`);
  it.runIf(hasChromium)('writes one HTML file that opens in headless Chromium with its charts drawn', async () => {
    const out = join(work, 'report', 'report.html');
    const r = await runner(['report', base, other, '-o', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // self-contained: no scripts, nothing fetched
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${out}`);
      const charts = await page.evaluate(() => [...document.querySelectorAll('svg.marks')].map((svg) => ({
        title: svg.querySelector('.role-title-text')?.textContent ?? '',
        lines: svg.querySelectorAll('.mark-line path').length,
        cells: svg.querySelectorAll('.mark-rect path').length,
        width: svg.getBoundingClientRect().width,
      })));
      expect(charts.map((c) => c.title)).toEqual(['Loss', 'Accuracy', `Confusion matrix: ${base.slice(-6)} (test split)`, `Confusion matrix: ${other.slice(-6)} (test split)`]);
      // Two runs x (train, validation) curves in each of the loss and accuracy charts.
      expect(charts[0]!.lines).toBe(4);
      expect(charts[1]!.lines).toBe(4);
      expect(charts[2]!.cells).toBe(100);
      for (const c of charts) expect(c.width).toBeGreaterThan(100);
      expect(await page.locator('table.params td').first().textContent()).toBe('compile.optimizer.adam.learningRate');
      const shot = join(work, 'report', 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });

  it('exits 2 when the report cannot be written', async () => {
    writeFileSync(join(work, 'a-file'), 'x');
    const r = await runner(['report', base, '-o', join(work, 'a-file', 'report.html')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`cannot write the report to '${join(work, 'a-file', 'report.html')}'`);
  });

  it('exits 2 on a folder that is not a run', async () => {
    mkdirSync(join(work, 'empty'), { recursive: true });
    writeFileSync(join(work, 'empty', 'x.txt'), 'x');
    const r = await runner(['report', join(work, 'empty')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('is not a run folder: it has no run.json');
  });
});
