/**
 * The few pieces of Markdown the doc tests need: the repository's *.md files, their
 * headings' anchors as GitHub makes them, and their links, with code left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every *.md file of the repository (relative paths), outside node_modules, dist and .git. */
export function markdownFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!['node_modules', 'dist', '.git', '.data'].includes(e.name)) walk(rel);
      } else if (e.name.endsWith('.md')) found.push(rel);
    }
  };
  walk('');
  return found.sort();
}

export const readRepoFile = (rel: string) => readFileSync(path.join(REPO_ROOT, rel), 'utf8');

/** A file's lines with fenced code blocks blanked (kept as '' so line numbers stay). */
export function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (open && open[1]?.[0] === fence[0] && (open[1]?.length ?? 0) >= fence.length) fence = undefined;
      return '';
    }
    if (open) {
      fence = open[1];
      return '';
    }
    return line;
  });
}

/** A line with its inline code spans removed. */
const withoutCode = (line: string) => line.replace(/(`+)(?:(?!\1).)+?\1/g, '');

/**
 * GitHub's heading anchor: the heading's text (code spans keep their content, links their
 * text, emphasis markers go), lower-cased, punctuation but `-` and `_` removed, spaces → `-`.
 */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/(\*+|\b_+|_+\b)(?=\S)|(?<=\S)(\*+)/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown text defines: its headings' slugs (repeats get -1, -2, …). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[text](target)` and reference definitions `[x]: target`. */
export function links(text: string): Link[] {
  const out: Link[] = [];
  proseLines(text).forEach((raw, i) => {
    const line = withoutCode(raw);
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line: i + 1, target: m[1] as string });
    }
    const def = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
    if (def) out.push({ line: i + 1, target: def[1] as string });
  });
  return out;
}

/** A link that leaves the repository (a URL with a scheme, or mail). */
export const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);
