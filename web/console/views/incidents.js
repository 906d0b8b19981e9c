// Incidents: opening one about an order, the list (a customer's own, or the operators' queue),
// and one incident with its comments; operators resolve (refund, redelivery, nothing) or reject.
import { html, t, useState, Page, Alert, Field, Money, When, Id, Badge, Loading, MoreButton, usePagedList, useResource, usePolling, useSubmit, valueOf, fieldError, announce, enc } from './common.js';
import { api, post, idempotency } from '../api.js';
import { navigate, href } from '../router.js';
import { parseMoney } from '../i18n.js';
import { localError } from '../problem.js';

const TYPES = ['damaged', 'late', 'missing_item', 'not_delivered', 'other'];
const STATUSES = ['open', 'in_progress', 'resolved', 'rejected'];
const SETTLED = ['resolved', 'rejected'];
const openIdem = idempotency();

export function NewIncident({ params }) {
  const submit = useSubmit();
  const onSubmit = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { order_id: params.id, type: valueOf(form, 'incident-type'), description: valueOf(form, 'incident-description') };
    submit.run(async () => {
      const { data } = await post(openIdem, '/api/v1/incidents', body);
      announce(t('incident.opened'));
      navigate(`/incidents/${enc(data.id)}`);
    });
  };
  const error = (name) => fieldError(submit.error, name);
  return html`<${Page} title=${t('incident.openTitle')} testid="new-incident">
    <p>${t('incident.aboutOrder')} <a href=${`#/orders/${enc(params.id)}`}><${Id} value=${params.id} /></a></p>
    <form onSubmit=${onSubmit} novalidate>
      <${Alert} error=${submit.error} fields=${['type', 'description']} />
      <${Field} as="select" id="incident-type" label=${t('incident.type')} required error=${error('type')}>
        ${TYPES.map((type) => html`<option value=${type}>${t(`incident.type.${type}`)}</option>`)}
      <//>
      <${Field} as="textarea" id="incident-description" label=${t('incident.description')} required maxlength="2000" error=${error('description')} />
      <p class="actions"><button type="submit" class="primary" disabled=${submit.busy} data-testid="open-incident-submit">${t('incident.submit')}</button></p>
    </form>
  <//>`;
}

export function IncidentList({ session, query }) {
  const isOperator = session.roles.includes('operator');
  const filters = { status: query.status, order_id: query.order_id, customer_id: query.customer_id };
  const list = usePagedList('/api/v1/incidents', filters);
  const setStatus = (status) => navigate('/incidents', { ...filters, status });
  return html`<${Page} title=${t(isOperator ? 'incidents.queue' : 'incidents.title')} testid="incidents">
    <div class="field">
      <label for="incident-filter">${t('incidents.filter')}</label>
      <select id="incident-filter" value=${query.status || ''} onChange=${(e) => setStatus(e.currentTarget.value)}>
        <option value="">${t('common.all')}</option>
        ${STATUSES.map((s) => html`<option value=${s}>${t(`incident.status.${s}`)}</option>`)}
      </select>
    </div>
    ${(query.order_id || query.customer_id) && html`<p>${t('incidents.filtered')} <${Id} value=${query.order_id || query.customer_id} />
      · <a href=${href('/incidents', { status: query.status })}>${t('common.clearFilter')}</a></p>`}
    <${Alert} error=${list.error} />
    ${list.loading && list.items.length === 0 && html`<${Loading} />`}
    ${!list.loading && !list.error && list.items.length === 0 && html`<p>${t('incidents.empty')}</p>`}
    <ul class="cards">
      ${list.items.map((i) => html`<li class="card" key=${i.id} data-testid="incident-row" data-id=${i.id}>
        <h2><a href=${`#/incidents/${enc(i.id)}`}>${t(`incident.type.${i.type}`)} — <${Id} value=${i.id} /></a></h2>
        <p><${Badge} kind="incident" value=${i.status} /> <span class="muted">${t(`incident.openedBy.${i.opened_by}`)} · <${When} at=${i.created_at} /></span></p>
        <p>${i.description}</p>
      </li>`)}
    </ul>
    <${MoreButton} list=${list} />
  <//>`;
}

export function IncidentDetail({ params, session }) {
  const isOperator = session.roles.includes('operator');
  const res = useResource(async () => (await api('GET', `/api/v1/incidents/${enc(params.id)}`)).data, [params.id]);
  const incident = res.data;
  const orderId = incident && incident.order_id;
  const order = useResource(async () => (orderId ? (await api('GET', `/api/v1/orders/${enc(orderId)}`)).data : null), [orderId]);
  const currency = order.data ? order.data.currency : null;
  usePolling(res.reload, 5000, !!incident && !SETTLED.includes(incident.status));
  if (res.error && res.error.status === 404) {
    return html`<${Page} title=${t('incident.notFound')} testid="incident-not-found"><p>${t('incident.notFoundText')}</p><//>`;
  }
  const title = t('incident.title', { id: params.id });
  if (!incident) return html`<${Page} title=${title}>${res.error ? html`<${Alert} error=${res.error} />` : html`<${Loading} />`}<//>`;
  const settled = SETTLED.includes(incident.status);
  return html`<${Page} title=${title} testid="incident">
    <dl class="facts">
      <dt>${t('incident.status')}</dt><dd aria-live="polite"><${Badge} kind="incident" value=${incident.status} testid="incident-status" /></dd>
      <dt>${t('incident.order')}</dt><dd><a href=${`#/orders/${enc(incident.order_id)}`}><${Id} value=${incident.order_id} /></a></dd>
      <dt>${t('incident.type')}</dt><dd>${t(`incident.type.${incident.type}`)}</dd>
      <dt>${t('incident.openedByLabel')}</dt><dd>${t(`incident.openedBy.${incident.opened_by}`)} · <${When} at=${incident.created_at} /></dd>
      <dt>${t('incident.description')}</dt><dd>${incident.description}</dd>
      ${incident.resolution && html`<dt>${t('incident.resolution')}</dt><dd>${t(`incident.resolution.${incident.resolution.type}`)}
        ${incident.resolution.amount && currency ? html` · <${Money} amount=${incident.resolution.amount} currency=${currency} />` : ''}</dd>`}
      ${incident.rejection_reason && html`<dt>${t('incident.rejectionReason')}</dt><dd>${incident.rejection_reason}</dd>`}
    </dl>
    ${res.error && html`<${Alert} error=${res.error} />`}
    <h2>${t('incident.comments')}</h2>
    ${incident.comments.length === 0 && html`<p class="muted">${t('incident.noComments')}</p>`}
    <ol class="plain comments">
      ${incident.comments.map((c) => html`<li key=${c.id}><p class="muted">${t(`incident.author.${c.author_role}`)} · <${When} at=${c.created_at} /></p><p>${c.body}</p></li>`)}
    </ol>
    ${!settled && html`<${CommentForm} incident=${incident} onDone=${() => res.reload({ quiet: true })} />`}
    ${isOperator && !settled && html`<${Settle} incident=${incident} currency=${currency || 'EUR'} onDone=${(i) => res.setData(i)} />`}
  <//>`;
}

const commentIdem = idempotency();

function CommentForm({ incident, onDone }) {
  const submit = useSubmit();
  const onSubmit = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { body: valueOf(form, 'comment-body') };
    submit.run(async () => {
      await post(commentIdem, `/api/v1/incidents/${enc(incident.id)}/comments`, body);
      form.reset();
      announce(t('incident.commented'));
      onDone();
    });
  };
  return html`<form onSubmit=${onSubmit} novalidate>
    <${Alert} error=${submit.error} fields=${['body']} />
    <${Field} as="textarea" id="comment-body" label=${t('incident.comment')} required maxlength="2000" error=${fieldError(submit.error, 'body')} />
    <p class="actions"><button type="submit" class="secondary" disabled=${submit.busy} data-testid="add-comment">${t('incident.addComment')}</button></p>
  </form>`;
}

const resolveIdem = idempotency();
const rejectIdem = idempotency();

function Settle({ incident, currency: orderCurrency, onDone }) {
  const [resolution, setResolution] = useState('refund');
  const resolve = useSubmit();
  const reject = useSubmit();
  const onResolve = (event) => {
    event.preventDefault();
    const body = { resolution };
    if (resolution === 'refund') {
      const text = valueOf(event.currentTarget, 'refund-amount');
      body.amount = parseMoney(text, orderCurrency);
      if (!(body.amount > 0)) {
        resolve.fail(localError(t('form.invalid'), [{ field: 'amount', message: t('money.invalid') }]));
        return;
      }
    }
    resolve.run(async () => {
      const { data } = await post(resolveIdem, `/api/v1/incidents/${enc(incident.id)}/resolve`, body);
      announce(t('incident.resolved'));
      onDone(data);
    });
  };
  const onReject = (event) => {
    event.preventDefault();
    const body = { reason: valueOf(event.currentTarget, 'reject-reason') };
    reject.run(async () => {
      const { data } = await post(rejectIdem, `/api/v1/incidents/${enc(incident.id)}/reject`, body);
      announce(t('incident.rejected'));
      onDone(data);
    });
  };
  const refundable = resolve.error && resolve.error.problem.refundable_amount;
  return html`<form class="panel" onSubmit=${onResolve} novalidate>
      <h2>${t('incident.resolveTitle')}</h2>
      <${Alert} error=${resolve.error} fields=${['resolution', 'amount']} />
      <fieldset>
        <legend>${t('incident.resolution')}</legend>
        ${['refund', 'redeliver', 'none'].map((r) => html`<div class="choice">
          <input type="radio" id=${`resolution-${r}`} name="resolution" value=${r} checked=${resolution === r}
            data-testid=${`resolution-${r}`} onChange=${() => setResolution(r)} />
          <label for=${`resolution-${r}`}>${t(`incident.resolution.${r}`)}</label>
        </div>`)}
      </fieldset>
      ${resolution === 'refund' && html`<${Field} id="refund-amount" inputmode="decimal" required
        label=${t('money.amountIn', { currency: orderCurrency })} hint=${t('money.hint')}
        error=${fieldError(resolve.error, 'amount')} />
        ${typeof refundable === 'number' && html`<p class="muted">${t('payment.refundable')}: <${Money} amount=${refundable} currency=${orderCurrency} /></p>`}`}
      <p class="actions"><button type="submit" class="primary" disabled=${resolve.busy} data-testid="resolve-incident">${t('incident.resolve')}</button></p>
    </form>
    <form class="panel" onSubmit=${onReject} novalidate>
      <h2>${t('incident.rejectTitle')}</h2>
      <${Alert} error=${reject.error} fields=${['reason']} />
      <${Field} as="textarea" id="reject-reason" required maxlength="2000" label=${t('incident.rejectReasonLabel')} error=${fieldError(reject.error, 'reason')} />
      <p class="actions"><button type="submit" class="danger" disabled=${reject.busy} data-testid="reject-incident">${t('incident.reject')}</button></p>
    </form>`;
}
