import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RunnerError } from '../core/errors.js';
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

/** Bytes per value of each weight dtype a layers model stores. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1 };

/**
 * model.json and the weight files it names, checked before tfjs reads them: whole JSON, and each
 * weights file exactly as long as the manifest's shapes say (a truncated or a longer file is refused).
 */
function checkedModel(modelDir: string): tf.io.ModelJSON {
  const bad = (why: string) => new RunnerError(`the model in ${modelDir} cannot be read: ${why}`, 2, ['the run folder was damaged or edited; train it again with runner run']);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw bad(`model.json is ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`);
  }
  if (!Array.isArray(json.weightsManifest)) throw bad('model.json has no weightsManifest');
  for (const group of json.weightsManifest) {
    const expected = group.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (DTYPE_BYTES[w.dtype] ?? 4), 0);
    const actual = group.paths.reduce((a, p) => {
      if (basename(p) !== p) throw bad(`model.json names '${p}', which is not a file of the model folder`);
      try {
        return a + statSync(join(modelDir, p)).size;
      } catch {
        throw bad(`${p} is missing`);
      }
    }, 0);
    if (actual !== expected) throw bad(`${group.paths.join(', ')} hold${group.paths.length === 1 ? 's' : ''} ${actual} bytes, but model.json's weights need ${expected}`);
  }
  return json;
}

/** Loads a model saved by saveModel from its folder (no tfjs-node `file://` needed); a damaged folder is a RunnerError. */
export async function loadModel(modelDir: string): Promise<tf.LayersModel> {
  const json = checkedModel(modelDir);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const buffers = manifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(modelDir, p))).buffer));
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
