/**
 * A strict reader of the Prometheus text format (0.0.4) for the metrics
 * tests: every line must be a comment, `# HELP`, `# TYPE` or a sample with a
 * number; anything else throws naming the line.
 */

interface Sample {
  /** The sample's name (`x_bucket`, `x_count` for a histogram `x`). */
  name: string;
  /** The metric family (from the latest `# TYPE`). */
  family: string;
  type: string;
  labels: Record<string, string>;
  value: number;
}

const TYPE_LINE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function labelsOf(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels in: ${line}`);
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

export interface Exposition {
  samples: Sample[];
  /** Every family declared by `# TYPE`, with or without samples (a labelled counter before its first event). */
  types: Map<string, string>;
}

export function parseExposition(text: string): Exposition {
  const out: Sample[] = [];
  const types = new Map<string, string>();
  let family = '';
  let type = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = TYPE_LINE.exec(line);
    if (t) {
      family = t[1] as string;
      type = t[2] as string;
      types.set(family, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const name = m[1] as string;
    if (!name.startsWith(family)) throw new Error(`sample ${name} outside its family ${family}`);
    const value = Number(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') throw new Error(`bad value in: ${line}`);
    out.push({ name, family, type, labels: labelsOf(m[3] ?? '', line), value });
  }
  return { samples: out, types };
}
