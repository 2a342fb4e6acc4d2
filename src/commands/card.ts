import { resolveRunArgs } from '../runs/reader.js';
import { writeModelCard } from '../runs/model-card.js';

/** `runner card <run>`: writes the run's MODEL_CARD.md again (runs made before runner wrote cards, or after editing nothing but the card); returns its path. */
export function cardCommand(run: string, runsDir = 'runs'): string {
  const [dir] = resolveRunArgs([run], runsDir);
  return writeModelCard(dir!);
}
