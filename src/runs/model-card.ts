import { relative } from 'node:path';
import { stringify } from 'yaml';
import { RunnerError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { runnerVersion } from './environment.js';
import { readRun, type RunView } from './reader.js';
import { RUN_FILES } from './run-dir.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** A score: always four decimals (1 is 1.0000, not a count). */
const score = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');
const num = (v: unknown, digits = 4) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits)) : 'n/a');
/** A one-key object (a layer, an optimizer, a preprocessing step) as `kind {settings}` on one line. */
const oneLine = (item: unknown) => {
  const [kind, settings] = Object.entries(obj(item))[0] ?? ['?', {}];
  const args = stringify(settings, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return `\`${kind}\`${args && args !== '{}' ? ` ${args}` : ''}`;
};
const table = (rows: string[][]) => [`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');

/**
 * MODEL_CARD.md of a completed run, from its folder alone: the model, the data and its fingerprint,
 * preprocessing, training, test results, the commands to reproduce and predict, and the sections
 * only a person can write (intended use, limitations) marked TODO.
 */
export function modelCard(run: RunView, now = new Date()): string {
  const r = run.record;
  const spec = run.spec;
  const data = obj(r.data);
  const counts = obj(data['counts']);
  const compile = obj(spec['compile']);
  const train = obj(spec['train']);
  const s = obj(run.summary);
  const where = relative(process.cwd(), run.dir) || run.dir;
  const regression = 'r2' in s;
  const perClass = Array.isArray(s['perClass']) ? (s['perClass'] as Json[]) : [];
  const best = run.metrics.reduce<Record<string, number> | undefined>((b, m) => (m['val_loss'] !== undefined && (!b || m['val_loss']! < b['val_loss']!) ? m : b), undefined);
  const out = [
    `# Model card: ${run.name}`,
    '',
    `Run \`${run.id}\`, written by runner ${runnerVersion()} from the run folder on ${now.toISOString().slice(0, 10)}. Sections marked **TODO** need a person.`,
    '',
    '## Model',
    '',
    `- Task: ${regression ? 'regression' : `classification${perClass.length ? ` into ${perClass.length} classes` : ''}`}, loss \`${String(compile['loss'])}\`.`,
    `- Parameters: ${num(r.model?.params)}; input shape [${(r.model?.inputShape ?? []).join(', ')}].`,
    '- Layers:',
    ...(Array.isArray(obj(spec['model'])['layers']) ? (obj(spec['model'])['layers'] as unknown[]).map((l, i) => `  ${i + 1}. ${oneLine(l)}`) : []),
    '',
    '## Data',
    '',
    `- Source: ${String(data['dataset'] ?? data['path'] ?? 'n/a')} (${String(data['source'] ?? '?')}${data['location'] ? `, ${String(data['location'])}` : ''}).${data['note'] ? ` ${String(data['note'])}.` : ''}`,
    `- Fingerprint (sha256 of the data used): \`${String(data['sha256'] ?? 'n/a')}\`.`,
    `- Split sizes: ${Object.entries(counts).map(([k, v]) => `${k} ${num(v)}`).join(', ') || 'n/a'}.`,
    ...(perClass.length ? ['- Class balance (test split):', '', table([['class', 'examples', 'share'], ...perClass.map((c) => [String(c['class']), num(c['support']), `${((100 * Number(c['support'])) / Math.max(1, Number(s['examples']))).toFixed(1)}%`])]), ''] : []),
    '',
    '## Preprocessing',
    '',
    ...(Array.isArray(spec['preprocess']) && spec['preprocess'].length ? (spec['preprocess'] as unknown[]).map((p, i) => `${i + 1}. ${oneLine(p)}`) : ['None.']),
    '',
    '## Training',
    '',
    `- Optimizer: ${oneLine(compile['optimizer'])}; batch size ${num(train['batchSize'])}.`,
    `- Epochs: ${run.metrics.length} of ${num(train['epochs'])} planned${s['stoppedEarly'] ? ' (early stopping ended it)' : ''}; early stopping ${train['earlyStopping'] ? stringify(train['earlyStopping'], { collectionStyle: 'flow', lineWidth: 0 }).trim() : 'off'}${train['lrSchedule'] ? `; schedule ${oneLine(train['lrSchedule'])}` : ''}.`,
    ...(best ? [`- Best epoch ${best['epoch']}: val_loss ${num(best['val_loss'])}${best['val_accuracy'] !== undefined ? `, val_accuracy ${num(best['val_accuracy'])}` : ''}.`] : []),
    `- Seed ${r.seed}; backend ${String(r.backend.used ?? '?')}${r.backend.threads ? ` (${r.backend.threads} thread${r.backend.threads === 1 ? '' : 's'})` : ''}; trainer ${r.trainer ?? '?'}; runner ${r.versions?.runner ?? '?'}, TensorFlow.js ${r.versions?.tfjs ?? '?'}, Node ${r.versions?.node ?? '?'}.`,
    `- Spec hash \`${r.specHash}\`${r.git ? `; git ${r.git.commit.slice(0, 12)}${r.git.dirty ? ' (with uncommitted changes)' : ''}` : ''}.`,
    '',
    '## Results (test split)',
    '',
    table([['metric', 'value'], ...(regression ? ['loss', 'mae', 'mse', 'r2'] : ['loss', 'accuracy']).map((k) => [k, score(s[k])]), ...(obj(s['macroAvg'])['f1'] !== undefined ? [['macro F1', score(obj(s['macroAvg'])['f1'])]] : []), ['examples', num(s['examples'])]]),
    '',
    ...(perClass.length ? [table([['class', 'precision', 'recall', 'F1', 'support'], ...perClass.map((c) => [String(c['class']), score(c['precision']), score(c['recall']), score(c['f1']), num(c['support'])])]), ''] : []),
    '## Reproduce and predict',
    '',
    '```',
    `runner ${r.command.join(' ')}             # how it was made`,
    `runner reproduce ${where} --verify   # again from its own resolved.yaml, checked against this run`,
    `runner predict ${where} <inputs...>`,
    '```',
    '',
    '## Intended use',
    '',
    '**TODO**: who should use this model, for what, and what it must not be used for.',
    '',
    '## Limitations',
    '',
    '**TODO**: where it fails (classes, inputs, conditions), what the test split does not cover, known biases.',
    '',
  ];
  return `${out.join('\n')}\n`;
}

/** Writes MODEL_CARD.md into a completed run's folder (`runner card`, and every run as it completes); returns its path. */
export function writeModelCard(dir: string): string {
  const run = readRun(dir);
  if (run.status !== 'completed') throw new RunnerError(`${run.id} is ${run.status}: a model card describes a completed run`, 2, run.status === 'interrupted' || run.status === 'stopped' ? ['finish it first with runner resume'] : []);
  const file = `${run.dir}/${RUN_FILES.card}`;
  writeFileAtomic(file, modelCard(run));
  return file;
}
