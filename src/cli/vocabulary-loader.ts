/**
 * Load the registered steps outside a cucumber run (for `kubeproof steps` and tests): cucumber
 * refuses step definitions unless its support-code builder is open, so open one first.
 */
import { supportCodeLibraryBuilder } from '@cucumber/cucumber';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../project.js';

export interface StepDoc {
  keyword: string;
  expression: string;
  example: string;
  group: string;
}

export async function loadVocabulary(): Promise<StepDoc[]> {
  supportCodeLibraryBuilder.reset(projectRoot, () => randomUUID());
  const mod = (await import(pathToFileURL(join(projectRoot, 'dist/steps/index.js')).href)) as { vocabulary: StepDoc[] };
  return mod.vocabulary;
}
