/** Where kubeproof itself is installed (for its shipped features, scenarios and steps) and its version. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/project.js → the package root. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const kubeproofVersion: string = (JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
