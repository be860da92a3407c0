/**
 * Reads the deployment files (deploy/kubernetes/rendered/production.yaml, deploy/compose.yaml,
 * deploy/docker/Dockerfile and its `spincycle` entrypoint) and turns a workload's container into
 * the process the image would run: the real `node …/dist/main.js …` command, the environment as
 * Kubernetes resolves it (secretKeyRef, configMapKeyRef, the downward-API pod IP, `$(VAR)`), and
 * the mounted ConfigMaps/Secrets written to files. Only what one machine cannot have is
 * substituted (ports, Service addresses, mount paths, the pod IP) and every substitution is
 * recorded, so a test can assert them and a manifest change that breaks the commands fails.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/system.js';

const RENDERED = 'deploy/kubernetes/rendered/production.yaml';
const COMPOSE = 'deploy/compose.yaml';
const DOCKERFILE = 'deploy/docker/Dockerfile';
const ENTRYPOINT_SCRIPT = 'deploy/docker/spincycle';
const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface HttpProbe {
  httpGet: { path: string; port: string | number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  containers: Container[];
  volumes?: Volume[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface Workload {
  kind: string;
  name: string;
  replicas: number;
  /** Deployments: the rolling-update bounds (Kubernetes' defaults when not set). */
  maxSurge: number;
  maxUnavailable: number;
  pod: PodSpec;
}

/** Kubernetes' `intOrPercent` of `replicas` (surge rounds up, unavailable down). */
function bound(v: unknown, replicas: number, up: boolean): number {
  if (typeof v === 'number') return v;
  const pct = Number.parseFloat(String(v ?? '25%')) / 100;
  return up ? Math.ceil(pct * replicas) : Math.floor(pct * replicas);
}

/** The objects of the rendered production manifests. */
export class Manifests {
  readonly objects: K8sObject[];
  constructor(text = read(RENDERED)) {
    this.objects = parseAllDocuments(text)
      .map((d) => d.toJS() as K8sObject)
      .filter(Boolean);
  }
  find(kind: string, name: string): K8sObject {
    const o = this.objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${RENDERED} has no ${kind} ${name}`);
    return o;
  }
  workload(kind: 'Deployment' | 'Job', name: string): Workload {
    const spec = this.find(kind, name).spec as {
      replicas?: number;
      strategy?: { rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
      template: { spec: PodSpec };
    };
    const replicas = spec.replicas ?? 1;
    const ru = spec.strategy?.rollingUpdate;
    return {
      kind,
      name,
      replicas,
      maxSurge: bound(ru?.maxSurge, replicas, true),
      maxUnavailable: bound(ru?.maxUnavailable, replicas, false),
      pod: spec.template.spec,
    };
  }
  /** Data of a ConfigMap or Secret (stringData as the API server merges it). */
  dataOf(kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> {
    const o = this.find(kind, name);
    return { ...o.data, ...o.stringData };
  }
  /** Service name → its port, for every Service. */
  services(): Map<string, number> {
    return new Map(
      this.objects
        .filter((o) => o.kind === 'Service')
        .map((o) => [o.metadata.name, (o.spec as { ports: { port: number }[] }).ports[0]?.port ?? 0]),
    );
  }
}

/** The image's ENTRYPOINT, CMD and ENV, from the Dockerfile's last stage. */
function imageConfig(): { entrypoint: string[]; cmd: string[]; env: Record<string, string> } {
  const text = read(DOCKERFILE).replace(/\\\n/g, ' ');
  const last = text.slice(text.lastIndexOf('\nFROM '));
  const json = (instr: string) => {
    const m = new RegExp(`^${instr} (\\[.*\\])$`, 'm').exec(last);
    if (!m) throw new Error(`${DOCKERFILE}: no ${instr} [...] in the runtime stage`);
    return JSON.parse(m[1] as string) as string[];
  };
  const env: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV (.*)$/gm))
    for (const kv of (m[1] as string).trim().split(/\s+/)) {
      const [k, v] = kv.split('=');
      if (k && v !== undefined) env[k] = v;
    }
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD'), env };
}

/** `/opt/spincycle/<dir>` → the workspace package `pnpm deploy` copies there (the Dockerfile's loop). */
function deployedPackages(): Map<string, string> {
  const loop = /for p in ([^;]+);/.exec(read(DOCKERFILE).replace(/\\\n/g, ' '));
  if (!loop) throw new Error(`${DOCKERFILE}: no 'for p in <package>:<dir> …' loop`);
  const byName = new Map<string, string>();
  for (const top of ['services', 'packages'])
    for (const d of readdirSync(join(REPO_ROOT, top))) {
      const pj = join(REPO_ROOT, top, d, 'package.json');
      if (existsSync(pj))
        byName.set((JSON.parse(readFileSync(pj, 'utf8')) as { name: string }).name, `${top}/${d}`);
    }
  const out = new Map<string, string>();
  for (const pair of (loop[1] as string).trim().split(/\s+/)) {
    const [pkg, dir] = pair.split(':') as [string, string];
    const path = byName.get(`@spincycle/${pkg}`);
    if (!path) throw new Error(`${DOCKERFILE}: no workspace package @spincycle/${pkg}`);
    out.set(dir, path);
  }
  return out;
}

/** What the entrypoint script runs for a command: `node <main> <fixed args> "$@"`. */
export interface EntrypointBranch {
  /** Repository-relative path of the main module. */
  main: string;
  fixedArgs: string[];
  /** `listen_everywhere "$#" PORT`: the address set when neither env nor a config file sets one. */
  listenPort?: number;
}

/** Reads the `case` of deploy/docker/spincycle: the branch that `cmd` takes. */
function entrypointBranch(cmd: string): EntrypointBranch {
  const lines = read(ENTRYPOINT_SCRIPT).split('\n');
  const start = lines.findIndex((l) => /^case "\$cmd" in/.test(l));
  let body = '';
  let hit = false;
  for (const line of lines.slice(start + 1)) {
    const m = /^\s{2}([\w|\s-]+)\)\s*(.*)$/.exec(line);
    if (m && !hit) {
      const labels = (m[1] as string).split('|').map((s) => s.trim());
      if (!labels.includes(cmd)) continue;
      hit = true;
      body = m[2] as string;
    } else if (hit) body += `\n${line}`;
    if (hit && /;;\s*$/.test(body)) break;
  }
  if (!hit) throw new Error(`${ENTRYPOINT_SCRIPT}: no branch for '${cmd}'`);
  const exec = /exec node "\$APP\/([^/]+)\/(dist\/[\w.-]+\.js)"((?:\s+[\w-]+)*)\s+"\$@"/.exec(body);
  if (!exec) throw new Error(`${ENTRYPOINT_SCRIPT}: branch '${cmd}' does not exec node "$APP/…" "$@"`);
  const pkg = deployedPackages().get(exec[1] as string);
  if (!pkg) throw new Error(`${ENTRYPOINT_SCRIPT}: $APP/${exec[1]} is no package the Dockerfile deploys`);
  const listen = /listen_everywhere "\$#" (\d+)/.exec(body);
  return {
    main: `${pkg}/${exec[2]}`,
    fixedArgs: (exec[3] as string).trim().split(/\s+/).filter(Boolean),
    listenPort: listen ? Number(listen[1]) : undefined,
  };
}

/**
 * The container's command as argv on this machine: command/args over the image's
 * ENTRYPOINT/CMD, tini dropped (it only forwards signals), the entrypoint script's branch.
 */
export function containerArgv(
  c: Pick<Container, 'command' | 'args'>,
): { main: string; args: string[] } & EntrypointBranch {
  const image = imageConfig();
  const argv = [...(c.command ?? image.entrypoint), ...(c.command ? (c.args ?? []) : (c.args ?? image.cmd))];
  if (argv[0] === '/usr/bin/tini' && argv[1] === '--') argv.splice(0, 2);
  if (argv[0] !== '/usr/local/bin/spincycle')
    throw new Error(`not the image's entrypoint: ${argv.join(' ')}`);
  const [cmd = 'help', ...rest] = argv.slice(1);
  const branch = entrypointBranch(cmd);
  return { ...branch, args: [...branch.fixedArgs, ...rest] };
}

interface Substitution {
  what: string;
  from: string;
  to: string;
}

/** What the test provides in place of the cluster. */
export interface PodContext {
  /** The pod's directory: mounted volumes and the working directory (the image's WORKDIR) go under it. */
  dir: string;
  /** The port this pod's container port becomes (all pods share 127.0.0.1). */
  port: number;
  /** Secret name → key → value, generated by the test. */
  secrets: Record<string, Record<string, string>>;
  /** Service name → the URL (http://127.0.0.1:N) of the test's stand-in. */
  services: Record<string, string>;
}

/** How the kubelet starts and probes one pod, and what had to change to run it here. */
export interface PodPlan {
  /** `node`'s argv after the node binary: the main module (absolute) and its args. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  containerPort: number;
  readiness?: ProbePlan;
  liveness?: ProbePlan;
  graceMs: number;
  preStop?: string[];
  substitutions: Substitution[];
}
export interface ProbePlan {
  path: string;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

const probePlan = (p: HttpProbe | undefined): ProbePlan | undefined =>
  p && {
    path: p.httpGet.path,
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    failureThreshold: p.failureThreshold ?? 3,
  };

/** Writes the pod's volumes under ctx.dir; returns mountPath → local directory. */
function mountVolumes(m: Manifests, pod: PodSpec, c: Container, ctx: PodContext): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const vm of c.volumeMounts ?? []) {
    const v = pod.volumes?.find((x) => x.name === vm.name);
    if (!v) throw new Error(`volumeMount ${vm.name} names no volume`);
    const dir = join(ctx.dir, 'volumes', vm.name);
    mkdirSync(dir, { recursive: true });
    let data: Record<string, string> = {};
    let items: { key: string; path: string }[] | undefined;
    if (v.configMap) {
      data = m.dataOf('ConfigMap', v.configMap.name);
      items = v.configMap.items;
    } else if (v.secret) {
      const given = ctx.secrets[v.secret.secretName];
      if (!given && !v.secret.optional) throw new Error(`the test gives no Secret ${v.secret.secretName}`);
      data = given ?? {};
      items = v.secret.items;
    }
    for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
      const value = data[key];
      if (value === undefined) throw new Error(`volume ${vm.name}: no key ${key}`);
      writeFileSync(join(dir, path), value, { mode: 0o600 });
    }
    mounts.set(vm.mountPath, dir);
  }
  return mounts;
}

/** The plan of the first container of `w`'s pod in `ctx`. */
export function planPod(m: Manifests, w: Workload, ctx: PodContext): PodPlan {
  const c = w.pod.containers[0] as Container;
  const subs: Substitution[] = [];
  const containerPort = c.ports?.[0]?.containerPort ?? 0;
  const mounts = mountVolumes(m, w.pod, c, ctx);
  const image = imageConfig();
  const env: Record<string, string> = { ...image.env };
  for (const e of c.env ?? []) {
    let v: string;
    const from = e.valueFrom;
    if (from?.secretKeyRef) v = refValue(ctx.secrets, from.secretKeyRef, 'Secret');
    else if (from?.configMapKeyRef)
      v = refValue(
        { [from.configMapKeyRef.name]: m.dataOf('ConfigMap', from.configMapKeyRef.name) },
        from.configMapKeyRef,
        'ConfigMap',
      );
    else if (from?.fieldRef?.fieldPath === 'status.podIP') {
      v = '127.0.0.1';
      subs.push({ what: `${e.name} (downward API status.podIP)`, from: 'the pod IP', to: v });
    } else if (from) throw new Error(`${e.name}: valueFrom not emulated: ${JSON.stringify(from)}`);
    // $(VAR) names a variable defined earlier in the list (Kubernetes' dependent variables).
    else v = (e.value ?? '').replace(/\$\(([A-Za-z_][\w]*)\)/g, (all, n: string) => env[n] ?? all);
    env[e.name] = substitute(e.name, v, { containerPort, ctx, mounts, subs });
  }
  const { main, args, listenPort } = containerArgv(c);
  const cwd = join(ctx.dir, 'workdir');
  mkdirSync(cwd, { recursive: true });
  // The entrypoint's listen_everywhere: no address, no config-file argument, no config/*.yaml.
  if (listenPort !== undefined && env.SPINCYCLE_SERVER_ADDR === undefined && args.length === 1)
    env.SPINCYCLE_SERVER_ADDR = substitute('SPINCYCLE_SERVER_ADDR', `0.0.0.0:${listenPort}`, {
      containerPort,
      ctx,
      mounts,
      subs,
    });
  return {
    argv: [join(REPO_ROOT, main), ...args],
    cwd,
    env,
    containerPort,
    readiness: probePlan(c.readinessProbe),
    liveness: probePlan(c.livenessProbe),
    graceMs: (w.pod.terminationGracePeriodSeconds ?? 30) * 1000,
    preStop: c.lifecycle?.preStop?.exec?.command,
    substitutions: subs,
  };
}

function refValue(
  from: Record<string, Record<string, string>>,
  ref: { name: string; key: string },
  kind: string,
): string {
  const v = from[ref.name]?.[ref.key];
  if (v === undefined) throw new Error(`${kind} ${ref.name} has no key ${ref.key}`);
  return v;
}

/** Ports, Service addresses and mount paths in one env value, each change recorded. */
function substitute(
  name: string,
  value: string,
  o: { containerPort: number; ctx: PodContext; mounts: Map<string, string>; subs: Substitution[] },
): string {
  let v = value;
  for (const [svc, url] of Object.entries(o.ctx.services))
    v = v.replace(new RegExp(`https?://${svc}(\\.[\\w.-]+)?:\\d+`, 'g'), url);
  v = v.replace(
    new RegExp(`^((?:https?://)?(?:0\\.0\\.0\\.0|127\\.0\\.0\\.1)):${o.containerPort}\\b`),
    `$1:${o.ctx.port}`,
  );
  // The deepest mount holding the path (once: the local directory may itself be under /tmp).
  const mount = [...o.mounts.keys()]
    .sort((a, b) => b.length - a.length)
    .find((mp) => v === mp || v.startsWith(`${mp}/`));
  if (mount) v = (o.mounts.get(mount) as string) + v.slice(mount.length);
  if (v !== value) o.subs.push({ what: name, from: value, to: v });
  return v;
}

/** A compose service's command and environment (anchors and merge keys resolved). */
export function composeService(name: string): { command: string[]; environment: Record<string, string> } {
  const doc = parseYaml(read(COMPOSE), { merge: true }) as {
    services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
  };
  const s = doc.services[name];
  if (!s) throw new Error(`${COMPOSE} has no service ${name}`);
  return { command: s.command ?? [], environment: s.environment ?? {} };
}
