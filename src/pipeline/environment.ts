import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { execa } from 'execa';

/** runner's own version, from its package.json. */
export function runnerVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The commit and dirty flag of the git work tree around `cwd`, or null outside one. */
export async function gitState(cwd: string): Promise<{ commit: string; dirty: boolean } | null> {
  const head = await execa('git', ['rev-parse', 'HEAD'], { cwd, reject: false });
  if (head.exitCode !== 0) return null;
  const status = await execa('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, reject: false });
  return { commit: head.stdout.trim(), dirty: status.stdout.trim() !== '' };
}

/** Versions and machine facts that decide whether two runs can be compared. */
export async function describeEnvironment(cwd: string) {
  const cpu = cpus();
  return {
    versions: { runner: runnerVersion(), node: process.versions.node, tfjs: tf.version.tfjs },
    git: await gitState(cwd),
    host: {
      hostname: hostname(),
      platform: process.platform,
      arch: process.arch,
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    },
  };
}
