// A company's Licences and Orders: the Company Manager's own screens, and
// the screens a Partner Account Manager sees in manage mode. Licences: the
// counts per tier, Allocate, and Reallocate or Release the licence of a
// learner who left or never logged in. Orders: Request Licences and Save.

import * as api from './api.js';
import {
  h, field, select, say, fail, dialog, tabs, table, day, when, plural, daysBetween, uid,
} from './ui.js';
import { summaryTable, tierOptions, orderName } from './partner.js';
import { companyNamed, onEvent } from './state.js';

// tabLinks are the Licences and Orders tabs: the company manager's own, or
// those of manage mode.
function tabLinks(c, companyId, tab) {
  const [licences, orders] = c.managing
    ? [`#/manage/${encodeURIComponent(companyId)}/licences`, `#/manage/${encodeURIComponent(companyId)}/orders`]
    : ['#/licences', '#/licences/orders'];
  return [['Licences', licences, tab === 'licences'], ['Orders', orders, tab === 'orders']];
}

async function heading(companyId) {
  const co = await companyNamed(companyId);
  return [h('h1', {}, 'Licences'), h('p', { class: 'lede' }, co.name)];
}

// The listener of the event stream that refreshes the counts of the
// screen on show; one at a time.
let stopListening = () => {};

/** companyLicences is the company's Licences section. */
export async function companyLicences(c, companyId) {
  const cid = api.enc(companyId);
  const [head, summary, tiers] = await Promise.all([
    heading(companyId),
    api.get(`/companies/${cid}/summary`),
    tierOptions(),
  ]);
  const now = summary.at;
  const summaryArea = h('div', {}, summaryTable(summary));
  stopListening();
  stopListening = onEvent(async (e) => {
    if (!summaryArea.isConnected) {
      stopListening();
      return;
    }
    if (e.company === companyId && e.type.startsWith('order.')) {
      try {
        summaryArea.replaceChildren(summaryTable(await api.get(`/companies/${cid}/summary`)));
      } catch {
        // The next event, or the next visit, tries again.
      }
    }
  });

  const held = await liveLicences(companyId, now);
  const panel = h('div', {},
    h('section', { 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title' }, 'Licences per tier'),
      h('p', {}, `Available, allocated, expiring within 30 days and expired, on ${when(now)}.`),
      summaryArea),
    await allocateSection(c, companyId, tiers),
    await reallocateSection(c, companyId, held, now),
    heldSection(held, now));
  return h('div', {}, head, tabs('Licences sections', tabLinks(c, companyId, 'licences'), panel));
}

// liveLicences returns the company's licences that are held now: not
// released, not moved on, not expired.
async function liveLicences(companyId, now) {
  const all = await api.all(`/companies/${api.enc(companyId)}/licences`);
  return all.filter((l) => !l.released_at && !l.to_licence && Date.parse(l.expires_at) > Date.parse(now));
}

async function allocateSection(c, companyId, tiers) {
  const tierSelect = select({ name: 'tier' }, tiers, 'premium');
  const listArea = h('div', {});
  const button = h('button', { type: 'submit', class: 'primary' }, 'Allocate');
  const key = { value: api.newKey() };

  async function showLearners() {
    const learners = await api.all(`/companies/${api.enc(companyId)}/learners`, { state: 'unlicensed', tier: tierSelect.value });
    if (learners.length === 0) {
      listArea.replaceChildren(h('p', { class: 'muted' }, `Every learner of the company holds a ${tierSelect.value} licence, or there are no learners yet.`));
      button.disabled = true;
      return;
    }
    button.disabled = false;
    const boxes = learners.map((l) => {
      const id = uid('learner');
      return h('li', { class: 'check' },
        h('input', { type: 'checkbox', id, name: 'learner', value: l.id }),
        h('label', { for: id }, l.id),
        l.last_login_at ? null : h('span', { class: 'muted' }, ' (never logged in)'));
    });
    const allId = uid('all');
    const all = h('input', {
      type: 'checkbox', id: allId,
      onchange: () => { for (const b of listArea.querySelectorAll('input[name="learner"]')) b.checked = all.checked; },
    });
    listArea.replaceChildren(h('fieldset', {},
      h('legend', {}, `Learners without a ${tierSelect.value} licence`),
      h('div', { class: 'check select-all' }, all, h('label', { for: allId }, 'Select all')),
      h('ul', { class: 'checks' }, boxes)));
  }
  tierSelect.addEventListener('change', () => showLearners().catch(fail));
  await showLearners();

  const form = h('form', {
    'aria-labelledby': 'allocate-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const learners = [...form.querySelectorAll('input[name="learner"]:checked')].map((b) => b.value);
      if (learners.length === 0) {
        fail(new Error('Choose one or more learners to allocate licences to.'));
        return;
      }
      button.disabled = true;
      try {
        const res = await api.post(`/companies/${api.enc(companyId)}/allocations`, { tier: tierSelect.value, learners }, key.value);
        key.value = api.newKey();
        const ls = res.licences || [];
        const expiries = [...new Set(ls.map((l) => day(l.expires_at)))].join(', ');
        await c.refresh();
        say(`${plural(ls.length, `${tierSelect.value} licence`)} allocated to ${learners.join(', ')}; ${ls.length === 1 ? 'it expires' : 'they expire'} ${expiries}.`);
      } catch (err) {
        fail(err);
      } finally {
        button.disabled = false;
      }
    },
  }, field('Tier', tierSelect), listArea, h('div', { class: 'buttons' }, button));
  return h('section', { 'aria-labelledby': 'allocate-title' },
    h('h2', { id: 'allocate-title' }, 'Allocate'),
    h('p', {}, 'Give licences to one or many learners: each comes from the order that expires first.'),
    form);
}

async function reallocateSection(c, companyId, held, now) {
  const cid = api.enc(companyId);
  const [left, never] = await Promise.all([
    api.all(`/companies/${cid}/learners`, { state: 'left' }),
    api.all(`/companies/${cid}/learners`, { state: 'never_logged_in' }),
  ]);
  const why = new Map();
  for (const l of never) why.set(l.id, 'Never logged in');
  for (const l of left) why.set(l.id, `Left on ${day(l.left_at)}`);
  const movable = held.filter((l) => why.has(l.learner));
  const rows = movable.map((l) => [
    l.learner,
    why.get(l.learner),
    l.tier,
    day(l.expires_at),
    plural(daysBetween(now, l.expires_at), 'day'),
    h('div', { class: 'row-actions' },
      h('button', { type: 'button', 'aria-haspopup': 'dialog', 'aria-label': `Reallocate ${l.learner}'s licence`, onclick: () => reallocate(c, companyId, l, now) }, 'Reallocate'),
      h('button', { type: 'button', 'aria-haspopup': 'dialog', 'aria-label': `Release ${l.learner}'s licence`, onclick: () => release(c, companyId, l, now) }, 'Release')),
  ]);
  return h('section', { 'aria-labelledby': 'reallocate-title' },
    h('h2', { id: 'reallocate-title' }, 'Reallocate'),
    h('p', {}, 'The licence of a learner who left the company or never logged in may go to another learner for its remaining validity, or back to its order.'),
    table('Licences that may be reallocated', ['Learner', 'Why', 'Tier', 'Expires', 'Remaining validity', 'Actions'], rows,
      'No licence is held by a learner who left or never logged in.'));
}

async function reallocate(c, companyId, lic, now) {
  let learners;
  try {
    learners = await api.all(`/companies/${api.enc(companyId)}/learners`, { state: 'unlicensed', tier: lic.tier });
  } catch (err) {
    fail(err);
    return;
  }
  const remaining = plural(daysBetween(now, lic.expires_at), 'day');
  if (learners.length === 0) {
    fail(new Error(`Every learner of the company holds a ${lic.tier} licence: there is nobody to reallocate ${lic.learner}'s licence to.`));
    return;
  }
  const key = api.newKey();
  dialog({
    title: 'Reallocate licence',
    describe: `${lic.learner}'s ${lic.tier} licence expires ${day(lic.expires_at)}: ${remaining} remain. The new learner gets what remains, with the same expiry.`,
    submit: 'Reallocate',
    body: [field('To learner', select({ name: 'to_learner' }, learners.map((l) => [l.id, l.id])))],
    onSubmit: async (form) => {
      const to = form.elements.to_learner.value;
      const done = await api.post(`/companies/${api.enc(companyId)}/reallocations`,
        { tier: lic.tier, from_learner: lic.learner, to_learner: to }, key);
      await c.refresh();
      say(`${lic.learner}'s ${done.tier} licence reallocated to ${done.learner}: it expires ${day(done.expires_at)} (${plural(daysBetween(now, done.expires_at), 'day')} remain).`);
    },
  });
}

function release(c, companyId, lic, now) {
  const key = api.newKey();
  dialog({
    title: 'Release licence',
    describe: `${lic.learner}'s ${lic.tier} licence goes back to its order, for another learner: ${plural(daysBetween(now, lic.expires_at), 'day')} remain until ${day(lic.expires_at)}.`,
    submit: 'Release',
    body: [],
    onSubmit: async () => {
      await api.post(`/companies/${api.enc(companyId)}/releases`, { tier: lic.tier, learner: lic.learner }, key);
      await c.refresh();
      say(`${lic.learner}'s ${lic.tier} licence released.`);
    },
  });
}

function heldSection(held, now) {
  const rows = held
    .slice()
    .sort((a, b) => a.learner.localeCompare(b.learner) || a.tier.localeCompare(b.tier))
    .map((l) => [l.learner, l.tier, day(l.allocated_at), day(l.expires_at), plural(daysBetween(now, l.expires_at), 'day')]);
  return h('section', { 'aria-labelledby': 'held-title' },
    h('h2', { id: 'held-title' }, 'Licences held'),
    table('Licences held by learners', ['Learner', 'Tier', 'Allocated', 'Expires', 'Remaining validity'], rows,
      'No learner holds a licence.'));
}

/** companyOrders is the Orders tab of the company's Licences: Request Licences. */
export async function companyOrders(c, companyId) {
  const [head, orders, tiers] = await Promise.all([
    heading(companyId),
    api.all('/orders', { company: companyId }),
    tierOptions(),
  ]);
  orders.reverse();
  const rows = orders.map((o) => [
    orderName(o), o.tier, o.quantity, o.status, when(o.requested_at),
    o.expires_at ? day(o.expires_at) : '', o.status === 'assigned' ? `${o.allocated} of ${o.quantity}` : '',
    o.reason || '',
  ]);
  const panel = h('section', { 'aria-labelledby': 'orders-title' },
    h('div', { class: 'section-head' },
      h('button', { type: 'button', class: 'primary', 'aria-haspopup': 'dialog', onclick: () => requestLicences(c, companyId, tiers) }, 'Request Licences'),
      h('h2', { id: 'orders-title' }, 'Orders')),
    table('Orders, newest first', ['Order', 'Tier', 'Quantity', 'Status', 'Requested', 'Expires', 'Allocated', 'Reason'], rows,
      'No orders yet: Request Licences to place one.'));
  return h('div', {}, head, tabs('Licences sections', tabLinks(c, companyId, 'orders'), panel));
}

function requestLicences(c, companyId, tiers) {
  const key = api.newKey();
  dialog({
    title: 'Request Licences',
    submit: 'Save',
    body: [
      field('Number of licences', h('input', { name: 'quantity', type: 'number', min: '1', required: true, inputmode: 'numeric' })),
      field('Tier', select({ name: 'tier' }, tiers, 'premium')),
      field('Purchase order', h('input', { name: 'purchase_order' }), 'Optional: your purchase-order reference.'),
    ],
    onSubmit: async (form) => {
      const body = {
        company: companyId,
        quantity: Number(form.elements.quantity.value),
        tier: form.elements.tier.value,
      };
      const po = form.elements.purchase_order.value.trim();
      if (po) body.purchase_order = po;
      const o = await api.post('/orders', body, key);
      await c.refresh();
      say(`Requested ${plural(o.quantity, `${o.tier} licence`)}${o.purchase_order ? ` (${o.purchase_order})` : ''}: the order waits for your partner to assign it.`);
    },
  });
}
