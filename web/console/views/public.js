// Signed-out screens: welcome / sign in (with why we are here) and customer registration.
import { html, t, Page, Alert, Field, useSubmit, valueOf, fieldError, announce } from './common.js';
import { signIn } from '../auth.js';
import { post, idempotency } from '../api.js';

const NOTICES = {
  expired: 'auth.expired',
  'signed-out': 'auth.signedOut',
  cancelled: 'auth.cancelled',
  'state-mismatch': 'auth.stateMismatch',
  failed: 'auth.failed',
  insecure: 'auth.insecure',
};

export function Welcome({ session }) {
  const notice = session.notice && NOTICES[session.notice];
  const problem = ['state-mismatch', 'failed', 'insecure'].includes(session.notice);
  return html`<${Page} title=${t('welcome.title')} testid="welcome">
    ${notice && html`<div class=${problem ? 'alert' : 'notice'} role=${problem ? 'alert' : 'status'} data-testid="auth-notice">
      <p>${t(notice)}</p>
      ${session.error && html`<p>${session.error}</p>`}
    </div>`}
    <p>${t('welcome.intro')}</p>
    <p class="actions">
      <button type="button" class="primary" data-testid="sign-in" onClick=${() => signIn()}>${t('auth.signIn')}</button>
      <a href="#/register" class="button secondary" data-testid="nav-register">${t('register.link')}</a>
    </p>
  <//>`;
}

const FIELDS = ['email', 'password', 'name', 'phone'];
const idem = idempotency();

export function Register() {
  const submit = useSubmit();
  const onSubmit = (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { email: valueOf(form, 'email'), password: new FormData(form).get('password') || '', name: valueOf(form, 'name') };
    const phone = valueOf(form, 'phone');
    if (phone) body.phone = phone;
    submit.run(async () => {
      await post(idem, '/api/v1/customers', body, { auth: false });
      announce(t('register.done'));
      await signIn('#/catalog');
    });
  };
  const error = (name) => fieldError(submit.error, name);
  return html`<${Page} title=${t('register.title')} testid="register">
    <form onSubmit=${onSubmit} novalidate>
      <${Alert} error=${submit.error} fields=${FIELDS} />
      <${Field} id="email" type="email" autocomplete="email" required label=${t('field.email')} error=${error('email')} />
      <${Field} id="password" type="password" autocomplete="new-password" required label=${t('field.password')}
        hint=${t('register.passwordHint')} error=${error('password')} />
      <${Field} id="name" autocomplete="name" required label=${t('field.name')} error=${error('name')} />
      <${Field} id="phone" type="tel" autocomplete="tel" label=${t('field.phoneOptional')} error=${error('phone')} />
      <p class="actions">
        <button type="submit" class="primary" disabled=${submit.busy} data-testid="register-submit">${t('register.submit')}</button>
        <a href="#/" class="button secondary">${t('common.back')}</a>
      </p>
    </form>
  <//>`;
}
