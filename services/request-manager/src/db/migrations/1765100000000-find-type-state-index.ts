/**
 * find by type and state, newest first (the dashboard's and `spinc find`'s
 * usual query): with only (state, created_at, id) and (type, created_at, id)
 * the database walks one of them and filters the other column row by row (on
 * a history where most requests are COMPLETE, EXPLAIN showed ~all rows of the
 * state examined for a page of 100). (type, state, created_at, id) makes it a
 * range read of exactly the page, also for the next page's cursor. Added only
 * when missing, so the migration can be repeated.
 */
import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

const NAME = 'idx_requests_type_state_created';

export class FindTypeStateIndex1765100000000 implements MigrationInterface {
  name = 'FindTypeStateIndex1765100000000';

  async up(qr: QueryRunner): Promise<void> {
    const table = await qr.getTable('requests');
    if (table?.indices.some((i) => i.name === NAME)) return;
    await qr.createIndex(
      'requests',
      new TableIndex({ name: NAME, columnNames: ['type', 'state', 'created_at', 'request_id'] }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    const table = await qr.getTable('requests');
    if (table?.indices.some((i) => i.name === NAME)) await qr.dropIndex('requests', NAME);
  }
}
