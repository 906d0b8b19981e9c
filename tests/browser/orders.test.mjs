// Placing orders that do not go through, orders that are not yours, and a double click.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, person, world, signIn, byTestId, go, waitForStatus, must, sleep, assertNoPageErrors, fillCart, orderIdOnPage,
  createCustomer, addAddress, placeOrder, waitForOrder, TEST_TIMEOUT_MS, SAGA_WAIT_MS,
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

const mainText = (page) => page.locator('main').innerText();

test('a declined card: the order ends rejected and the page says why', { timeout: TEST_TIMEOUT_MS }, async () => {
  const customer = await createCustomer({ name: 'Dora Declined' });
  await addAddress(customer, { postalCode: setup.zone.postalCode, line1: '3 Declined Road' });
  const { context, page } = await person(browser);
  await signIn(page, customer);
  await fillCart(page, setup.product.sku);
  await page.getByLabel('Payment').selectOption('tok_declined');
  await byTestId(page, 'place-order').click();
  const orderId = await orderIdOnPage(page);

  await waitForStatus(page, 'order-status', 'rejected', SAGA_WAIT_MS);
  assert.match(await mainText(page), /the payment was declined/);
  await waitForStatus(page, 'payment-status', 'declined', 10000);
  // The page stops following a final order, and offers no cancel for it.
  assert.equal(await byTestId(page, 'cancel-order').count(), 0);
  const order = await must('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
  assert.equal(order.status, 'rejected');
  assert.equal(order.rejection_reason, 'payment_declined');
  assertNoPageErrors(page);
  await context.close();
});

test('an address no zone serves: the order ends rejected and the page says so', { timeout: TEST_TIMEOUT_MS }, async () => {
  const customer = await createCustomer({ name: 'Zeno Nozone' });
  const { context, page } = await person(browser);
  await signIn(page, customer);
  // The address is added in the console; its postal code is in no zone (zones here are T…).
  await byTestId(page, 'nav-addresses').click();
  await byTestId(page, 'addresses').waitFor();
  await page.getByLabel(/^Label/).fill('Cabin');
  await page.getByLabel(/^Street and number/).fill('1 Nowhere Lane');
  await page.getByLabel(/^City/).fill('Faraway');
  await page.getByLabel(/^Postal code/).fill('X99999');
  await byTestId(page, 'add-address').click();
  await byTestId(page, 'address').filter({ hasText: '1 Nowhere Lane' }).waitFor();

  await fillCart(page, setup.product.sku);
  assert.match(await page.getByLabel('Deliver to').locator('option:checked').innerText(), /1 Nowhere Lane/);
  await byTestId(page, 'place-order').click();
  const orderId = await orderIdOnPage(page);

  await waitForStatus(page, 'order-status', 'rejected', SAGA_WAIT_MS);
  assert.match(await mainText(page), /we do not deliver to that address/);
  const order = await must('GET', `/api/v1/orders/${orderId}`, { token: customer.token });
  assert.equal(order.rejection_reason, 'zone_not_served');
  // The authorization was voided before the rejection (compensation).
  await waitForStatus(page, 'payment-status', 'voided', 10000);
  const payment = (await must('GET', `/api/v1/payments?order_id=${orderId}`, { token: setup.operatorToken })).data[0];
  assert.equal(payment.status, 'voided');
  assertNoPageErrors(page);
  await context.close();
});

test("another customer's order id in the URL shows \"order not found\" and nothing of theirs", { timeout: TEST_TIMEOUT_MS }, async () => {
  const alice = await createCustomer({ name: 'Alice Private' });
  const address = await addAddress(alice, { postalCode: setup.zone.postalCode, line1: '77 Secret Avenue' });
  const order = await placeOrder(alice, { sku: setup.product.sku, addressId: address.id });
  await waitForOrder(alice.token, order.id, ['confirmed']);

  const bob = await createCustomer({ name: 'Bob Curious' });
  const { context, page } = await person(browser);
  const seen = [];
  page.on('response', async (response) => {
    if (response.url().includes('/api/')) seen.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  await signIn(page, bob);
  await byTestId(page, 'catalog').waitFor();
  await go(page, `#/orders/${order.id}`);

  await byTestId(page, 'order-not-found').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Order not found');
  const everything = await page.locator('body').innerText();
  for (const secret of [order.id, alice.name, alice.email, '77 Secret Avenue', alice.id]) {
    assert.ok(!everything.includes(secret), `the page shows ${secret}`);
  }
  assert.equal(await byTestId(page, 'order-status').count(), 0);
  assert.equal(await byTestId(page, 'payment-status').count(), 0);
  assert.ok(seen.includes(`404 /api/v1/orders/${order.id}`), `the API answered: ${seen.join(', ')}`);

  // The incident form of that order: opening one is refused, and still nothing of Alice's shows.
  await go(page, `#/orders/${order.id}/incident`);
  await byTestId(page, 'new-incident').waitFor();
  await page.getByLabel(/^Description/).fill('Not my order.');
  await byTestId(page, 'open-incident-submit').click();
  await byTestId(page, 'error').waitFor();
  const after = await page.locator('body').innerText();
  for (const secret of [alice.name, alice.email, '77 Secret Avenue']) assert.ok(!after.includes(secret), `the page shows ${secret}`);
  const incidents = await must('GET', `/api/v1/incidents?order_id=${order.id}`, { token: setup.operatorToken });
  assert.equal(incidents.data.length, 0, 'no incident was opened on the other customer\'s order');
  assertNoPageErrors(page);
  await context.close();
});

test('a double-clicked "place order" places exactly one order', { timeout: TEST_TIMEOUT_MS }, async () => {
  const customer = await createCustomer({ name: 'Dobby Doubleclick' });
  await addAddress(customer, { postalCode: setup.zone.postalCode, line1: '2 Twice Street' });
  const { context, page } = await person(browser);
  const posts = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/orders') posts.push(request.headers()['idempotency-key']);
  });
  await signIn(page, customer);

  // A real double click on the button.
  await fillCart(page, setup.product.sku);
  await byTestId(page, 'place-order').dblclick();
  const first = await orderIdOnPage(page);
  await waitForStatus(page, 'order-status', 'confirmed', SAGA_WAIT_MS);

  // Two clicks in the same task, before the page can re-render and disable the button.
  await fillCart(page, setup.product.sku);
  await page.evaluate(() => {
    const button = document.querySelector('[data-testid="place-order"]');
    button.click();
    button.click();
  });
  const second = await orderIdOnPage(page);
  assert.notEqual(first, second);
  await waitForStatus(page, 'order-status', 'confirmed', SAGA_WAIT_MS);

  await sleep(1500); // anything still in flight lands
  const mine = await must('GET', `/api/v1/orders?customer_id=${customer.id}&limit=50`, { token: setup.operatorToken });
  assert.deepEqual(mine.data.map((o) => o.id).sort(), [first, second].sort(), 'one order per submission');
  const own = await must('GET', '/api/v1/orders', { token: customer.token });
  assert.equal(own.data.length, 2);
  // The console's guard sends one request per submission, each with its own Idempotency-Key.
  assert.equal(posts.length, 2, `POST /api/v1/orders sent ${posts.length} times`);
  assert.equal(new Set(posts).size, 2);
  assertNoPageErrors(page);
  await context.close();
});
