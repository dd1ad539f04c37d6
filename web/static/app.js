// The portal: who is signed in, the screens of their role, and the router
// between them. Routes live in the URL's fragment (#/dashboard), so that the
// server serves one page and the back button works.

import * as api from './api.js';
import { h, fail, clearMessages, when, day, plural } from './ui.js';
import { dashboard, partnerLicences } from './partner.js';
import { companyLicences, companyOrders } from './company.js';
import { hostPlatform } from './host.js';
import { eventTrail } from './events.js';
import { companyNamed, emit } from './state.js';

const main = document.getElementById('main');
const view = document.getElementById('view');

/** The signed-in actor, their partner or company, and the development session. */
const session = { actor: null, partner: null, company: null, dev: null };

// Each role's screens: a route pattern and its view. A view gets the
// context and the route's parameters and returns the node to show.
const routes = {
  partner: [
    [/^\/dashboard$/, (c) => dashboard(c)],
    [/^\/licences$/, (c) => partnerLicences(c, 'licences')],
    [/^\/licences\/orders$/, (c) => partnerLicences(c, 'orders')],
    [/^\/manage\/([^/]+)\/licences$/, (c, id) => companyLicences(c, id)],
    [/^\/manage\/([^/]+)\/orders$/, (c, id) => companyOrders(c, id)],
    [/^\/manage\/([^/]+)\/events$/, (c, id) => eventTrail(c, { company: id })],
    [/^\/events$/, (c) => eventTrail(c, {})],
  ],
  company: [
    [/^\/licences$/, (c) => companyLicences(c, session.actor.company)],
    [/^\/licences\/orders$/, (c) => companyOrders(c, session.actor.company)],
    [/^\/events$/, (c) => eventTrail(c, {})],
  ],
  system: [
    [/^\/host$/, (c) => hostPlatform(c, '')],
    [/^\/host\/([^/]+)$/, (c, id) => hostPlatform(c, id)],
    [/^\/events$/, (c) => eventTrail(c, {})],
  ],
};

const home = { partner: '#/dashboard', company: '#/licences', system: '#/host' };

function currentPath() {
  return decodeURI(location.hash.replace(/^#/, '')) || '/';
}

/** managedCompany returns the id of the company in manage mode, or ''. */
function managedCompany() {
  const m = /^\/manage\/([^/]+)/.exec(currentPath());
  return m ? m[1] : '';
}

// nav shows the main navigation of the role; in manage mode, the managed
// company's sections.
function renderNav() {
  const kind = session.actor.kind;
  const managing = managedCompany();
  let links;
  if (kind === 'partner' && managing) {
    links = [['Licences', `#/manage/${managing}/licences`], ['Event trail', `#/manage/${managing}/events`]];
  } else if (kind === 'partner') {
    links = [['Admin Dashboard', '#/dashboard'], ['Licences', '#/licences'], ['Event trail', '#/events']];
  } else if (kind === 'company') {
    links = [['Licences', '#/licences'], ['Event trail', '#/events']];
  } else {
    links = [['Host platform (development)', '#/host'], ['Event trail', '#/events']];
  }
  const path = currentPath();
  document.getElementById('nav').replaceChildren(h('ul', {}, links.map(([text, href]) => {
    const target = href.slice(1);
    const current = path === target || path.startsWith(`${target}/`);
    return h('li', {}, h('a', { href, 'aria-current': current ? 'page' : null }, text));
  })));
}

function renderWho() {
  const a = session.actor;
  let who = 'the system (host platform)';
  if (a.kind === 'partner') {
    who = `Partner Account Manager, ${session.partner ? session.partner.name : a.partner}`;
  } else if (a.kind === 'company') {
    who = `Company Manager, ${session.company ? session.company.name : a.company}`;
  }
  const parts = [h('p', {}, 'Signed in as ', h('strong', {}, who), a.user ? ` (${a.user})` : '')];
  if (session.dev) {
    parts.push(h('p', { class: 'dev-links' },
      h('a', { href: session.dev.sign_in }, 'Sign in as someone else'), ' ',
      h('form', { method: 'post', action: session.dev.sign_out, class: 'inline' },
        h('button', { type: 'submit' }, 'Sign out'))));
  }
  document.getElementById('who').replaceChildren(...parts);
}

// The manage-mode banner: whose company, on behalf of which partner.
async function renderBanner() {
  const banner = document.getElementById('manage-banner');
  const id = managedCompany();
  if (!id) {
    banner.hidden = true;
    return;
  }
  let name = id;
  try {
    name = (await companyNamed(id)).name;
  } catch {
    // The view says what went wrong.
  }
  document.getElementById('manage-text').replaceChildren(
    'Managing ', h('strong', {}, name), ' on behalf of ', h('strong', {}, session.partner.name));
  banner.hidden = false;
}

let renders = 0;

// render shows the view of the current route. focus moves to the view's
// heading when the route changed, as a page load would.
async function render(focus) {
  const token = ++renders;
  const kind = session.actor.kind;
  const path = currentPath();
  const match = routes[kind].map(([re, screen]) => [re.exec(path), screen]).find(([m]) => m);
  if (!match) {
    location.replace(home[kind]);
    return;
  }
  renderNav();
  renderBanner();
  const [m, screen] = match;
  const context = { ...session, refresh: () => render(false), managing: managedCompany() };
  let node;
  try {
    node = await screen(context, ...m.slice(1).map(decodeURIComponent));
  } catch (err) {
    node = h('section', { 'aria-labelledby': 'error-title' },
      h('h1', { id: 'error-title', tabindex: '-1' }, 'Something went wrong'),
      h('p', {}, err.message || String(err)));
    fail(err);
  }
  if (token !== renders) {
    return;
  }
  const active = document.activeElement;
  const keep = !focus && active && view.contains(active) && active.id;
  view.replaceChildren(node);
  const heading = view.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    document.title = `${heading.textContent} · Licensing portal`;
  }
  const again = keep && document.getElementById(keep);
  const tab = active && active.getAttribute('role') === 'tab' && view.querySelector('[role="tab"][aria-selected="true"]');
  if (again) {
    again.focus();
  } else if (tab) {
    // Moving between tabs keeps the focus on the tabs.
    tab.focus();
  } else if (focus || (active && !active.isConnected)) {
    (heading || main).focus();
  }
}

// Notifications: the company's events, live from the API's event stream,
// told as a manager would want to read them.
const notifiedTypes = new Set(['order.requested', 'order.assigned', 'order.rejected', 'order.cancelled',
  'order.expired', 'order.reminder']);

/** notificationText tells an order event as a notification. */
export function notificationText(e) {
  const what = `${plural(e.count || 0, `${e.tier || ''} licence`.trim())}`;
  switch (e.type) {
    case 'order.requested': return `${what} requested`;
    case 'order.assigned': return `${what} assigned, expire ${day(e.expires_at)}`;
    case 'order.rejected': return `Request for ${what} rejected${e.detail ? `: ${e.detail}` : ''}`;
    case 'order.cancelled': return `Request for ${what} cancelled`;
    case 'order.expired': return `${what} expired on ${day(e.expires_at)}`;
    case 'order.reminder': return `Reminder: ${what} expire ${day(e.expires_at)}`;
    default: return e.type;
  }
}

function startNotifications(company) {
  const panel = document.getElementById('notifications');
  const list = document.getElementById('notification-list');
  const empty = document.getElementById('notifications-empty');
  panel.hidden = false;
  // The cursor of the last event handled: a stream opened again (after the
  // page came back from the back-forward cache) resumes after it.
  let last = '';
  let source = null;
  function open() {
    source = new EventSource(api.url('/events/stream', { company, after: last }), { withCredentials: true });
    source.addEventListener('event', (msg) => {
      let e;
      try {
        e = JSON.parse(msg.data);
      } catch {
        return;
      }
      last = msg.lastEventId || last;
      emit(e);
      if (!notifiedTypes.has(e.type)) {
        return;
      }
      empty.hidden = true;
      list.prepend(h('li', { class: 'notification' },
        h('span', { class: 'notification-text' }, notificationText(e)),
        h('time', { datetime: e.at }, when(e.at))));
      // The newest 50 are enough for a glance; the event trail has the rest.
      while (list.children.length > 50) {
        list.lastElementChild.remove();
      }
    });
  }
  // A page that is left closes its stream, so that the server lets it go
  // (and the browser may keep the page in its back-forward cache).
  window.addEventListener('pagehide', () => source && source.close());
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) {
      open();
    }
  });
  open();
}

// signedOut shows that nobody is signed in, and where to sign in.
function signedOut(err) {
  document.getElementById('nav').replaceChildren();
  const parts = [h('h1', { tabindex: '-1' }, 'Not signed in'), h('p', {}, err.message)];
  if (session.dev) {
    parts.push(h('p', {}, h('a', { href: session.dev.sign_in }, 'Development sign-in')));
  } else {
    parts.push(h('p', {}, 'Sign in through your platform, then come back to this page.'));
  }
  view.replaceChildren(h('section', {}, parts));
}

async function start() {
  const devMeta = document.querySelector('meta[name="licensing-dev-session"]');
  if (devMeta && devMeta.content) {
    try {
      const res = await fetch(devMeta.content, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (res.ok) {
        const s = await res.json();
        if (s.development) {
          session.dev = s;
          document.getElementById('dev-marker').hidden = false;
        }
      }
    } catch {
      // No development session: the portal works as in production.
    }
  }
  try {
    session.actor = await api.get('/actor');
  } catch (err) {
    signedOut(err);
    return;
  }
  try {
    if (session.actor.kind === 'partner') {
      session.partner = await api.get(`/partners/${api.enc(session.actor.partner)}`);
    } else if (session.actor.kind === 'company') {
      session.company = await api.get(`/companies/${api.enc(session.actor.company)}`);
    }
  } catch (err) {
    fail(err);
  }
  renderWho();
  if (session.actor.kind === 'company') {
    startNotifications(session.actor.company);
  }
  document.getElementById('exit-manage').addEventListener('click', () => {
    location.hash = '#/dashboard';
  });
  window.addEventListener('hashchange', () => {
    clearMessages();
    render(true);
  });
  if (!routes[session.actor.kind]) {
    view.replaceChildren(h('p', {}, `Unknown kind of actor: ${session.actor.kind}`));
    return;
  }
  render(true);
}

start();
