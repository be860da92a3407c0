/** Types of healthcheck.mjs (for the tests). */
export declare const HEALTH_PATH: string;
export declare function healthy(env?: Record<string, string | undefined>): Promise<boolean>;
