/**
 * `idempotency_keys`: the Idempotency-Key of each create (per user), so a
 * repeated create is answered with the first request from any RM. The
 * primary key (user, key) is the lock: the first INSERT wins. Driver-neutral
 * like the initial schema; created only when missing, so it can be repeated.
 */
import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { kindOf, phys } from './1764400000000-initial-schema.js';

export class IdempotencyKeys1764700000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764700000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    if (await qr.hasTable('idempotency_keys')) return;
    await qr.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          // The authenticated user name ('' = anonymous), as requests.user.
          c.id('user', 100, { isPrimary: true }),
          c.id('idem_key', 255, { isPrimary: true }),
          // sha256 (hex) of the canonical create body.
          c.id('body_hash', 64),
          // Set once the request is stored.
          c.id('request_id', 20, { isNullable: true }),
          // 0 = in progress, 1 = done.
          c.small('state', { default: 0 }),
          c.time('created_at'),
        ],
        // The purge: oldest first.
        indices: [new TableIndex({ name: 'idx_idempotency_created', columnNames: ['created_at'] })],
      }),
      false,
      true,
      true,
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    if (await qr.hasTable('idempotency_keys')) await qr.dropTable('idempotency_keys');
  }
}
