// Entry: finishes a sign-in if the server sent us back with a code, then renders the console:
// header (nav by role, language switch, sign-out), a live status region, and the routed view.
import { html, render, useEffect } from './vendor/htm-preact.js';
import { useStore } from './store.js';
import { t, language, setLanguage, LANGUAGES } from './i18n.js';
import { session, completeSignIn, signOut } from './auth.js';
import { useRoute, match, navigate } from './router.js';
import { cart, clearCart, cartCount } from './cart.js';
import { status, Page } from './views/common.js';
import { Welcome, Register } from './views/public.js';
import { Catalog, Cart } from './views/catalog.js';
import { OrderList, OrderDetail } from './views/orders.js';
import { NewIncident, IncidentList, IncidentDetail } from './views/incidents.js';
import { Addresses, Profile } from './views/account.js';
import { Deliveries } from './views/courier.js';
import { Dashboard } from './views/dashboard.js';
import { Zones, Products, Couriers } from './views/setup.js';
import { Customers } from './views/customers.js';
import { PaymentSearch, PaymentDetail } from './views/payments.js';

// path → view per role; `nav` puts the route in that role's menu.
const ROUTES = [
  { path: '/catalog', views: { customer: Catalog }, nav: 'nav.catalog' },
  { path: '/cart', views: { customer: Cart }, nav: 'nav.cart' },
  { path: '/orders', views: { customer: OrderList, operator: Dashboard }, nav: 'nav.orders' },
  { path: '/orders/:id', views: { customer: OrderDetail, operator: OrderDetail } },
  { path: '/orders/:id/incident', views: { customer: NewIncident, operator: NewIncident } },
  { path: '/incidents', views: { customer: IncidentList, operator: IncidentList }, nav: 'nav.incidents' },
  { path: '/incidents/:id', views: { customer: IncidentDetail, operator: IncidentDetail } },
  { path: '/addresses', views: { customer: Addresses }, nav: 'nav.addresses' },
  { path: '/profile', views: { customer: Profile }, nav: 'nav.profile' },
  { path: '/deliveries', views: { courier: Deliveries }, nav: 'nav.deliveries' },
  { path: '/customers', views: { operator: Customers }, nav: 'nav.customers' },
  { path: '/payments', views: { operator: PaymentSearch }, nav: 'nav.payments' },
  { path: '/payments/:id', views: { operator: PaymentDetail } },
  { path: '/products', views: { operator: Products }, nav: 'nav.products' },
  { path: '/zones', views: { operator: Zones }, nav: 'nav.zones' },
  { path: '/couriers', views: { operator: Couriers }, nav: 'nav.couriers' },
];
const HOME = { operator: '/orders', courier: '/deliveries', customer: '/catalog' };

function resolve(path, roles) {
  for (const r of ROUTES) {
    const params = match(r.path, path);
    const role = params && roles.find((x) => r.views[x]);
    if (role) return { view: r.views[role], params };
  }
  return null;
}

function home(roles) {
  const role = ['operator', 'courier', 'customer'].find((r) => roles.includes(r));
  return role ? HOME[role] : null;
}

function LanguageSwitch() {
  const current = useStore(language);
  return html`<div class="lang" role="group" aria-label=${t('lang.label')} data-testid="lang-switch">
    ${LANGUAGES.map((l) => html`<button type="button" lang=${l} aria-pressed=${current === l ? 'true' : 'false'}
      data-testid=${`lang-${l}`} onClick=${() => setLanguage(l)}>${l.toUpperCase()}<span class="vh"> ${t(`lang.${l}`)}</span></button>`)}
  </div>`;
}

function Nav({ roles, path }) {
  const lines = useStore(cart);
  const items = ROUTES.filter((r) => r.nav && roles.some((x) => r.views[x]));
  return html`<nav aria-label=${t('nav.label')}>
    <ul>
      ${items.map((r) => html`<li key=${r.path}>
        <a href=${`#${r.path}`} data-testid=${`nav-${r.path.slice(1)}`}
          aria-current=${path === r.path || path.startsWith(`${r.path}/`) ? 'page' : undefined}>
          ${t(r.nav)}${r.path === '/cart' && lines.length > 0 ? ` (${cartCount(lines)})` : ''}
        </a>
      </li>`)}
    </ul>
  </nav>`;
}

function StatusRegion() {
  const s = useStore(status);
  useEffect(() => {
    if (!s.text) return undefined;
    const timer = setTimeout(() => status.set((now) => (now.n === s.n ? { ...now, text: '' } : now)), 10000);
    return () => clearTimeout(timer);
  }, [s.n]);
  return html`<div class="status" role="status" aria-live="polite" data-testid="status">${s.text && html`<p key=${s.n}>${s.text}</p>`}</div>`;
}

function skipToMain(event) {
  event.preventDefault();
  document.getElementById('main').focus();
}

function App() {
  const s = useStore(session);
  const route = useRoute();
  useStore(language); // re-render everything in the new language
  const signedIn = s.status === 'signed-in';
  const target = signedIn && (route.path === '/' || route.path === '/register') ? home(s.roles) : null;
  useEffect(() => {
    if (target) navigate(target, undefined, { replace: true });
  }, [target]);
  useEffect(() => {
    if (!signedIn) clearCart();
  }, [signedIn]);

  let content;
  if (s.status === 'working') content = html`<${Page} title=${t('auth.signingIn')}><p aria-busy="true">${t('common.loading')}</p><//>`;
  else if (!signedIn) content = route.path === '/register' ? html`<${Register} />` : html`<${Welcome} session=${s} />`;
  else if (target) content = null; // on its way to the role's start page
  else {
    const found = resolve(route.path, s.roles);
    if (found) content = html`<${found.view} key=${route.path} params=${found.params} query=${route.query} session=${s} />`;
    else if (!home(s.roles)) content = html`<${Page} title=${t('app.noRole')}><p>${t('app.noRoleText')}</p><//>`;
    else content = html`<${Page} title=${t('app.notFound')}><p><a href=${`#${home(s.roles)}`}>${t('app.home')}</a></p><//>`;
  }

  return html`
    <a class="skip" href="#main" onClick=${skipToMain}>${t('app.skip')}</a>
    <header class="top">
      <p class="brand"><a href="#/">deliveryhub</a> <span class="muted">${t('app.console')}</span></p>
      ${signedIn && html`<${Nav} roles=${s.roles} path=${route.path} />`}
      <div class="tools">
        <${LanguageSwitch} />
        ${signedIn && html`<button type="button" class="secondary" data-testid="sign-out" onClick=${signOut}>${t('auth.signOut')}</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${StatusRegion} />
      ${content}
    </main>`;
}

completeSignIn();
render(html`<${App} />`, document.getElementById('app'));
