/** The example configs in deploy/config load with the real config schemas: no unknown keys, no bad values. */
import { join } from 'node:path';
import { loadConfig } from '@spincycle/service-kit';
import { describe, expect, it } from 'vitest';
import { JR_CONFIG_SCHEMA } from '../../services/job-runner/src/config.js';
import { RM_CONFIG_SCHEMA } from '../../services/request-manager/src/config.js';
import { REPO_ROOT } from '../support/system.js';

describe('deploy/config examples', () => {
  it('the Request Manager example is valid', () => {
    const cfg = loadConfig(RM_CONFIG_SCHEMA, {
      file: join(REPO_ROOT, 'deploy/config/request-manager.yaml'),
      env: {},
    });
    expect(cfg['server.addr']).toBe('0.0.0.0:32308');
    expect(cfg['jr.lease']).toBe(30_000);
    expect(cfg['auth.strict']).toBe(true);
  });
  it('the Job Runner example is valid', () => {
    const cfg = loadConfig(JR_CONFIG_SCHEMA, {
      file: join(REPO_ROOT, 'deploy/config/job-runner.yaml'),
      env: {},
    });
    expect(cfg['jobs.max_concurrent']).toBe(200);
    expect(cfg['shutdown.grace']).toBe(20_000);
  });
});
