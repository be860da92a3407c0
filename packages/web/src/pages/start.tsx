/** Start: a form per request type from the request list; errors shown at the argument they name. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, hasDryRun } from '../api.js';
import { structureOf } from '../collapse.js';
import { Dag } from '../dag.js';
import { navigate } from '../router.js';
import { Empty, ErrorState, Link, useLoad } from '../ui.js';
import type { Chain, RequestArg, RequestSpec } from '../wire.js';

export function StartPage({ type }: { type: string | undefined }) {
  const list = useLoad(() => api.requestList(), []);
  if (list.error) return <ErrorState error={list.error} onRetry={list.reload} />;
  if (!list.data) return <p>Loading…</p>;
  const specs = [...list.data].sort((a, b) => a.Name.localeCompare(b.Name));
  const spec = type === undefined ? undefined : specs.find((s) => s.Name === type);
  return (
    <section aria-labelledby="start-title">
      <h1 id="start-title">Start a request</h1>
      <nav aria-label="request types" class="types">
        {specs.length === 0 && <Empty>The Request Manager has no request types (no specs loaded).</Empty>}
        {specs.map((s) => (
          <Link
            key={s.Name}
            href={`/start/${encodeURIComponent(s.Name)}`}
            class={s.Name === type ? 'chip current' : 'chip'}
          >
            {s.Name}
          </Link>
        ))}
      </nav>
      {type !== undefined && !spec && <ErrorState error={new ApiError(404, `no request type '${type}'`)} />}
      {spec && <StartForm key={spec.Name} spec={spec} />}
    </section>
  );
}

/** The argument a 400 message names: quoted first, then as a whole word. */
function argNamed(message: string, names: readonly string[]): string | undefined {
  const quoted = [...message.matchAll(/['"`]([^'"`]+)['"`]/g)].map((m) => m[1]);
  for (const q of quoted) if (q && names.includes(q)) return q;
  const words = new Set(message.split(/[^A-Za-z0-9_.-]+/));
  return [...names].sort((a, b) => b.length - a.length).find((n) => words.has(n));
}

function StartForm({ spec }: { spec: RequestSpec }) {
  const args = spec.Args.filter((a) => a.Type !== 'static');
  const [error, setError] = useState<{ arg?: string | undefined; err: unknown }>();
  const [busy, setBusy] = useState(false);
  const [canPlan, setCanPlan] = useState(false);
  const [plan, setPlan] = useState<Chain>();
  useEffect(() => {
    void hasDryRun().then(setCanPlan);
  }, []);
  const plannedStructure = useMemo(() => (plan ? structureOf(plan) : undefined), [plan]);

  const values = (form: HTMLFormElement): Record<string, string> => {
    const f = new FormData(form);
    const out: Record<string, string> = {};
    for (const a of args) {
      const v = String(f.get(a.Name) ?? '');
      // Left empty: not sent, so the spec's default applies (or the RM names a missing required arg).
      if (v !== '') out[a.Name] = v;
    }
    return out;
  };
  const fail = (err: unknown) => {
    const arg =
      err instanceof ApiError && err.status === 400
        ? argNamed(
            err.message,
            args.map((a) => a.Name),
          )
        : undefined;
    setError({ arg, err });
    if (arg) document.getElementById(`arg-${arg}`)?.focus();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const created = await api.create(spec.Name, values(e.currentTarget as HTMLFormElement));
      navigate(`/requests/${encodeURIComponent(created.id)}`);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const preview = async (e: Event) => {
    const form = (e.currentTarget as HTMLButtonElement).form as HTMLFormElement;
    try {
      const r = await api.plan(spec.Name, values(form));
      setPlan(r.JobChain);
      setError(undefined);
    } catch (err) {
      fail(err);
    }
  };

  return (
    <form class="start-form" onSubmit={submit} aria-label={`start a ${spec.Name} request`} noValidate>
      <h2>{spec.Name}</h2>
      {args.length === 0 && <p>This request takes no arguments.</p>}
      {args.map((a) => (
        <ArgField key={a.Name} arg={a} error={error?.arg === a.Name ? error.err : undefined} />
      ))}
      {error && !error.arg ? <ErrorState error={error.err} /> : null}
      <div class="filter-actions">
        <button type="submit" class="primary" disabled={busy}>
          Start {spec.Name}
        </button>
        {canPlan && (
          <button type="button" onClick={preview}>
            Plan preview
          </button>
        )}
      </div>
      {plan && plannedStructure && (
        <section aria-label="planned job chain">
          <h3>Plan: {Object.keys(plan.jobs).length} jobs</h3>
          <Dag structure={plannedStructure} jobs={plan.jobs} states={new Map()} requestRunning={false} />
        </section>
      )}
    </form>
  );
}

function ArgField({ arg, error }: { arg: RequestArg; error: unknown }) {
  const id = `arg-${arg.Name}`;
  const required = arg.Type === 'required';
  const def =
    arg.Default === null || arg.Default === undefined || arg.Default === '' ? '' : String(arg.Default);
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>
        {arg.Name} {required ? <span class="req">(required)</span> : <span class="hint">(optional)</span>}
      </label>
      {arg.Desc && (
        <p class="hint" id={`${id}-desc`}>
          {arg.Desc}
          {def ? ` (default: ${def})` : ''}
        </p>
      )}
      <input
        id={id}
        name={arg.Name}
        required={required}
        placeholder={def}
        autocomplete="off"
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={
          [arg.Desc ? `${id}-desc` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined
        }
      />
      {error ? (
        <p class="field-error" id={`${id}-err`} role="alert">
          {error instanceof Error ? error.message : String(error)}
        </p>
      ) : null}
    </div>
  );
}
