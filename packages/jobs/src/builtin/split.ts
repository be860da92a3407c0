/**
 * `split`: create-only. Splits arg `input` on `sep` (default `,`) and sets arg
 * `output` to the non-empty trimmed parts. Nothing to do at run time, so it
 * serializes nothing. Kept allocation-light: the chain builder may call it often.
 */
import type { JobArgs, JobData } from '@spincycle/protocol';
import { BaseJob } from '../base-job.js';
import { JobArgError } from '../errors.js';
import type { JobReturn } from '../job.js';

export class SplitJob extends BaseJob {
  override create(jobArgs: JobArgs): void {
    const input = jobArgs.input;
    if (typeof input !== 'string') throw new JobArgError('input', input, 'must be a string');
    let sep = jobArgs.sep;
    if (sep === undefined || sep === null) sep = ',';
    else if (typeof sep !== 'string' || sep === '')
      throw new JobArgError('sep', sep, 'must be a non-empty string');
    const output: string[] = [];
    for (const part of input.split(sep as string)) {
      const item = part.trim();
      if (item !== '') output.push(item);
    }
    jobArgs.output = output;
  }

  override async run(_jobData: JobData): Promise<JobReturn> {
    return this.complete();
  }
}
