/** setTimeout caps delays at 2^31-1 ms (about 24.8 days) and fires at once beyond; re-arm instead. */
const MAX_DELAY = 2 ** 31 - 1;

/** Call `fn` after `ms` milliseconds, for any finite `ms`. Returns a cancel function. */
export function startTimer(fn: () => void, ms: number): () => void {
  let handle: NodeJS.Timeout;
  const due = Date.now() + ms;
  const arm = (left: number): void => {
    handle = setTimeout(
      () => {
        const rest = due - Date.now();
        if (rest > 0 && left > MAX_DELAY) arm(rest);
        else fn();
      },
      Math.min(Math.max(left, 0), MAX_DELAY),
    );
  };
  arm(ms);
  return () => clearTimeout(handle);
}
