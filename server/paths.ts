import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root, found by walking up to package.json, so that migrations/ and views/ resolve the
 * same from source (tests under tsx) and from the compiled dist/ tree.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json)');
    dir = parent;
  }
  return dir;
}

export const projectRoot = findRoot();

export function projectPath(...parts: string[]): string {
  return join(projectRoot, ...parts);
}
