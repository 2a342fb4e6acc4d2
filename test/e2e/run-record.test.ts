import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DataSession } from '../../src/data/session.js';
import { epochLineValues, FIXTURES, onLine, readJson } from '../helpers.js';

const BIN = new URL('../../bin/runner.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'runner-record-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const onlyRun = (dir: string) => join(dir, readdirSync(dir)[0]!);

describe('run.json', () => {
  it('records the git commit and whether the work tree was dirty', async () => {
    const repo = mkdtempSync(join(work, 'repo-'));
    const git = (...args: string[]) => execa('git', args, { cwd: repo });
    await git('init', '-q');
    copyFileSync(join(FIXTURES, 'tiny-mlp.yaml'), join(repo, 'tiny.yaml'));
    await git('add', 'tiny.yaml');
    await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'spec');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();

    const clean = await execa('node', [BIN, 'run', 'tiny.yaml', '--set', 'train.epochs=1', '--out', join(work, 'clean')], { cwd: repo, reject: false });
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect((readJson(join(onlyRun(join(work, 'clean')), 'run.json')) as { git: unknown }).git).toEqual({ commit: head, dirty: false });

    writeFileSync(join(repo, 'tiny.yaml'), '# edited\n', { flag: 'a' });
    const dirty = await execa('node', [BIN, 'run', 'tiny.yaml', '--set', 'train.epochs=1', '--out', join(work, 'dirty')], { cwd: repo, reject: false });
    expect(dirty.exitCode, dirty.stderr).toBe(0);
    expect((readJson(join(onlyRun(join(work, 'dirty')), 'run.json')) as { git: unknown }).git).toEqual({ commit: head, dirty: true });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('marks a run interrupted by %s, checkpoints it and exits 130 with valid files', async (signal) => {
    copyFileSync(join(FIXTURES, 'tiny-mlp.yaml'), join(work, 'tiny.yaml'));
    const child = execa('node', [BIN, 'run', 'tiny.yaml', '--set', 'train.epochs=200', '--out', join(work, `int-${signal}`)], { cwd: work, reject: false });
    onLine(child.stderr, (line) => {
      if (epochLineValues(line)?.['epoch'] === 2) child.kill(signal);
    });
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain('interrupted');
    const dir = onlyRun(join(work, `int-${signal}`));
    expect((readJson(join(dir, 'checkpoint', 'state.json')) as { reason: string }).reason).toBe('interrupt');
    const run = readJson(join(dir, 'run.json')) as { status: string; stages: { name: string; status: string }[] };
    expect(run.status).toBe('interrupted');
    expect(run.stages.find((s) => s.name === 'fit')?.status).toBe('failed');
    expect(run.stages.find((s) => s.name === 'evaluate')?.status).toBe('skipped');
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(true);
  });
});

/** A 160 KiB tmpfs for the disk-full test (root only: CI runs as root), or why there is none. */
function smallDisk(): { dir?: string; why?: string } {
  const dir = mkdtempSync(join(work, 'small-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', dir], { stdio: 'ignore' });
    return { dir };
  } catch {
    return { why: 'mounting a tmpfs needs root' };
  }
}

describe('a full disk', () => {
  const disk = smallDisk();
  afterAll(() => disk.dir && execFileSync('umount', [disk.dir]));
  if (disk.why) console.warn(`the disk-full test is skipped: ${disk.why}`);
  it.runIf(disk.dir !== undefined)('fails the run naming the file and the full disk: exit 1, no stack trace, run.json failed', async () => {
    const r = await execa('node', [BIN, 'run', join(FIXTURES, 'tiny-mlp.yaml'), '--set', 'train.epochs=30', '--out', join(disk.dir!, 'runs')], { cwd: work, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot write \S+: the disk is full \(ENOSPC\)/);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    const dir = onlyRun(join(disk.dir!, 'runs'));
    expect((readJson(join(dir, 'run.json')) as { status: string }).status).toBe('failed');
  });
});

describe('a second Ctrl-C', () => {
  it('exits at once with 130, leaving run.json marked interrupted and every JSON file whole', async () => {
    copyFileSync(join(FIXTURES, 'tiny-mlp.yaml'), join(work, 'tiny.yaml'));
    const child = execa('node', [BIN, 'run', 'tiny.yaml', '--set', 'train.epochs=200', '--out', join(work, 'twice')], { cwd: work, reject: false });
    onLine(child.stderr, (line) => {
      if (epochLineValues(line)?.['epoch'] !== 2) return;
      child.kill('SIGINT');
      child.kill('SIGINT');
    });
    const r = await child;
    expect(r.exitCode).toBe(130);
    const dir = onlyRun(join(work, 'twice'));
    expect((readJson(join(dir, 'run.json')) as { status: string }).status).toBe('interrupted');
    // Every JSON file, wherever the second Ctrl-C caught the run (a checkpoint being written or not).
    const json = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.json'));
    expect(json).toEqual(expect.arrayContaining(['run.json', 'preprocess.json']));
    for (const f of json) expect(() => readJson(join(dir, f)), f).not.toThrow();
  });
});

describe('fashion-mnist from the Debian package', () => {
  const installed = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
  it.runIf(installed)('reads the full 70,000 images with their class names', async () => {
    const ds = await new DataSession().images.resolve({ dataset: 'fashion-mnist', download: false, allowEmbedded: true, validationSplit: 0 }, work, { warn: () => {}, info: () => {} });
    expect(ds.source.kind).toBe('system');
    expect([ds.train.count, ds.test.count]).toEqual([60_000, 10_000]);
    expect(ds.exampleShape).toEqual([28, 28]);
    expect(ds.classNames[9]).toBe('Ankle boot');
    // Every class appears 6,000 times in the training set.
    const counts = new Array(10).fill(0);
    for (const l of ds.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(6000));
  });
});
