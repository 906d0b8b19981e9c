// Courier: my active deliveries, reported picked up, delivered, or failed with a reason.
import { html, t, useState, useEffect, useRef, Page, Alert, Field, When, Id, Badge, Loading, useResource, usePolling, useSubmit, valueOf, fieldError, announce, enc } from './common.js';
import { api, post, idempotency } from '../api.js';

export function Deliveries() {
  const res = useResource(async () => (await api('GET', '/api/v1/couriers/me/deliveries')).data.data, []);
  usePolling(res.reload, 15000, true);
  const deliveries = res.data || [];
  return html`<${Page} title=${t('courier.title')} testid="deliveries">
    <p><button type="button" class="secondary" onClick=${() => res.reload()} disabled=${res.loading}>${t('common.refresh')}</button></p>
    <${Alert} error=${res.error} />
    ${res.loading && !res.data && html`<${Loading} />`}
    ${res.data && deliveries.length === 0 && html`<p>${t('courier.none')}</p>`}
    <ul class="cards">
      ${deliveries.map((d) => html`<${DeliveryCard} key=${d.id} delivery=${d} onDone=${() => res.reload({ quiet: true })} />`)}
    </ul>
  <//>`;
}

const idem = idempotency();

function DeliveryCard({ delivery, onDone }) {
  const [failing, setFailing] = useState(false);
  const submit = useSubmit();
  const reasonRef = useRef(null);
  useEffect(() => {
    if (failing && reasonRef.current) reasonRef.current.querySelector('textarea').focus();
  }, [failing]);
  const report = (status, note) =>
    submit.run(async () => {
      const body = note ? { status, note } : { status };
      await post(idem, `/api/v1/deliveries/${enc(delivery.id)}/events`, body);
      announce(t(`courier.reported.${status}`, { id: delivery.order_id }));
      setFailing(false);
      onDone();
    });
  const onFail = (event) => {
    event.preventDefault();
    report('failed', valueOf(event.currentTarget, `fail-note-${delivery.id}`));
  };
  const a = delivery.address;
  const last = delivery.tracking[delivery.tracking.length - 1];
  return html`<li class="card delivery" data-testid="delivery" data-id=${delivery.id}>
    <h2>${a.line1}</h2>
    <p>${a.postal_code} ${a.city} (${a.country})</p>
    <p><${Badge} kind="delivery" value=${delivery.status} testid="delivery-status" /></p>
    <p>${t('delivery.promisedBy')}: <${When} at=${delivery.promised_by} /></p>
    <p class="muted">${t('delivery.order')}: <${Id} value=${delivery.order_id} />${last && last.note ? ` · ${last.note}` : ''}</p>
    <${Alert} error=${submit.error} fields=${failing ? ['note'] : []} />
    <p class="actions big">
      ${delivery.status === 'assigned' && html`<button type="button" class="primary" data-testid="pick-up" disabled=${submit.busy}
        onClick=${() => report('picked_up')}>${t('courier.pickUp')}</button>`}
      ${delivery.status === 'picked_up' && html`<button type="button" class="primary" data-testid="deliver" disabled=${submit.busy}
        onClick=${() => report('delivered')}>${t('courier.deliver')}</button>`}
      ${!failing && html`<button type="button" class="danger" data-testid="fail" disabled=${submit.busy}
        onClick=${() => setFailing(true)}>${t('courier.fail')}</button>`}
    </p>
    ${failing && html`<form onSubmit=${onFail} novalidate ref=${reasonRef}>
      <${Field} as="textarea" id=${`fail-note-${delivery.id}`} required maxlength="500" label=${t('courier.failReason')}
        error=${fieldError(submit.error, 'note')} />
      <p class="actions big">
        <button type="submit" class="danger" data-testid="fail-confirm" disabled=${submit.busy}>${t('courier.failConfirm')}</button>
        <button type="button" class="secondary" onClick=${() => setFailing(false)}>${t('common.back')}</button>
      </p>
    </form>`}
  </li>`;
}
