/**
 * The parts of TensorFlow.js runner uses: core, layers and the cpu backend (wasm and tfjs-node
 * are loaded on demand). Importing `@tensorflow/tfjs` would also load the converter, tfjs-data
 * and the WebGL backend, about 0.1 s of every start for nothing in Node.
 */
import '@tensorflow/tfjs-backend-cpu';
import { version_core } from '@tensorflow/tfjs-core';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';

/** The TensorFlow.js version, as run.json records it. */
export const TFJS_VERSION = version_core;
