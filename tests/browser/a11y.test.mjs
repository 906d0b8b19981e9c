// Accessibility: axe-core on every main page of each role (no violation of impact serious or
// critical; the others are printed as diagnostics), one page on a 375×740 phone, and the keyboard
// path to signing in.
//
// axe is injected with page.addScriptTag({ content }), an inline script: the console's CSP
// (script-src 'self') and the sign-in page's (default-src 'none') forbid it, as they should. So
// the contexts that run axe are created with bypassCSP: true — for the audit only; every other
// test runs under the real CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, person, world, signIn, openConsole, go, byTestId, createCustomer, addAddress, placeOrder,
  waitForOrder, must, assertNoPageErrors, AXE_SOURCE_PATH, OPERATOR, TEST_TIMEOUT_MS,
} from './helpers.mjs';

let browser;
let axeSource;
let setup;
let customer;
let order;
let incident;
const findings = []; // every violation below serious, for the summary
const reviews = []; // axe's "incomplete" (needs a human), for the summary

before(async () => {
  browser = await launch();
  axeSource = await readFile(AXE_SOURCE_PATH, 'utf8');
  setup = await world({ courier: true });
  customer = await createCustomer({ name: 'Axel Audit' });
  const address = await addAddress(customer, { postalCode: setup.zone.postalCode, line1: '5 Audit Street' });
  order = await placeOrder(customer, { sku: setup.product.sku, addressId: address.id });
  await waitForOrder(customer.token, order.id, ['confirmed']);
  incident = await must('POST', '/api/v1/incidents', {
    token: customer.token,
    body: { order_id: order.id, type: 'late', description: 'Still waiting for it.' },
  });
});
after(async () => {
  await browser?.close();
});

const SEVERE = ['serious', 'critical'];

// Runs axe on the page as it is now; fails on serious or critical violations.
async function audit(t, page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: axeSource });
  const { violations, passes, incomplete } = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations', 'incomplete'] });
    return { passes: result.passes.length, incomplete: result.incomplete.map((v) => `${v.id} (${v.nodes.length})`), violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 200)}`),
    })) };
  });
  assert.ok(passes > 0, `${name}: axe checked nothing`);
  // What axe could not decide alone (e.g. contrast over a background it cannot compute): for review.
  if (incomplete.length) reviews.push(`${name}: ${incomplete.join(', ')}`);
  const severe = violations.filter((v) => SEVERE.includes(v.impact));
  for (const v of violations.filter((x) => !SEVERE.includes(x.impact))) {
    const line = `${name}: ${v.impact} ${v.id} (${v.help}) on ${v.nodes.length} node(s): ${v.nodes.slice(0, 3).join(' | ')}`;
    findings.push(line);
    t.diagnostic(`axe ${line}`);
  }
  assert.deepEqual(
    severe.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`),
    [],
    `${name}: serious or critical axe violations`,
  );
}

// Waits until the page has its content (no "Loading…" left in main).
async function settled(page, testid) {
  await byTestId(page, testid).waitFor();
  await page.waitForFunction(() => !document.querySelector('main [aria-busy="true"]'));
}

test('axe: welcome, register and the sign-in page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { context, page } = await person(browser, { bypassCSP: true });
  await openConsole(page);
  await settled(page, 'welcome');
  await audit(t, page, 'welcome');
  // The audit itself works: a planted image without a text alternative (critical) fails it.
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = 'data:,';
    img.id = 'planted';
    document.querySelector('main').append(img);
  });
  await assert.rejects(audit(t, page, 'welcome (planted violation)'), /image-alt/);
  await page.evaluate(() => document.getElementById('planted').remove());
  await byTestId(page, 'nav-register').click();
  await settled(page, 'register');
  await audit(t, page, 'register');
  // The register form with the errors the API gives for empty fields.
  await byTestId(page, 'register-submit').click();
  await byTestId(page, 'error').waitFor();
  await audit(t, page, 'register (with errors)');
  await go(page, '#/');
  await byTestId(page, 'sign-in').click();
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await audit(t, page, 'sign-in page');
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await audit(t, page, 'sign-in page (wrong password)');
  await context.close();
});

test('axe: the customer pages', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { context, page } = await person(browser, { bypassCSP: true });
  await signIn(page, customer);
  await settled(page, 'catalog');
  await page.locator(`[data-testid="product"][data-sku="${setup.product.sku}"]`).waitFor();
  await audit(t, page, 'catalog');
  await byTestId(page.locator(`[data-testid="product"][data-sku="${setup.product.sku}"]`), 'add-to-cart').click();
  await byTestId(page, 'go-to-cart').click();
  await settled(page, 'cart');
  await audit(t, page, 'cart');
  await go(page, `#/orders/${order.id}`);
  await settled(page, 'order');
  await byTestId(page, 'order-status').waitFor();
  await audit(t, page, 'order detail');
  await byTestId(page, 'nav-orders').click();
  await settled(page, 'orders');
  await byTestId(page, 'order-row').first().waitFor();
  await audit(t, page, 'orders');
  await byTestId(page, 'nav-incidents').click();
  await settled(page, 'incidents');
  await byTestId(page, 'incident-row').first().waitFor();
  await audit(t, page, 'incidents');
  await go(page, `#/incidents/${incident.id}`);
  await settled(page, 'incident');
  await audit(t, page, 'incident detail');
  await go(page, `#/orders/${order.id}/incident`);
  await settled(page, 'new-incident');
  await audit(t, page, 'new incident');
  await byTestId(page, 'nav-addresses').click();
  await settled(page, 'addresses');
  await byTestId(page, 'address').first().waitFor();
  await audit(t, page, 'addresses');
  await byTestId(page, 'nav-profile').click();
  await settled(page, 'profile');
  await page.locator('#profile-name').waitFor();
  await audit(t, page, 'profile');
  await go(page, '#/orders/ord_does_not_exist');
  await settled(page, 'order-not-found');
  await audit(t, page, 'order not found');
  assertNoPageErrors(page);
  await context.close();
});

test('axe: the courier\'s deliveries, on a phone', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { context, page } = await person(browser, { bypassCSP: true, viewport: { width: 375, height: 740 }, isMobile: true });
  await signIn(page, setup.courier);
  await settled(page, 'deliveries');
  await byTestId(page, 'delivery').first().waitFor();
  await audit(t, page, 'courier deliveries (375×740)');
  // The fail form open, too.
  await byTestId(page, 'fail').first().click();
  await byTestId(page, 'fail-confirm').waitFor();
  await audit(t, page, 'courier deliveries, fail form (375×740)');
  assertNoPageErrors(page);
  await context.close();
});

test('axe: the operator pages', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { context, page } = await person(browser, { bypassCSP: true });
  await signIn(page, OPERATOR);
  await settled(page, 'dashboard');
  // The dashboard's counts come from GET /api/v1/orders/summary: the saga's backlog is a number.
  const backlog = byTestId(page, 'saga-backlog');
  await backlog.waitFor();
  assert.match(await backlog.getAttribute('data-count'), /^\d+$/);
  await audit(t, page, 'operator dashboard');
  await byTestId(page, 'nav-incidents').click();
  await settled(page, 'incidents');
  await byTestId(page, 'incident-row').first().waitFor();
  await audit(t, page, 'incidents queue');
  await go(page, `#/incidents/${incident.id}`);
  await settled(page, 'incident');
  await byTestId(page, 'resolve-incident').waitFor();
  await audit(t, page, 'incident detail (operator, resolve form)');
  await byTestId(page, 'nav-customers').click();
  await settled(page, 'customers');
  await byTestId(page, 'customer').first().waitFor();
  await audit(t, page, 'customers');
  await byTestId(page, 'nav-payments').click();
  await settled(page, 'payments');
  await audit(t, page, 'payments');
  await page.getByLabel(/order/i).fill(order.id);
  await byTestId(page, 'find-payment').click();
  await settled(page, 'payment');
  await audit(t, page, 'payment detail');
  await byTestId(page, 'nav-zones').click();
  await settled(page, 'zones');
  await byTestId(page, 'zone').first().waitFor();
  await audit(t, page, 'zones');
  await byTestId(page, 'nav-products').click();
  await settled(page, 'products');
  await byTestId(page, 'product-admin').first().waitFor();
  await audit(t, page, 'products');
  await byTestId(page, 'nav-couriers').click();
  await settled(page, 'couriers');
  await byTestId(page, 'courier').first().waitFor();
  await page.locator('#courier-zone option').first().waitFor({ state: 'attached' });
  await audit(t, page, 'couriers');
  assertNoPageErrors(page);
  await context.close();
});

test('on a 375×740 phone: no sideways scrolling, and the keyboard reaches and presses "Sign in"', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { context, page } = await person(browser, { bypassCSP: true, viewport: { width: 375, height: 740 }, isMobile: true });
  await openConsole(page);
  await settled(page, 'welcome');
  await audit(t, page, 'welcome (375×740)');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the welcome page is ${overflow}px wider than the phone`);

  // Tab from the top of the page until the console's sign-in button has the focus; Enter.
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el ? el.getAttribute('data-testid') || el.id || el.textContent.trim() : null;
  });
  const path = [];
  for (let i = 0; i < 20 && (await focused()) !== 'sign-in'; i++) {
    await page.keyboard.press('Tab');
    path.push(await focused());
  }
  assert.equal(await focused(), 'sign-in', `Tab went through: ${path.join(' → ')}`);
  t.diagnostic(`Tab order to the sign-in button: ${path.join(' → ')}`);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/oauth/authorize');

  // On the sign-in page: type, Tab, type, Tab to its "Sign in" button, Enter.
  const overflowSignIn = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflowSignIn <= 0, `the sign-in page is ${overflowSignIn}px wider than the phone`);
  const steps = [];
  for (let i = 0; i < 10 && (await focused()) !== 'email'; i++) {
    await page.keyboard.press('Tab');
    steps.push(await focused());
  }
  assert.equal(await focused(), 'email', `Tab went through: ${steps.join(' → ')}`);
  await page.keyboard.type(customer.email);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'password');
  await page.keyboard.type(customer.password);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Sign in');
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/app/' && !url.search);
  await settled(page, 'catalog');
  assertNoPageErrors(page);
  await context.close();
});

test('axe findings below serious (summary)', (t) => {
  // Printed, not failed: the report of what is left to improve.
  t.diagnostic(`axe: ${findings.length} violation(s) below serious`);
  for (const line of findings) t.diagnostic(`axe violation: ${line}`);
  for (const line of reviews) t.diagnostic(`axe needs review: ${line}`);
});
