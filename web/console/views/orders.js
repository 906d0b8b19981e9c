// Orders: the customer's history, and one order followed live (shared with operators).
import { html, t, useState, useRef, useEffect, fieldError, Page, Alert, Field, Money, When, Id, Badge, Loading, MoreButton, usePagedList, useResource, usePolling, useSubmit, valueOf, announce, enc } from './common.js';
import { api, idempotency, post } from '../api.js';

const FINAL = ['delivered', 'rejected', 'cancelled', 'delivery_failed'];
const HAPPY_PATH = ['pending', 'payment_authorized', 'confirmed', 'dispatched', 'delivered'];

export function OrderCard({ order }) {
  return html`<li class="card" key=${order.id} data-testid="order-row" data-id=${order.id}>
    <h2><a href=${`#/orders/${enc(order.id)}`}>${t('order.title', { id: order.id })}</a></h2>
    <p><${Badge} kind="order" value=${order.status} /> <${Money} amount=${order.total} currency=${order.currency} /></p>
    <p class="muted"><${When} at=${order.created_at} /> · ${order.items.map((i) => `${i.quantity} × ${i.name}`).join(', ')}</p>
  </li>`;
}

export function OrderList() {
  const list = usePagedList('/api/v1/orders');
  return html`<${Page} title=${t('orders.title')} testid="orders">
    <${Alert} error=${list.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${t('orders.empty')} <a href="#/catalog">${t('cart.browse')}</a></p>`}
    <ul class="cards">${list.items.map((o) => html`<${OrderCard} order=${o} />`)}</ul>
    <${MoreButton} list=${list} />
  <//>`;
}

async function loadOrder(id) {
  const order = (await api('GET', `/api/v1/orders/${enc(id)}`)).data;
  const [delivery, payment] = await Promise.all([
    order.delivery_id ? api('GET', `/api/v1/deliveries/${enc(order.delivery_id)}`).then((r) => r.data, () => null) : null,
    order.payment_id ? api('GET', '/api/v1/payments', { query: { order_id: order.id } }).then((r) => r.data.data[0] || null, () => null) : null,
  ]);
  return { order, delivery, payment };
}

function canCancel(order, delivery, isOperator) {
  if (isOperator) return !FINAL.includes(order.status);
  const pickedUp = delivery && ['picked_up', 'delivered'].includes(delivery.status);
  return ['pending', 'payment_authorized', 'confirmed'].includes(order.status) && !pickedUp;
}

export function OrderDetail({ params, session }) {
  const isOperator = session.roles.includes('operator');
  const res = useResource(() => loadOrder(params.id), [params.id]);
  const live = !!res.data && !FINAL.includes(res.data.order.status);
  usePolling(res.reload, 2000, live);
  if (res.error && res.error.status === 404) {
    return html`<${Page} title=${t('order.notFound')} testid="order-not-found"><p>${t('order.notFoundText')}</p>
      <p><a href="#/orders">${t('orders.title')}</a></p><//>`;
  }
  const title = t('order.title', { id: params.id });
  if (!res.data) return html`<${Page} title=${title}>${res.error ? html`<${Alert} error=${res.error} />` : html`<${Loading} />`}<//>`;
  const { order, delivery, payment } = res.data;
  return html`<${Page} title=${title} testid="order">
    <div class="status-line" aria-live="polite" aria-atomic="true">
      ${t('order.status')}: <${Badge} kind="order" value=${order.status} testid="order-status" />
      ${order.rejection_reason && html` — ${t(`order.rejection.${order.rejection_reason}`)}`}
      ${live && html` <span class="muted">${t('order.live')}</span>`}
    </div>
    ${res.error && html`<${Alert} error=${res.error} />`}
    <${Steps} order=${order} />
    <h2>${t('order.items')}</h2>
    <ul class="plain">${order.items.map((i) => html`<li>${i.quantity} × ${i.name} (<${Money} amount=${i.unit_price} currency=${order.currency} />) = <${Money} amount=${i.line_total} currency=${order.currency} /></li>`)}</ul>
    <p class="total">${t('cart.total')}: <${Money} amount=${order.total} currency=${order.currency} />
      ${order.refunded_amount > 0 && html` · ${t('order.refunded')}: <${Money} amount=${order.refunded_amount} currency=${order.currency} />`}</p>
    <h2>${t('order.address')}</h2>
    <p>${order.delivery_address.label}: ${order.delivery_address.line1}, ${order.delivery_address.postal_code} ${order.delivery_address.city} (${order.delivery_address.country})</p>
    ${isOperator && html`<p>${t('field.customer')}: <a href=${`#/orders?customer_id=${enc(order.customer_id)}`}><${Id} value=${order.customer_id} /></a></p>`}
    ${delivery && html`<${DeliveryPanel} delivery=${delivery} />`}
    ${payment && html`<${PaymentPanel} payment=${payment} isOperator=${isOperator} />`}
    <h2>${t('order.actions')}</h2>
    <p class="actions">
      <a class="button secondary" data-testid="open-incident" href=${`#/orders/${enc(order.id)}/incident`}>${t('incident.open')}</a>
      <a class="button secondary" href=${`#/incidents?order_id=${enc(order.id)}`}>${t('order.incidents')}</a>
    </p>
    ${canCancel(order, delivery, isOperator) && html`<${CancelOrder} order=${order} onDone=${(o) => res.setData({ ...res.data, order: o })} />`}
  <//>`;
}

function Steps({ order }) {
  const reached = new Set(order.status_history.map((h) => h.status));
  const path = FINAL.includes(order.status) && !HAPPY_PATH.includes(order.status) ? order.status_history.map((h) => h.status) : HAPPY_PATH;
  return html`<h2>${t('order.progress')}</h2>
    <ol class="steps">
      ${path.map((s, i) => {
        const when = [...order.status_history].reverse().find((h) => h.status === s);
        const state = s === order.status ? 'current' : reached.has(s) ? 'done' : 'todo';
        return html`<li key=${`${s}-${i}`} class=${`step step-${state}`} aria-current=${state === 'current' ? 'step' : undefined}>
          <span>${t(`order.status.${s}`)}</span>
          <span class="vh"> (${t(`order.step.${state}`)})</span>
          ${when && html` <span class="muted"><${When} at=${when.at} /></span>`}
        </li>`;
      })}
    </ol>`;
}

function DeliveryPanel({ delivery }) {
  return html`<h2>${t('delivery.title')}</h2>
    <p><${Badge} kind="delivery" value=${delivery.status} testid="delivery-status" />
      ${delivery.courier_id ? html` · ${t('delivery.courier')}: <${Id} value=${delivery.courier_id} />` : html` · ${t('delivery.noCourier')}`}</p>
    <p>${t('delivery.promisedBy')}: <${When} at=${delivery.promised_by} /></p>
    <ol class="plain">${delivery.tracking.map((e, i) => html`<li key=${i}><${When} at=${e.at} /> — ${t(`delivery.status.${e.status}`)}${e.note ? `: ${e.note}` : ''}</li>`)}</ol>`;
}

function PaymentPanel({ payment, isOperator }) {
  return html`<h2>${t('payment.title')}</h2>
    <p><${Badge} kind="payment" value=${payment.status} testid="payment-status" />
      · <${Money} amount=${payment.amount} currency=${payment.currency} />
      ${payment.refunded_amount > 0 && html` · ${t('payment.refunded')}: <${Money} amount=${payment.refunded_amount} currency=${payment.currency} />`}</p>
    ${isOperator && html`<p><a href=${`#/payments/${enc(payment.id)}`}>${t('payment.open')}</a></p>`}`;
}

const cancelIdem = idempotency();

function CancelOrder({ order, onDone }) {
  const [confirming, setConfirming] = useState(false);
  const submit = useSubmit();
  const form = useRef(null);
  useEffect(() => {
    if (confirming && form.current) form.current.querySelector('textarea').focus();
  }, [confirming]);
  if (!confirming) {
    return html`<p><button type="button" class="danger" data-testid="cancel-order" onClick=${() => setConfirming(true)}>${t('order.cancel')}</button></p>`;
  }
  const onSubmit = (event) => {
    event.preventDefault();
    const reason = valueOf(event.currentTarget, 'cancel-reason');
    submit.run(async () => {
      const { data } = await post(cancelIdem, `/api/v1/orders/${enc(order.id)}/cancel`, reason ? { reason } : undefined);
      announce(t('order.cancelled'));
      setConfirming(false);
      onDone(data);
    });
  };
  return html`<form class="panel" onSubmit=${onSubmit} novalidate ref=${form}>
    <h3>${t('order.cancelConfirmTitle')}</h3>
    <${Alert} error=${submit.error} fields=${['reason']} />
    <${Field} as="textarea" id="cancel-reason" maxlength="500" label=${t('order.cancelReason')}
      error=${fieldError(submit.error, 'reason')} />
    <p class="actions">
      <button type="submit" class="danger" disabled=${submit.busy} data-testid="cancel-order-confirm">${t('order.cancelConfirm')}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>${t('order.keep')}</button>
    </p>
  </form>`;
}
