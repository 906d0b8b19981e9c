// Language: the console follows the browser (es* → Spanish, else English) until the ES/EN switch
// picks one; the sign-in page follows the console; amounts follow the language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, openConsole, byTestId, world, createCustomer, fillSignInPage, assertNoPageErrors, TEST_TIMEOUT_MS,
} from './helpers.mjs';

let browser;
let setup;
before(async () => {
  browser = await launch();
  setup = await world();
});
after(async () => {
  await browser?.close();
});

const lang = (page) => page.evaluate(() => document.documentElement.lang);
const pressed = (page, l) => byTestId(page, `lang-${l}`).getAttribute('aria-pressed');

test('a browser in es-ES gets the console in Spanish; the switch changes it, and it is remembered', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser, { locale: 'es-ES' });
  await openConsole(page);
  assert.equal(await lang(page), 'es');
  assert.equal((await byTestId(page, 'sign-in').innerText()).trim(), 'Iniciar sesión');
  assert.equal((await byTestId(page, 'nav-register').innerText()).trim(), 'Crear una cuenta');
  assert.equal(await pressed(page, 'es'), 'true');
  assert.equal(await pressed(page, 'en'), 'false');

  await byTestId(page, 'lang-en').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal((await byTestId(page, 'sign-in').innerText()).trim(), 'Sign in');
  assert.equal((await byTestId(page, 'nav-register').innerText()).trim(), 'Create an account');
  assert.equal(await pressed(page, 'en'), 'true');

  // The choice outlives a reload (and beats the browser's language).
  await page.reload();
  await byTestId(page, 'sign-in').waitFor();
  assert.equal(await lang(page), 'en');
  assert.equal((await byTestId(page, 'sign-in').innerText()).trim(), 'Sign in');

  await byTestId(page, 'lang-es').click();
  await page.waitForFunction(() => document.documentElement.lang === 'es');
  assert.equal((await byTestId(page, 'sign-in').innerText()).trim(), 'Iniciar sesión');
  assertNoPageErrors(page);
  await context.close();
});

test('a browser in English gets English', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await person(browser, { locale: 'en-US' });
  await openConsole(page);
  assert.equal(await lang(page), 'en');
  assert.equal((await byTestId(page, 'sign-in').innerText()).trim(), 'Sign in');
  await context.close();
});

test('signed in in Spanish: the sign-in page, the menu and the prices are Spanish; EN switches all', { timeout: TEST_TIMEOUT_MS }, async () => {
  const customer = await createCustomer({ name: 'Lucía Idioma' });
  const { context, page } = await person(browser, { locale: 'es-ES' });
  await openConsole(page);
  await byTestId(page, 'sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
  await page.getByLabel('Correo electrónico').waitFor();
  await page.getByLabel('Contraseña').waitFor();
  await page.getByRole('button', { name: 'Iniciar sesión' }).waitFor();
  await page.getByRole('button', { name: 'Cancelar' }).waitFor();
  await fillSignInPage(page, customer);

  const card = page.locator(`[data-testid="product"][data-sku="${setup.product.sku}"]`);
  await card.waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Catálogo');
  assert.equal((await byTestId(page, 'nav-orders').innerText()).trim(), 'Pedidos');
  assert.equal((await byTestId(page, 'sign-out').innerText()).trim(), 'Cerrar sesión');
  const euros = (setup.product.price / 100).toFixed(2);
  assert.match(await card.locator('.money').innerText(), new RegExp(`^${euros.replace('.', ',')}\\s€$`));

  await byTestId(page, 'lang-en').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(await page.locator('h1').innerText(), 'Catalog');
  assert.equal((await byTestId(page, 'nav-orders').innerText()).trim(), 'Orders');
  assert.equal(await card.locator('.money').innerText(), `€${euros}`);
  assert.ok((await page.title()).startsWith('Catalog'), `title: ${await page.title()}`);
  assertNoPageErrors(page);
  await context.close();
});
