import { readFileSync } from 'node:fs';
import type { JobArgs } from '@spincycle/protocol';
import { builtinJobFactory } from '../src/builtin/index.js';
import type { Job, JobFactory } from '../src/job.js';

let seq = 0;

export function jobId(type: string, name = `${type}-job`) {
  seq++;
  return { type, name, id: `id${seq}`, requestId: 'req1' };
}

/** A job made by `factory` (the built-ins by default). */
export function make(type: string, factory: JobFactory = builtinJobFactory): Job {
  return factory.make(jobId(type));
}

/**
 * What the services do: the RM makes, creates and serializes; the JR makes a
 * fresh instance and deserializes. Returns the JR-side job.
 */
export async function viaWire(
  type: string,
  jobArgs: JobArgs,
  factory: JobFactory = builtinJobFactory,
): Promise<Job> {
  const id = jobId(type);
  const rmJob = factory.make(id);
  await rmJob.create(jobArgs);
  const bytes = await rmJob.serialize();
  const jrJob = factory.make({ ...id });
  await jrJob.deserialize(Uint8Array.from(bytes));
  return jrJob;
}

/** Whether pid names a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
