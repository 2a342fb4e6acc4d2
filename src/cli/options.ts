import { InvalidArgumentError, Option } from 'commander';
import { parseThreads, type ThreadsChoice } from '../backend/threads.js';

/** Option helpers the command tables share. */

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** A numeric option's parser: the text as given is named when it is not a number in range (commander reports it, exit 2). */
export const numberOf = (min: number, integer: boolean) => (text: string): number => {
  const n = Number(text);
  if (text.trim() === '' || !(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min) {
    throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} >= ${min}, got '${text}'`);
  }
  return n;
};

/** The --backend option every training or inference command takes, with what it means there. */
export const backendOption = (description: string) => new Option('--backend <name>', description).choices(['auto', 'tensorflow', 'wasm', 'cpu']);

/** The --threads option of the commands that train. */
export const threadsOption = (description: string) => new Option('--threads <n>', description).argParser((text: string): ThreadsChoice => {
  const parsed = parseThreads(text);
  if (typeof parsed === 'object') throw new InvalidArgumentError(parsed.problem);
  return parsed;
});
