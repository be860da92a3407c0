/**
 * The one entity set, shared by MySQL and SQLite. Every column has an explicit
 * portable type (no decorator metadata needed) and property names are the
 * column names, so hand-written WHERE fragments and entity properties agree.
 * Physical types that differ per driver (LONGTEXT vs TEXT, BIGINT vs
 * VARCHAR for nanoseconds, binary collations) are chosen by the migrations;
 * the entity types here only drive value conversion.
 */
import { EntitySchema } from 'typeorm';

export interface RequestRow {
  request_id: string;
  type: string;
  state: number;
  user: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  total_jobs: number;
  finished_jobs: number;
  jr_url: string | null;
}

export interface RequestArchiveRow {
  request_id: string;
  /** CreateRequest JSON `{"Type","Args","User"}` as the original stored it. */
  create_request: string;
  /** RequestArg[] JSON. */
  args: string;
  /** JobChain JSON, pre-serialised once at create. */
  job_chain: string;
  /** Names of the args declared `secret: true` (JSON list); NULL when none. */
  secret_args?: string | null;
}

/** One caller-given arg, for the find `arg=name=value` filter. */
export interface RequestArgRow {
  request_id: string;
  name: string;
  /** Exact string form of the value (see argIndexValue). */
  value: string;
}

export interface JobLogRow {
  request_id: string;
  job_id: string;
  try: number;
  name: string;
  type: string;
  state: number;
  /** Unix nanoseconds as a decimal string (lossless on both drivers). */
  started_at: string;
  finished_at: string;
  exit: number;
  error: string;
  stdout: string;
  stderr: string;
}

export interface SuspendedJobChainRow {
  request_id: string;
  /** SuspendedJobChain JSON. */
  suspended_job_chain: string;
  /** Claim owner (an RM instance id); NULL = unclaimed. */
  rm_host: string | null;
  claimed_at: Date | null;
  updated_at: Date;
  suspended_at: Date;
}

const dt = { type: 'datetime', precision: 6 } as const;

export const RequestEntity = new EntitySchema<RequestRow>({
  name: 'Request',
  tableName: 'requests',
  columns: {
    request_id: { type: 'varchar', length: 20, primary: true },
    type: { type: 'varchar', length: 75 },
    state: { type: 'tinyint', default: 0 },
    user: { type: 'varchar', length: 100, nullable: true },
    created_at: { ...dt },
    started_at: { ...dt, nullable: true },
    finished_at: { ...dt, nullable: true },
    total_jobs: { type: 'int', default: 0 },
    finished_jobs: { type: 'int', default: 0 },
    jr_url: { type: 'varchar', length: 500, nullable: true },
  },
});

export const RequestArchiveEntity = new EntitySchema<RequestArchiveRow>({
  name: 'RequestArchive',
  tableName: 'request_archives',
  columns: {
    request_id: { type: 'varchar', length: 20, primary: true },
    create_request: { type: 'text' },
    args: { type: 'text' },
    job_chain: { type: 'text' },
    secret_args: { type: 'text', nullable: true },
  },
});

export const RequestArgEntity = new EntitySchema<RequestArgRow>({
  name: 'RequestArg',
  tableName: 'request_args',
  columns: {
    request_id: { type: 'varchar', length: 20, primary: true },
    name: { type: 'varchar', length: 100, primary: true },
    value: { type: 'varchar', length: 255 },
  },
});

export const JobLogEntity = new EntitySchema<JobLogRow>({
  name: 'JobLog',
  tableName: 'job_log',
  columns: {
    request_id: { type: 'varchar', length: 20, primary: true },
    job_id: { type: 'varchar', length: 64, primary: true },
    try: { type: 'int', primary: true },
    name: { type: 'varchar', length: 255 },
    type: { type: 'varchar', length: 100 },
    state: { type: 'tinyint' },
    started_at: { type: 'varchar', length: 20 },
    finished_at: { type: 'varchar', length: 20 },
    exit: { type: 'int', default: 0 },
    error: { type: 'text' },
    stdout: { type: 'text' },
    stderr: { type: 'text' },
  },
});

export const SuspendedJobChainEntity = new EntitySchema<SuspendedJobChainRow>({
  name: 'SuspendedJobChain',
  tableName: 'suspended_job_chains',
  columns: {
    request_id: { type: 'varchar', length: 20, primary: true },
    suspended_job_chain: { type: 'text' },
    rm_host: { type: 'varchar', length: 64, nullable: true },
    claimed_at: { ...dt, nullable: true },
    updated_at: { ...dt },
    suspended_at: { ...dt },
  },
});

export const ENTITIES = [
  RequestEntity,
  RequestArchiveEntity,
  RequestArgEntity,
  JobLogEntity,
  SuspendedJobChainEntity,
];
