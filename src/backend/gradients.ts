import * as tf from './tf.js';

/** Kernels whose output is boolean, and their inputs: their gradient is zero. */
const BOOLEAN_KERNELS: Record<string, string[]> = {
  Any: ['x'], All: ['x'], LogicalNot: ['x'],
  Equal: ['a', 'b'], NotEqual: ['a', 'b'], Greater: ['a', 'b'], GreaterEqual: ['a', 'b'], Less: ['a', 'b'], LessEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'], LogicalOr: ['a', 'b'],
};

let registered = false;

/**
 * Gradients tfjs does not define but its layers meet on the way back: the boolean kernels
 * (the masking layer computes any(x != maskValue) from its input). Their output is boolean, so
 * the gradient of each input is zero; without one, no model with a masking layer after a
 * trainable layer (an embedding) can train, on any backend.
 */
export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, inputs] of Object.entries(BOOLEAN_KERNELS)) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: inputs,
      gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i]!.shape, 'float32')])),
    });
  }
}
