/** Small building blocks shared by the pages. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { LIVE_LABEL, type LiveState, requestTone } from './job-state.js';
import { BASE, navigate } from './router.js';
import { stateName } from './wire.js';

/** An in-app link: a real href (open in new tab works), client-side navigation on plain clicks. */
export function Link(props: {
  href: string;
  class?: string;
  children: ComponentChildren;
  'aria-label'?: string;
}) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={`${BASE}${props.href}`} class={props.class} onClick={onClick} aria-label={props['aria-label']}>
      {props.children}
    </a>
  );
}

export function RequestState({ state }: { state: number }) {
  return <span class={`badge tone-${requestTone(state)}`}>{stateName(state)}</span>;
}

export function JobStateBadge({ state }: { state: LiveState }) {
  return <span class={`badge tone-${state}`}>{LIVE_LABEL[state]}</span>;
}

export function Progress({ done, total, label }: { done: number; total: number; label?: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <span class="progress-wrap">
      <progress max={total || 1} value={done} aria-label={label ?? 'jobs finished'} />
      <span class="progress-text">
        {done}/{total}
        <span class="sr-only"> jobs finished ({pct}%)</span>
      </span>
    </span>
  );
}

/** Errors as the user can act on them: unreachable, token needed, not allowed, missing. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const e = error instanceof ApiError ? error : new ApiError(-1, String(error));
  let title = 'Something went wrong';
  let hint: ComponentChildren = null;
  if (e.status === 0) {
    title = 'The Request Manager is unreachable';
    hint = 'Check that it runs and that the API base under "Connection" is right.';
  } else if (e.status === 401) {
    title = 'A token is needed';
    hint = (
      <button type="button" onClick={() => window.dispatchEvent(new Event('spincycle:ask-token'))}>
        Enter a token
      </button>
    );
  } else if (e.status === 403) {
    title = 'Not allowed';
    hint = 'Your token does not allow this. Ask an administrator for the role it needs.';
  } else if (e.status === 404) {
    title = 'Not found';
  }
  return (
    <div class="error-state" role="alert">
      <h2>{title}</h2>
      <p class="mono">{e.message}</p>
      {hint && <p>{hint}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** A modal confirmation on the native <dialog> (focus is kept inside, Esc cancels). */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={props.onCancel} onClose={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Load with `load`, again whenever `deps` change, and every `everyMs` while the tab is
 * visible. A failed reload keeps the last data beside the error.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const gen = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++gen.current;
    try {
      const d = await load();
      if (mine !== gen.current) return;
      setData(d);
      setError(undefined);
    } catch (err) {
      if (mine === gen.current) setError(err);
    } finally {
      if (mine === gen.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    setLoading(true);
    void reload();
    const again = () => void reload();
    window.addEventListener('spincycle:connection', again);
    const timer = everyMs
      ? setInterval(() => {
          if (document.visibilityState === 'visible') void reload();
        }, everyMs)
      : undefined;
    return () => {
      window.removeEventListener('spincycle:connection', again);
      clearInterval(timer);
    };
  }, [reload, everyMs]);
  return { data, error, loading, reload };
}
