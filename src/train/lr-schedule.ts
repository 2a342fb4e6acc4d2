import type { LrSchedule } from '../spec/types.js';

/** Learning rate for a 1-based epoch of `epochs`. */
export function learningRateAt(schedule: LrSchedule, lr0: number, epoch: number, epochs: number): number {
  if ('stepDecay' in schedule) return lr0 * schedule.stepDecay.factor ** Math.floor((epoch - 1) / schedule.stepDecay.every);
  if ('exponentialDecay' in schedule) return lr0 * schedule.exponentialDecay.rate ** (epoch - 1);
  const min = schedule.cosineDecay.minLearningRate;
  return min + ((lr0 - min) * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs))) / 2;
}
