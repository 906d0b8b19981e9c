// Signing in and its failures: a wrong password, cancelling on the sign-in page, and a session
// that can no longer be refreshed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, openConsole, signIn, fillSignInPage, byTestId, createCustomer, assertNoPageErrors, APP_URL, TEST_TIMEOUT_MS,
} from './helpers.mjs';

let browser;
let customer;
before(async () => {
  browser = await launch();
  customer = await createCustomer({ name: 'Sol Signin' });
});
after(async () => {
  await browser?.close();
});

test('a wrong password shows the page\'s error and stays on the sign-in page', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser);
  await openConsole(page);
  await byTestId(page, 'sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Password').fill(`${customer.password}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.innerText()).trim(), 'The email or the password is not right.');
  assert.equal(new URL(page.url()).pathname, '/oauth/authorize');
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not sent back');
  assert.equal(await byTestId(page, 'sign-out').count(), 0);

  // The page still works: the right password signs in.
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(APP_URL) && !url.search);
  await byTestId(page, 'catalog').waitFor();
  assertNoPageErrors(page);
  await context.close();
});

test('Cancel on the sign-in page returns to the console with a "cancelled" notice', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser);
  await openConsole(page);
  await byTestId(page, 'sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await page.waitForURL((url) => url.pathname === '/app/');
  const notice = byTestId(page, 'auth-notice');
  await notice.waitFor();
  assert.equal((await notice.innerText()).trim(), 'Sign-in was cancelled.');
  // The error and state left the address bar; the person can sign in again.
  await page.waitForFunction(() => location.search === '');
  await byTestId(page, 'sign-in').waitFor();
  assert.equal(await byTestId(page, 'sign-out').count(), 0);
  assertNoPageErrors(page);
  await context.close();
});

// From now on the server refuses to refresh (as it does for a revoked or expired refresh token),
// and the next list of orders is refused as if the access token had expired. Returns the refresh
// attempts seen.
async function expireSession(page) {
  const refreshes = [];
  await page.route(
    (url) => url.pathname === '/oauth/token',
    (route) => {
      const request = route.request();
      const form = new URLSearchParams(request.postData() || '');
      if (request.method() !== 'POST' || form.get('grant_type') !== 'refresh_token') return route.fallback();
      refreshes.push(form.get('refresh_token'));
      return route.fulfill({
        status: 400,
        contentType: 'application/json',
        headers: { 'Cache-Control': 'no-store' },
        body: JSON.stringify({ error: 'invalid_grant', error_description: 'The refresh token is not valid.' }),
      });
    },
  );
  await page.route(
    (url) => url.pathname === '/api/v1/orders',
    (route) => route.fulfill({
      status: 401,
      contentType: 'application/problem+json',
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="The access token expired"' },
      body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'The access token expired.' }),
    }),
    { times: 1 },
  );
  return refreshes;
}

test('a session that cannot be refreshed ends with "session expired" and offers sign-in', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser);
  await signIn(page, customer);
  await byTestId(page, 'catalog').waitFor();
  const refreshes = await expireSession(page);

  await byTestId(page, 'nav-orders').click();

  const notice = byTestId(page, 'auth-notice');
  await notice.waitFor();
  assert.equal((await notice.innerText()).trim(), 'Your session expired. Sign in again.');
  await byTestId(page, 'sign-in').waitFor();
  assert.equal(await byTestId(page, 'sign-out').count(), 0, 'no longer shown as signed in');
  assert.equal(await page.getByRole('navigation').count(), 0, 'no menu of a signed-in person');
  assert.equal(refreshes.length, 1, 'the console tried exactly one refresh');
  assert.equal(await page.getByText('The access token expired.').count(), 0, 'no raw API error');

  // The offered sign-in works.
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await byTestId(page, 'sign-in').click();
  await fillSignInPage(page, customer);
  assert.equal(await byTestId(page, 'auth-notice').count(), 0);
  await page.locator('main h1').first().waitFor();
  assertNoPageErrors(page);
  await context.close();
});

test('signing in again after the session expired returns to the page it expired on', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser);
  await signIn(page, customer);
  await byTestId(page, 'catalog').waitFor();
  await expireSession(page);
  await byTestId(page, 'nav-orders').click();
  await byTestId(page, 'auth-notice').waitFor();
  assert.match(new URL(page.url()).hash, /^#\/orders$/);
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  await byTestId(page, 'sign-in').click();
  await fillSignInPage(page, customer);
  // The console keeps the page in the sign-in round trip (returnTo) and opens it afterwards.
  await page.locator('[data-testid="orders"], [data-testid="catalog"]').first().waitFor();
  assert.equal(new URL(page.url()).hash, '#/orders', 'back on the page the session expired on');
  await byTestId(page, 'orders').waitFor();
  assertNoPageErrors(page);
  await context.close();
});

test('the sign-in page in Spanish: the same error sentence in Spanish', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser, { locale: 'es-ES' });
  await openConsole(page);
  await byTestId(page, 'sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await page.getByLabel('Correo electrónico').fill(customer.email);
  await page.getByLabel('Contraseña').fill(`${customer.password}-mal`);
  await page.getByRole('button', { name: 'Iniciar sesión' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.innerText()).trim(), 'El correo o la contraseña no son correctos.');
  assert.equal(new URL(page.url()).pathname, '/oauth/authorize');
  await page.getByRole('button', { name: 'Cancelar' }).click();
  const notice = byTestId(page, 'auth-notice');
  await notice.waitFor();
  assert.equal((await notice.innerText()).trim(), 'Se ha cancelado el inicio de sesión.');
  await context.close();
});
