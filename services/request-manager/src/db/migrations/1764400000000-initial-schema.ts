/**
 * The initial schema, written with the driver-neutral Table API so the same
 * migration runs on MySQL and SQLite. Physical types that differ per driver
 * are chosen by `phys` below. Each table is created only when missing, so a
 * run interrupted half-way (MySQL commits DDL implicitly) can be repeated.
 */
import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import type { TableColumnOptions } from 'typeorm/schema-builder/options/TableColumnOptions.js';

export type Kind = 'mysql' | 'sqlite';

export function kindOf(qr: QueryRunner): Kind {
  return qr.connection.options.type === 'mysql' ? 'mysql' : 'sqlite';
}

/** Column builders: identical logical columns, per-driver physical details. */
export function phys(kind: Kind) {
  const my = kind === 'mysql';
  // Exact, case-sensitive matching for ids, names and arg values (MySQL's default collation is not).
  const bin = my ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
  return {
    id: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...bin,
      ...extra,
    }),
    str: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...extra,
    }),
    small: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'tinyint',
      ...(my ? { unsigned: true } : {}),
      ...extra,
    }),
    int: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'int',
      ...extra,
    }),
    time: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'datetime',
      ...(my ? { precision: 6 } : {}),
      ...extra,
    }),
    /** Unix nanoseconds: BIGINT on MySQL (read back as a string); text on SQLite, whose integers would be read as lossy doubles. */
    nanos: (name: string): TableColumnOptions =>
      my ? { name, type: 'bigint', unsigned: true } : { name, type: 'varchar', length: '20' },
    /** Large payloads (chains reach megabytes): LONGTEXT on MySQL, TEXT (unbounded) on SQLite. */
    big: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: my ? 'longtext' : 'text',
      ...extra,
    }),
  };
}

export class InitialSchema1764400000000 implements MigrationInterface {
  name = 'InitialSchema1764400000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    const create = async (table: Table) => {
      if (!(await qr.hasTable(table.name))) await qr.createTable(table, false, true, true);
    };

    await create(
      new Table({
        name: 'requests',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.id('type', 75),
          c.small('state', { default: 0 }),
          c.id('user', 100, { isNullable: true }),
          c.time('created_at'),
          c.time('started_at', { isNullable: true }),
          c.time('finished_at', { isNullable: true }),
          c.int('total_jobs', { default: 0 }),
          c.int('finished_jobs', { default: 0 }),
          c.str('jr_url', 500, { isNullable: true }),
        ],
        indices: [
          // find: newest first, optionally by state / type / user; request_id is the tie-break.
          new TableIndex({ name: 'idx_requests_created', columnNames: ['created_at', 'request_id'] }),
          new TableIndex({
            name: 'idx_requests_state_created',
            columnNames: ['state', 'created_at', 'request_id'],
          }),
          new TableIndex({
            name: 'idx_requests_type_created',
            columnNames: ['type', 'created_at', 'request_id'],
          }),
          new TableIndex({
            name: 'idx_requests_user_created',
            columnNames: ['user', 'created_at', 'request_id'],
          }),
          // find `since`
          new TableIndex({ name: 'idx_requests_finished', columnNames: ['finished_at'] }),
          // status/running (distinct jr_url of RUNNING) and "requests on this JR" lookups
          new TableIndex({ name: 'idx_requests_state_jr', columnNames: ['state', 'jr_url'] }),
        ],
      }),
    );

    await create(
      new Table({
        name: 'request_archives',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.big('create_request'),
          c.big('args'),
          c.big('job_chain'),
        ],
      }),
    );

    await create(
      new Table({
        name: 'request_args',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.id('name', 100, { isPrimary: true }),
          c.id('value', 255),
        ],
        // find `arg=name=value`: exact match on name and value, yielding request ids.
        indices: [
          new TableIndex({ name: 'idx_request_args_lookup', columnNames: ['name', 'value', 'request_id'] }),
        ],
      }),
    );

    await create(
      new Table({
        name: 'job_log',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.id('job_id', 64, { isPrimary: true }),
          c.int('try', { isPrimary: true }),
          c.str('name', 255),
          c.str('type', 100),
          c.small('state'),
          c.nanos('started_at'),
          c.nanos('finished_at'),
          c.int('exit', { default: 0 }),
          c.big('error'),
          c.big('stdout'),
          c.big('stderr'),
        ],
      }),
    );

    await create(
      new Table({
        name: 'suspended_job_chains',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          c.big('suspended_job_chain'),
          c.id('rm_host', 64, { isNullable: true }),
          c.time('claimed_at', { isNullable: true }),
          c.time('updated_at'),
          c.time('suspended_at'),
        ],
        indices: [new TableIndex({ name: 'idx_sjc_claim', columnNames: ['rm_host', 'suspended_at'] })],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of ['suspended_job_chains', 'job_log', 'request_args', 'request_archives', 'requests']) {
      if (await qr.hasTable(t)) await qr.dropTable(t);
    }
  }
}
