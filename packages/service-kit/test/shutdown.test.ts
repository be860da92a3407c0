import { describe, expect, it } from 'vitest';
import { type Logger, ShutdownManager } from '../src/index.js';

/** A logger keeping its entries (any object with the Logger methods will do). */
function recordingLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const at =
    (level: string, base: Record<string, unknown>) => (message: string, fields?: Record<string, unknown>) =>
      entries.push({ ...base, ...fields, level, message });
  const make = (base: Record<string, unknown>): Logger => ({
    error: at('error', base),
    warn: at('warn', base),
    info: at('info', base),
    debug: at('debug', base),
    child: (fields) => make({ ...base, ...fields }),
    isInfoEnabled: () => true,
    isDebugEnabled: () => true,
  });
  return { logger: make({}), entries };
}

describe('ShutdownManager reload steps', () => {
  it('runs every step in order; a failing one is logged with its name and does not stop the others', async () => {
    const { logger, entries } = recordingLogger();
    const m = new ShutdownManager(logger);
    const ran: string[] = [];
    m.onReload('a /etc/a', () => {
      ran.push('a');
    });
    m.onReload('b /etc/b', () => {
      throw new Error('cannot read /etc/b: ENOENT');
    });
    m.onReload('c /etc/c', async () => {
      ran.push('c');
    });
    expect(await m.reload('SIGHUP')).toEqual({ reloaded: ['a /etc/a', 'c /etc/c'], failed: ['b /etc/b'] });
    expect(ran).toEqual(['a', 'c']);
    expect(entries.map((e) => [e.level, e.message, e.step ?? e.reloaded])).toEqual([
      ['error', 'reload failed, the old one stays in use', 'b /etc/b'],
      ['info', 'reloaded', ['a /etc/a', 'c /etc/c']],
    ]);
    expect(entries[0]?.error).toBe('cannot read /etc/b: ENOENT');
  });

  it('runs reloads one at a time, and none once shutting down', async () => {
    const { logger } = recordingLogger();
    const m = new ShutdownManager(logger);
    let inside = 0;
    let most = 0;
    m.onReload('slow', async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 20));
      inside--;
    });
    const both = await Promise.all([m.reload('one'), m.reload('two')]);
    expect(both.map((r) => r.reloaded)).toEqual([['slow'], ['slow']]);
    expect(most).toBe(1);
    await m.shutdown('test');
    expect(await m.reload('late')).toEqual({ reloaded: [], failed: [] });
  });

  it('refuses a step name twice', () => {
    const m = new ShutdownManager(recordingLogger().logger);
    m.onReload('x', () => {});
    expect(() => m.onReload('x', () => {})).toThrow("reload step 'x' registered twice");
  });
});
