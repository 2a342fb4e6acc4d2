import * as tf from './tf.js';
import { conv2DBackpropFilter, conv2DBackpropInputVia, maxPoolGradVia } from './conv-kernels.js';
import { clipVia } from './clip-kernel.js';
import { equalVia, gatherVia, unsortedSegmentSum } from './lookup-kernels.js';

/** The backends whose kernels are registered: a process may start cpu first and wasm later (a sweep worker), and wasm's stock kernels exist only once its package is loaded. */
const registered = new Set<'cpu' | 'wasm'>();

/**
 * Registers the training kernels runner gives the backends (once): for wasm, Conv2DBackpropFilter
 * and UnsortedSegmentSum, which tfjs lacks, and in place of tfjs's own a Conv2DBackpropInput on
 * XNNPACK, a one-pass MaxPoolGrad, a broadcasting Equal, an axis-0 GatherV2 (tfjs's are kept
 * for the cases they alone cover) and a ClipByValue that keeps NaN as cpu's does; for cpu, the same UnsortedSegmentSum.
 */
export function registerTrainingKernels(backends: readonly ('cpu' | 'wasm')[] = ['cpu', 'wasm']): void {
  if (backends.includes('cpu') && !registered.has('cpu')) {
    registered.add('cpu');
    const cpuSum = tf.getKernel('UnsortedSegmentSum', 'cpu');
    if (cpuSum) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
    tf.registerKernel({ ...cpuSum, kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc });
  }
  // wasm's stock kernels are registered when @tensorflow/tfjs-backend-wasm is imported; until then there is nothing to replace.
  if (!backends.includes('wasm') || registered.has('wasm') || !tf.getKernel('Conv2D', 'wasm')) return;
  registered.add('wasm');
  for (const [name, kernel] of [['Conv2DBackpropFilter', conv2DBackpropFilter], ['UnsortedSegmentSum', unsortedSegmentSum]] as const) {
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
  }
  for (const [name, via] of [['Conv2DBackpropInput', conv2DBackpropInputVia], ['MaxPoolGrad', maxPoolGradVia], ['Equal', equalVia], ['GatherV2', gatherVia], ['ClipByValue', clipVia]] as const) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: via(stock) as unknown as tf.KernelFunc });
  }
}
