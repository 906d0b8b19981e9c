// fetch() for the deliveryhub API: token, Accept-Language, JSON bodies, problems as ApiError,
// one token refresh and retry on a 401, and Idempotency-Key helpers.
import { language } from './i18n.js';
import { accessToken, refreshAfter401, endSession } from './auth.js';
import { ApiError, errorFromResponse, networkError } from './problem.js';

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(method, target, { body, headers, token }) {
  const all = { Accept: 'application/json, application/problem+json', 'Accept-Language': language.get(), ...headers };
  if (token) all.Authorization = `Bearer ${token}`;
  if (body !== undefined) all['Content-Type'] = 'application/json';
  try {
    return await fetch(target, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw networkError();
  }
}

// api('GET', '/api/v1/orders', { query: { status } }) → { data, status, etag }
export async function api(method, path, { query, body, idempotencyKey, ifMatch, auth = true } = {}) {
  const headers = {};
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  const target = url(path, query);
  let token = auth ? accessToken() : null;
  let response = await send(method, target, { body, headers, token });
  if (response.status === 401 && auth && token) {
    if (await refreshAfter401(token)) {
      token = accessToken();
      response = await send(method, target, { body, headers, token });
      if (response.status === 401) endSession();
    }
  }
  if (!response.ok) throw await errorFromResponse(response);
  let data = null;
  if (response.status !== 204 && (response.headers.get('content-type') || '').includes('json')) {
    try {
      data = await response.json();
    } catch {
      throw new ApiError({ status: response.status });
    }
  }
  const etag = response.headers.get('etag');
  return { data, status: response.status, etag: etag ? Number(etag.replace(/\D/g, '')) : undefined };
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// One Idempotency-Key per submission: the same request (path and body) retried after a network
// failure or a 5xx keeps its key, so the server answers a repeat instead of doing it twice; an
// answer the server stored (a success or a 4xx) or a different request gets a fresh key.
export function idempotency() {
  let last = null;
  return {
    key(path, body) {
      const signature = `${path}\n${JSON.stringify(body ?? null)}`;
      if (!last || last.signature !== signature) last = { signature, key: uuid() };
      return last.key;
    },
    settle(error) {
      const stillRunning = error instanceof ApiError && error.status === 409 && !('current_status' in error.problem);
      const retryable = error instanceof ApiError && (error.network || error.status >= 500 || [408, 429].includes(error.status) || stillRunning);
      if (!retryable) last = null;
    },
  };
}

// POST with an idempotency() helper: settles the key on every outcome.
export async function post(idem, path, body, options = {}) {
  try {
    const result = await api('POST', path, { ...options, body, idempotencyKey: idem.key(path, body) });
    idem.settle(null);
    return result;
  } catch (error) {
    idem.settle(error);
    throw error;
  }
}
