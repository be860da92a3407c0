import { graphChecks } from './graph-checks.js';
import type { Diagnostic, SpecSet } from './model.js';
import { staticChecks } from './static-checks.js';

/**
 * Static checks, then graph checks. Graph checks run only when the
 * static checks found no errors, as they assume well-formed nodes.
 */
export function checkSpecs(specs: SpecSet): Diagnostic[] {
  const found = staticChecks(specs);
  if (found.some((d) => d.severity === 'error')) return found;
  return [...found, ...graphChecks(specs)];
}
