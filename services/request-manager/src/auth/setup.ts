/**
 * Auth from config alone: the plugin module (`auth.module`), the built-in
 * authenticators (`auth.tokens_file`, `auth.jwt.*`), the ACL authorizer
 * (`auth.admin_roles`, `auth.strict`, the specs' ACLs) and the Job Runner
 * credentials (`auth.internal_token_file`, client certificates).
 */
import { ConfigError, type NamedStep, readTokenFile } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import {
  type Authenticator,
  type Authorizer,
  allowAllAuthorizer,
  anonymousAuthenticator,
  type Caller,
} from '../auth.js';
import type { RmConfigValues } from '../config.js';
import { AclAuthorizer, type AclEntry } from './acl.js';
import { InternalAuth } from './internal.js';
import { JwtAuthenticator } from './jwt.js';
import { loadAuthPlugin } from './plugin.js';
import { bearerToken, StaticTokenAuthenticator } from './tokens.js';

export interface AuthSetup {
  authenticator: Authenticator;
  authorizer: Authorizer;
  internal: InternalAuth;
  /** Token the RM sends to Job Runners (`jr_client.internal_token_file`, default the internal token). */
  jrClientToken: string | undefined;
  /**
   * One reload step per credential file (tokens, JWT key, internal token, the
   * token sent to Job Runners), each named after its key and file. A step
   * swaps in what it read or throws and keeps the old credential; a new
   * Job Runner token goes to `setJrClientToken`.
   */
  reloadSteps(setJrClientToken: (token: string) => void): NamedStep[];
  /** Nobody is authenticated at all (no users, no Job Runner credentials): served to loopback names only. */
  open: boolean;
  /** What is on, for the start-up log. */
  summary: {
    authentication: string;
    acls: string;
    internal: string[];
    adminRoles: string[];
    strict: boolean;
  };
}

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Static tokens and JWTs side by side: a token shaped like a JWT goes to the JWT verifier. */
class EitherAuthenticator implements Authenticator {
  constructor(
    private readonly tokens: StaticTokenAuthenticator,
    private readonly jwt: JwtAuthenticator,
  ) {}
  async authenticate(req: HttpRequest): Promise<Caller> {
    const token = bearerToken(req);
    if (token === undefined) return this.tokens.authenticate(req);
    return JWT_SHAPE.test(token) ? this.jwt.verify(token) : this.tokens.authenticate(req);
  }
}

/** The ACLs of a sequence from the specs. */
export type AclLookup = (type: string) => readonly AclEntry[] | undefined;

export async function authFromConfig(
  config: RmConfigValues,
  acls: AclLookup,
  baseDir: string = process.cwd(),
): Promise<AuthSetup> {
  const plugin = config['auth.module'] ? await loadAuthPlugin(config['auth.module'], baseDir) : undefined;

  const tokens = config['auth.tokens_file']
    ? StaticTokenAuthenticator.fromFile(config['auth.tokens_file'])
    : undefined;
  const jwtOn = Boolean(
    config['auth.jwt.secret_file'] ||
      config['auth.jwt.public_key_file'] ||
      config['auth.jwt.jwks_file'] ||
      config['auth.jwt.jwks_url'],
  );
  const jwt = jwtOn
    ? new JwtAuthenticator({
        secretFile: config['auth.jwt.secret_file'],
        publicKeyFile: config['auth.jwt.public_key_file'],
        jwksFile: config['auth.jwt.jwks_file'],
        jwksUrl: config['auth.jwt.jwks_url'],
        jwksCacheMaxAgeMs: config['auth.jwt.jwks_cache_max_age'],
        jwksCooldownMs: config['auth.jwt.jwks_cooldown'],
        algorithms: config['auth.jwt.algorithms'],
        issuer: config['auth.jwt.issuer'],
        audience: config['auth.jwt.audience'],
        nameClaim: config['auth.jwt.name_claim'],
        rolesClaim: config['auth.jwt.roles_claim'],
        clockToleranceSec: config['auth.jwt.clock_tolerance'] / 1000,
      })
    : undefined;

  let authenticator: Authenticator = anonymousAuthenticator;
  const kinds: string[] = [];
  if (plugin?.authenticate) {
    if (tokens || jwt)
      throw new ConfigError(
        "config: 'auth.module' exports authenticate(): do not also set 'auth.tokens_file' or 'auth.jwt.*'",
      );
    const fn = plugin.authenticate;
    authenticator = { authenticate: (req) => fn(req) };
    kinds.push(`plugin ${config['auth.module']}`);
  } else if (tokens && jwt) {
    authenticator = new EitherAuthenticator(tokens, jwt);
    kinds.push('static tokens', 'jwt');
  } else if (tokens) {
    authenticator = tokens;
    kinds.push('static tokens');
  } else if (jwt) {
    authenticator = jwt;
    kinds.push('jwt');
  }
  const anonymous = authenticator === anonymousAuthenticator;

  // With everyone anonymous (no roles) ACLs could never be met: allow all, as the original's default plugin.
  const aclsOff = anonymous && !plugin?.authorize;
  // Once callers are authenticated a request type without ACLs is denied unless strict is turned off.
  const strict = aclsOff ? false : (config['auth.strict'] ?? true);
  const authorizer: Authorizer = aclsOff
    ? allowAllAuthorizer
    : new AclAuthorizer({
        adminRoles: config['auth.admin_roles'],
        strict,
        acls,
        plugin: plugin?.authorize,
      });

  const clientCerts = Boolean(
    config['server.tls.cert_file'] && config['server.tls.key_file'] && config['server.tls.ca_file'],
  );
  const internalTokens = config['auth.internal_token_file']
    ? readTokenFile('auth.internal_token_file', config['auth.internal_token_file'])
    : undefined;
  const certNames = config['auth.internal_client_names'];
  if (certNames.length > 0 && !clientCerts)
    throw new ConfigError(
      "config: 'auth.internal_client_names' needs client certificates: set 'server.tls.cert_file', 'key_file' and 'ca_file'",
    );
  // A CA admits every certificate it signed, users' too: which of them are Job Runners must be said.
  if (clientCerts && certNames.length === 0 && !internalTokens)
    throw new ConfigError(
      "config: 'server.tls.ca_file' makes client certificates authenticate Job Runners, but 'auth.internal_client_names' is empty: list the Job Runners' certificate names there (or give them a token with 'auth.internal_token_file')",
    );
  const internal = new InternalAuth({ tokens: internalTokens, clientCerts, certNames });
  if (!anonymous && !internal.enabled)
    throw new ConfigError(
      "config: users must authenticate but Job Runners have no credential: set 'auth.internal_token_file' (or 'server.tls.ca_file' with 'auth.internal_client_names' to admit them by client certificate)",
    );

  const jrClientFile = config['jr_client.internal_token_file'];
  // The first token of the file is the one sent.
  const jrClientToken = jrClientFile
    ? readTokenFile('jr_client.internal_token_file', jrClientFile)[0]
    : internalTokens?.[0];

  const reloadSteps = (setJrClientToken: (token: string) => void): NamedStep[] => {
    const steps: NamedStep[] = [];
    const tokensFile = config['auth.tokens_file'];
    if (tokens && tokensFile)
      steps.push({ name: `auth.tokens_file ${tokensFile}`, run: () => tokens.reload(tokensFile) });
    if (jwt) {
      const { key, file } = jwt.keySource;
      steps.push({ name: `${key} ${file}`, run: () => jwt.reload() });
    }
    const internalFile = config['auth.internal_token_file'];
    if (internalFile)
      steps.push({
        name: `auth.internal_token_file ${internalFile}`,
        run: () => {
          const tokens = readTokenFile('auth.internal_token_file', internalFile);
          internal.setTokens(tokens);
          // Sent to Job Runners too unless jr_client.internal_token_file names another file.
          if (!jrClientFile) setJrClientToken(tokens[0] as string);
        },
      });
    if (jrClientFile)
      steps.push({
        name: `jr_client.internal_token_file ${jrClientFile}`,
        run: () =>
          setJrClientToken(readTokenFile('jr_client.internal_token_file', jrClientFile)[0] as string),
      });
    return steps;
  };

  return {
    authenticator,
    authorizer,
    internal,
    jrClientToken,
    reloadSteps,
    open: anonymous && !plugin?.authorize && !internal.enabled,
    summary: {
      authentication: anonymous ? 'none (everyone is the anonymous user "")' : kinds.join(' + '),
      // Logged at start so an operator who wrote ACLs sees they need authentication to take effect.
      acls: aclsOff ? 'NOT enforced: no authentication is configured' : 'enforced',
      internal: [
        ...(internalTokens
          ? [internalTokens.length > 1 ? `internal tokens (${internalTokens.length})` : 'internal token']
          : []),
        ...(clientCerts && certNames.length > 0 ? [`client certificate (${certNames.join(', ')})`] : []),
      ],
      adminRoles: config['auth.admin_roles'],
      strict,
    },
  };
}
