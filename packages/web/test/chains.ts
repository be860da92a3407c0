/** Real job chains for the UI logic tests, built by the chain builder from spec files. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJobChain } from '@spincycle/chain';
import { builtinJobFactory } from '@spincycle/jobs';
import { loadSpecs } from '@spincycle/spec';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function chainOf(dir: 'specs' | 'test/web/specs', type: string, args: Record<string, string>) {
  const { specs } = await loadSpecs(join(root, dir));
  const { chain } = await buildJobChain({ specs, type, args, factory: builtinJobFactory });
  return chain;
}

export const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`).join(',');
