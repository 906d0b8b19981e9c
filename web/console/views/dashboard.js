// Operator: orders by status, with the saga's work in progress, and every order filtered.
import { html, t, Page, Alert, Id, Loading, MoreButton, usePagedList, useResource } from './common.js';
import { api } from '../api.js';
import { navigate, href } from '../router.js';
import { OrderCard } from './orders.js';

const STATUSES = ['pending', 'payment_authorized', 'confirmed', 'dispatched', 'delivered', 'delivery_failed', 'rejected', 'cancelled'];
const PAGE = 200;

// There is no count endpoint: one page of up to 200 per status, "200+" beyond that.
async function countByStatus(customerId) {
  const pages = await Promise.all(STATUSES.map((status) => api('GET', '/api/v1/orders', { query: { status, customer_id: customerId, limit: PAGE } })));
  return Object.fromEntries(STATUSES.map((s, i) => [s, { n: pages[i].data.data.length, more: !!pages[i].data.next_cursor }]));
}

// TODO(saga backlog): the exact backlog of unfinished sagas (what --max-saga-backlog limits) is only
// in /metrics (Prometheus text, per process, and not routed by the gateway), not in the JSON API.
// Until the API exposes it, "in the saga" below counts orders still pending or payment_authorized.
export function Dashboard({ query }) {
  const counts = useResource(() => countByStatus(query.customer_id), [query.customer_id]);
  const filters = { status: query.status, customer_id: query.customer_id };
  const list = usePagedList('/api/v1/orders', filters);
  const show = (c) => (c ? `${c.n}${c.more ? '+' : ''}` : '…');
  const saga = counts.data && counts.data.pending.n + counts.data.payment_authorized.n;
  return html`<${Page} title=${t('dashboard.title')} testid="dashboard">
    <h2>${t('dashboard.byStatus')}</h2>
    <${Alert} error=${counts.error} />
    ${counts.data && html`<p data-testid="saga-in-progress">${t('dashboard.inSaga')}: <strong>${saga}${counts.data.pending.more || counts.data.payment_authorized.more ? '+' : ''}</strong></p>`}
    <ul class="tiles">
      ${STATUSES.map((s) => html`<li key=${s}>
        <a class="tile" href=${href('/orders', { ...filters, status: s })} aria-current=${query.status === s ? 'true' : undefined}
          data-testid=${`status-${s}`}>
          <span class="tile-n">${show(counts.data && counts.data[s])}</span> <span>${t(`order.status.${s}`)}</span>
        </a>
      </li>`)}
    </ul>
    <p class="actions">
      <button type="button" class="secondary" onClick=${() => { counts.reload(); list.reload(); }}>${t('common.refresh')}</button>
      ${(query.status || query.customer_id) && html`<a class="button secondary" href="#/orders">${t('common.clearFilter')}</a>`}
    </p>
    <h2>${query.status ? t('dashboard.ordersIn', { status: t(`order.status.${query.status}`) }) : t('dashboard.allOrders')}</h2>
    ${query.customer_id && html`<p>${t('dashboard.ofCustomer')} <${Id} value=${query.customer_id} /></p>`}
    <form class="inline" onSubmit=${(e) => { e.preventDefault(); const id = new FormData(e.currentTarget).get('order-id').trim(); if (id) navigate(`/orders/${encodeURIComponent(id)}`); }}>
      <div class="field">
        <label for="order-id">${t('dashboard.goToOrder')}</label>
        <input id="order-id" name="order-id" autocomplete="off" />
      </div>
      <button type="submit" class="secondary">${t('common.open')}</button>
    </form>
    <${Alert} error=${list.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${t('orders.none')}</p>`}
    <ul class="cards">${list.items.map((o) => html`<${OrderCard} order=${o} />`)}</ul>
    <${MoreButton} list=${list} />
  <//>`;
}
