// Building blocks shared by the views: page frame, alerts, form fields, formatting, data hooks.
import { html, useState, useEffect, useRef, useCallback } from '../vendor/htm-preact.js';
import { t, formatMoney, formatDateTime } from '../i18n.js';
import { takeFocusRequest } from '../router.js';
import { createStore } from '../store.js';
import { api } from '../api.js';
import { errorSentence, fieldError } from '../problem.js';

export { html, useState, useEffect, useRef, useCallback, t, fieldError };
export const enc = encodeURIComponent;

// Status messages for the app-wide aria-live region.
export const status = createStore({ text: '', n: 0 });
export const announce = (text) => status.set((s) => ({ text, n: s.n + 1 }));

export function Page({ title, children, testid }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · deliveryhub`;
    if (takeFocusRequest() && heading.current) heading.current.focus();
  }, [title]);
  return html`<section class="page" aria-labelledby="page-title" data-testid=${testid}>
    <h1 id="page-title" tabindex="-1" ref=${heading}>${title}</h1>
    ${children}
  </section>`;
}

// The error of a request as a sentence, plus the field errors no field on the form shows.
export function Alert({ error, fields = [], id }) {
  if (!error) return null;
  const others = (error.fieldErrors || []).filter((e) => !fields.includes(e.field));
  return html`<div class="alert" role="alert" id=${id} data-testid="error">
    <p>${errorSentence(error)}</p>
    ${others.length > 0 && html`<ul>${others.map((e) => html`<li><code>${e.field}</code>: ${e.message}</li>`)}</ul>`}
  </div>`;
}

export function Field({ id, label, error, hint, as = 'input', children, ...props }) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const control = { id, name: id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described, ...props };
  return html`<div class="field">
    <label for=${id}>${label}${props.required ? html` <span aria-hidden="true">*</span>` : ''}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${as === 'select'
      ? html`<select ...${control}>${children}</select>`
      : as === 'textarea'
        ? html`<textarea ...${control}></textarea>`
        : html`<input ...${control} />`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export const Money = ({ amount, currency }) => html`<span class="money">${formatMoney(amount, currency)}</span>`;
export const When = ({ at }) => (at ? html`<time datetime=${at}>${formatDateTime(at)}</time>` : null);
export const Id = ({ value }) => html`<code class="id">${value}</code>`;

export function Badge({ kind, value, testid }) {
  return html`<span class=${`badge badge-${value}`} data-testid=${testid} data-status=${value}>${t(`${kind}.status.${value}`)}</span>`;
}

export const Loading = () => html`<p class="muted" aria-busy="true">${t('common.loading')}</p>`;

// Loads something once (and again on reload()); `deps` decide when to start over.
export function useResource(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(async ({ quiet = false } = {}) => {
    const mine = ++generation.current;
    if (!quiet) setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: quiet ? s.data : null, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);
  return { ...state, reload, setData: (data) => setState((s) => ({ ...s, data })) };
}

// Calls reload({quiet: true}) every `ms` while `active`.
export function usePolling(reload, ms, active) {
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => reload({ quiet: true }), ms);
    return () => clearInterval(timer);
  }, [reload, ms, active]);
}

// A paged list: { items, error, loading, more (or null on the last page), reload }.
export function usePagedList(path, query) {
  const key = JSON.stringify(query || {});
  const [state, setState] = useState({ items: [], cursor: null, error: null, loading: true });
  const generation = useRef(0);
  const fetchPage = useCallback(async (cursor, append) => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const { data } = await api('GET', path, { query: { ...(query || {}), cursor: cursor || undefined } });
      if (mine !== generation.current) return;
      setState((s) => ({ items: append ? [...s.items, ...data.data] : data.data, cursor: data.next_cursor, error: null, loading: false }));
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, [path, key]);
  useEffect(() => {
    fetchPage(null, false);
    return () => {
      generation.current++;
    };
  }, [fetchPage]);
  return {
    ...state,
    reload: () => fetchPage(null, false),
    more: state.cursor ? () => fetchPage(state.cursor, true) : null,
  };
}

export function MoreButton({ list }) {
  if (!list.more) return null;
  return html`<button type="button" class="secondary" onClick=${list.more} disabled=${list.loading}>${t('common.more')}</button>`;
}

// Runs one submission at a time: the ref guard holds before the re-render disables the button,
// so a double click sends one request.
export function useSubmit() {
  const busy = useRef(false);
  const [state, setState] = useState({ busy: false, error: null });
  const run = useCallback(async (action) => {
    if (busy.current) return undefined;
    busy.current = true;
    setState({ busy: true, error: null });
    try {
      const result = await action();
      setState({ busy: false, error: null });
      return result;
    } catch (error) {
      setState({ busy: false, error });
      return undefined;
    } finally {
      busy.current = false;
    }
  }, []);
  const fail = useCallback((error) => setState({ busy: false, error }), []);
  return { ...state, run, fail };
}

// The value of a form control by its id, trimmed.
export const valueOf = (form, name) => String(new FormData(form).get(name) ?? '').trim();
