// RFC 9457 problems (and network failures) as one error type, and how to say them in a sentence.
import { t, has } from './i18n.js';

export class ApiError extends Error {
  constructor({ status = 0, problem = null, network = false } = {}) {
    super(problem && typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.network = network;
    this.problem = problem || {};
    this.fieldErrors = Array.isArray(this.problem.errors)
      ? this.problem.errors.filter((e) => e && typeof e.field === 'string' && typeof e.message === 'string')
      : [];
  }
}

export async function errorFromResponse(response) {
  let problem = null;
  const type = response.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      const body = await response.json();
      if (body && typeof body === 'object' && !Array.isArray(body)) problem = body;
    } catch {
      /* not JSON after all: fall back to the status */
    }
  }
  return new ApiError({ status: response.status, problem });
}

export function networkError() {
  return new ApiError({ network: true });
}

// One sentence for the user: the problem's detail, else a sentence for the status. Never raw JSON.
export function errorSentence(error) {
  if (!error) return '';
  if (!(error instanceof ApiError)) return t('error.generic');
  if (error.network) return t('error.network');
  const detail = error.problem.detail;
  if (typeof detail === 'string' && detail.trim()) return detail.trim();
  const key = `error.status.${error.status}`;
  if (has(key)) return t(key);
  return error.status >= 500 ? t('error.status.500') : t('error.generic');
}

// The message the API gave for one field (e.g. 'postal_code' or 'items[0].sku'), if any.
export function fieldError(error, field) {
  if (!(error instanceof ApiError)) return undefined;
  const hit = error.fieldErrors.find((e) => e.field === field);
  return hit ? hit.message : undefined;
}

// A problem found before sending anything (e.g. an amount that does not parse), shown the same way.
export function localError(detail, errors = []) {
  return new ApiError({ problem: { detail, errors } });
}
