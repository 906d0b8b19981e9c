// Sign-in with OAuth 2.0 authorization code + PKCE (S256). Tokens live in this module only:
// never in localStorage, sessionStorage or cookies, so a reload means signing in again.
import { createStore } from './store.js';
import { language } from './i18n.js';
import { errorFromResponse, networkError, errorSentence } from './problem.js';
import { replaceLocation } from './router.js';

const CLIENT_ID = 'deliveryhub-console';
const PKCE_KEY = 'dh.pkce';
const redirectUri = () => `${location.origin}/app/`;

// status: 'anonymous' | 'working' | 'signed-in'. notice (when anonymous): why we are here
// ('expired', 'signed-out', 'cancelled', 'state-mismatch', 'failed', 'insecure'); error: a sentence.
export const session = createStore({ status: 'anonymous', notice: null, error: null });

let tokens = null; // { access, refresh, timer }
let refreshing = null;

function base64url(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomToken = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function forgetTokens() {
  if (tokens) clearTimeout(tokens.timer);
  tokens = null;
}

function keepTokens(answer) {
  const refresh = answer.refresh_token || (tokens && tokens.refresh);
  forgetTokens();
  const lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 900;
  // Refresh a minute before expiry (or at three quarters of a short lifetime).
  const wait = (lifetime > 120 ? lifetime - 60 : lifetime * 0.75) * 1000;
  tokens = { access: answer.access_token, refresh, timer: setTimeout(() => refreshTokens(), wait) };
  const claims = claimsOf(answer.access_token);
  const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  session.set({ status: 'signed-in', sub: String(claims.sub || ''), roles });
}

async function postForm(path, fields) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json, application/problem+json',
        'Accept-Language': language.get(),
      },
      body: new URLSearchParams(fields).toString(),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw networkError();
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response.headers.get('content-type')?.includes('json') ? response.json() : null;
}

export const accessToken = () => (tokens ? tokens.access : null);

// Starts the round trip to the server's sign-in page; `returnTo` is the hash to open afterwards.
export async function signIn(returnTo = location.hash) {
  if (!window.isSecureContext || !crypto.subtle) {
    session.set({ status: 'anonymous', notice: 'insecure', error: null });
    return;
  }
  const verifier = randomToken(48); // 64 characters
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const state = randomToken(24);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo }));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
    state,
    ui_locales: language.get(),
  });
  location.assign(`/oauth/authorize?${query}`);
}

function readPkce() {
  try {
    return JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
  } catch {
    return null;
  }
}

// On load: finishes a sign-in when the server sent us back with ?code= (or ?error=).
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return;
  const stored = readPkce();
  // The code (or error) leaves the address bar in every case, and the router follows the hash
  // put back (replaceState fires no hashchange): the page the sign-in started from, not home.
  const clean = (hash) => replaceLocation(`/app/${hash || ''}`);
  if (!stored || !stored.state || params.get('state') !== stored.state) {
    clean(location.hash);
    session.set({ status: 'anonymous', notice: 'state-mismatch', error: null });
    return;
  }
  sessionStorage.removeItem(PKCE_KEY);
  if (error) {
    clean(stored.returnTo);
    session.set({ status: 'anonymous', notice: error === 'access_denied' ? 'cancelled' : 'failed', error: null });
    return;
  }
  session.set({ status: 'working', notice: null, error: null });
  try {
    const answer = await postForm('/oauth/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: CLIENT_ID,
      code_verifier: stored.verifier,
    });
    clean(stored.returnTo);
    keepTokens(answer);
  } catch (failure) {
    clean('');
    session.set({ status: 'anonymous', notice: 'failed', error: errorSentence(failure) });
  }
}

// The session is over (refresh refused): forget everything and say so.
export function endSession() {
  forgetTokens();
  if (session.get().status === 'signed-in') session.set({ status: 'anonymous', notice: 'expired', error: null });
}

// One refresh at a time; the refresh token rotates. False when the session is over.
export function refreshTokens() {
  if (refreshing) return refreshing;
  if (!tokens || !tokens.refresh) {
    endSession();
    return Promise.resolve(false);
  }
  const refresh = tokens.refresh;
  refreshing = postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: refresh, client_id: CLIENT_ID })
    .then((answer) => {
      keepTokens(answer);
      return true;
    })
    .catch(() => {
      endSession();
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

// After a 401 to a request made with `usedToken`: refresh, unless another request already did.
export function refreshAfter401(usedToken) {
  if (tokens && tokens.access !== usedToken) return Promise.resolve(true);
  return refreshTokens();
}

export async function signOut() {
  const refresh = tokens && tokens.refresh;
  forgetTokens();
  if (refresh) {
    try {
      await postForm('/oauth/revoke', { token: refresh, token_type_hint: 'refresh_token', client_id: CLIENT_ID });
    } catch {
      /* the tokens are forgotten here whatever the server answered */
    }
  }
  session.set({ status: 'anonymous', notice: 'signed-out', error: null });
}
