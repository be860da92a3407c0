/**
 * `request_archive_parts`: an archived text too big for one statement (a job
 * chain of 100,000+ jobs is tens of MB, over MariaDB's default 16 MiB
 * `max_allowed_packet`) is stored as numbered pieces here, and its column in
 * `request_archives` holds '' (never a valid stored JSON text). Readers join
 * the pieces in `part` order. Created only when missing, so the migration can
 * be repeated.
 */
import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { kindOf, phys } from './1764400000000-initial-schema.js';

export class ArchiveParts1765000000000 implements MigrationInterface {
  name = 'ArchiveParts1765000000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    if (await qr.hasTable('request_archive_parts')) return;
    await qr.createTable(
      new Table({
        name: 'request_archive_parts',
        columns: [
          c.id('request_id', 20, { isPrimary: true }),
          // The request_archives column the piece belongs to: job_chain, args or create_request.
          c.id('field', 32, { isPrimary: true }),
          c.int('part', { isPrimary: true }),
          c.big('text'),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    if (await qr.hasTable('request_archive_parts')) await qr.dropTable('request_archive_parts');
  }
}
