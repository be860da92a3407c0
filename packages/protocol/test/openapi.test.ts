/**
 * The OpenAPI documents: valid 3.1 by Redocly's `recommended` rules (no
 * problem at all, warnings included), no 3.0-only keywords, every schema
 * compiles under Ajv's 2020-12 build, and the schemas cannot drift from the
 * DTOs: for generated payloads (well-formed, one field replaced by any JSON
 * value, or dropped) the DTO parser and the schema accept and refuse the same.
 */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  internalOpenApi,
  parseCreateRequest,
  parseFinishRequest,
  parseHeartbeat,
  parseJobLog,
  parseRequestProgress,
  publicOpenApi,
  SCHEMAS,
} from '../src/index.js';

const DOCS = { public: publicOpenApi(), internal: internalOpenApi() };

function ajvFor(doc: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: (doc.components as Record<string, unknown>) ?? {} });
  return ajv;
}

const ajv = new Ajv2020({ strict: false });
ajv.addSchema({ $id: 'all', components: { schemas: SCHEMAS } });
const schemaAccepts = (name: string, v: unknown) =>
  ajv.validate({ $ref: `all#/components/schemas/${name}` }, v) === true;
const parses = (parse: (b: unknown) => unknown, v: unknown) => {
  try {
    parse(v);
    return true;
  } catch {
    return false;
  }
};

describe('the OpenAPI documents', () => {
  for (const [name, doc] of Object.entries(DOCS)) {
    it(`${name}: Redocly's recommended rules find nothing`, async () => {
      const config = await createConfig({ extends: ['recommended'] });
      const problems = await lintFromString({
        source: JSON.stringify(doc),
        absoluteRef: `${name}.json`,
        config,
      });
      expect(problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
      expect(doc.openapi).toBe('3.1.0');
    });

    it(`${name}: no 3.0 keywords, and every schema compiles as JSON Schema 2020-12`, () => {
      expect(JSON.stringify(doc)).not.toMatch(/"(nullable|exclusiveMinimum":true|example)"/);
      const a = ajvFor(doc);
      for (const s of Object.keys((doc.components as { schemas: object }).schemas))
        expect(() => a.compile({ $ref: `doc#/components/schemas/${s}` }), s).not.toThrow();
    });
  }

  it('names every public endpoint of the contract and every internal one', () => {
    const ops = (doc: Record<string, unknown>) =>
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
        Object.keys(item)
          .filter((k) => k !== 'servers')
          .map((m) => `${m.toUpperCase()} ${p}`),
      );
    expect(ops(DOCS.public)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/requests',
        'GET /api/v1/requests',
        'GET /api/v1/requests/{id}',
        'PUT /api/v1/requests/{id}/stop',
        'GET /api/v1/requests/{id}/log',
        'GET /api/v1/requests/{id}/log/{jobId}',
        'GET /api/v1/status/running',
        'GET /api/v1/request-list',
      ]),
    );
    expect(ops(DOCS.internal)).toEqual(
      expect.arrayContaining([
        'PUT /api/v1/requests/{id}/finish',
        'POST /api/v1/internal/reports',
        'PUT /api/v1/job-runners/heartbeat',
        'POST /api/v1/job-chains',
        'PUT /api/v1/job-chains/{id}/stop',
      ]),
    );
  });
});

// ------------------------------------------------------------------ DTOs and schemas agree

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1.5, 2 ** 53, '', '12', '-3', 'x', null, [], {}, true),
);
const time = fc.oneof(
  fc
    .date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2200-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom('2006-01-02T15:04:05Z', '2006-01-02 15:04:05.5+07:00', 'yesterday', '', '2006-01-02'),
);
const nanos = fc.oneof(
  fc.nat(),
  fc.integer({ min: -5, max: -1 }),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.constantFrom('abc', '-5', 1.5),
);

/** A well-formed payload, then maybe one field replaced by any value or dropped. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>, keys: string[]) {
  return fc
    .tuple(valid, fc.option(fc.tuple(fc.constantFrom(...keys), fc.option(anyValue, { nil: undefined }))))
    .map(([v, change]) => {
      if (!change) return v;
      const out = { ...v };
      if (change[1] === undefined) delete out[change[0]];
      else out[change[0]] = change[1];
      return out;
    });
}

const CASES: Array<[string, (b: unknown) => unknown, fc.Arbitrary<unknown>]> = [
  [
    'CreateRequest',
    parseCreateRequest,
    mutated(
      fc.record({
        type: fc.string({ minLength: 1 }),
        args: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 })),
      }),
      ['type', 'args'],
    ),
  ],
  [
    'FinishRequest',
    parseFinishRequest,
    mutated(
      fc.record({
        requestId: fc.string(),
        state: fc.constantFrom(3, 4, 6),
        finishedAt: time,
        finishedJobs: fc.nat(),
      }),
      ['requestId', 'state', 'finishedAt', 'finishedJobs'],
    ),
  ],
  [
    'RequestProgress',
    parseRequestProgress,
    mutated(fc.record({ requestId: fc.string(), finishedJobs: fc.nat() }), ['requestId', 'finishedJobs']),
  ],
  [
    'JobLog',
    parseJobLog,
    mutated(
      fc.record({
        requestId: fc.string(),
        jobId: fc.string(),
        try: fc.nat(),
        name: fc.string(),
        type: fc.string(),
        startedAt: nanos,
        finishedAt: nanos,
        state: fc.integer({ min: -1, max: 8 }),
        exit: fc.oneof(fc.integer(), fc.constant(null)),
        error: fc.oneof(fc.string(), fc.constant(null)),
        stdout: fc.string(),
        stderr: fc.string(),
      }),
      [
        'requestId',
        'jobId',
        'try',
        'name',
        'type',
        'startedAt',
        'finishedAt',
        'state',
        'exit',
        'error',
        'stdout',
      ],
    ),
  ],
  [
    'JobRunnerHeartbeat',
    parseHeartbeat,
    mutated(
      fc.record({
        jrURL: fc.constantFrom('http://jr:32307', 'https://jr.example', 'ftp://x', 'http://'),
        instance: fc.string(),
        startedAt: time,
        draining: fc.boolean(),
        requests: fc.array(
          fc.record({
            requestId: fc.string(),
            jobs: fc.oneof(fc.array(fc.record({ jobId: fc.string(), try: fc.nat() })), anyValue),
          }),
          { maxLength: 2 },
        ),
      }),
      ['jrURL', 'instance', 'startedAt', 'requests'],
    ),
  ],
];

describe('the schemas accept and refuse what the DTO parsers do', () => {
  for (const [name, parse, payload] of CASES)
    it(name, () => {
      let refused = 0;
      fc.assert(
        fc.property(payload, (v) => {
          const dto = parses(parse, v);
          if (!dto) refused++;
          if (dto !== schemaAccepts(name, v))
            throw new Error(
              `DTO ${dto ? 'accepts' : 'refuses'} but the schema does not: ${JSON.stringify(v)}`,
            );
        }),
        { seed: 4242, numRuns: 400 },
      );
      // Both kinds were met (the generator is not one-sided).
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(400);
    });
});
