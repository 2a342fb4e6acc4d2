import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { BackendChoice } from '../backend/select.js';
import type { ThreadsChoice } from '../backend/threads.js';
import { backendOption, collect, numberOf, threadsOption } from './options.js';
import { addSweepCommands } from './sweep-commands.js';
import { terminalInterrupt } from './interrupt.js';
import { streamProgress } from './progress.js';
import type { RunOutcome } from '../pipeline/run.js';
import { EXIT, exitCodeOf, formatError, RunnerError } from '../core/errors.js';

const warn = (m: string) => process.stderr.write(`runner: warning: ${m}\n`);

/** What a command that trains gets from the terminal: a progress display, warnings on stderr, Ctrl-C. */
const terminal = () => ({ progress: streamProgress(process.stderr), warn, interrupt: terminalInterrupt() });

/** Prints a run's closing lines (stdout when it completed, stderr otherwise); returns its exit code. */
async function printRun(outcome: RunOutcome): Promise<number> {
  const { formatOutcome } = await import('../results/outcome.js');
  (outcome.status === 'completed' ? process.stdout : process.stderr).write(formatOutcome(outcome));
  return outcome.exitCode;
}

/** Parses the command line, runs one command, returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  let verbose = argv.includes('--verbose');
  const program = new Command('runner')
    .description('Declarative, reproducible deep-learning experiments on TensorFlow.js')
    .option('--verbose', 'show stack traces for errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `runner: ${s}` : s) })
    .showSuggestionAfterError(true);

  program
    .command('run')
    .description('validate a spec and run it into a new folder under runs/')
    .argument('<spec>', 'experiment YAML file')
    .option('--set <key.path=value>', 'override one spec value (repeatable), e.g. train.epochs=1', collect, [])
    .option('--out <dir>', 'folder that holds the run folders', 'runs')
    .addOption(backendOption('override the spec backend'))
    .addOption(threadsOption("threads wasm computes on: 1-8 or auto = every core (default: the spec's threads, 1)"))
    .option('--no-cache', 'recompute load and normalize even when the stage cache has them')
    .action(async (spec: string, opts: { set: string[]; out: string; backend?: BackendChoice; threads?: ThreadsChoice; cache: boolean }) => {
      const { runCommand } = await import('../commands/run.js');
      const outcome = await runCommand({
        spec, set: opts.set, out: opts.out, backend: opts.backend, threads: opts.threads, noCache: !opts.cache, ...terminal(),
        argv: ['run', ...argv.slice(1)],
      });
      exitCode = await printRun(outcome);
    });

  program
    .command('reproduce')
    .description('rerun a run from its resolved.yaml and seed into a new folder; --verify compares the two value by value')
    .argument('<run>', 'run folder or unique id prefix')
    .option('--verify', 'compare per-epoch metrics, test summary and weights with the original: identical (bitwise) or exit 1')
    .option('--tolerance <x>', 'with --verify, accept absolute differences up to x (e.g. across backends)', numberOf(0, false))
    .option('--out <dir>', 'folder for the new run (default: beside the original)')
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .addOption(backendOption('the backend to rerun on (default: the one the run used)'))
    .addOption(threadsOption("threads wasm computes on (default: the spec's threads); results do not depend on it"))
    .option('--no-cache', 'recompute load and normalize (verify the data pipeline too)')
    .action(async (run: string, { cache, ...opts }: { verify?: boolean; tolerance?: number; out?: string; runsDir: string; backend?: BackendChoice; threads?: ThreadsChoice; cache: boolean }) => {
      const { reproduceCommand } = await import('../commands/reproduce.js');
      const result = await reproduceCommand({ run, ...opts, noCache: !cache, ...terminal() });
      (result.exitCode === 0 ? process.stdout : process.stderr).write(result.output);
      exitCode = result.exitCode;
    });

  program
    .command('predict')
    .description("apply a run's model, with its preprocessing, to PNG/IDX images or CSV/JSON rows; prints the class and top-k probabilities (or the value)")
    .argument('<run>', 'run folder or unique id prefix')
    .argument('[inputs...]', 'PNG images or IDX files (image runs); CSV or JSON files of rows (table runs); text files, one document each (text runs)')
    .option('--text <document>', 'text runs: a document to classify (repeatable)', collect, [])
    .option('--json', 'print JSON for scripts')
    .option('-k, --top <k>', 'how many classes to show', numberOf(1, true), 3)
    .option('--invert', 'invert image brightness (dark strokes on a light background)')
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .addOption(backendOption('the backend to predict on (default: the one the run used)'))
    .action(async (run: string, inputs: string[], { text, ...opts }: { json?: boolean; top: number; invert?: boolean; runsDir: string; backend?: BackendChoice; text: string[] }) => {
      const { predictCommand, formatPredictions } = await import('../commands/predict.js');
      const predictions = await predictCommand({ run, inputs, texts: text, ...opts, warn });
      process.stdout.write(opts.json ? `${JSON.stringify(predictions, null, 2)}\n` : formatPredictions(predictions));
    });

  program
    .command('resume')
    .description('continue an interrupted run from its last checkpoint, in the same folder, to the planned epochs')
    .argument('<run>', 'run folder or unique id prefix')
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .addOption(backendOption('override the backend the run used (the result will then differ)'))
    .addOption(threadsOption("threads wasm computes on (default: the spec's threads); results do not depend on it"))
    .action(async (run: string, opts: { runsDir: string; backend?: BackendChoice; threads?: ThreadsChoice }) => {
      const { resumeCommand } = await import('../commands/resume.js');
      exitCode = await printRun(await resumeCommand({ run, ...opts, ...terminal() }));
    });

  program
    .command('validate')
    .description('check a spec against the schema and rules without running it')
    .argument('<spec>', 'experiment YAML file')
    .option('--set <key.path=value>', 'override one spec value (repeatable)', collect, [])
    .option('--print', 'print the resolved spec (defaults and overrides applied)')
    .action(async (spec: string, opts: { set: string[]; print?: boolean }) => {
      const { validateSpec } = await import('../commands/validate.js');
      const { resolvedYaml } = validateSpec(spec, opts.set);
      process.stdout.write(opts.print ? resolvedYaml : `${spec} is valid\n`);
    });

  program
    .command('compare')
    .description('compare runs: changed spec values, test metrics with deltas, learning curves; gate CI with --fail-if')
    .argument('<runs...>', 'run folders, globs (runs/*) or unique id prefixes; the first is the baseline')
    .option('--baseline <run>', 'the run to compare against (default: the first)')
    .option('--all', 'show every spec value, not only those that differ')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'md', 'json', 'csv']).default('table'))
    .option('--fail-if <expr>', 'exit 1 when the expression holds for a run (repeatable), e.g. "test.accuracy < baseline.test.accuracy - 0.005"', collect, [])
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .action(async (runs: string[], opts: { baseline?: string; all?: boolean; format: 'table' | 'md' | 'json' | 'csv'; failIf: string[]; runsDir: string }) => {
      const { compareCommand } = await import('../commands/compare.js');
      const result = compareCommand({ runs, ...opts });
      // Tables and markdown show the warnings; JSON and CSV output stays data, so they go to stderr too.
      if (opts.format === 'json' || opts.format === 'csv') for (const w of result.comparison.warnings) warn(w);
      process.stdout.write(result.output);
      exitCode = result.exitCode;
    });

  program
    .command('ls')
    .description('list runs, newest first (a run whose process died shows as crashed)')
    .argument('[dir]', 'folder holding the runs', 'runs')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (dir: string, opts: { format: 'table' | 'json' }) => {
      const { lsCommand } = await import('../commands/ls.js');
      process.stdout.write(lsCommand(dir, opts.format));
    });

  program
    .command('init')
    .description('write a commented spec that runs as it is: for a table (--data FILE --target COLUMN) or an image dataset (--dataset)')
    .option('--data <file>', 'a table (.csv, .json, .jsonl): column kinds, missing values and the model size are inferred from it')
    .option('--target <column>', 'the column to predict')
    .option('--dataset <name>', 'mnist or fashion-mnist')
    .option('-o, --out <file>', 'the spec to write (default: <data name>.yaml, or <dataset>-mlp.yaml)')
    .option('--force', 'replace the file if it exists')
    .action(async (opts: { data?: string; target?: string; dataset?: string; out?: string; force?: boolean }) => {
      const { initCommand } = await import('../commands/init.js');
      const file = initCommand(opts);
      const shown = path.relative(process.cwd(), file) || file;
      process.stdout.write(`wrote ${shown}; check the inferred column kinds, then: runner run ${shown}\n`);
    });

  program
    .command('card')
    .description("write a completed run's MODEL_CARD.md again (every run writes one as it completes)")
    .argument('<run>', 'run folder or unique id prefix')
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .action(async (run: string, opts: { runsDir: string }) => {
      const { cardCommand } = await import('../commands/card.js');
      process.stdout.write(`model card: ${cardCommand(run, opts.runsDir)}\n`);
    });

  program
    .command('report')
    .description('write one self-contained HTML report (curves, confusion matrices, params and metrics tables)')
    .argument('<runs...>', 'run folders, globs or unique id prefixes')
    .option('-o, --out <file>', 'the HTML file to write', 'report.html')
    .option('--runs-dir <dir>', 'where id prefixes are looked up', 'runs')
    .action(async (runs: string[], opts: { out: string; runsDir: string }) => {
      const { reportCommand } = await import('../commands/report.js');
      const report = await reportCommand(runs, opts.out, opts.runsDir);
      for (const w of report.warnings) warn(w);
      process.stdout.write(`report: ${report.path}\n`);
    });

  addSweepCommands(program, (code) => (exitCode = code));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    verbose = Boolean(program.opts()['verbose']) || verbose;
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${formatError(err, verbose)}\n`);
    return exitCodeOf(err);
  }
}
