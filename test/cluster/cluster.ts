/**
 * The production manifests brought up as processes: test-generated Secrets in the shape of
 * the manifests' own, the two Services as round-robin proxies, the migration Job run to
 * completion first, then the RM and JR Deployments at their replica counts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { JrClient, parseDurationMs } from '@spincycle/protocol';
import { JR_CONFIG_SCHEMA } from '../../services/job-runner/src/config.js';
import { Deployment, type Pod } from './kubelet.js';
import { Manifests } from './manifests.js';
import { ServiceProxy } from './service.js';

/** The placeholder the manifests' tokens.yaml has where the hash of a user token goes. */
const TOKEN_HASH_PLACEHOLDER = 'REPLACE-ME-WITH-A-TOKEN-HASH';

export interface ClusterSecrets {
  secrets: Record<string, Record<string, string>>;
  /** The user token whose hash the test's tokens.yaml holds (role from the manifest's example). */
  token: string;
  internalToken: string;
}

/**
 * Values for the Secrets the manifests define, keeping their keys and the tokens.yaml
 * layout: the DSN of the test's database, a fresh internal token, the manifest's tokens.yaml
 * with a fresh token's hash in place of the placeholder. spincycle-tls is optional in every
 * pod and left out (the manifests' URLs are http).
 */
export function clusterSecrets(m: Manifests, dsn: string): ClusterSecrets {
  const token = randomBytes(24).toString('hex');
  const internalToken = randomBytes(32).toString('hex');
  const tokens = m.dataOf('Secret', 'spincycle-auth')['tokens.yaml'] ?? '';
  if (!tokens.includes(TOKEN_HASH_PLACEHOLDER))
    throw new Error(`tokens.yaml has no ${TOKEN_HASH_PLACEHOLDER}`);
  const hash = createHash('sha256').update(token).digest('hex');
  return {
    token,
    internalToken,
    secrets: {
      'spincycle-db': { dsn },
      'spincycle-auth': {
        'tokens.yaml': tokens.replace(TOKEN_HASH_PLACEHOLDER, hash),
        'internal-token': internalToken,
      },
    },
  };
}

export class TestCluster {
  readonly m = new Manifests();
  readonly rmService: ServiceProxy;
  readonly jrService: ServiceProxy;
  readonly migrate: Deployment;
  readonly rm: Deployment;
  readonly jr: Deployment;

  constructor(readonly s: ClusterSecrets) {
    this.rmService = new ServiceProxy('spincycle-rm', () => this.rm.endpoints());
    this.jrService = new ServiceProxy('spincycle-jr', () => this.jr.endpoints());
    const urls = () => ({ 'spincycle-rm': this.rmService.url, 'spincycle-jr': this.jrService.url });
    // The Service URLs are read when a pod starts (the proxies listen by then).
    const ctx = {
      secrets: s.secrets,
      get services() {
        return urls();
      },
    };
    this.migrate = new Deployment(this.m, this.m.workload('Job', 'spincycle-migrate'), ctx);
    this.rm = new Deployment(this.m, this.m.workload('Deployment', 'spincycle-rm'), ctx);
    this.jr = new Deployment(this.m, this.m.workload('Deployment', 'spincycle-jr'), ctx);
  }

  /** Services up, the migration Job to completion (its exit code returned), then the Deployments ready. */
  async start(): Promise<{ migrateExit: number | null; migratePod: Pod }> {
    await this.rmService.listen();
    await this.jrService.listen();
    const migratePod = await this.migrate.startPod();
    const migrateExit = await migratePod.exited;
    if (migrateExit !== 0) return { migrateExit, migratePod };
    await this.rm.scale(this.rm.w.replicas);
    await this.jr.scale(this.jr.w.replicas);
    return { migrateExit, migratePod };
  }

  /** The JRs' heartbeat interval as their pods are configured (env, else the JR's default). */
  heartbeatMs(): number {
    const pod = this.jr.everStarted[0];
    const raw =
      pod?.plan.env.SPINCYCLE_HEARTBEAT_INTERVAL ?? String(JR_CONFIG_SCHEMA['heartbeat.interval'].default);
    return parseDurationMs(raw);
  }

  /** A client of one JR pod's own API, with the internal token the pods share. */
  jrClient(pod: Pod): JrClient {
    return new JrClient({
      baseURL: `http://127.0.0.1:${pod.port}`,
      headers: { 'X-Spincycle-Internal-Token': this.s.internalToken },
      retry: { attempts: 1 },
      timeoutMs: 3000,
    });
  }

  async stop(): Promise<void> {
    await this.jr.killAll();
    await this.rm.killAll();
    await this.migrate.killAll();
    await this.rmService.close();
    await this.jrService.close();
  }
}
