/**
 * Suspended job chains (docs/compatibility.md#suspend-and-resume). Any number of RMs share this table:
 * an RM works on an SJC only after claiming it with a conditional UPDATE on
 * `rm_host`, and every later step is conditional on still holding the claim.
 */
import type { EntityManager } from 'typeorm';
import type { Db } from '../db/db.js';
import { SuspendedJobChainEntity, type SuspendedJobChainRow } from '../db/entities.js';

export class SjcStore {
  constructor(private readonly db: Db) {}

  /** Store an SJC unclaimed, replacing a stale one of the same request (caller's transaction). */
  async putIn(m: EntityManager, requestId: string, body: string, now: Date): Promise<void> {
    await m
      .createQueryBuilder()
      .delete()
      .from(SuspendedJobChainEntity)
      .where('request_id = :requestId', { requestId })
      .execute();
    await this.db.insert(m, SuspendedJobChainEntity, [
      {
        request_id: requestId,
        suspended_job_chain: body,
        rm_host: null,
        claimed_at: null,
        updated_at: now,
        suspended_at: now,
      },
    ]);
  }

  /** Claim an unclaimed SJC for `me`; false when someone else has it or it is gone. */
  claim(requestId: string, me: string, now = new Date()): Promise<boolean> {
    return this.db.run(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(SuspendedJobChainEntity)
        .set({ rm_host: me, claimed_at: now, updated_at: now })
        .where('request_id = :requestId AND rm_host IS NULL', { requestId })
        .execute();
      return (res.affected ?? 0) > 0;
    });
  }

  /** Give a claim back (only if `me` still holds it). */
  unclaim(requestId: string, me: string, now = new Date()): Promise<boolean> {
    return this.db.run(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(SuspendedJobChainEntity)
        .set({ rm_host: null, claimed_at: null, updated_at: now })
        .where('request_id = :requestId AND rm_host = :me', { requestId, me })
        .execute();
      return (res.affected ?? 0) > 0;
    });
  }

  /** Release claims not refreshed since `before` (their holder presumably died). */
  unclaimAbandoned(before: Date, now = new Date()): Promise<number> {
    return this.db.run(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(SuspendedJobChainEntity)
        .set({ rm_host: null, claimed_at: null, updated_at: now })
        .where('rm_host IS NOT NULL AND updated_at < :before', { before })
        .execute();
      return res.affected ?? 0;
    });
  }

  /** Request ids of unclaimed SJCs (optionally only those suspended before `suspendedBefore`). */
  async listUnclaimed(suspendedBefore?: Date): Promise<string[]> {
    const rows = await this.db.run((m) => {
      const qb = m
        .createQueryBuilder(SuspendedJobChainEntity, 's')
        .select('s.request_id', 'id')
        .where('s.rm_host IS NULL');
      if (suspendedBefore) qb.andWhere('s.suspended_at < :before', { before: suspendedBefore });
      return qb.orderBy('s.suspended_at', 'ASC').getRawMany() as Promise<Array<{ id: string }>>;
    });
    return rows.map((r) => r.id);
  }

  /** The SJC body, only when `me` holds the claim. */
  async getClaimed(requestId: string, me: string): Promise<string | undefined> {
    const raw = (await this.db.run((m) =>
      m
        .createQueryBuilder(SuspendedJobChainEntity, 's')
        .select('s.suspended_job_chain', 'body')
        .where('s.request_id = :requestId AND s.rm_host = :me', { requestId, me })
        .getRawOne(),
    )) as { body?: string } | undefined;
    return raw?.body ?? undefined;
  }

  get(requestId: string): Promise<SuspendedJobChainRow | undefined> {
    return this.db.run(
      async (m) =>
        (await m
          .createQueryBuilder(SuspendedJobChainEntity, 's')
          .where('s.request_id = :requestId', { requestId })
          .getOne()) ?? undefined,
    );
  }

  /** Delete an SJC; with `me`, only if `me` holds the claim. */
  async delete(requestId: string, me?: string, m?: EntityManager): Promise<boolean> {
    const run = async (mm: EntityManager) => {
      const qb = mm
        .createQueryBuilder()
        .delete()
        .from(SuspendedJobChainEntity)
        .where('request_id = :requestId', { requestId });
      if (me !== undefined) qb.andWhere('rm_host = :me', { me });
      const res = await qb.execute();
      return (res.affected ?? 0) > 0;
    };
    return m ? run(m) : this.db.run(run);
  }
}
