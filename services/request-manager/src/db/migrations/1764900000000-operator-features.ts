/**
 * Locks, schedules and notifications:
 * - `request_locks`: the holder of each (lock name, value); the primary key
 *   makes a second holder impossible across RMs. `request_lock_waits`: the
 *   locks a PENDING request waits for, oldest first.
 * - `schedule_runs`: one row per (schedule, due time), inserted before the
 *   request is created, so one RM fires each run at most once.
 * - `notifications`: one row per (request, webhook URL) with its attempts.
 * Tables are created only when missing, so the migration can be repeated.
 */
import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { kindOf, phys } from './1764400000000-initial-schema.js';

export class OperatorFeatures1764900000000 implements MigrationInterface {
  name = 'OperatorFeatures1764900000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    const create = async (table: Table) => {
      if (!(await qr.hasTable(table.name))) await qr.createTable(table, false, true, true);
    };
    await create(
      new Table({
        name: 'request_locks',
        columns: [
          c.id('lock_name', 100, { isPrimary: true }),
          // Values longer than this are locked by their SHA-256 (see locks.ts).
          c.id('lock_value', 191, { isPrimary: true }),
          c.id('request_id', 20),
          c.time('acquired_at'),
        ],
        indices: [new TableIndex({ name: 'idx_request_locks_request', columnNames: ['request_id'] })],
      }),
    );
    await create(
      new Table({
        name: 'request_lock_waits',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.id('lock_name', 100, { isPrimary: true }),
          c.id('lock_value', 191, { isPrimary: true }),
          c.time('created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'idx_lock_waits_lock',
            columnNames: ['lock_name', 'lock_value', 'created_at'],
          }),
        ],
      }),
    );
    await create(
      new Table({
        name: 'schedule_runs',
        columns: [
          c.id('schedule', 100, { isPrimary: true }),
          c.time('due_at', { isPrimary: true }),
          // created | skipped | failed
          c.str('outcome', 16),
          c.id('request_id', 20, { isNullable: true }),
          c.big('error', { isNullable: true }),
          c.id('rm_host', 64),
          c.time('fired_at'),
        ],
      }),
    );
    await create(
      new Table({
        name: 'notifications',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.id('url', 500, { isPrimary: true }),
          // pending | delivered | failed
          c.str('status', 16),
          c.int('attempts', { default: 0 }),
          c.int('http_status', { isNullable: true }),
          c.big('last_error', { isNullable: true }),
          c.id('rm_host', 64, { isNullable: true }),
          c.time('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_notifications_status', columnNames: ['status', 'updated_at'] }),
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of ['notifications', 'schedule_runs', 'request_lock_waits', 'request_locks'])
      if (await qr.hasTable(t)) await qr.dropTable(t);
  }
}
