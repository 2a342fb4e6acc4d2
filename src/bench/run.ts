import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import * as tf from '../backend/tf.js';
import { pino } from 'pino';
import seedrandom from 'seedrandom';
import { selectBackend, type BackendName } from '../backend/select.js';
import { MAX_WASM_THREADS } from '../backend/threads.js';
import { DataSession } from '../data/session.js';
import { materialize } from '../data/features.js';
import { encodeIdx } from '../data/images/idx.js';
import { loadSpec } from '../spec/load.js';
import { parseOverride } from '../spec/overrides.js';
import { RunDir } from '../runs/run-dir.js';
import { silentProgress, type StageContext } from '../stages/stage.js';
import { build } from '../stages/build.js';
import { compile } from '../stages/compile.js';
import { stockOptimizer } from '../train/optimizer.js';
import { fit } from '../stages/fit.js';
import { load } from '../stages/load.js';
import { normalize } from '../stages/normalize.js';
import type { Prepared } from '../data/prepared.js';
import { measureOverhead, measureStageCache } from './overhead.js';
import { fitTable, threadGains, type FitResult, type FitRow } from './report.js';

/**
 * `npm run bench`: runner's fit stage against plain model.fit on the same model, data and batch
 * size, back to back in one process, on each backend; plus data loading, whole-run overhead,
 * tensor counts per epoch and peak RSS. Writes bench-result.json and prints a table.
 */
const { values: args } = parseArgs({
  options: {
    // Three epochs at least: epoch 1 and the steady state (later epochs) are reported apart.
    epochs: { type: 'string', default: '3' },
    samples: { type: 'string' },
    backend: { type: 'string', multiple: true },
    out: { type: 'string', default: 'bench-result.json' },
    'skip-overhead': { type: 'boolean', default: false },
    'conv-samples': { type: 'string', default: '1000' },
    // adam (the seed's), sgd, momentum or rmsprop, each with its default settings.
    optimizer: { type: 'string', default: 'adam' },
    // Internal: one (backend, threads) pair's fit rows, in a process of its own (a process's wasm thread pool is fixed when it starts).
    'fit-only': { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    'data-path': { type: 'string' },
  },
});
const EPOCHS = Number(args.epochs);
const SPEC = new URL('../../bench/mlp-fashion.yaml', import.meta.url).pathname;

/** `--set` values every benchmark run gets (data.path when the data is synthetic). */
const baseSet: string[] = [];
const OPTIMIZER = args.optimizer === 'adam' ? [] : [`compile.optimizer={ ${args.optimizer}: {} }`];

function context(set: string[]): StageContext & { dir: string } {
  const { spec } = loadSpec(SPEC, [...baseSet, ...set].map(parseOverride));
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-'));
  return {
    spec, specDir: dir, runDir: RunDir.create(dir, 'bench'), log: pino({ level: 'silent' }), signal: new AbortController().signal, seed: spec.seed,
    progress: silentProgress, data: new DataSession(), annotate() {}, dir,
  };
}

/** Synthetic IDX files of Fashion-MNIST's shape, for machines without the Debian package (the result says so). */
function writeSynthetic(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-bench-data-'));
  const rng = seedrandom.alea('bench');
  const bytes = (n: number, max: number) => Uint8Array.from({ length: n }, () => Math.floor(rng() * max));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx([60000, 28, 28], bytes(60000 * 784, 256)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([60000], bytes(60000, 10)));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx([10000, 28, 28], bytes(10000 * 784, 256)));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([10000], bytes(10000, 10)));
  return dir;
}

/** Seconds to find, read, parse and normalize the dataset. */
async function loadOnce(): Promise<{ seconds: number; images: number }> {
  const started = performance.now();
  const ctx = context([]);
  const loaded = await load.run({}, ctx);
  const prepared = await normalize.run({ load: loaded }, ctx);
  rmSync(ctx.dir, { recursive: true, force: true });
  return { seconds: (performance.now() - started) / 1000, images: prepared.train.count + prepared.val.count + prepared.test.count };
}

/** Data loading with an empty cache (gunzip included), then as every later run sees it. */
async function dataLoading() {
  const userCache = process.env['RUNNER_CACHE'];
  const empty = mkdtempSync(join(tmpdir(), 'runner-bench-cache-'));
  process.env['RUNNER_CACHE'] = empty;
  const cold = await loadOnce();
  const warm = await loadOnce();
  if (userCache === undefined) delete process.env['RUNNER_CACHE'];
  else process.env['RUNNER_CACHE'] = userCache;
  rmSync(empty, { recursive: true, force: true });
  return { images: cold.images, coldSeconds: cold.seconds, warmSeconds: warm.seconds };
}

/** The small conv net (conv8-pool-conv16-pool-dense) as overrides of the benchmark spec. */
const CONV_NET = [
  'preprocess.1={ reshape: { targetShape: [28, 28, 1] } }',
  'model.layers=[{ conv2d: { filters: 8, kernelSize: 3, padding: same, activation: relu } }, { maxPooling2d: { poolSize: 2 } }, '
    + '{ conv2d: { filters: 16, kernelSize: 3, padding: same, activation: relu } }, { maxPooling2d: { poolSize: 2 } }, { flatten: {} }, '
    + '{ dense: { units: 10, activation: softmax } }]',
];

async function benchBackend(model: 'mlp' | 'conv', backend: BackendName, samples: number | undefined): Promise<FitResult> {
  const { threads = 1 } = await selectBackend(backend, Number(args.threads));
  tf.enableProdMode();
  const set = [...OPTIMIZER, 'data.validationSplit=0', `train.epochs=${EPOCHS}`, ...(samples ? [`data.trainLimit=${samples}`] : []), ...(model === 'conv' ? CONV_NET : [])];
  const ctx = context(set);
  const prepared: Prepared = await normalize.run({ load: await load.run({}, ctx) }, ctx);
  const n = prepared.train.count;

  // Plain model.fit: same initial weights (same seed), same data as tensors, batch 32.
  // model.fit steps tfjs's own optimizer: the baseline is tfjs as it ships.
  const reference = await build.run({ normalize: prepared }, ctx);
  reference.model.compile({ optimizer: stockOptimizer(ctx.spec.compile.optimizer), loss: ctx.spec.compile.loss, metrics: ctx.spec.compile.metrics });
  const xs = tf.tensor(materialize(prepared.train.x), [n, ...prepared.inputShape]);
  const ys = tf.tensor(prepared.train.y, [n, ...prepared.targetShape]);
  const fitStarted = performance.now();
  await reference.model.fit(xs, ys, { batchSize: 32, epochs: EPOCHS, shuffle: true, verbose: 0 });
  const modelFitSeconds = (performance.now() - fitStarted) / 1000;
  tf.dispose([xs, ys]);
  reference.model.dispose();

  // runner's fit stage, recording the tensor count and the seconds of each epoch (the first apart from the steady state).
  const tensors: number[] = [];
  const epochSeconds: number[] = [];
  const epochEnd = (_epoch: number, logs: Record<string, number>) => {
    tensors.push(tf.memory().numTensors);
    epochSeconds.push(logs['seconds']!);
  };
  const runnerCtx = { ...ctx, progress: { epochStart() {}, batch() {}, epochEnd } };
  const ours = await compile.run({ build: await build.run({ normalize: prepared }, runnerCtx) }, runnerCtx);
  const started = performance.now();
  await fit.run({ compile: ours, normalize: prepared }, runnerCtx);
  const runnerSeconds = (performance.now() - started) / 1000;
  ours.model.dispose();
  rmSync(ctx.dir, { recursive: true, force: true });
  const modelFit = (n * EPOCHS) / modelFitSeconds;
  const runner = (n * EPOCHS) / runnerSeconds;
  return { model, backend, threads, samples: n, epochs: EPOCHS, modelFitSamplesPerSecond: modelFit, runnerSamplesPerSecond: runner, ratio: runner / modelFit, tensorsAtEpochEnd: tensors, epochSeconds };
}

/**
 * The whole 10-epoch benchmark experiment as a tfjs user would write it, in this process: the same
 * data (runner's loader), model and seed, the stock optimizer, model.fit with the validation split,
 * then model.evaluate on the test split. Wall time from reading the data to the test scores.
 */
async function modelFitWholeRun(): Promise<number> {
  await selectBackend('wasm', 1);
  tf.enableProdMode();
  const started = performance.now();
  const ctx = context([]);
  const prepared: Prepared = await normalize.run({ load: await load.run({}, ctx) }, ctx);
  const { model } = await build.run({ normalize: prepared }, ctx);
  model.compile({ optimizer: stockOptimizer(ctx.spec.compile.optimizer), loss: ctx.spec.compile.loss, metrics: ctx.spec.compile.metrics });
  const tensors = (s: Prepared['train']) => [tf.tensor(materialize(s.x), [s.count, ...prepared.inputShape]), tf.tensor(s.y, [s.count, ...prepared.targetShape])] as const;
  const [train, val, test] = [tensors(prepared.train), tensors(prepared.val), tensors(prepared.test)];
  await model.fit(train[0], train[1], { batchSize: ctx.spec.train.batchSize, epochs: ctx.spec.train.epochs, shuffle: true, validationData: [val[0], val[1]], verbose: 0 });
  const scores = model.evaluate(test[0], test[1], { batchSize: ctx.spec.evaluate.batchSize }) as tf.Scalar[];
  scores.map((t) => t.dataSync());
  const seconds = (performance.now() - started) / 1000;
  tf.dispose([...train, ...val, ...test, ...scores]);
  model.dispose();
  rmSync(ctx.dir, { recursive: true, force: true });
  return seconds;
}

/** The rows of one backend on one thread count: `--fit-only` in a child process. */
async function fitRowsIn(backend: BackendName, threads: number, out: string): Promise<{ rows: FitRow[]; peakRssMiB: number }> {
  const file = join(out, `fit-${backend}-${threads}.json`);
  const passOn = ['epochs', 'conv-samples', 'optimizer', ...(args.samples ? ['samples'] : [])].flatMap((k) => [`--${k}`, String(args[k as keyof typeof args])]);
  const data = baseSet.length ? ['--data-path', baseSet[0]!.slice('data.path='.length)] : [];
  const r = await execa(process.execPath, [fileURLToPath(import.meta.url), '--fit-only', '--backend', backend, '--threads', String(threads), ...passOn, ...data, '--out', file], { reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.exitCode !== 0) return { rows: [{ model: '*', backend, threads, error: `bench process exited ${r.exitCode}` }], peakRssMiB: 0 };
  return JSON.parse(readFileSync(file, 'utf8')) as { rows: FitRow[]; peakRssMiB: number };
}

/** `--fit-only`: the MLP and conv rows of one backend and thread count, written to --out. */
async function fitOnly(): Promise<void> {
  if (args['data-path']) baseSet.push(`data.path=${args['data-path']}`);
  const backend = (args.backend as BackendName[] | undefined)?.[0] ?? 'wasm';
  const rows: FitRow[] = [];
  const runs: ['mlp' | 'conv', number | undefined][] = [['mlp', args.samples ? Number(args.samples) : undefined], ['conv', Number(args['conv-samples'])]];
  for (const [model, samples] of runs) {
    try {
      rows.push(await benchBackend(model, backend, samples));
    } catch (err) {
      rows.push({ model, backend, threads: Number(args.threads), error: (err as Error).message });
    }
  }
  writeFileSync(args.out!, JSON.stringify({ rows, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

async function main(): Promise<void> {
  const ds = await new DataSession().images.resolve({ dataset: 'fashion-mnist', download: false, allowEmbedded: false, validationSplit: 0 }, '.', { warn: () => {}, info: () => {} }).catch(() => undefined);
  if (!ds) baseSet.push(`data.path=${writeSynthetic()}`);
  const dataNote = ds ? `Fashion-MNIST from ${ds.source.location}` : 'SYNTHETIC data of Fashion-MNIST shape (dataset-fashion-mnist is not installed)';
  const loading = await dataLoading();
  const backends = (args.backend as BackendName[] | undefined) ?? (['wasm', 'cpu'] as BackendName[]);
  // wasm on one thread (as tfjs ships it in Node) and on every core; cpu is single-threaded JavaScript.
  const many = Math.min(availableParallelism(), MAX_WASM_THREADS);
  const pairs = backends.flatMap((b): [BackendName, number][] => (b === 'wasm' ? [...new Set([1, many])].map((t): [BackendName, number] => [b, t]) : [[b, 1]]));
  const scratch = mkdtempSync(join(tmpdir(), 'runner-bench-fit-'));
  const fitRuns = [];
  for (const [b, t] of pairs) fitRuns.push({ backend: b, threads: t, ...(await fitRowsIn(b, t, scratch)) });
  rmSync(scratch, { recursive: true, force: true });
  const results = fitRuns.flatMap((f) => f.rows).sort((a, b) => (a.model === b.model ? 0 : a.model === 'mlp' ? -1 : 1));
  const overhead = args['skip-overhead'] ? undefined : await measureOverhead(SPEC, baseSet);
  const wholeModelFit = args['skip-overhead'] ? undefined : await modelFitWholeRun();
  const experiment = (name: string) => new URL(`../../experiments/${name}.yaml`, import.meta.url).pathname;
  const stageCache = args['skip-overhead'] ? undefined : { seedExperiment: await measureStageCache(experiment('mnist-mlp')), penguins: await measureStageCache(experiment('penguins-mlp')) };
  const report = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)), node: process.version, tfjs: tf.TFJS_VERSION },
    data: dataNote,
    model: `seed MLP 784-128-10 and conv8-pool-conv16-pool-dense, ${args.optimizer}, batch 32`,
    dataLoading: loading,
    fit: results,
    fitProcessesPeakRssMiB: Object.fromEntries(fitRuns.map((f) => [`${f.backend}/${f.threads}`, f.peakRssMiB])),
    overhead,
    wholeRun: overhead && wholeModelFit ? { runnerRunWallSeconds: overhead.wallSeconds, modelFitWallSeconds: wholeModelFit, ratio: wholeModelFit / overhead.wallSeconds } : undefined,
    stageCache,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  writeFileSync(args.out!, `${JSON.stringify(report, null, 2)}\n`);
  const lines = [
    `runner benchmark, ${report.date}: ${report.machine.cpu} (${report.machine.cores} cores), node ${report.machine.node}, tfjs ${report.machine.tfjs}`,
    `data: ${dataNote}; ${report.model}; ${EPOCHS} epoch(s); conv net on ${args['conv-samples']} samples`,
    '',
    fitTable(results),
    '',
    ...threadGains(results, many),
    `data loading: ${loading.images.toLocaleString('en-US')} images read, parsed and normalized in ${loading.coldSeconds.toFixed(2)} s (first run, gunzip included), ${loading.warmSeconds.toFixed(2)} s (later runs, from runner's cache)`,
  ];
  if (overhead && wholeModelFit) lines.push(`whole 10-epoch run of ${SPEC.split('/').slice(-2).join('/')} on wasm, 1 thread each (runner's default): runner run ${overhead.wallSeconds.toFixed(1)} s wall (a fresh process), model.fit + evaluate ${wholeModelFit.toFixed(1)} s (in process, data reading included): ${(wholeModelFit / overhead.wallSeconds).toFixed(2)}x`);
  if (overhead) lines.push(`runner run overhead: ${overhead.overheadSeconds.toFixed(2)} s of ${overhead.wallSeconds.toFixed(2)} s wall (${(overhead.fraction * 100).toFixed(1)}%), fit+evaluate ${overhead.fitEvaluateSeconds.toFixed(2)} s`);
  for (const [name, c] of Object.entries(stageCache ?? {})) {
    lines.push(`stage cache, ${name}: ${c.recomputed.secondsToFit.toFixed(2)} s from start to fit with load+normalize computed (${c.recomputed.dataStageSeconds.toFixed(2)} s in them), ${c.cached.secondsToFit.toFixed(2)} s from the stage cache (${c.speedup.toFixed(2)}x); first run on an empty cache ${c.first.secondsToFit.toFixed(2)} s`);
  }
  lines.push(`peak RSS: ${report.peakRssMiB} MiB`, `written: ${args.out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await (args['fit-only'] ? fitOnly() : main());
