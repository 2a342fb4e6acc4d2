import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/core/errors.js';
import { checkNames, evaluate, MissingValue, parseGate } from '../../src/results/gate.js';

const values: Record<string, number> = { 'test.accuracy': 0.9, 'baseline.test.accuracy': 0.93, 'test.loss': 0.3, duration: 12 };
const run = (src: string) => evaluate(parseGate(src), (n) => values[n]);

describe('gate expressions', () => {
  it.each([
    { src: 'test.accuracy < baseline.test.accuracy - 0.005', want: true },
    { src: 'test.accuracy < baseline.test.accuracy - 0.05', want: false },
    { src: 'test.accuracy >= 0.9 and test.loss <= 0.3', want: true },
    { src: 'test.accuracy > 0.95 || duration > 10', want: true },
    { src: 'not (duration > 10)', want: false },
    { src: '!(duration > 10)', want: false },
    { src: 'abs(test.accuracy - baseline.test.accuracy) > 0.02', want: true },
    { src: 'max(test.loss, 0.5) == 0.5', want: true },
    { src: '-test.loss * 2 + 1 == 0.4', want: true },
    { src: 'duration / 4 != 3', want: false },
    { src: '1e-3 < .01', want: true },
  ])('$src is $want', ({ src, want }) => {
    expect(run(src)).toBe(want);
  });

  it('parses nesting up to the limit', () => {
    expect(run(`${'('.repeat(50)}1${')'.repeat(50)} + 1`)).toBe(2);
  });

  it('gives arithmetic the usual precedence', () => {
    expect(run('1 + 2 * 3')).toBe(7);
    expect(run('(1 + 2) * 3')).toBe(9);
    expect(run('10 - 4 - 3')).toBe(3);
  });

  it.each([
    { src: 'test.accuracy <', msg: 'expected a number, a name or \'(\', found the end at position 16' },
    { src: 'test.accuracy < 0.9)', msg: "unexpected ')' at position 20" },
    { src: 'test.accuracy # 3', msg: "unexpected character '#' at position 15" },
    { src: 'exp(test.loss) > 1', msg: "unknown function 'exp'" },
    { src: 'abs(1, 2) > 0', msg: 'abs takes one argument' },
    { src: 'process.exit(1)', msg: "unknown function 'process.exit'" },
    { src: `${'('.repeat(60)}1${')'.repeat(60)} > 0`, msg: 'the expression nests deeper than 50 levels at position 51' },
    { src: `${'-'.repeat(60)}1 > 0`, msg: 'nests deeper than 50 levels' },
    { src: `${'not '.repeat(60)}1`, msg: 'nests deeper than 50 levels' },
    { src: `${'('.repeat(20000)}1${')'.repeat(20000)}`, msg: 'the expression is 40001 characters long; a gate is at most 1000' },
  ])('rejects "$src" with where and why', ({ src, msg }) => {
    expect(() => parseGate(src)).toThrow(RunnerError);
    expect(() => parseGate(src)).toThrow(msg);
  });

  it('rejects an unknown value with a suggestion', () => {
    expect(() => checkNames('test.acuracy < 1', parseGate('test.acuracy < 1'), ['test.accuracy', 'test.loss'])).toThrow("unknown value 'test.acuracy'; did you mean 'test.accuracy'?");
  });

  it('reports a value the run does not have', () => {
    expect(() => evaluate(parseGate('test.f1 < 1'), () => undefined)).toThrow(MissingValue);
  });
});
