// A Partner Account Manager's screens: the Admin Dashboard with its Company
// section, and the partner's own Licences and Orders (Requested Orders, Add
// Filter, the three dots: Assign, Reject).

import * as api from './api.js';
import {
  h, field, select, say, fail, dialog, menuButton, tabs, table, day, when, plural, actorLabel,
} from './ui.js';
import { forgetCompanies } from './state.js';

/** tierOptions returns the tiers as select options, premium first. */
export async function tierOptions() {
  const tiers = await api.all('/tiers');
  tiers.sort((a, b) => (a.name === 'premium' ? -1 : b.name === 'premium' ? 1 : a.name.localeCompare(b.name)));
  return tiers.map((t) => [t.name, termText(t)]);
}

function termText(t) {
  const term = t.term || {};
  if (term.months) return `${t.name} (${plural(term.months, 'month')})`;
  if (term.days) return `${t.name} (${plural(term.days, 'day')})`;
  return `${t.name} (never expires)`;
}

/** orderName names an order as a person would: its purchase order, or its id. */
export function orderName(o) {
  return o.purchase_order ? `${o.purchase_order}` : o.id;
}

/** The Admin Dashboard: the Company section, Add Company, Actions → Manage Company. */
export async function dashboard(c) {
  const list = await api.all('/companies', { partner: c.actor.partner, descendants: true });
  const rows = list.map((co) => [
    co.name,
    co.ref || '',
    (co.managers || []).map((m) => m.email).join(', '),
    day(co.created_at),
    menuButton({
      label: `Actions for ${co.name}`, text: 'Actions', className: 'menu-button actions',
      items: [['Manage Company', () => { location.hash = `#/manage/${encodeURIComponent(co.id)}/licences`; }]],
    }),
  ]);
  return h('div', {},
    h('h1', {}, 'Admin Dashboard'),
    h('p', { class: 'lede' }, c.partner ? c.partner.name : ''),
    h('section', { 'aria-labelledby': 'company-section' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'company-section' }, 'Company'),
        h('button', { type: 'button', class: 'primary', 'aria-haspopup': 'dialog', onclick: () => addCompany(c) }, 'Add Company')),
      table('Companies', ['Company', 'Your reference', 'Company managers', 'Created', 'Actions'], rows,
        'No companies yet: Add Company to create the first.')));
}

async function addCompany(c) {
  const tiers = await tierOptions().catch((err) => {
    fail(err);
    return null;
  });
  if (!tiers) {
    return;
  }
  const key = api.newKey();
  dialog({
    title: 'Add Company',
    submit: 'Save',
    body: [
      field('Company name', h('input', { name: 'name', required: true, autocomplete: 'organization' })),
      field('Your reference', h('input', { name: 'ref' }), 'Optional: your own key for the company.'),
      field('Company manager email', h('input', { name: 'managers', type: 'email', autocomplete: 'off' }),
        'Optional: notified when licences are ready to allocate.'),
      h('fieldset', {},
        h('legend', {}, 'Purchase order'),
        h('p', { class: 'hint' }, 'Optional: order licences with the company, from its purchase order.'),
        field('Purchase order reference', h('input', { name: 'purchase_order.reference' })),
        field('Quantity', h('input', { name: 'purchase_order.quantity', type: 'number', min: '1', inputmode: 'numeric' })),
        field('Tier', select({ name: 'purchase_order.tier' }, tiers, 'premium')),
        h('div', { class: 'check' },
          h('input', { type: 'checkbox', id: 'po-assign', name: 'purchase_order.assign' }),
          h('label', { for: 'po-assign' }, 'Assign at once (starts the countdown)'))),
    ],
    onSubmit: async (form) => {
      const v = (n) => form.elements[n].value.trim();
      const body = { name: v('name') };
      if (v('ref')) body.ref = v('ref');
      if (v('managers')) body.managers = [{ email: v('managers') }];
      if (v('purchase_order.reference') || v('purchase_order.quantity')) {
        body.purchase_order = {
          reference: v('purchase_order.reference'),
          quantity: Number(v('purchase_order.quantity') || 0),
          tier: v('purchase_order.tier'),
          assign: form.elements['purchase_order.assign'].checked,
        };
      }
      const created = await api.post('/companies', body, key);
      forgetCompanies();
      let text = `Company ${created.company.name} added.`;
      const o = created.order;
      if (o) {
        text += ` Order ${orderName(o)} for ${plural(o.quantity, `${o.tier} licence`)} is ${o.status}`;
        text += o.expires_at ? `; the licences expire ${day(o.expires_at)}.` : '.';
      }
      await c.refresh();
      say(text);
    },
  });
}

// Filters of the Requested Orders: what Add Filter offers, and how each
// becomes a query parameter.
const filterKinds = [
  ['company', 'Company'],
  ['purchase_order', 'Purchase order'],
  ['tier', 'Tier'],
  ['requested_from', 'Requested from'],
  ['requested_before', 'Requested before'],
];

// The filters in force, kept while the page lives: kind → {value, text}.
const filters = new Map();

function filterQuery() {
  const q = {};
  for (const [kind, f] of filters) {
    q[kind] = kind.startsWith('requested_') ? `${f.value}T00:00:00Z` : f.value;
  }
  return q;
}

/** The partner's own Licences: the summary, and the Orders tab. */
export async function partnerLicences(c, tab) {
  const tabList = [['Licences', '#/licences', tab === 'licences'], ['Orders', '#/licences/orders', tab === 'orders']];
  const panel = tab === 'orders' ? await partnerOrders(c) : await partnerSummary(c);
  return h('div', {}, h('h1', {}, 'Licences'), h('p', { class: 'lede' }, c.partner ? c.partner.name : ''),
    tabs('Licences sections', tabList, panel));
}

async function partnerSummary(c) {
  const s = await api.get(`/partners/${api.enc(c.actor.partner)}/summary`);
  return h('section', { 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title' }, 'Licences of your companies'),
    h('p', {}, `Every company beneath ${c.partner ? c.partner.name : 'your partner'}, added up, on ${when(s.at)}.`),
    summaryTable(s));
}

/** summaryTable shows a summary's counts per tier. */
export function summaryTable(s) {
  return table('Licences per tier',
    ['Tier', 'Available', 'Allocated', 'Expiring within 30 days', 'Expired', 'Requested orders', 'Requested licences'],
    (s.tiers || []).map((t) => [t.tier, t.available, t.allocated, t.expiring_soon, t.expired, t.requested, t.requested_seats]),
    'No licences yet.');
}

async function partnerOrders(c) {
  const companies = await api.all('/companies', { partner: c.actor.partner, descendants: true });
  const names = new Map(companies.map((co) => [co.id, co.name]));
  const query = { partner: c.actor.partner, status: 'requested', ...filterQuery() };
  const requested = h('div', {});
  const everything = h('div', {});
  await pagedOrders(requested, query, names, c, true);
  await pagedOrders(everything, { partner: c.actor.partner }, names, c, false);
  const chips = [...filters].map(([kind, f]) => {
    const name = filterKinds.find(([k]) => k === kind)[1];
    return h('li', { class: 'chip' }, `${name}: ${f.text}`, ' ',
      h('button', {
        type: 'button', 'aria-label': `Remove filter ${name}: ${f.text}`,
        onclick: () => { filters.delete(kind); c.refresh(); },
      }, 'Remove'));
  });
  return h('div', {},
    h('section', { 'aria-labelledby': 'requested-title' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'requested-title' }, 'Requested Orders'),
        h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: () => addFilter(c, companies) }, 'Add Filter')),
      chips.length ? h('ul', { class: 'chips', 'aria-label': 'Filters' }, chips) : null,
      requested),
    h('section', { 'aria-labelledby': 'all-orders-title' },
      h('h2', { id: 'all-orders-title' }, 'All Orders'),
      everything));
}

// pagedOrders fills into with a page of orders and a "More orders" button
// for the next page.
async function pagedOrders(into, query, names, c, requestedOnly, after) {
  const page = await api.get('/orders', { ...query, after, limit: 25 });
  const orderNames = new Map((page.items || []).map((o) => [o.id, orderName(o)]));
  const rows = (page.items || []).map((o) => {
    // A renewal says which order it renews (one id, or a list of them).
    const renewed = [].concat(o.renews || []).map((id) => orderNames.get(id) || id);
    const row = [
      [orderName(o), renewed.length ? h('span', { class: 'muted' }, ` (renews ${renewed.join(', ')})`) : null],
      names.get(o.company) || o.company,
      o.tier,
      o.quantity,
      when(o.requested_at),
      actorLabel(o.requested_by),
    ];
    if (requestedOnly) {
      row.push(menuButton({
        label: `Actions for order ${orderName(o)}`,
        text: h('span', { 'aria-hidden': 'true' }, '⋮'),
        items: [['Assign', () => assign(c, o)], ['Reject', () => reject(c, o)]],
      }));
    } else {
      row.splice(3, 0, o.status);
      row.push(o.expires_at ? day(o.expires_at) : '', `${o.allocated} of ${o.quantity}`);
      // An assigned order, live or expired, can be renewed: the renewal
      // starts when it expires if assigned before then.
      const renewable = (o.status === 'assigned' || o.status === 'expired');
      row.push(renewable
        ? h('button', { type: 'button', 'aria-label': `Renew order ${orderName(o)}`, onclick: () => renew(c, o, names.get(o.company) || o.company) }, 'Renew')
        : '');
    }
    return row;
  });
  const headers = requestedOnly
    ? ['Order', 'Company', 'Tier', 'Quantity', 'Requested', 'Requested by', 'Actions']
    : ['Order', 'Company', 'Tier', 'Status', 'Quantity', 'Requested', 'Requested by', 'Expires', 'Allocated', 'Actions'];
  const caption = requestedOnly ? (filters.size ? 'Requested orders matching the filters' : 'Requested orders') : 'All orders';
  const empty = requestedOnly
    ? (filters.size ? 'No requested order matches the filters.' : 'No order is waiting to be assigned.')
    : 'No orders yet.';
  const parts = [table(caption, headers, rows, after ? null : empty)];
  if (page.next) {
    parts.push(h('button', {
      type: 'button', class: 'more',
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await pagedOrders(into, query, names, c, requestedOnly, page.next);
        } catch (err) {
          fail(err);
        }
      },
    }, requestedOnly ? 'More requested orders' : 'More orders'));
  }
  if (after) {
    into.querySelector('.more')?.remove();
    into.append(...parts);
  } else {
    into.replaceChildren(...parts);
  }
}

function addFilter(c, companies) {
  const valueArea = h('div', {});
  const kind = select({ name: 'kind' }, filterKinds.filter(([k]) => !filters.has(k)), '');
  async function showValue() {
    const k = kind.value;
    const label = filterKinds.find(([x]) => x === k)[1];
    let control;
    if (k === 'company') {
      control = select({ name: 'value' }, companies.map((co) => [co.id, co.name]));
    } else if (k === 'tier') {
      control = select({ name: 'value' }, await tierOptions());
    } else if (k.startsWith('requested_')) {
      control = h('input', { name: 'value', type: 'date', required: true });
    } else {
      control = h('input', { name: 'value', required: true });
    }
    valueArea.replaceChildren(field(label, control));
  }
  if (kind.options.length === 0) {
    say('Every filter is in use: remove one to change it.');
    return;
  }
  kind.addEventListener('change', () => showValue().catch(fail));
  dialog({
    title: 'Add Filter',
    submit: 'Apply',
    body: [field('Filter by', kind), valueArea],
    onSubmit: async (form) => {
      const control = form.elements.value;
      const k = kind.value;
      const text = control.tagName === 'SELECT' ? control.selectedOptions[0].textContent : control.value.trim();
      filters.set(k, { value: control.value.trim(), text });
      await c.refresh();
    },
  });
  showValue().catch(fail);
}

async function assign(c, o) {
  try {
    const done = await api.post(`/orders/${api.enc(o.id)}/assign`, {}, api.newKey());
    await c.refresh();
    say(`Order ${orderName(done)} assigned: ${plural(done.quantity, `${done.tier} licence`)}, expire ${day(done.expires_at)}.`);
  } catch (err) {
    fail(err);
  }
}

// renew requests a renewal of an assigned order, or of all the company's
// live seats of its tier, and assigns it: assigned before the first of them
// expires, its term starts at that expiry.
function renew(c, o, companyName) {
  const key = api.newKey();
  dialog({
    title: 'Renew order',
    describe: `Order ${orderName(o)}: ${plural(o.quantity, `${o.tier} licence`)}, expiring ${day(o.expires_at)}. Renewed before then, the new term starts when it expires, and its learners keep their access, the first allocated first, as many as the renewal has seats.`,
    submit: 'Renew order',
    body: [
      field('Quantity', h('input', { name: 'quantity', type: 'number', min: '1', inputmode: 'numeric', value: String(o.quantity), required: true })),
      h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: 'renew-tier', name: 'renew_tier' }),
        h('label', { for: 'renew-tier' }, `Renew all the company's live ${o.tier} orders (the first to expire carried over first)`)),
    ],
    onSubmit: async (form) => {
      const quantity = Number(form.elements.quantity.value || 0);
      const whole = form.elements.renew_tier.checked;
      const body = whole
        ? { company: o.company, tier: o.tier, quantity, renew_tier: true }
        : { company: o.company, quantity, renews: [o.id] };
      const requested = await api.post('/orders', body, key);
      const done = await api.post(`/orders/${api.enc(requested.id)}/assign`, {}, api.newKey());
      await c.refresh();
      const what = whole ? `${plural((done.renews || []).length, `${o.tier} order`)} of ${companyName}` : `Order ${orderName(o)}`;
      say(`${what} renewed by ${orderName(done)}: ${plural(done.quantity, `${done.tier} licence`)} from ${day(done.starts_at)} to ${day(done.expires_at)}.`);
    },
  });
}

function reject(c, o) {
  const key = api.newKey();
  dialog({
    title: 'Reject order',
    describe: `Order ${orderName(o)}: ${plural(o.quantity, `${o.tier} licence`)}. Whoever requested it is told the reason.`,
    submit: 'Reject order',
    body: [field('Reason', h('textarea', { name: 'reason', required: true, rows: '3' }))],
    onSubmit: async (form) => {
      const done = await api.post(`/orders/${api.enc(o.id)}/reject`, { reason: form.elements.reason.value.trim() }, key);
      await c.refresh();
      say(`Order ${orderName(done)} rejected.`);
    },
  });
}
