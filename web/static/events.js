// The Event trail: the ledger's audit trail as the actor may see it, read
// only, a page at a time.

import * as api from './api.js';
import { h, table, when, day, actorLabel } from './ui.js';
import { companyNamed } from './state.js';

// The cursors of the pages read so far, for Previous page.
let history = [];
let lastScope = '';

/** eventTrail is the read-only Event trail, paged with the API's next. */
export async function eventTrail(c, scope) {
  const key = JSON.stringify(scope);
  if (key !== lastScope) {
    history = [''];
    lastScope = key;
  }
  const after = history[history.length - 1];
  const page = await api.get('/events', { ...scope, after, limit: 50 });
  const items = page.items || [];
  // Companies by name where the actor may read them; ids otherwise.
  const names = new Map();
  await Promise.all([...new Set(items.map((e) => e.company).filter(Boolean))].map(async (id) => {
    try {
      names.set(id, (await companyNamed(id)).name);
    } catch {
      // A company the actor may not read keeps its id.
    }
  }));
  const id = (x) => (x ? h('span', { class: 'id' }, x) : '');
  const rows = items.map((e) => [
    String(e.seq), h('span', { class: 'nowrap' }, when(e.at)), e.type, actorLabel(e.actor),
    names.get(e.company) || id(e.company), id(e.order), e.learner || '',
    e.tier || '', e.count ? String(e.count) : '', h('span', { class: 'nowrap' }, day(e.expires_at)), e.detail || '',
  ]);
  const nav = h('div', { class: 'pager' });
  if (history.length > 1) {
    nav.append(h('button', { type: 'button', onclick: () => { history.pop(); c.refresh(); } }, 'Previous page'));
  }
  if (page.next) {
    nav.append(h('button', { type: 'button', onclick: () => { history.push(page.next); c.refresh(); } }, 'Next page'));
  }
  return h('div', {},
    h('h1', {}, 'Event trail'),
    h('p', { class: 'lede' }, `Every change the ledger made that you may see, oldest first: page ${history.length}.`),
    table('Events', ['#', 'Time', 'Event', 'Actor', 'Company', 'Order', 'Learner', 'Tier', 'Count', 'Expires', 'Detail'], rows,
      'No events.'),
    nav);
}
