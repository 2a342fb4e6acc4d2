import { RunnerError } from '../core/errors.js';
import { RUN_FORMAT, type RunRecord } from './record.js';

const STATUSES = ['running', 'completed', 'failed', 'interrupted', 'stopped'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNumber);

/** What each optional entry of run.json must look like for the readers to use it. */
const SHAPES: Record<string, (v: unknown) => boolean> = {
  id: isString, name: isString, startedAt: isString, endedAt: isString, specHash: isString, variantHash: isString, reproduces: isString, trainer: isString,
  pid: isNumber, seed: isNumber, durationMs: isNumber,
  command: isStrings, cached: isStrings,
  backend: (v) => isObject(v) && (v['used'] === undefined || isString(v['used'])),
  versions: (v) => v === null || (isObject(v) && Object.values(v).every(isString)),
  git: (v) => v === null || (isObject(v) && isString(v['commit'])),
  host: (v) => v === null || (isObject(v) && isString(v['hostname'])),
  spec: (v) => isObject(v) && isStrings(v['overrides']) && (v['dir'] === undefined || isString(v['dir'])) && (v['file'] === undefined || isString(v['file'])),
  stages: (v) => Array.isArray(v) && v.every((s) => isObject(s) && isString(s['name']) && isString(s['status'])),
  data: (v) => isObject(v) && isObject(v['counts']) && Object.values(v['counts']).every(isNumber) && (v['exampleShape'] === undefined || isNumbers(v['exampleShape'])) && (v['sha256'] === undefined || isString(v['sha256'])),
  sweep: (v) => isObject(v) && isString(v['id']) && isString(v['metric']) && (v['goal'] === 'maximize' || v['goal'] === 'minimize') && isObject(v['params']),
  error: (v) => isObject(v) && isString(v['stage']) && isString(v['message']),
  stopped: (v) => isObject(v) && isNumber(v['epoch']) && isString(v['reason']),
  resumes: (v) => Array.isArray(v) && v.every(isObject),
  model: isObject,
};

/** What a reader uses when an entry is missing or malformed. */
const DEFAULTS = { backend: {}, spec: { overrides: [] }, stages: [], versions: null, git: null, host: null };

/**
 * run.json checked as far as readers rely on it: an object with a known status, of a format this
 * runner reads (format 1 is the only one so far). An entry of the wrong shape is left out and
 * named in `problems`, so ls, compare and report warn about it instead of failing on it.
 */
export function checkedRecord(value: unknown, dir: string, problems: string[]): RunRecord {
  if (!isObject(value) || !isString(value['status'])) throw new RunnerError(`run.json of '${dir}' is not a runner record (no status)`);
  const format = Number(value['formatVersion']);
  if (!(format <= RUN_FORMAT)) {
    throw new RunnerError(`'${dir}' was written by a newer runner (run format ${String(value['formatVersion'])}; this runner reads up to ${RUN_FORMAT}): upgrade runner`);
  }
  if (!STATUSES.includes(value['status'])) throw new RunnerError(`run.json of '${dir}' has status '${value['status']}', which no runner writes (${STATUSES.join(', ')})`);
  const record: Json = { ...DEFAULTS };
  for (const [key, entry] of Object.entries(value)) {
    const shape = SHAPES[key];
    if (!shape || shape(entry)) record[key] = entry;
    else problems.push(`run.json: '${key}' is not what runner writes there (edited by hand?); it is left out`);
  }
  return record as unknown as RunRecord;
}
