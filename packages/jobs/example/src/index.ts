/**
 * `file-exists`: fails unless a file exists and has at least `minBytes` bytes.
 * Passes the file's size on to later jobs as job data `<name>.size`.
 */
import { stat } from 'node:fs/promises';
import {
  BaseJob,
  type JobArgs,
  type JobData,
  type JobMakers,
  type JobReturn,
  optionalCount,
  requiredString,
} from '@spincycle/jobs';

interface FileExistsArgs {
  path: string;
  minBytes: number;
}

export class FileExistsJob extends BaseJob<FileExistsArgs> {
  // Request Manager side: a missing or bad arg is a 400 that names it.
  protected override parseArgs(jobArgs: JobArgs): FileExistsArgs {
    return { path: requiredString(jobArgs, 'path'), minBytes: optionalCount(jobArgs, 'minBytes', 1) };
  }

  // Job Runner side: this.args comes back from the bytes serialize() wrote.
  override async run(jobData: JobData): Promise<JobReturn> {
    const { path, minBytes } = this.args;
    this.setStatus(`checking ${path}`);
    try {
      const { size } = await stat(path);
      jobData[`${this.jobId.name}.size`] = size;
      if (size < minBytes) return this.fail(`${path} has ${size} bytes, expected at least ${minBytes}`);
      this.setStatus(`${path}: ${size} bytes`);
      return this.complete({ stdout: `${path} ${size}\n` });
    } catch (err) {
      return this.fail(`${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
}

export const factory: JobMakers = { 'file-exists': FileExistsJob };
