/**
 * High availability: `job_runners` (the last heartbeat of every Job Runner,
 * so any RM can tell whether the JR of a RUNNING request is alive) and
 * `leases` (named, expiring locks held by one RM at a time, e.g. the lost-JR
 * sweeper). Driver-neutral like the initial schema; tables are created only
 * when missing, so the migration can be repeated.
 */
import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { kindOf, phys } from './1764400000000-initial-schema.js';

export class JobRunners1764500000000 implements MigrationInterface {
  name = 'JobRunners1764500000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    const create = async (table: Table) => {
      if (!(await qr.hasTable(table.name))) await qr.createTable(table, false, true, true);
    };

    await create(
      new Table({
        name: 'job_runners',
        columns: [
          // The JR's advertised base URL, as recorded in requests.jr_url.
          c.id('jr_url', 500, { isPrimary: true }),
          c.id('instance', 64),
          c.time('started_at', { isNullable: true }),
          c.time('last_seen'),
          c.int('chains', { default: 0 }),
          c.small('draining', { default: 0 }),
          // JSON: HeldChain[] of the last heartbeat (request ids and their running jobs).
          c.big('held'),
          c.id('rm_host', 64, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'idx_job_runners_seen', columnNames: ['last_seen'] })],
      }),
    );

    await create(
      new Table({
        name: 'leases',
        columns: [
          c.id('name', 64, { isPrimary: true }),
          c.id('holder', 64),
          c.time('expires_at'),
          c.time('acquired_at'),
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of ['leases', 'job_runners']) {
      if (await qr.hasTable(t)) await qr.dropTable(t);
    }
  }
}
