#!/usr/bin/env node
// `pnpm start`: one Request Manager and one Job Runner on this machine, SQLite
// under .data/, the example specs in specs/. Ctrl-C stops both (the JR first,
// so it can hand its chains back).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rmAddr = process.env.SPINCYCLE_RM_ADDR ?? '127.0.0.1:32308';
const jrAddr = process.env.SPINCYCLE_JR_ADDR ?? '127.0.0.1:32307';
const common = { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty' };

function run(name, main, env) {
  const child = spawn(process.execPath, [join(root, main)], {
    cwd: root,
    env: { ...common, ...env },
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
const rm = run('request-manager', 'services/request-manager/dist/main.js', {
  SPINCYCLE_SERVER_ADDR: rmAddr,
  SPINCYCLE_SPECS_DIR: process.env.SPINCYCLE_SPECS_DIR ?? join(root, 'specs'),
  SPINCYCLE_DATA_DIR: process.env.SPINCYCLE_DATA_DIR ?? join(root, '.data'),
  SPINCYCLE_JR_CLIENT_URL: `http://${jrAddr}`,
});
let jr;

async function waitUp(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const gone = (c) =>
    new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r)));
  if (jr) {
    jr.kill('SIGTERM');
    await gone(jr);
  }
  rm.kill('SIGTERM');
  await gone(rm);
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// The JR starts once the RM answers, so its first heartbeat reaches it.
if (await waitUp(`http://${rmAddr}`)) {
  jr = run('job-runner', 'services/job-runner/dist/main.js', {
    SPINCYCLE_SERVER_ADDR: jrAddr,
    SPINCYCLE_RM_CLIENT_URL: `http://${rmAddr}`,
  });
}
if (jr && (await waitUp(`http://${jrAddr}`))) {
  console.log(`
Spin Cycle is running.
  Request Manager: http://${rmAddr}   (SQLite in .data/, specs from specs/)
  Job Runner:      http://${jrAddr}
  Dashboard:       http://${rmAddr}/ui/

Try it:
  curl -s -H 'Content-Type: application/json' -d '{"type":"test","args":{"sleepTime":"500"}}' http://${rmAddr}/api/v1/requests
  curl -s http://${rmAddr}/api/v1/requests
  pnpm spinc --addr http://${rmAddr} start test sleepTime=500 --wait

Press Ctrl-C to stop.
`);
}
