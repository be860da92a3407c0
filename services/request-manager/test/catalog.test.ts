/** The RM's catalog at start: specs checked as the linter does, plus the job types against the job module. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RequestCatalog, SpecsError } from '../src/catalog.js';

const dir = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('RequestCatalog.load', () => {
  it('refuses specs naming a job type no module makes, naming file, line, node and the known types', async () => {
    const err = await RequestCatalog.load(dir('unknown-job-type'), undefined, process.cwd()).catch((e) => e);
    expect(err).toBeInstanceOf(SpecsError);
    const text = String((err as Error).message);
    expect(text).toContain('nope.yaml:11');
    expect(text).toContain('node second: job type "nope" is not made by the job module or the built-in jobs');
    expect(text).toMatch(/known types: .*noop.*shell-command/);
  });
});
