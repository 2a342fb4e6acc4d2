import { RunnerError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/**
 * `--fail-if` expressions: a small grammar of our own (never eval).
 *   or   := and (('or' | '||') and)*       and := not (('and' | '&&') not)*
 *   not  := ('not' | '!') not | cmp          cmp := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
 *   sum  := prod (('+' | '-') prod)*         prod := unary (('*' | '/') unary)*
 *   unary := '-' unary | number | name | fn '(' or (',' or)* ')' | '(' or ')'
 * Names are dotted paths such as test.accuracy or baseline.test.accuracy; fn is abs, min or max.
 */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'unary'; op: '-' | 'not'; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'call'; fn: 'abs' | 'min' | 'max'; args: Expr[] };

interface Token { type: 'num' | 'name' | 'op' | 'end'; text: string; pos: number }

const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)|(<=|>=|==|!=|&&|\|\||[<>+\-*/(),!]))/y;

function tokenize(src: string, fail: (pos: number, msg: string) => never): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) fail(pos + (src.slice(pos).length - src.slice(pos).trimStart().length), `unexpected character '${src.slice(pos).trimStart()[0]}'`);
    const start = m!.index + m![0].length - (m![1] ?? m![2] ?? m![3]!).length;
    if (m![1] !== undefined) tokens.push({ type: 'num', text: m![1], pos: start });
    else if (m![2] !== undefined) tokens.push({ type: ['and', 'or', 'not'].includes(m![2]) ? 'op' : 'name', text: m![2], pos: start });
    else tokens.push({ type: 'op', text: m![3]!, pos: start });
    pos = TOKEN.lastIndex;
  }
  tokens.push({ type: 'end', text: 'the end', pos: src.length });
  return tokens;
}

/** The longest gate and its deepest nesting: enough for any real condition, and no stack or screen filled by a hostile one. */
const MAX_GATE_LENGTH = 1000;
const MAX_DEPTH = 50;

/** Parses a gate expression; errors point at the position in it (exit 2). */
export function parseGate(src: string): Expr {
  if (src.length > MAX_GATE_LENGTH) throw new RunnerError(`--fail-if: the expression is ${src.length} characters long; a gate is at most ${MAX_GATE_LENGTH}`);
  const fail = (pos: number, msg: string): never => {
    throw new RunnerError(`--fail-if "${src}": ${msg} at position ${pos + 1}`, 2, [src, `${' '.repeat(pos)}^`]);
  };
  const tokens = tokenize(src, fail);
  let i = 0;
  let depth = 0;
  /** Parses one nested part (parentheses, a unary operator, a call's arguments), refusing nesting past MAX_DEPTH. */
  const nested = <T>(pos: number, parse: () => T): T => {
    if (++depth > MAX_DEPTH) fail(pos, `the expression nests deeper than ${MAX_DEPTH} levels`);
    const out = parse();
    depth--;
    return out;
  };
  const peek = () => tokens[i]!;
  const accept = (...ops: string[]) => (peek().type === 'op' && ops.includes(peek().text) ? tokens[i++]!.text : undefined);
  const expect = (op: string) => accept(op) ?? fail(peek().pos, `expected '${op}', found ${describe(peek())}`);
  const binary = (next: () => Expr, ops: string[], canon: Record<string, string> = {}) => (): Expr => {
    let left = next();
    for (let op = accept(...ops); op; op = accept(...ops)) left = { kind: 'binary', op: canon[op] ?? op, left, right: next() };
    return left;
  };
  const atom = (): Expr => {
    const t = peek();
    if (accept('-')) return nested(t.pos, () => ({ kind: 'unary', op: '-', arg: atom() }));
    if (accept('(')) {
      const e = nested(t.pos, or);
      expect(')');
      return e;
    }
    if (t.type === 'num') {
      i++;
      return { kind: 'num', value: Number(t.text) };
    }
    if (t.type === 'name') {
      i++;
      if (accept('(')) {
        if (!['abs', 'min', 'max'].includes(t.text)) fail(t.pos, `unknown function '${t.text}' (expected abs, min or max)`);
        const args = [nested(t.pos, or)];
        while (accept(',')) args.push(nested(t.pos, or));
        expect(')');
        if (t.text === 'abs' && args.length !== 1) fail(t.pos, 'abs takes one argument');
        return { kind: 'call', fn: t.text as 'abs' | 'min' | 'max', args };
      }
      return { kind: 'name', name: t.text, pos: t.pos };
    }
    return fail(t.pos, `expected a number, a name or '(', found ${describe(t)}`);
  };
  const prod = binary(atom, ['*', '/']);
  const sum = binary(prod, ['+', '-']);
  const cmp = (): Expr => {
    const left = sum();
    const op = accept('<', '<=', '>', '>=', '==', '!=');
    return op ? { kind: 'binary', op, left, right: sum() } : left;
  };
  const not = (): Expr => {
    const pos = peek().pos;
    return accept('not', '!') ? nested(pos, () => ({ kind: 'unary', op: 'not', arg: not() })) : cmp();
  };
  const and = binary(not, ['and', '&&'], { '&&': 'and' });
  const or = binary(and, ['or', '||'], { '||': 'or' });
  const expr = or();
  if (peek().type !== 'end') fail(peek().pos, `unexpected ${describe(peek())}`);
  return expr;
}

function describe(t: Token): string {
  return t.type === 'end' ? 'the end' : `'${t.text}'`;
}

/** Every name an expression reads, with its position (to check them before evaluating). */
export function namesIn(e: Expr): { name: string; pos: number }[] {
  switch (e.kind) {
    case 'name': return [{ name: e.name, pos: e.pos }];
    case 'unary': return namesIn(e.arg);
    case 'binary': return [...namesIn(e.left), ...namesIn(e.right)];
    case 'call': return e.args.flatMap(namesIn);
    default: return [];
  }
}

/** Rejects names that are not known values, with a did-you-mean. */
export function checkNames(src: string, e: Expr, known: readonly string[]): void {
  for (const { name, pos } of namesIn(e)) {
    if (known.includes(name)) continue;
    const hint = didYouMean(name, known);
    throw new RunnerError(`--fail-if "${src}": unknown value '${name}'${hint ? `; did you mean '${hint}'?` : ''}`, 2,
      [src, `${' '.repeat(pos)}^`, `values: ${known.filter((k) => !k.startsWith('baseline.')).join(', ')} (and baseline.<value>)`]);
  }
}

/** Evaluates an expression; a name with no value (e.g. a failed run's test.accuracy) throws MissingValue. */
export function evaluate(e: Expr, lookup: (name: string) => number | undefined): number | boolean {
  const num = (x: Expr) => Number(evaluate(x, lookup));
  switch (e.kind) {
    case 'num': return e.value;
    case 'name': {
      const v = lookup(e.name);
      if (v === undefined) throw new MissingValue(e.name);
      return v;
    }
    case 'unary': return e.op === '-' ? -num(e.arg) : !evaluate(e.arg, lookup);
    case 'call': {
      const args = e.args.map(num);
      return e.fn === 'abs' ? Math.abs(args[0]!) : e.fn === 'min' ? Math.min(...args) : Math.max(...args);
    }
    case 'binary': {
      if (e.op === 'and') return Boolean(evaluate(e.left, lookup)) && Boolean(evaluate(e.right, lookup));
      if (e.op === 'or') return Boolean(evaluate(e.left, lookup)) || Boolean(evaluate(e.right, lookup));
      const [a, b] = [num(e.left), num(e.right)];
      const ops: Record<string, () => number | boolean> = {
        '+': () => a + b, '-': () => a - b, '*': () => a * b, '/': () => a / b,
        '<': () => a < b, '<=': () => a <= b, '>': () => a > b, '>=': () => a >= b, '==': () => a === b, '!=': () => a !== b,
      };
      return ops[e.op]!();
    }
  }
}

/** A gate read a value the run does not have. */
export class MissingValue extends Error {
  constructor(readonly valueName: string) {
    super(`has no ${valueName}`);
  }
}

/** Source-like text of a sub-expression, for messages: `baseline.test.accuracy - 0.005`. */
export function exprSource(e: Expr): string {
  switch (e.kind) {
    case 'num': return String(e.value);
    case 'name': return e.name;
    case 'unary': return e.op === '-' ? `-${exprSource(e.arg)}` : `not ${exprSource(e.arg)}`;
    case 'call': return `${e.fn}(${e.args.map(exprSource).join(', ')})`;
    case 'binary': return `${exprSource(e.left)} ${e.op} ${exprSource(e.right)}`;
  }
}
