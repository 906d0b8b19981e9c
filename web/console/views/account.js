// Customer: delivery addresses and the profile (name, phone), guarded by the version read.
import { html, t, Page, Alert, Field, Loading, useResource, useSubmit, valueOf, fieldError, announce, enc } from './common.js';
import { api, post, idempotency } from '../api.js';

const ADDRESS_FIELDS = ['label', 'line1', 'city', 'postal_code', 'country'];
const addressIdem = idempotency();
const loadCustomer = async (id) => {
  const { data, etag } = await api('GET', `/api/v1/customers/${enc(id)}`);
  return { ...data, etag: etag ?? data.version };
};

export function Addresses({ session }) {
  const customer = useResource(() => loadCustomer(session.sub), [session.sub]);
  const add = useSubmit();
  const remove = useSubmit();
  const base = `/api/v1/customers/${enc(session.sub)}/addresses`;
  const onAdd = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, valueOf(form, `address-${f}`)]));
    body.country = body.country.toUpperCase();
    add.run(async () => {
      await post(addressIdem, base, body);
      form.reset();
      announce(t('address.added'));
      customer.reload({ quiet: true });
    });
  };
  const onDelete = (address) =>
    remove.run(async () => {
      await api('DELETE', `${base}/${enc(address.id)}`);
      announce(t('address.deleted', { label: address.label }));
      customer.reload({ quiet: true });
    });
  const error = (name) => fieldError(add.error, name);
  const addresses = customer.data ? customer.data.addresses : [];
  return html`<${Page} title=${t('address.title')} testid="addresses">
    <${Alert} error=${customer.error} />
    <${Alert} error=${remove.error} />
    ${customer.loading && !customer.data && html`<${Loading} />`}
    ${customer.data && addresses.length === 0 && html`<p>${t('address.none')}</p>`}
    <ul class="cards">
      ${addresses.map((a) => html`<li class="card" key=${a.id} data-testid="address" data-id=${a.id}>
        <h2>${a.label}</h2>
        <p>${a.line1}<br />${a.postal_code} ${a.city} (${a.country})</p>
        <button type="button" class="secondary" data-testid="delete-address" disabled=${remove.busy} onClick=${() => onDelete(a)}>
          ${t('common.delete')}<span class="vh">: ${a.label}</span>
        </button>
      </li>`)}
    </ul>
    <form class="panel" onSubmit=${onAdd} novalidate>
      <h2>${t('address.add')}</h2>
      <${Alert} error=${add.error} fields=${ADDRESS_FIELDS} />
      <${Field} id="address-label" required maxlength="50" label=${t('address.label')} hint=${t('address.labelHint')} error=${error('label')} />
      <${Field} id="address-line1" required maxlength="200" autocomplete="address-line1" label=${t('address.line1')} error=${error('line1')} />
      <${Field} id="address-city" required maxlength="100" autocomplete="address-level2" label=${t('address.city')} error=${error('city')} />
      <${Field} id="address-postal_code" required maxlength="16" autocomplete="postal-code" label=${t('address.postalCode')} error=${error('postal_code')} />
      <${Field} id="address-country" required maxlength="2" autocomplete="country" defaultValue="ES" label=${t('address.country')} hint=${t('address.countryHint')} error=${error('country')} />
      <p class="actions"><button type="submit" class="primary" disabled=${add.busy} data-testid="add-address">${t('address.add')}</button></p>
    </form>
  <//>`;
}

export function Profile({ session }) {
  const customer = useResource(() => loadCustomer(session.sub), [session.sub]);
  const save = useSubmit();
  const onSave = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const phone = valueOf(form, 'profile-phone');
    const body = { name: valueOf(form, 'profile-name'), phone: phone || null };
    save.run(async () => {
      try {
        const { data, etag } = await api('PATCH', `/api/v1/customers/${enc(session.sub)}`, { body, ifMatch: customer.data.etag });
        customer.setData({ ...data, etag: etag ?? data.version });
        announce(t('profile.saved'));
      } catch (error) {
        // 412: someone changed it meanwhile; show theirs and let the user decide again.
        if (error.status === 412) customer.reload({ quiet: true });
        throw error;
      }
    });
  };
  const c = customer.data;
  return html`<${Page} title=${t('profile.title')} testid="profile">
    <${Alert} error=${customer.error} />
    ${!c ? !customer.error && html`<${Loading} />` : html`
      <dl class="facts">
        <dt>${t('field.email')}</dt><dd>${c.email}</dd>
        <dt>${t('profile.status')}</dt><dd>${t(`customer.status.${c.status}`)}</dd>
      </dl>
      <form onSubmit=${onSave} novalidate key=${c.version}>
        <${Alert} error=${save.error} fields=${['name', 'phone']} />
        <${Field} id="profile-name" required maxlength="200" autocomplete="name" defaultValue=${c.name} label=${t('field.name')} error=${fieldError(save.error, 'name')} />
        <${Field} id="profile-phone" type="tel" maxlength="32" autocomplete="tel" defaultValue=${c.phone || ''} label=${t('field.phoneOptional')} error=${fieldError(save.error, 'phone')} />
        <p class="actions"><button type="submit" class="primary" disabled=${save.busy} data-testid="save-profile">${t('common.save')}</button></p>
      </form>`}
  <//>`;
}
