/** The schema migrations and the runner that applies them at boot or with `main.ts migrate`. */
import type { Logger } from '@spincycle/service-kit';
import type { DataSource } from 'typeorm';
import { InitialSchema1764400000000 } from './migrations/1764400000000-initial-schema.js';
import { JobRunners1764500000000 } from './migrations/1764500000000-job-runners.js';
import { SecretArgs1764600000000 } from './migrations/1764600000000-secret-args.js';
import { IdempotencyKeys1764700000000 } from './migrations/1764700000000-idempotency-keys.js';
import { JobLogSeq1764800000000 } from './migrations/1764800000000-job-log-seq.js';
import { OperatorFeatures1764900000000 } from './migrations/1764900000000-operator-features.js';
import { ArchiveParts1765000000000 } from './migrations/1765000000000-archive-parts.js';
import { FindTypeStateIndex1765100000000 } from './migrations/1765100000000-find-type-state-index.js';
import { MIGRATION_LOCK_SQL, MIGRATION_UNLOCK_SQL } from './sql.js';

export const MIGRATIONS = [
  InitialSchema1764400000000,
  JobRunners1764500000000,
  SecretArgs1764600000000,
  IdempotencyKeys1764700000000,
  JobLogSeq1764800000000,
  OperatorFeatures1764900000000,
  ArchiveParts1765000000000,
  FindTypeStateIndex1765100000000,
];
export const MIGRATIONS_TABLE = 'spincycle_migrations';

/**
 * Apply pending migrations. Safe when several RMs boot at once: on MySQL the
 * run happens under GET_LOCK('spincycle_migrate'), so the others wait and
 * then find nothing left to do; SQLite serialises writers itself.
 */
export async function migrate(ds: DataSource, logger?: Logger): Promise<string[]> {
  if (ds.options.type !== 'mysql') {
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  }
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    const [row] = (await qr.query(MIGRATION_LOCK_SQL)) as Array<{ got: number | string | null }>;
    if (Number(row?.got) !== 1)
      throw new Error(
        'could not get the migration lock (spincycle_migrate) within 60 s: another RM is migrating',
      );
    try {
      // MySQL commits DDL implicitly, so per-migration transactions buy nothing; migrations are re-runnable instead.
      const done = await ds.runMigrations({ transaction: 'none' });
      if (done.length > 0) logger?.info('migrations applied', { migrations: done.map((m) => m.name) });
      return done.map((m) => m.name);
    } finally {
      await qr.query(MIGRATION_UNLOCK_SQL);
    }
  } finally {
    await qr.release();
  }
}
