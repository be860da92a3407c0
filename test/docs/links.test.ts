/**
 * Every relative link of the repository's Markdown resolves: the file or folder exists,
 * and an anchor names a heading of the target (GitHub's slugs). Also no leftovers of a
 * merge (conflict markers, doubled table separators) in any of them.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchors,
  isExternal,
  links,
  markdownFiles,
  proseLines,
  REPO_ROOT,
  readRepoFile,
  slug,
} from './markdown.js';

const FILES = markdownFiles();

describe('slug', () => {
  it('makes GitHub anchors', () => {
    expect(slug('Authentication, authorization and TLS')).toBe('authentication-authorization-and-tls');
    expect(slug('Why is it not done?')).toBe('why-is-it-not-done');
    expect(slug('End to end: `pnpm bench`')).toBe('end-to-end-pnpm-bench');
    expect(slug('Run from a deployed package')).toBe('run-from-a-deployed-package');
    expect(slug('`jobs.max_concurrent` and *slots*')).toBe('jobsmax_concurrent-and-slots');
    expect(slug('Deploy with Docker Compose')).toBe('deploy-with-docker-compose');
  });

  it('numbers repeated headings', () => {
    expect([...anchors('# A\n## A\n```\n# A\n```\n### A\n')]).toEqual(['a', 'a-1', 'a-2']);
  });
});

describe('links', () => {
  it('finds inline links, images and definitions, not code', () => {
    const text = '[a](x.md) ![i](img.png "t") `[c](no.md)`\n```\n[d](no.md)\n```\n[r]: ref.md\n';
    expect(links(text).map((l) => l.target)).toEqual(['x.md', 'img.png', 'ref.md']);
  });
});

describe('Markdown files', () => {
  it('are found', () => {
    expect(FILES).toContain('README.md');
    expect(FILES).toContain('docs/operations.md');
    expect(FILES.some((f) => f.includes('node_modules'))).toBe(false);
  });

  it('have relative links that resolve, anchors included', () => {
    const problems: string[] = [];
    const anchorCache = new Map<string, Set<string>>();
    const anchorsOf = (rel: string) => {
      let a = anchorCache.get(rel);
      if (!a) {
        a = anchors(readRepoFile(rel));
        anchorCache.set(rel, a);
      }
      return a;
    };
    for (const file of FILES) {
      for (const { line, target } of links(readRepoFile(file))) {
        if (isExternal(target)) continue;
        const [rawPath = '', anchor] = target.split('#', 2);
        const decoded = decodeURI(rawPath);
        const rel = decoded
          ? path.posix.normalize(path.posix.join(path.posix.dirname(file), decoded)).replace(/\/$/, '')
          : file;
        const where = `${file}:${line}: ${target}`;
        if (rel.startsWith('..') || path.isAbsolute(decoded)) {
          problems.push(`${where} (leaves the repository)`);
          continue;
        }
        const abs = path.join(REPO_ROOT, rel);
        if (!existsSync(abs)) {
          problems.push(`${where} (no such file)`);
          continue;
        }
        if (anchor && rel.endsWith('.md') && statSync(abs).isFile() && !anchorsOf(rel).has(anchor)) {
          problems.push(`${where} (no heading with that anchor in ${rel})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('hold no merge leftovers', () => {
    const problems: string[] = [];
    for (const file of FILES) {
      const lines = proseLines(readRepoFile(file));
      lines.forEach((line, i) => {
        const where = `${file}:${i + 1}`;
        if (/^(<{7}|={7}|>{7})( |$)/.test(line) || /^(> ){3,}/.test(line)) {
          problems.push(`${where}: conflict marker: ${line}`);
        }
        const separator = /^\|(\s*:?-+:?\s*\|)+\s*$/;
        if (separator.test(line) && separator.test(lines[i - 1] ?? '')) {
          problems.push(`${where}: a table separator row twice`);
        }
      });
    }
    expect(problems).toEqual([]);
  });
});

describe('README.md', () => {
  it('lists every root script of package.json in its scripts table, and no other', () => {
    const scripts = Object.keys(JSON.parse(readRepoFile('package.json')).scripts as object);
    const lines = proseLines(readRepoFile('README.md'));
    const start = lines.findIndex((l) => /^## Root scripts\s*$/.test(l));
    expect(start).toBeGreaterThanOrEqual(0);
    const listed: string[] = [];
    for (let i = start + 1; i < lines.length && !lines[i]?.startsWith('## '); i++) {
      const first = lines[i]?.startsWith('|') ? (lines[i]?.split('|')[1] ?? '') : '';
      // `pnpm <script> [args]`; `pnpm --filter <package> test` runs a package's own script.
      for (const m of first.matchAll(/`pnpm ([a-z][\w:-]*)[^`]*`/g)) listed.push(m[1] as string);
    }
    expect([...listed].sort()).toEqual([...scripts].sort());
  });
});
