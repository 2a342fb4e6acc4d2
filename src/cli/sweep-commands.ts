import { Option, type Command } from 'commander';
import type { BackendChoice } from '../backend/select.js';
import type { ThreadsChoice } from '../backend/threads.js';
import { terminalInterrupt } from './interrupt.js';
import { backendOption, collect, numberOf, threadsOption } from './options.js';

/**
 * A command that talked to Redis ends its process once it is done: BullMQ's connections to a
 * Redis that went away keep reconnecting in the background and would keep Node alive. The timer
 * does not hold the process itself; the exit code is the one main returned.
 */
const endSoon = () => void setTimeout(() => process.exit(), 2000).unref();

/** The sweep commands: runner sweep (local, sharded or through a Redis queue), runner worker for a queue, and the hidden sweep-worker a sweep starts. */
export function addSweepCommands(program: Command, setExit: (code: number) => void): void {
  program
    .command('sweep')
    .description('run a sweep of a spec (grid, random, asha, hyperband): trials in parallel processes, resumable; shardable across CI machines, or spread over any number of machines through a Redis queue (--queue)')
    .argument('[spec]', 'experiment YAML with a sweep: block')
    .option('--set <key.path=value>', "override one spec value for every trial (repeatable), before the sweep's parameters", collect, [])
    .option('-j, --jobs <n>', 'trials at once (default: number of cores; with --queue: jobs on the queue at once, default 4)', numberOf(1, true))
    .option('--out <dir>', 'folder that holds the sweep folder (with --queue: storage every worker sees at the same path, e.g. a shared volume)', 'runs')
    .option('--queue <url>', 'coordinate the sweep through Redis (redis://host:port[/db]): runner worker processes on any machine run its trials')
    .option('--dry-run', 'list the trials and what is done; run nothing')
    .option('--shard <i/N>', 'run only shard i of N (default: from CI variables when present)')
    .option('--shards <n>', 'number of shards, for --matrix and Kubernetes Indexed Jobs', numberOf(1, true))
    .option('--matrix', 'print a GitHub Actions matrix of the shards (JSON)')
    .option('--report <dir>', 'build the leaderboard from the run folders under a folder (e.g. shards\' artifacts)')
    .option('--fail-fast', 'stop at the first failed trial')
    .addOption(new Option('--format <format>', 'leaderboard format').choices(['table', 'md', 'json', 'csv']).default('table'))
    .addOption(backendOption('override the spec backend for every trial'))
    .addOption(threadsOption("threads each trial's wasm computes on (default: the spec's threads; auto = cores / jobs)"))
    .option('--no-cache', 'trials recompute load and normalize instead of sharing the stage cache')
    .action(async (spec: string | undefined, { cache, ...opts }: { set: string[]; jobs?: number; out: string; dryRun?: boolean; shard?: string; shards?: number; matrix?: boolean; report?: string; failFast?: boolean; format: 'table' | 'md' | 'json' | 'csv'; backend?: BackendChoice; threads?: ThreadsChoice; cache: boolean; queue?: string }) => {
      const { sweepCommand } = await import('../commands/sweep.js');
      try {
        const result = await sweepCommand({ spec, ...opts, noCache: !cache, signal: terminalInterrupt().signal, onEvent: (l) => process.stderr.write(`${l}\n`) });
        process.stdout.write(result.output);
        process.stderr.write(result.errors ?? '');
        setExit(result.exitCode);
      } finally {
        if (opts.queue !== undefined) endSoon();
      }
    });

  program
    .command('worker')
    .description("run trials of the sweeps coordinated through a Redis queue (runner sweep --queue), into their sweep folders; ends when they are done")
    .requiredOption('--queue <url>', 'the Redis the sweeps use: redis://host:port[/db]')
    .option('-j, --jobs <n>', 'trials at once on this machine', numberOf(1, true), 1)
    .option('--keep-alive', 'stay when the sweeps are done, for the next one')
    .action(async (opts: { queue: string; jobs: number; keepAlive?: boolean }) => {
      const { serveQueue } = await import('../sweep/queue-worker.js');
      try {
        setExit(await serveQueue({ ...opts, signal: terminalInterrupt().signal, onEvent: (l) => process.stderr.write(`${l}\n`) }));
      } finally {
        endSoon();
      }
    });

  program
    .command('sweep-worker', { hidden: true })
    .description('run the trials runner sweep sends over IPC (started by runner sweep)')
    .action(async () => {
      const { serveTrials } = await import('../sweep/worker.js');
      setExit(await serveTrials());
    });
}
