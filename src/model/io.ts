import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../backend/tf.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/files.js';

/**
 * Saves a model in the standard tfjs layers format (model.json + weights.bin), the same files
 * `tf.loadLayersModel` reads. Weights are written first so a model.json always has its weights.
 */
export async function saveModel(model: tf.LayersModel, modelDir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.TFJS_VERSION}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      writeFileAtomic(join(modelDir, 'weights.bin'), weights);
      writeJsonAtomic(join(modelDir, 'model.json'), json);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** Loads a model saved by saveModel from its folder (no tfjs-node `file://` needed). */
export async function loadModel(modelDir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const buffers = manifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(modelDir, p))).buffer));
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
