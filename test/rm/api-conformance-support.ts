/**
 * Checking real answers against the OpenAPI documents (api-conformance.test.ts):
 * a call's status must be declared for its operation, its content type listed
 * and its body valid for that response's schema (Ajv, JSON Schema 2020-12); a
 * Server-Sent Events body is parsed and each event checked against the
 * operation's `x-event-schema`. Every operation checked is recorded in `seen`.
 */
import { internalOpenApi, publicOpenApi } from '@spincycle/protocol';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { type Call, checkAnswer, send } from '../support/fuzz-http.js';

export const DOCS = { public: publicOpenApi(), internal: internalOpenApi() };
const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const [name, doc] of Object.entries(DOCS)) ajv.addSchema({ $id: name, components: doc.components });

export type Doc = keyof typeof DOCS;
type Media = { schema: unknown; 'x-event-schema'?: unknown };
interface Op {
  responses: Record<string, { content?: Record<string, Media> } | { $ref: string }>;
}

/** The operation `template` (a path of the document) names for `method`. */
function opOf(doc: Doc, method: string, template: string): Op {
  const item = (DOCS[doc].paths as Record<string, Record<string, Op>>)[template];
  const op = item?.[method.toLowerCase()];
  if (!op) throw new Error(`${doc} document has no ${method} ${template}`);
  return op;
}

/** Refs of a schema made absolute to its document (for Ajv). */
function inDoc(doc: Doc, schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${doc}#/components/`));
}

function validate(doc: Doc, schema: unknown, value: unknown, where: string): void {
  const check = ajv.compile(inDoc(doc, schema) as object);
  if (!check(value)) throw new Error(`answer not valid: ${where}\n${ajv.errorsText(check.errors)}`);
}

/** Events of a text/event-stream body, as an EventSource parses them (`data` decoded as JSON). */
export function parseSse(text: string): Array<{ id: string; event: string; data: unknown }> {
  const out: Array<{ id: string; event: string; data: unknown }> = [];
  for (const block of text.split('\n\n')) {
    const field = (name: string) =>
      block
        .split('\n')
        .filter((l) => l.startsWith(`${name}:`))
        .map((l) => l.slice(name.length + 1).trim());
    const data = field('data');
    if (data.length > 0)
      out.push({
        id: field('id')[0] ?? '',
        event: field('event')[0] ?? 'message',
        data: JSON.parse(data.join('\n')),
      });
  }
  return out;
}

/** Operations called, with the statuses seen. */
export const seen = new Map<string, Set<number>>();

export interface Checked {
  status: number;
  json: unknown;
  text: string;
  headers: Record<string, string>;
}

/** Call `base`, and check the answer against the document's response of that path, method and status. */
export async function conform(
  base: string,
  doc: Doc,
  template: string,
  c: Call,
  expected: number,
): Promise<Checked> {
  const a = await send(base, c);
  const where = `${c.method} ${c.path} → ${a.status} ${a.text.slice(0, 300)}`;
  expect(a.status, where).toBe(expected);
  // A 5xx asked for (502, 503) is checked below against its declared ErrorBody.
  if (expected < 500) checkAnswer(c, a);
  const key = `${doc} ${c.method} ${template}`;
  seen.set(key, (seen.get(key) ?? new Set()).add(a.status));
  const out: Checked = { status: a.status, json: undefined, text: a.text, headers: a.headers };
  // A wrong method on a known path: 405 with the error body (no operation to declare it).
  if (a.status === 405) return { ...out, json: JSON.parse(a.text) };
  let res = opOf(doc, c.method, template).responses[String(a.status)];
  expect(res, `status not declared: ${where}`).toBeDefined();
  if (res && '$ref' in res)
    res = (DOCS[doc].components as { responses: Record<string, Op['responses'][string]> }).responses[
      res.$ref.split('/').pop() as string
    ];
  const content = (res as { content?: Record<string, Media> }).content;
  const type = (a.headers['content-type'] ?? '').split(';')[0] as string;
  if (!content) {
    expect(a.text, `empty body expected: ${where}`).toBe('');
    return out;
  }
  expect(Object.keys(content), where).toContain(type);
  const media = content[type] as Media;
  if (type === 'application/json') {
    out.json = JSON.parse(a.text);
    validate(doc, media.schema, out.json, where);
  }
  if (type === 'text/event-stream') {
    expect(media['x-event-schema'], where).toBeDefined();
    for (const e of parseSse(a.text)) validate(doc, media['x-event-schema'], e, `${where}\nevent ${e.event}`);
  }
  return out;
}
