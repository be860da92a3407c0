#!/usr/bin/env node
/** The `spinc` executable. */
import { runSpinc } from './run.js';

// A reader that went away (`spinc find | head -1`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

const code = await runSpinc(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// Exit once stdout has drained (pipes to a slow reader must not lose the tail).
process.stdout.write('', () => process.exit(code));
