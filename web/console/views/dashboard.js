// Operator: orders by status, the saga's backlog, and every order filtered.
import { html, t, Page, Alert, Id, Loading, MoreButton, usePagedList, useResource } from './common.js';
import { api } from '../api.js';
import { navigate, href } from '../router.js';
import { OrderCard } from './orders.js';

const STATUSES = ['pending', 'payment_authorized', 'confirmed', 'dispatched', 'delivered', 'delivery_failed', 'rejected', 'cancelled'];
const PAGE = 200;

// Exact counts and the saga's backlog from GET /api/v1/orders/summary; for one customer (no such
// summary), one page of up to 200 per status, "200+" beyond that.
async function countByStatus(customerId) {
  if (!customerId) {
    const { data } = await api('GET', '/api/v1/orders/summary');
    const byStatus = Object.fromEntries(STATUSES.map((s) => [s, { n: data.by_status[s] ?? 0, more: false }]));
    return { byStatus, backlog: { n: data.saga_backlog, limit: data.saga_backlog_limit } };
  }
  const pages = await Promise.all(STATUSES.map((status) => api('GET', '/api/v1/orders', { query: { status, customer_id: customerId, limit: PAGE } })));
  const byStatus = Object.fromEntries(STATUSES.map((s, i) => [s, { n: pages[i].data.data.length, more: !!pages[i].data.next_cursor }]));
  return { byStatus, backlog: null };
}

function Backlog({ counts }) {
  const { byStatus, backlog } = counts;
  if (backlog) {
    return html`<p data-testid="saga-backlog" data-count=${backlog.n}>${t('dashboard.sagaBacklog')}: <strong>${backlog.n}</strong>${backlog.limit > 0 ? ` ${t('dashboard.sagaBacklogLimit', { limit: backlog.limit })}` : ''}</p>`;
  }
  const more = byStatus.pending.more || byStatus.payment_authorized.more;
  return html`<p data-testid="saga-in-progress">${t('dashboard.inSaga')}: <strong>${byStatus.pending.n + byStatus.payment_authorized.n}${more ? '+' : ''}</strong></p>`;
}

export function Dashboard({ query }) {
  const counts = useResource(() => countByStatus(query.customer_id), [query.customer_id]);
  const filters = { status: query.status, customer_id: query.customer_id };
  const list = usePagedList('/api/v1/orders', filters);
  const show = (c) => (c ? `${c.n}${c.more ? '+' : ''}` : '…');
  return html`<${Page} title=${t('dashboard.title')} testid="dashboard">
    <h2>${t('dashboard.byStatus')}</h2>
    <${Alert} error=${counts.error} />
    ${counts.data && html`<${Backlog} counts=${counts.data} />`}
    <ul class="tiles">
      ${STATUSES.map((s) => html`<li key=${s}>
        <a class="tile" href=${href('/orders', { ...filters, status: s })} aria-current=${query.status === s ? 'true' : undefined}
          data-testid=${`status-${s}`}>
          <span class="tile-n">${show(counts.data && counts.data.byStatus[s])}</span> <span>${t(`order.status.${s}`)}</span>
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
