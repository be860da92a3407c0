/**
 * The RM endpoints only Job Runners may call. Protection is one middleware
 * (src/auth/middleware.ts) keyed on this list, matched by express itself (same
 * case-insensitivity and trailing-slash rules as the routes), BEFORE the body
 * is read and before user authentication, which these routes skip.
 *
 * A new JR-facing endpoint is protected by adding it here, or by putting it
 * under `/api/v1/internal/`, which is covered as a whole.
 */
export type InternalMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'all';

export const INTERNAL_ROUTES: ReadonlyArray<readonly [InternalMethod, string]> = [
  ['put', '/api/v1/requests/:id/finish'],
  ['put', '/api/v1/requests/:id/suspend'],
  ['put', '/api/v1/requests/:id/progress'],
  ['post', '/api/v1/requests/:id/log'],
  ['post', '/api/v1/job-logs'],
  ['put', '/api/v1/job-runners/heartbeat'],
  // Everything under this prefix (e.g. Job Runner heartbeats).
  ['all', '/api/v1/internal{/*rest}'],
];
