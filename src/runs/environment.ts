import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import type { HostInfo, Versions } from './record.js';

/** runner's own version, from its package.json. */
export function runnerVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The TensorFlow.js version, from its package.json (importing tfjs itself to ask takes 0.3 s). */
function tfjsVersion(): string {
  return (createRequire(import.meta.url)('@tensorflow/tfjs-core/package.json') as { version: string }).version;
}

/** The commit and dirty flag of the git work tree around `cwd`, or null outside one. */
export async function gitState(cwd: string): Promise<{ commit: string; dirty: boolean } | null> {
  const head = await git(cwd, ['rev-parse', 'HEAD']);
  if (head === undefined) return null;
  const status = await git(cwd, ['status', '--porcelain', '--untracked-files=no']);
  return { commit: head.trim(), dirty: (status ?? '').trim() !== '' };
}

/** git's output, or undefined when it fails or is not installed (node's execFile: execa costs 0.1 s to load at every start). */
function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => execFile('git', args, { cwd }, (err, stdout) => resolve(err ? undefined : stdout)));
}

/** The versions run.json records (no git, no I/O beyond two package.json files). */
export const versions = (): Versions => ({ runner: runnerVersion(), node: process.versions.node, tfjs: tfjsVersion() });

/** The machine this process runs on, as run.json records it (known at once: a run that dies early still names its host). */
export function hostInfo(): HostInfo {
  const cpu = cpus();
  return {
    hostname: hostname(),
    platform: process.platform,
    arch: process.arch,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  };
}
