// Hash routing: #/orders, #/orders/ord_…, #/incidents?status=open. Moves focus to the new page's
// heading after a navigation so keyboard and screen-reader users land on the new content.
import { createStore, useStore } from './store.js';

function parse() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [path, search = ''] = raw.split('?');
  const clean = path.replace(/\/+$/, '') || '/';
  return { path: clean, query: Object.fromEntries(new URLSearchParams(search)) };
}

const route = createStore(parse());
let focusRequested = false;

function update() {
  const next = parse();
  // A new page takes the focus to its heading; a new filter (query) on the same page does not.
  if (next.path !== route.get().path) focusRequested = true;
  route.set(next);
}

window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#/') || location.hash === '') update();
});

export const useRoute = () => useStore(route);

// '/orders/:id' against '/orders/ord_1' → { id: 'ord_1' }; null when it does not match.
export function match(pattern, path) {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== have[i]) return null;
  }
  return params;
}

export function href(path, query) {
  const search = new URLSearchParams(Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (replace) {
    history.replaceState(null, '', target);
    update();
  } else {
    location.hash = target;
  }
}

// Replaces the whole address (no history entry, no hashchange event) and routes to its hash:
// how a sign-in leaves `?code=…` and lands on the page it started from.
export function replaceLocation(url) {
  history.replaceState(null, '', url);
  update();
}

// True once after each navigation: the page heading that asks first takes the focus.
export function takeFocusRequest() {
  const requested = focusRequested;
  focusRequested = false;
  return requested;
}
