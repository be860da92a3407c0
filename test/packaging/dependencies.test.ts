/**
 * Each published package declares as runtime `dependencies` exactly the packages its
 * built code imports (everything else belongs in devDependencies).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PUBLISHED = ['protocol', 'jobs', 'spec', 'spinc', 'chain', 'traversal', 'testing'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"./][^'"]*)['"]/g;

/** Package names imported by the .js files under `dir`. */
function importedPackages(dir: string): string[] {
  const found = new Set<string>();
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.js')) continue;
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(IMPORT)) {
      const spec = m[1] as string;
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const parts = spec.split('/');
      found.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
    }
  }
  return [...found].sort();
}

describe.each(PUBLISHED)('@spincycle/%s', (name) => {
  const dir = path.join(repoRoot, 'packages', name);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

  it('declares the packages its dist imports, and only those', () => {
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(importedPackages(path.join(dir, 'dist')));
  });

  it('depends only on published workspace packages, by a version range', () => {
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      if (!dep.startsWith('@spincycle/')) continue;
      expect(PUBLISHED).toContain(dep.slice('@spincycle/'.length));
      expect(range).toBe('workspace:^');
    }
  });

  it('has the publishing metadata', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg).toMatchObject({ license: 'Apache-2.0', engines: { node: '>=20.19' } });
    expect(pkg.repository.directory).toBe(`packages/${name}`);
    expect(pkg.exports['.'].types).toBe('./dist/index.d.ts');
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE']));
  });
});
