/**
 * Live events (`GET /requests/{id}/events`) read a request's job-log entries in
 * the order they were stored, from any RM: on MySQL `job_log` gets an
 * AUTO_INCREMENT `seq` column (existing rows are numbered) with an index on
 * (request_id, seq); on SQLite the table's `rowid` serves (it only grows, as
 * job-log rows are never deleted). Re-runnable: the column is added only when missing.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { kindOf } from './1764400000000-initial-schema.js';

export class JobLogSeq1764800000000 implements MigrationInterface {
  name = 'JobLogSeq1764800000000';

  async up(qr: QueryRunner): Promise<void> {
    if (kindOf(qr) !== 'mysql') return;
    const table = await qr.getTable('job_log');
    if (table?.findColumnByName('seq')) return;
    await qr.query(
      'ALTER TABLE `job_log` ADD COLUMN `seq` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, ' +
        'ADD UNIQUE KEY `uq_job_log_seq` (`seq`), ADD KEY `idx_job_log_request_seq` (`request_id`, `seq`)',
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    if (kindOf(qr) !== 'mysql') return;
    const table = await qr.getTable('job_log');
    if (!table?.findColumnByName('seq')) return;
    await qr.query(
      'ALTER TABLE `job_log` DROP KEY `idx_job_log_request_seq`, DROP KEY `uq_job_log_seq`, DROP COLUMN `seq`',
    );
  }
}
