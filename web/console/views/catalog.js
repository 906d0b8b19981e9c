// Customer: the catalog and the cart, and placing the order.
import { html, t, useState, Page, Alert, Field, Money, Loading, MoreButton, usePagedList, useResource, useSubmit, fieldError, announce, enc } from './common.js';
import { useStore } from '../store.js';
import { api, post } from '../api.js';
import { cart, addToCart, setQuantity, clearCart, orderIdempotency } from '../cart.js';
import { navigate } from '../router.js';

export function Catalog() {
  const list = usePagedList('/api/v1/catalog/products');
  const lines = useStore(cart);
  const inCart = (sku) => lines.find((l) => l.sku === sku)?.quantity || 0;
  const add = (product) => {
    addToCart(product);
    announce(t('catalog.added', { name: product.name }));
  };
  return html`<${Page} title=${t('catalog.title')} testid="catalog">
    <${Alert} error=${list.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${t('catalog.empty')}</p>`}
    <ul class="cards">
      ${list.items.map((p) => html`<li class="card" key=${p.id} data-testid="product" data-sku=${p.sku}>
        <h2>${p.name}</h2>
        <p><${Money} amount=${p.price} currency=${p.currency} /> <span class="muted">${p.sku}</span></p>
        ${inCart(p.sku) > 0 && html`<p class="muted">${t('catalog.inCart', { n: inCart(p.sku) })}</p>`}
        <button type="button" class="primary" data-testid="add-to-cart" onClick=${() => add(p)}>
          ${t('catalog.add')}<span class="vh">: ${p.name}</span>
        </button>
      </li>`)}
    </ul>
    <${MoreButton} list=${list} />
    <p><a href="#/cart" class="button secondary" data-testid="go-to-cart">${t('cart.goTo')}</a></p>
  <//>`;
}

const PAYMENT_METHODS = ['tok_visa', 'tok_declined', 'tok_slow', 'tok_flaky'];

export function Cart({ session }) {
  const lines = useStore(cart);
  const customer = useResource(async () => (await api('GET', `/api/v1/customers/${enc(session.sub)}`)).data, [session.sub]);
  const [address, setAddress] = useState('');
  const [method, setMethod] = useState('tok_visa');
  const submit = useSubmit();
  const addresses = customer.data ? customer.data.addresses : [];
  const chosen = address || (addresses[0] && addresses[0].id) || '';
  const currencies = [...new Set(lines.map((l) => l.currency))];
  const total = lines.reduce((sum, l) => sum + l.price * l.quantity, 0);

  const place = (event) => {
    event.preventDefault();
    const body = { items: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), address_id: chosen, payment_method: method };
    submit.run(async () => {
      // The same cart retried (network failure, 5xx) reuses its Idempotency-Key: one order at most.
      const { data } = await post(orderIdempotency, '/api/v1/orders', body);
      clearCart();
      announce(t('cart.placed'));
      navigate(`/orders/${enc(data.id)}`);
    });
  };
  const error = (name) => fieldError(submit.error, name);
  const lineFields = lines.flatMap((l, i) => [`items[${i}].sku`, `items[${i}].quantity`]);

  return html`<${Page} title=${t('cart.title')} testid="cart">
    ${lines.length === 0
      ? html`<p>${t('cart.empty')}</p><p><a href="#/catalog" class="button secondary">${t('cart.browse')}</a></p>`
      : html`<form onSubmit=${place} novalidate>
          <${Alert} error=${submit.error} fields=${['address_id', 'payment_method', 'items', ...lineFields]} />
          <${Alert} error=${customer.error} />
          <ul class="cards">
            ${lines.map((l, i) => html`<li class="card" key=${l.sku} data-testid="cart-line" data-sku=${l.sku}>
              <h2>${l.name}</h2>
              <p><${Money} amount=${l.price} currency=${l.currency} /></p>
              <${Field} id=${`qty-${i}`} type="number" inputmode="numeric" min="0" max="100" value=${l.quantity}
                label=${t('cart.quantity', { name: l.name })}
                onInput=${(e) => Number(e.currentTarget.value) >= 1 && setQuantity(l.sku, e.currentTarget.value)}
                onChange=${(e) => e.currentTarget.value === '0' && setQuantity(l.sku, 0)}
                error=${error(`items[${i}].quantity`) || error(`items[${i}].sku`)} />
              <button type="button" class="secondary" onClick=${() => setQuantity(l.sku, 0)}>
                ${t('cart.remove')}<span class="vh">: ${l.name}</span>
              </button>
            </li>`)}
          </ul>
          ${error('items') && html`<p class="field-error">${error('items')}</p>`}
          <p class="total">${t('cart.total')}: ${currencies.length === 1 ? html`<${Money} amount=${total} currency=${currencies[0]} />` : t('cart.mixedCurrencies')}</p>
          ${customer.loading
            ? html`<${Loading} />`
            : addresses.length === 0
              ? html`<p>${t('cart.noAddress')} <a href="#/addresses">${t('nav.addresses')}</a></p>`
              : html`<${Field} as="select" id="address_id" label=${t('cart.address')} value=${chosen} required
                  onChange=${(e) => setAddress(e.currentTarget.value)} error=${error('address_id')}>
                  ${addresses.map((a) => html`<option value=${a.id}>${a.label} — ${a.line1}, ${a.postal_code} ${a.city}</option>`)}
                <//>`}
          <${Field} as="select" id="payment_method" label=${t('cart.payment')} value=${method} hint=${t('cart.paymentHint')}
            onChange=${(e) => setMethod(e.currentTarget.value)} error=${error('payment_method')}>
            ${PAYMENT_METHODS.map((m) => html`<option value=${m}>${t(`payment.method.${m}`)}</option>`)}
          <//>
          <p class="actions">
            <button type="submit" class="primary" data-testid="place-order" disabled=${submit.busy || !chosen}>
              ${submit.busy ? t('cart.placing') : t('cart.place')}
            </button>
          </p>
        </form>`}
  <//>`;
}
