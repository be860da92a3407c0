/** Version reported by `GET /version`, `X-Spincycle-Version` and `spinc version`; the original's API level. */
export const SPINCYCLE_VERSION = '2.1.1';
export const VERSION_HEADER = 'X-Spincycle-Version';
