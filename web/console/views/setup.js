// Operator: zones, products and couriers — list, create, and the one-click changes the API allows.
import { html, t, Page, Alert, Field, Money, When, Id, Badge, Loading, MoreButton, usePagedList, useResource, useSubmit, valueOf, fieldError, announce, enc } from './common.js';
import { api, post, idempotency } from '../api.js';
import { parseMoney } from '../i18n.js';
import { localError } from '../problem.js';

function ListState({ list, empty }) {
  return html`<${Alert} error=${list.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${empty}</p>`}`;
}

const zoneIdem = idempotency();

export function Zones() {
  const list = usePagedList('/api/v1/zones');
  const submit = useSubmit();
  const onCreate = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: valueOf(form, 'zone-name'), postal_prefixes: valueOf(form, 'zone-prefixes').split(/[\s,;]+/).filter(Boolean) };
    submit.run(async () => {
      await post(zoneIdem, '/api/v1/zones', body);
      form.reset();
      announce(t('zones.created', { name: body.name }));
      list.reload();
    });
  };
  return html`<${Page} title=${t('zones.title')} testid="zones">
    <${ListState} list=${list} empty=${t('zones.empty')} />
    <ul class="cards">
      ${list.items.map((z) => html`<li class="card" key=${z.id} data-testid="zone"><h2>${z.name}</h2>
        <p>${t('zones.prefixes')}: ${z.postal_prefixes.join(', ')}</p><p class="muted"><${Id} value=${z.id} /></p></li>`)}
    </ul>
    <${MoreButton} list=${list} />
    <form class="panel" onSubmit=${onCreate} novalidate>
      <h2>${t('zones.create')}</h2>
      <${Alert} error=${submit.error} fields=${['name', 'postal_prefixes']} />
      <${Field} id="zone-name" required maxlength="100" label=${t('field.name')} error=${fieldError(submit.error, 'name')} />
      <${Field} id="zone-prefixes" required label=${t('zones.prefixes')} hint=${t('zones.prefixesHint')} error=${fieldError(submit.error, 'postal_prefixes')} />
      <p class="actions"><button type="submit" class="primary" disabled=${submit.busy} data-testid="create-zone">${t('zones.create')}</button></p>
    </form>
  <//>`;
}

const productIdem = idempotency();

export function Products() {
  const list = usePagedList('/api/v1/catalog/products', { include_inactive: 'true' });
  const submit = useSubmit();
  const toggle = useSubmit();
  const onCreate = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const currency = valueOf(form, 'product-currency').toUpperCase();
    const price = parseMoney(valueOf(form, 'product-price'), currency || 'EUR');
    if (Number.isNaN(price)) {
      submit.fail(localError(t('form.invalid'), [{ field: 'price', message: t('money.invalid') }]));
      return;
    }
    const body = { sku: valueOf(form, 'product-sku'), name: valueOf(form, 'product-name'), price, currency, active: form.elements['product-active'].checked };
    submit.run(async () => {
      await post(productIdem, '/api/v1/catalog/products', body);
      form.reset();
      announce(t('products.created', { name: body.name }));
      list.reload();
    });
  };
  const setActive = (p) =>
    toggle.run(async () => {
      await api('PATCH', `/api/v1/catalog/products/${enc(p.id)}`, { body: { active: !p.active }, ifMatch: p.version });
      announce(t(p.active ? 'products.deactivated' : 'products.activated', { name: p.name }));
      list.reload();
    });
  const error = (name) => fieldError(submit.error, name);
  return html`<${Page} title=${t('products.title')} testid="products">
    <${ListState} list=${list} empty=${t('catalog.empty')} />
    <${Alert} error=${toggle.error} />
    <ul class="cards">
      ${list.items.map((p) => html`<li class="card" key=${p.id} data-testid="product-admin" data-sku=${p.sku}>
        <h2>${p.name}</h2>
        <p><${Money} amount=${p.price} currency=${p.currency} /> · ${p.sku} · ${t(p.active ? 'products.active' : 'products.inactive')}</p>
        <button type="button" class="secondary" disabled=${toggle.busy} onClick=${() => setActive(p)}>
          ${t(p.active ? 'products.deactivate' : 'products.activate')}<span class="vh">: ${p.name}</span>
        </button>
      </li>`)}
    </ul>
    <${MoreButton} list=${list} />
    <form class="panel" onSubmit=${onCreate} novalidate>
      <h2>${t('products.create')}</h2>
      <${Alert} error=${submit.error} fields=${['sku', 'name', 'price', 'currency', 'active']} />
      <${Field} id="product-sku" required maxlength="64" label=${t('products.sku')} error=${error('sku')} />
      <${Field} id="product-name" required maxlength="200" label=${t('field.name')} error=${error('name')} />
      <${Field} id="product-price" required inputmode="decimal" label=${t('products.price')} hint=${t('money.hint')} error=${error('price')} />
      <${Field} id="product-currency" required maxlength="3" defaultValue="EUR" label=${t('products.currency')} error=${error('currency')} />
      <div class="choice"><input type="checkbox" id="product-active" name="product-active" defaultChecked=${true} />
        <label for="product-active">${t('products.active')}</label></div>
      <p class="actions"><button type="submit" class="primary" disabled=${submit.busy} data-testid="create-product">${t('products.create')}</button></p>
    </form>
  <//>`;
}

const courierIdem = idempotency();

export function Couriers() {
  const list = usePagedList('/api/v1/couriers');
  const zones = useResource(async () => (await api('GET', '/api/v1/zones', { query: { limit: 200 } })).data.data, []);
  const submit = useSubmit();
  const toggle = useSubmit();
  const zoneName = (id) => (zones.data || []).find((z) => z.id === id)?.name || id;
  const onCreate = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = {
      name: valueOf(form, 'courier-name'),
      email: valueOf(form, 'courier-email'),
      password: String(new FormData(form).get('courier-password') || ''),
      zone_id: valueOf(form, 'courier-zone'),
      capacity: Number(valueOf(form, 'courier-capacity') || 1),
    };
    submit.run(async () => {
      await post(courierIdem, '/api/v1/couriers', body);
      form.reset();
      announce(t('couriers.created', { name: body.name }));
      list.reload();
    });
  };
  const setStatus = (c) =>
    toggle.run(async () => {
      const status = c.status === 'offline' ? 'available' : 'offline';
      await api('PATCH', `/api/v1/couriers/${enc(c.id)}`, { body: { status }, ifMatch: c.version });
      announce(t('couriers.statusChanged', { name: c.name, status: t(`courier.status.${status}`) }));
      list.reload();
    });
  const error = (name) => fieldError(submit.error, name);
  return html`<${Page} title=${t('couriers.title')} testid="couriers">
    <${ListState} list=${list} empty=${t('couriers.empty')} />
    <${Alert} error=${toggle.error} />
    <ul class="cards">
      ${list.items.map((c) => html`<li class="card" key=${c.id} data-testid="courier" data-id=${c.id}>
        <h2>${c.name}</h2>
        <p>${c.email} · ${zoneName(c.zone_id)}</p>
        <p><${Badge} kind="courier" value=${c.status} /> ${t('couriers.load', { n: c.active_deliveries, capacity: c.capacity })}</p>
        <p class="muted"><${Id} value=${c.id} /> · <${When} at=${c.created_at} /></p>
        <button type="button" class="secondary" disabled=${toggle.busy} onClick=${() => setStatus(c)}>
          ${t(c.status === 'offline' ? 'couriers.setAvailable' : 'couriers.setOffline')}<span class="vh">: ${c.name}</span>
        </button>
      </li>`)}
    </ul>
    <${MoreButton} list=${list} />
    <form class="panel" onSubmit=${onCreate} novalidate>
      <h2>${t('couriers.create')}</h2>
      <${Alert} error=${submit.error} fields=${['name', 'email', 'password', 'zone_id', 'capacity']} />
      <${Alert} error=${zones.error} />
      <${Field} id="courier-name" required maxlength="200" label=${t('field.name')} error=${error('name')} />
      <${Field} id="courier-email" type="email" required autocomplete="off" label=${t('field.email')} error=${error('email')} />
      <${Field} id="courier-password" type="password" required autocomplete="new-password" label=${t('field.password')} hint=${t('register.passwordHint')} error=${error('password')} />
      <${Field} as="select" id="courier-zone" required label=${t('couriers.zone')} error=${error('zone_id')}>
        ${(zones.data || []).map((z) => html`<option value=${z.id}>${z.name}</option>`)}
      <//>
      <${Field} id="courier-capacity" type="number" inputmode="numeric" min="1" max="50" defaultValue="1" label=${t('couriers.capacity')} error=${error('capacity')} />
      <p class="actions"><button type="submit" class="primary" disabled=${submit.busy} data-testid="create-courier">${t('couriers.create')}</button></p>
    </form>
  <//>`;
}
