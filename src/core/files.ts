import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EXIT, RunnerError } from './errors.js';
import { alive } from './process.js';

/** A temporary file of writeFileAtomic: `<name>.tmp-<pid>-<6 hex>`. */
const TMP = /^(.*)\.tmp-(\d+)-[0-9a-f]{6}$/;

/**
 * Writes a whole file atomically: a temporary file in the same folder, then rename; no reader sees
 * half a file. A full disk is a RunnerError naming the file (exit 1, no stack trace); the
 * temporary files a killed process left for the same target are removed first.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  removeLeftovers(dirname(target), basename(target));
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new RunnerError(`cannot write ${target}: the disk is full (${code})`, EXIT.failed, ['free some space, then continue the run with runner resume']);
    throw err;
  }
}

/** Removes the temporary files of dead processes in a folder (only those for `name` when given). */
export function removeLeftovers(dir: string, name?: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = TMP.exec(entry);
    if (m && (name === undefined || m[1] === name) && Number(m[2]) !== process.pid && !alive(Number(m[2]))) rmSync(join(dir, entry), { force: true });
  }
}

/** Writes a value as indented JSON (see toJson), atomically. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, `${toJson(value)}\n`);
}

/** Indented JSON with lists of plain values on one line (a confusion matrix stays readable). */
export function toJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v) ?? 'null').join(', ')}]`;
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + toJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
