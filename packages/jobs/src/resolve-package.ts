/**
 * Finds the entry file of an installed package as an ES import from `baseDir`
 * would (walking up node_modules, honouring "exports" with the import
 * conditions). Needed because Node 20 cannot `import.meta.resolve` from another
 * directory, and `require.resolve` misses packages that only export "import".
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

const CONDITIONS = new Set(['import', 'node', 'module-sync', 'default']);

function pickTarget(entry: unknown, star?: string): string | undefined {
  if (typeof entry === 'string') return star === undefined ? entry : entry.replaceAll('*', star);
  if (Array.isArray(entry)) {
    for (const item of entry) {
      const t = pickTarget(item, star);
      if (t) return t;
    }
    return undefined;
  }
  if (typeof entry === 'object' && entry !== null) {
    for (const [cond, value] of Object.entries(entry)) {
      if (!CONDITIONS.has(cond)) continue;
      const t = pickTarget(value, star);
      if (t) return t;
    }
  }
  return undefined;
}

/** The file `subpath` (`.` or `./x`) maps to through the package's "exports"; null when not exported. */
function fromExports(exportsField: unknown, subpath: string): string | null {
  const isSubpathMap =
    typeof exportsField === 'object' &&
    exportsField !== null &&
    !Array.isArray(exportsField) &&
    Object.keys(exportsField).some((k) => k.startsWith('.'));
  const map = (isSubpathMap ? exportsField : { '.': exportsField }) as Record<string, unknown>;
  if (Object.hasOwn(map, subpath)) return pickTarget(map[subpath]) ?? null;
  for (const [key, value] of Object.entries(map)) {
    const i = key.indexOf('*');
    if (i < 0) continue;
    const prefix = key.slice(0, i);
    const suffix = key.slice(i + 1);
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
      return pickTarget(value, subpath.slice(prefix.length, subpath.length - suffix.length)) ?? null;
    }
  }
  return null;
}

/** Absolute path of the file `spec` (`pkg`, `@scope/pkg`, `pkg/sub`) names from `baseDir`; undefined when not found. */
export async function resolvePackage(spec: string, baseDir: string): Promise<string | undefined> {
  const m = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.*)?$/.exec(spec);
  if (!m) return undefined;
  const name = m[1] as string;
  const subpath = `.${m[2] ?? ''}`;
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    let pkg: { exports?: unknown; main?: unknown } | undefined;
    try {
      pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
    } catch {
      pkg = undefined;
    }
    if (pkg) {
      if (pkg.exports !== undefined) {
        const target = fromExports(pkg.exports, subpath);
        return target === null ? undefined : join(pkgDir, target);
      }
      if (subpath !== '.') return join(pkgDir, subpath);
      return join(pkgDir, typeof pkg.main === 'string' ? pkg.main : 'index.js');
    }
    if (dirname(dir) === dir) return undefined;
  }
}
