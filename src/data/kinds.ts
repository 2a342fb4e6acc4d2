import type { DataSpec } from '../spec/types.js';
import { images } from './images/kind.js';
import type { DataKind } from './kind.js';
import { tables } from './tables/kind.js';
import { text } from './text/kind.js';

/** Every kind of data runner reads, in the order they are asked whether a spec's data is theirs. */
const KINDS: readonly DataKind[] = [tables, text, images] as readonly DataKind[];

/** The kind that reads a spec's data section. */
export function dataKind(data: DataSpec): DataKind {
  const kind = KINDS.find((k) => k.owns(data));
  if (!kind) throw new Error(`no data kind reads ${JSON.stringify(data)}`);
  return kind;
}
