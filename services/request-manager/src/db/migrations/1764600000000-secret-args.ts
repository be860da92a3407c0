/**
 * Secret args: `request_archives.secret_args` holds the names of a request's
 * args declared `secret: true` (a JSON list; NULL when there are none), so
 * answers are redacted and job output masked without re-reading the specs.
 * Added only when missing, so the migration can be repeated.
 */
import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { kindOf, phys } from './1764400000000-initial-schema.js';

export class SecretArgs1764600000000 implements MigrationInterface {
  name = 'SecretArgs1764600000000';

  async up(qr: QueryRunner): Promise<void> {
    const c = phys(kindOf(qr));
    if (!(await qr.hasColumn('request_archives', 'secret_args')))
      await qr.addColumn('request_archives', new TableColumn(c.big('secret_args', { isNullable: true })));
  }

  async down(qr: QueryRunner): Promise<void> {
    if (await qr.hasColumn('request_archives', 'secret_args'))
      await qr.dropColumn('request_archives', 'secret_args');
  }
}
