// The full journey, each person in a browser context of their own: a customer registers, signs
// in, adds an address, orders and watches the order reach `confirmed`; the courier (on a phone)
// picks it up and delivers it; the customer opens an incident; the operator resolves it with a
// refund; the customer sees the refund. With SCREENSHOT_DIR set, the main pages are saved there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, world, signIn, fillSignInPage, openConsole, go, byTestId, waitForStatus, shot, must,
  assertNoPageErrors, unique, newPassword, OPERATOR, TEST_TIMEOUT_MS, SAGA_WAIT_MS,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a customer registers, orders, gets it delivered, and an incident refunds it', { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
  const setup = await world({ courier: true });
  const { product, zone, courier } = setup;

  // --- The customer registers in the console and signs in on the sign-in page.
  const customer = { email: `${unique('ana-')}@example.com`, password: newPassword(), name: 'Ana Journey' };
  const c = await person(browser);
  await openConsole(c.page);
  await byTestId(c.page, 'welcome').waitFor();
  await byTestId(c.page, 'nav-register').click();
  await byTestId(c.page, 'register').waitFor();
  await c.page.getByLabel('Email').fill(customer.email);
  await c.page.getByLabel(/^Password/).fill(customer.password);
  await c.page.getByLabel(/^Name/).fill(customer.name);
  await byTestId(c.page, 'register-submit').click();
  // Registering sends the browser to the sign-in page.
  await c.page.waitForURL((url) => url.pathname === '/oauth/authorize');
  await c.page.getByLabel('Email').waitFor();
  await shot(c.page, 'sign-in-page');
  await fillSignInPage(c.page, customer);
  await byTestId(c.page, 'catalog').waitFor();

  // --- An address in the zone.
  await byTestId(c.page, 'nav-addresses').click();
  await byTestId(c.page, 'addresses').waitFor();
  await c.page.getByLabel(/^Label/).fill('Home');
  await c.page.getByLabel(/^Street and number/).fill('12 Journey Street');
  await c.page.getByLabel(/^City/).fill('Madrid');
  await c.page.getByLabel(/^Postal code/).fill(zone.postalCode);
  await byTestId(c.page, 'add-address').click();
  await byTestId(c.page, 'address').filter({ hasText: '12 Journey Street' }).waitFor();

  // --- The product into the cart, and the order placed.
  await byTestId(c.page, 'nav-catalog').click();
  const card = c.page.locator(`[data-testid="product"][data-sku="${product.sku}"]`);
  await card.waitFor();
  await shot(c.page, 'catalog');
  await byTestId(card, 'add-to-cart').click();
  await card.getByText(/in your cart|in the cart/i).waitFor();
  await byTestId(c.page, 'go-to-cart').click();
  await byTestId(c.page, 'cart').waitFor();
  await c.page.locator(`[data-testid="cart-line"][data-sku="${product.sku}"]`).waitFor();
  const placeOrder = byTestId(c.page, 'place-order');
  await c.page.waitForFunction(() => !document.querySelector('[data-testid="place-order"]').disabled);
  await placeOrder.click();
  await c.page.waitForURL(/#\/orders\/[^/]+$/);
  const orderId = decodeURIComponent(new URL(c.page.url()).hash.split('/')[2]);
  assert.match(orderId, /^ord_/);
  // The page follows the order on its own (it polls) until the saga has confirmed it.
  await waitForStatus(c.page, 'order-status', 'confirmed', SAGA_WAIT_MS);
  assert.ok((await c.page.locator('main').innerText()).includes('12 Journey Street'));
  await shot(c.page, 'order-confirmed');

  // --- The courier, on a phone, picks it up and delivers it.
  const k = await person(browser, { viewport: { width: 375, height: 740 }, isMobile: true });
  await signIn(k.page, courier);
  await byTestId(k.page, 'deliveries').waitFor();
  const delivery = byTestId(k.page, 'delivery').filter({ hasText: orderId });
  await delivery.waitFor();
  await waitForStatus(k.page, 'delivery-status', 'assigned');
  await shot(k.page, 'courier-deliveries-phone');
  await byTestId(delivery, 'pick-up').click();
  await byTestId(delivery, 'deliver').waitFor();
  assert.equal(await byTestId(delivery, 'delivery-status').getAttribute('data-status'), 'picked_up');
  await byTestId(delivery, 'deliver').click();
  // A delivered delivery leaves the courier's active list.
  await delivery.waitFor({ state: 'detached' });
  assertNoPageErrors(k.page);
  await k.context.close();

  // --- The customer's page (still polling) shows it delivered; an incident about it.
  await waitForStatus(c.page, 'order-status', 'delivered', SAGA_WAIT_MS);
  await waitForStatus(c.page, 'payment-status', 'captured', SAGA_WAIT_MS).catch(async () => {
    // The capture follows delivery.completed: show the order again to read the payment anew.
    await go(c.page, '#/orders');
    await go(c.page, `#/orders/${encodeURIComponent(orderId)}`);
    await waitForStatus(c.page, 'payment-status', 'captured', 5000);
  });
  await byTestId(c.page, 'open-incident').click();
  await byTestId(c.page, 'new-incident').waitFor();
  await c.page.getByLabel(/^What happened/).selectOption('damaged');
  await c.page.getByLabel(/^Description/).fill('The lamp arrived broken.');
  await byTestId(c.page, 'open-incident-submit').click();
  await c.page.waitForURL(/#\/incidents\/[^/]+$/);
  const incidentId = decodeURIComponent(new URL(c.page.url()).hash.split('/')[2]);
  await waitForStatus(c.page, 'incident-status', 'open');

  // --- The operator finds it in the queue and resolves it with a refund of the whole price.
  const o = await person(browser);
  await signIn(o.page, OPERATOR);
  await byTestId(o.page, 'dashboard').waitFor();
  await byTestId(o.page, 'nav-incidents').click();
  await byTestId(o.page, 'incidents').waitFor();
  const row = o.page.locator(`[data-testid="incident-row"][data-id="${incidentId}"]`);
  await row.waitFor();
  await shot(o.page, 'operator-incident-queue');
  await row.getByRole('link').click();
  await byTestId(o.page, 'incident').waitFor();
  await waitForStatus(o.page, 'incident-status', 'open');
  await byTestId(o.page, 'resolution-refund').check();
  await o.page.locator('#refund-amount').fill((product.price / 100).toFixed(2));
  await byTestId(o.page, 'resolve-incident').click();
  await waitForStatus(o.page, 'incident-status', 'resolved');
  assertNoPageErrors(o.page);
  await o.context.close();

  // --- The customer sees it: the incident (polled every 5 s) resolved, the payment refunded.
  await waitForStatus(c.page, 'incident-status', 'resolved', SAGA_WAIT_MS);
  assert.match(await c.page.locator('main').innerText(), /refund/i);
  await go(c.page, `#/orders/${encodeURIComponent(orderId)}`);
  await byTestId(c.page, 'order').waitFor();
  await waitForStatus(c.page, 'payment-status', 'refunded', 5000).catch(async () => {
    // The order page does not poll a final order: look again once, as a person would.
    await go(c.page, '#/orders');
    await go(c.page, `#/orders/${encodeURIComponent(orderId)}`);
    await waitForStatus(c.page, 'payment-status', 'refunded', 10000);
  });
  assert.equal(await byTestId(c.page, 'order-status').getAttribute('data-status'), 'delivered');
  assertNoPageErrors(c.page);

  // The API agrees with what the pages showed.
  const payment = (await must('GET', `/api/v1/payments?order_id=${orderId}`, { token: setup.operatorToken })).data[0];
  assert.equal(payment.status, 'refunded');
  assert.equal(payment.refunded_amount, product.price);
  await c.context.close();
});
