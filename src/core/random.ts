import seedrandom from 'seedrandom';

/** A generator's whole state, as seedrandom gives it (plain JSON). */
export type RandomState = object;

type StatefulPrng = (() => number) & { state(): RandomState };

/** Math.random as a run replaced it: its state (for checkpoints), a way back to a saved state, and the original to put back. */
export interface InstalledRandom {
  state(): RandomState;
  restore(state: RandomState): void;
  /** Puts back the Math.random that was there before; the process is as it was. */
  uninstall(): void;
}

/**
 * Replaces Math.random with a generator seeded by the run's seed: tfjs draws dropout masks (and
 * any unseeded random op) from Math.random. Its state goes into checkpoints, so a resumed run
 * draws the same masks as an uninterrupted one; uninstall() restores the original.
 */
export function installSeededRandom(seed: number): InstalledRandom {
  const original = Math.random;
  // seedrandom's own { global: true } returns no handle on the state: install the generator by hand.
  let current = seedrandom(String(seed), { state: true }) as unknown as StatefulPrng;
  Math.random = current;
  return {
    state: () => current.state(),
    restore(state) {
      current = seedrandom('', { state: state as never }) as unknown as StatefulPrng;
      Math.random = current;
    },
    uninstall() {
      Math.random = original;
    },
  };
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
