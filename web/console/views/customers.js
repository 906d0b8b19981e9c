// Operator: find customers (by email, or newest first), suspend and reactivate them.
import { html, t, Page, Alert, Id, When, Badge, Loading, MoreButton, usePagedList, useSubmit, announce, enc } from './common.js';
import { post, idempotency } from '../api.js';
import { navigate, href } from '../router.js';

const idem = idempotency();

export function Customers({ query }) {
  const list = usePagedList('/api/v1/customers', { email: query.email });
  const act = useSubmit();
  const onSearch = (event) => {
    event.preventDefault();
    navigate('/customers', { email: new FormData(event.currentTarget).get('customer-email').trim() });
  };
  const change = (c, action) =>
    act.run(async () => {
      await post(idem, `/api/v1/customers/${enc(c.id)}/${action}`);
      announce(t(action === 'suspend' ? 'customers.suspendedMsg' : 'customers.reactivatedMsg', { name: c.name }));
      list.reload();
    });
  return html`<${Page} title=${t('customers.title')} testid="customers">
    <form class="inline" role="search" onSubmit=${onSearch}>
      <div class="field">
        <label for="customer-email">${t('customers.searchEmail')}</label>
        <input id="customer-email" name="customer-email" type="email" autocomplete="off" defaultValue=${query.email || ''} key=${query.email || ''} />
      </div>
      <button type="submit" class="primary" data-testid="search-customers">${t('common.search')}</button>
      ${query.email && html`<a class="button secondary" href="#/customers">${t('common.clearFilter')}</a>`}
    </form>
    <${Alert} error=${list.error} />
    <${Alert} error=${act.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${t('customers.none')}</p>`}
    <ul class="cards">
      ${list.items.map((c) => html`<li class="card" key=${c.id} data-testid="customer" data-id=${c.id}>
        <h2>${c.name}</h2>
        <p>${c.email}${c.phone ? ` · ${c.phone}` : ''}</p>
        <p><${Badge} kind="customer" value=${c.status} testid="customer-status" /> <span class="muted"><${Id} value=${c.id} /> · <${When} at=${c.created_at} /></span></p>
        <p class="actions">
          <a href=${href('/orders', { customer_id: c.id })}>${t('nav.orders')}<span class="vh">: ${c.name}</span></a>
          <a href=${href('/incidents', { customer_id: c.id })}>${t('nav.incidents')}<span class="vh">: ${c.name}</span></a>
        </p>
        ${c.status === 'active'
          ? html`<button type="button" class="danger" data-testid="suspend-customer" disabled=${act.busy} onClick=${() => change(c, 'suspend')}>
              ${t('customers.suspend')}<span class="vh">: ${c.name}</span></button>`
          : html`<button type="button" class="secondary" data-testid="reactivate-customer" disabled=${act.busy} onClick=${() => change(c, 'reactivate')}>
              ${t('customers.reactivate')}<span class="vh">: ${c.name}</span></button>`}
      </li>`)}
    </ul>
    <${MoreButton} list=${list} />
  <//>`;
}
