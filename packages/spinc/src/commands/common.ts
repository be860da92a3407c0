/** Argument checks shared by commands. */
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

/** The single request id a command takes. */
export function oneId(ctx: Context, command: string): string {
  const id = ctx.args[0];
  if (ctx.args.length !== 1 || id === undefined || id.trim() === '') {
    throw new UsageError(`${command} takes one argument: a request id. Usage: spinc ${command} <id>`);
  }
  return id.trim();
}
