// Operator: find an order's payment, read its ledger, refund what was captured.
import { html, t, Page, Alert, Field, Money, When, Id, Badge, Loading, useResource, useSubmit, valueOf, fieldError, announce, enc } from './common.js';
import { api, post, idempotency } from '../api.js';
import { navigate } from '../router.js';
import { parseMoney } from '../i18n.js';
import { localError } from '../problem.js';

export function PaymentSearch() {
  const find = useSubmit();
  const onSubmit = (event) => {
    event.preventDefault();
    const orderId = valueOf(event.currentTarget, 'payment-order');
    find.run(async () => {
      const { data } = await api('GET', '/api/v1/payments', { query: { order_id: orderId } });
      if (data.data.length === 0) throw localError(t('payments.noneForOrder'));
      navigate(`/payments/${enc(data.data[0].id)}`);
    });
  };
  return html`<${Page} title=${t('payments.title')} testid="payments">
    <form onSubmit=${onSubmit} novalidate>
      <${Alert} error=${find.error} fields=${['order_id']} />
      <${Field} id="payment-order" required autocomplete="off" label=${t('payments.orderId')} error=${fieldError(find.error, 'order_id')} />
      <p class="actions"><button type="submit" class="primary" disabled=${find.busy} data-testid="find-payment">${t('common.search')}</button></p>
    </form>
  <//>`;
}

const refundIdem = idempotency();

export function PaymentDetail({ params }) {
  const res = useResource(async () => (await api('GET', `/api/v1/payments/${enc(params.id)}`)).data, [params.id]);
  const refund = useSubmit();
  const p = res.data;
  if (res.error && res.error.status === 404) return html`<${Page} title=${t('payments.notFound')}><p>${t('payments.notFoundText')}</p><//>`;
  const title = t('payments.one', { id: params.id });
  if (!p) return html`<${Page} title=${title}>${res.error ? html`<${Alert} error=${res.error} />` : html`<${Loading} />`}<//>`;
  const refundable = p.captured_amount - p.refunded_amount;
  const onRefund = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const amount = parseMoney(valueOf(form, 'refund-amount'), p.currency);
    if (!(amount > 0)) {
      refund.fail(localError(t('form.invalid'), [{ field: 'amount', message: t('money.invalid') }]));
      return;
    }
    const body = { amount, reason: valueOf(form, 'refund-reason') };
    refund.run(async () => {
      const { data } = await post(refundIdem, `/api/v1/payments/${enc(p.id)}/refunds`, body);
      form.reset();
      announce(t('payments.refunded'));
      res.setData(data);
    });
  };
  return html`<${Page} title=${title} testid="payment">
    <dl class="facts">
      <dt>${t('payment.status')}</dt><dd><${Badge} kind="payment" value=${p.status} testid="payment-status" /></dd>
      <dt>${t('incident.order')}</dt><dd><a href=${`#/orders/${enc(p.order_id)}`}><${Id} value=${p.order_id} /></a></dd>
      <dt>${t('payment.amount')}</dt><dd><${Money} amount=${p.amount} currency=${p.currency} /></dd>
      <dt>${t('payment.captured')}</dt><dd><${Money} amount=${p.captured_amount} currency=${p.currency} /></dd>
      <dt>${t('payment.refunded')}</dt><dd><${Money} amount=${p.refunded_amount} currency=${p.currency} /></dd>
    </dl>
    <h2>${t('payment.ledger')}</h2>
    <ol class="plain">
      ${p.operations.map((o, i) => html`<li key=${i}><${When} at=${o.at} /> — ${t(`payment.op.${o.type}`)} <${Money} amount=${o.amount} currency=${p.currency} />
        ${!o.succeeded && ` (${t('payment.failed')})`}${o.reason ? ` · ${o.reason}` : ''}</li>`)}
    </ol>
    ${['captured', 'partially_refunded'].includes(p.status) && html`<form class="panel" onSubmit=${onRefund} novalidate>
      <h2>${t('payments.refundTitle')}</h2>
      <p>${t('payment.refundable')}: <${Money} amount=${refundable} currency=${p.currency} /></p>
      <${Alert} error=${refund.error} fields=${['amount', 'reason']} />
      <${Field} id="refund-amount" required inputmode="decimal" label=${t('money.amountIn', { currency: p.currency })} hint=${t('money.hint')}
        error=${fieldError(refund.error, 'amount')} />
      <${Field} as="textarea" id="refund-reason" required maxlength="500" label=${t('payments.reason')} error=${fieldError(refund.error, 'reason')} />
      <p class="actions"><button type="submit" class="primary" disabled=${refund.busy} data-testid="refund-payment">${t('payments.refund')}</button></p>
    </form>`}
  <//>`;
}
