import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { limitsFrom, type Limits } from '../core/limits.js';
import { Datasets } from './images/datasets.js';
import { Tables } from './tables/plan.js';

/** Where downloaded datasets, decompressed IDX files and stage-cache entries are kept: $RUNNER_CACHE, else the user's cache folder. */
function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['RUNNER_CACHE'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'runner'));
}

/** How a session finds and fetches data: the cache folder, whether downloads may be tried, how much it reads. */
export interface DataSettings {
  readonly cacheDir: string;
  /** RUNNER_OFFLINE=1: never try a download. */
  readonly offline: boolean;
  readonly limits?: Limits;
}

/** The settings the environment gives ($RUNNER_CACHE, $RUNNER_OFFLINE, $RUNNER_MAX_FILE_MB, $RUNNER_MAX_PIXELS). */
export const dataSettings = (env: NodeJS.ProcessEnv = process.env): DataSettings => ({ cacheDir: defaultCacheDir(env), offline: env['RUNNER_OFFLINE'] === '1', limits: limitsFrom(env) });

/**
 * One run's (or one command's) data reads: image datasets located, downloaded at most once and
 * read ahead; tables read and checked once. Made by whoever starts the work and dropped with it,
 * so nothing read outlives the run.
 */
export class DataSession {
  readonly images: Datasets;
  readonly tables: Tables;
  readonly limits: Limits;

  constructor(readonly settings: DataSettings = dataSettings()) {
    this.limits = settings.limits ?? limitsFrom();
    this.images = new Datasets(settings.cacheDir, settings.offline, this.limits);
    this.tables = new Tables(this.limits);
  }

  get cacheDir(): string {
    return this.settings.cacheDir;
  }
}
