/** Types of render.mjs (for the tests). */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};
export declare function strategicMerge(base: unknown, patch: unknown): unknown;
export declare function render(dir: string): K8sObject[];
export declare function renderText(dir: string): string;
export declare const PRODUCTION: string;
export declare const RENDERED: string;
export declare const HEADER: string;
