/** The errors the request services answer with when a request is missing or in the wrong state. */
import { InvalidStateError, NotFoundError, stateName } from '@spincycle/protocol';
import type { RequestStore } from './stores/request-store.js';

export function requestNotFound(id: string): NotFoundError {
  return new NotFoundError(`request ${id} not found`);
}

/** After a conditional change did not apply: 404 when the request is gone, else 409 naming its state. */
export async function notInState(requests: RequestStore, id: string, expected: string): Promise<Error> {
  const row = await requests.get(id);
  if (!row) return requestNotFound(id);
  return new InvalidStateError(`request ${id} in state ${stateName(row.state)}, expected state ${expected}`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
