// Shared helpers of the browser journeys: the browser (Debian's Chromium driven by
// playwright-core; no browser is ever downloaded), one fresh context per person, signing in
// through the server's real sign-in page, waiting on what the page shows, and data set up through
// the API as the operator (plain fetch from Node).
//
// Environment (tests/browser/run.sh sets the first three):
//   BASE_URL            the shape's origin, e.g. http://127.0.0.1:8080
//   OPERATOR_EMAIL      the bootstrap operator
//   OPERATOR_PASSWORD
//   CHROMIUM            the browser binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR      when set, shot() saves PNGs there
//   CONSOLE_DIR         DEVELOPMENT ONLY: serve /app/ from this folder (web/console) instead of
//                       the copy embedded in the binary, to try console fixes without a rebuild.
//                       CI runs without it: the console under test is the one the binary serves.
import { chromium } from 'playwright-core';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const APP_URL = `${BASE_URL}/app/`;
export const OPERATOR = {
  email: process.env.OPERATOR_EMAIL || 'operator@example.com',
  password: process.env.OPERATOR_PASSWORD || '',
};
// The ASan build is slow: generous waits for anything the page shows.
export const WAIT_MS = Number(process.env.WAIT_MS || 15000);
// The order saga, dispatch and polling (every 2 s) take longer than one render.
export const SAGA_WAIT_MS = Number(process.env.SAGA_WAIT_MS || 45000);
export const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS || 240000);

const here = path.dirname(fileURLToPath(import.meta.url));
export const AXE_SOURCE_PATH = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');

// The same CSP the server sends with every /app/ file (src: the console's static handler).
const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const unique = (prefix = '') => `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
}

// DEVELOPMENT ONLY (CONSOLE_DIR): answers GETs of files under /app/ from the folder on disk,
// with the server's content type and CSP; everything else goes to the server untouched.
async function serveConsoleFromDisk(context, dir) {
  const root = path.resolve(dir);
  const origin = new URL(BASE_URL).origin;
  await context.route(
    (url) => url.origin === origin && url.pathname.startsWith('/app/'),
    async (route) => {
      const request = route.request();
      if (request.method() !== 'GET') return route.fallback();
      let rel;
      try {
        rel = decodeURIComponent(new URL(request.url()).pathname.slice('/app/'.length));
      } catch {
        return route.fallback();
      }
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(root, rel);
      if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) return route.fallback();
      return route.fulfill({
        status: 200,
        headers: {
          'Content-Type': CONTENT_TYPES[path.extname(file)] || 'application/octet-stream',
          'Content-Security-Policy': CONSOLE_CSP,
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
          'Referrer-Policy': 'no-referrer',
        },
        body: await readFile(file),
      });
    },
  );
}

// A fresh browser context (own cookies, storage, tokens) for one person, with one page.
// Options: locale ('en-GB'), viewport, bypassCSP (for axe only), isMobile.
export async function person(browser, { locale = 'en-GB', viewport = { width: 1280, height: 900 }, bypassCSP = false, isMobile = false } = {}) {
  const context = await browser.newContext({ locale, viewport, bypassCSP, isMobile, hasTouch: isMobile });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS * 2);
  if (process.env.CONSOLE_DIR) await serveConsoleFromDisk(context, process.env.CONSOLE_DIR);
  const page = await context.newPage();
  // Script errors are bugs of the console: collected, and checked by assertNoPageErrors().
  page.pageErrors = [];
  page.on('pageerror', (error) => page.pageErrors.push(String(error && error.stack ? error.stack : error)));
  return { context, page };
}

export function assertNoPageErrors(page) {
  if (page.pageErrors && page.pageErrors.length) {
    throw new Error(`uncaught errors in the page:\n${page.pageErrors.join('\n')}`);
  }
}

export const byTestId = (scope, id) => scope.locator(`[data-testid="${id}"]`);

// Hash navigation inside the console: what typing #/… into the address bar does. A reload would
// sign the person out (tokens live in memory only), so the page is never reloaded.
export async function go(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

export async function openConsole(page) {
  await page.goto(APP_URL);
  await page.locator('main h1').first().waitFor();
}

const SIGN_IN_BUTTON = /^(Sign in|Iniciar sesión)$/;
const EMAIL_LABEL = /^(Email|Correo electrónico)$/;
const PASSWORD_LABEL = /^(Password|Contraseña)$/;

export async function isOnSignInPage(page) {
  return new URL(page.url()).pathname === '/oauth/authorize';
}

// From the console's welcome screen: "Sign in" → the server's sign-in page → back, signed in.
export async function signIn(page, { email, password }) {
  if (!page.url().startsWith(APP_URL)) await openConsole(page);
  await byTestId(page, 'sign-in').click();
  await fillSignInPage(page, { email, password });
}

// On the server's sign-in page (already there): fill it in, submit, and wait until the console
// has exchanged the code (the sign-out button shows).
export async function fillSignInPage(page, { email, password }) {
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await page.getByLabel(EMAIL_LABEL).fill(email);
  await page.getByLabel(PASSWORD_LABEL).fill(password);
  await page.getByRole('button', { name: SIGN_IN_BUTTON }).click();
  await page.waitForURL((url) => url.pathname === '/app/' && !url.searchParams.has('code'), { timeout: WAIT_MS * 2 });
  await byTestId(page, 'sign-out').waitFor();
}

// Waits until the element with data-testid=`testid` carries data-status=`want`; the error names
// the value it had instead.
export async function waitForStatus(page, testid, want, timeout = SAGA_WAIT_MS) {
  const wanted = Array.isArray(want) ? want : [want];
  const selector = wanted.map((w) => `[data-testid="${testid}"][data-status="${w}"]`).join(', ');
  try {
    await page.locator(selector).first().waitFor({ timeout });
  } catch (error) {
    const now = await page.locator(`[data-testid="${testid}"]`).first().getAttribute('data-status', { timeout: 1000 }).catch(() => '(not on the page)');
    const text = await page.locator('main').innerText({ timeout: 1000 }).catch(() => '');
    throw new Error(`${testid}: wanted data-status ${wanted.join('|')} within ${timeout} ms, have ${now}\npage: ${page.url()}\n${text.slice(0, 1500)}`);
  }
  return page.locator(selector).first().getAttribute('data-status');
}

export async function shot(page, name) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

// ---- the API, from Node ----

export async function call(method, apiPath, { token, body, form, headers = {} } = {}) {
  const all = { Accept: 'application/json, application/problem+json', ...headers };
  let payload;
  if (token) all.Authorization = `Bearer ${token}`;
  if (form) {
    all['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    all['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${BASE_URL}${apiPath}`, { method, headers: all, body: payload, signal: AbortSignal.timeout(WAIT_MS * 2) });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: response.status, data, headers: response.headers };
}

// Like call(), but a status other than `expect` (default: any 2xx) is an error naming the exchange.
export async function must(method, apiPath, options = {}, expect) {
  const answer = await call(method, apiPath, options);
  const ok = expect === undefined ? answer.status >= 200 && answer.status < 300 : answer.status === expect;
  if (!ok) {
    throw new Error(`${method} ${apiPath} ${JSON.stringify(options.body || options.form || null)} → ${answer.status} ${JSON.stringify(answer.data)}`);
  }
  return answer.data;
}

export async function passwordToken(email, password) {
  const data = await must('POST', '/oauth/token', { form: { grant_type: 'password', username: email, password } });
  return data.access_token;
}

export const operatorToken = () => passwordToken(OPERATOR.email, OPERATOR.password);

export function newPassword() {
  return `Pw-${randomBytes(9).toString('base64url')}`;
}

// A zone of its own (a unique postal prefix), so a journey's courier gets that journey's delivery.
export async function createZone(token) {
  const prefix = `T${randomBytes(4).toString('hex').toUpperCase()}`.slice(0, 8);
  const zone = await must('POST', '/api/v1/zones', { token, body: { name: `Zone ${prefix}`, postal_prefixes: [prefix] } });
  return { ...zone, prefix, postalCode: `${prefix}01` };
}

export async function createProduct(token, { price = 1250, currency = 'EUR' } = {}) {
  const sku = unique('SKU-').toUpperCase();
  return must('POST', '/api/v1/catalog/products', { token, body: { sku, name: `Test lamp ${sku.slice(-6)}`, price, currency } });
}

export async function createCourier(token, zone) {
  const email = `${unique('courier-')}@example.com`;
  const password = newPassword();
  const courier = await must('POST', '/api/v1/couriers', {
    token,
    body: { name: `Courier ${email.slice(8, 14)}`, email, password, zone_id: zone.id, capacity: 5 },
  });
  return { ...courier, email, password };
}

// A customer registered through the API (counts toward the server's 20 registrations per client
// address per hour, like the console's form: keep the number of customers per run small).
export async function createCustomer({ name } = {}) {
  const email = `${unique('cust-')}@example.com`;
  const password = newPassword();
  const customer = await must('POST', '/api/v1/customers', { body: { email, password, name: name || `Customer ${email.slice(5, 11)}` } });
  const token = await passwordToken(email, password);
  return { ...customer, email, password, token };
}

export async function addAddress(customer, { postalCode, line1 = `${Math.floor(Math.random() * 200) + 1} Test Street`, label = 'Home' }) {
  const answer = await must('POST', `/api/v1/customers/${customer.id}/addresses`, {
    token: customer.token,
    body: { label, line1, city: 'Madrid', postal_code: postalCode, country: 'ES' },
  });
  // The answer is the customer with its addresses (or the address): find the one just added.
  const addresses = Array.isArray(answer.addresses) ? answer.addresses : [answer];
  return addresses.find((a) => a.postal_code === postalCode && a.line1 === line1) || addresses[addresses.length - 1];
}

export async function placeOrder(customer, { sku, addressId, paymentMethod = 'tok_visa' }) {
  return must('POST', '/api/v1/orders', {
    token: customer.token,
    body: { items: [{ sku, quantity: 1 }], address_id: addressId, payment_method: paymentMethod },
  });
}

export async function waitForOrder(token, orderId, statuses, timeout = SAGA_WAIT_MS) {
  const deadline = Date.now() + timeout;
  let order;
  while (Date.now() < deadline) {
    order = await must('GET', `/api/v1/orders/${orderId}`, { token });
    if (statuses.includes(order.status)) return order;
    await sleep(300);
  }
  throw new Error(`order ${orderId} is ${order && order.status}, not ${statuses.join('|')}, after ${timeout} ms`);
}

// The world most journeys need: an operator token, a zone with its courier, and a product.
export async function world({ courier = false } = {}) {
  const token = await operatorToken();
  const zone = await createZone(token);
  const product = await createProduct(token);
  const result = { operatorToken: token, zone, product };
  if (courier) result.courier = await createCourier(token, zone);
  return result;
}

// ---- console steps shared by the journeys ----

// Catalog → "Add to cart" on the product → the cart, with the place-order button ready.
export async function fillCart(page, sku) {
  await byTestId(page, 'nav-catalog').click();
  const card = page.locator(`[data-testid="product"][data-sku="${sku}"]`);
  await card.waitFor();
  await byTestId(card, 'add-to-cart').click();
  await byTestId(page, 'go-to-cart').click();
  await byTestId(page, 'cart').waitFor();
  await page.locator(`[data-testid="cart-line"][data-sku="${sku}"]`).waitFor();
  await page.waitForFunction(() => {
    const button = document.querySelector('[data-testid="place-order"]');
    return button && !button.disabled;
  });
}

// The order id of the order page the console shows now (#/orders/ord_…).
export async function orderIdOnPage(page) {
  await page.waitForURL(/#\/orders\/[^/?]+$/);
  return decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
}
