import seedrandom from 'seedrandom';

/** A generator's whole state, as seedrandom gives it (plain JSON). */
export type RandomState = object;

type StatefulPrng = (() => number) & { state(): RandomState };

let global: StatefulPrng | undefined;

/**
 * Replaces Math.random with a generator seeded by the run's seed: tfjs draws dropout masks (and
 * any unseeded random op) from Math.random. Its state goes into checkpoints, so a resumed run
 * draws the same masks as an uninterrupted one.
 */
export function seedGlobalRandom(seed: number): void {
  // seedrandom's own { global: true } returns no handle on the state: install the generator by hand.
  global = seedrandom(String(seed), { state: true }) as unknown as StatefulPrng;
  Math.random = global;
}

/** The state of Math.random as runner seeded it (undefined when it did not: tests that call stages directly). */
export const globalRandomState = (): RandomState | undefined => global?.state();

/** Puts Math.random back to a saved state. */
export function restoreGlobalRandom(state: RandomState): void {
  global = seedrandom('', { state: state as never }) as unknown as StatefulPrng;
  Math.random = global;
}

/** Fisher-Yates with a seeded generator (model.fit would use Math.random): fit's epochs and the table split. */
export function shuffleInPlace(order: { length: number; [i: number]: number }, rng: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}

/** The generator fit shuffles with: seeded by the run, or continued from a saved state. */
export function shuffleRandom(seed: number, state?: RandomState): StatefulPrng {
  return (state ? seedrandom.alea('', { state: state as never }) : seedrandom.alea(`${seed}:shuffle`, { state: true })) as unknown as StatefulPrng;
}
