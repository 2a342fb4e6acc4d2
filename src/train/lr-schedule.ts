import type { LrSchedule, OptimizerSpec } from '../spec/types.js';

/** The optimizer's own learning rate: where every schedule starts. */
export function baseLearningRate(spec: OptimizerSpec): number {
  return (Object.values(spec)[0] as { learningRate: number }).learningRate;
}

/** Learning rate for a 1-based epoch of `epochs`. */
export function learningRateAt(schedule: LrSchedule, lr0: number, epoch: number, epochs: number): number {
  if ('stepDecay' in schedule) return lr0 * schedule.stepDecay.factor ** Math.floor((epoch - 1) / schedule.stepDecay.every);
  if ('exponentialDecay' in schedule) return lr0 * schedule.exponentialDecay.rate ** (epoch - 1);
  const min = schedule.cosineDecay.minLearningRate;
  return min + ((lr0 - min) * (1 + Math.cos((Math.PI * (epoch - 1)) / epochs))) / 2;
}
