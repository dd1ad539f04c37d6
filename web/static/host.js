// The host platform's screen, for development: the learner facts that a
// host platform tells the ledger as the system actor (a learner joined,
// logged in, left). A real host sends them from its own user directory.

import * as api from './api.js';
import { h, field, select, say, fail, table, when } from './ui.js';

/** hostPlatform is the "Host platform (development)" screen. */
export async function hostPlatform(c, companyId) {
  const [companies, partners] = await Promise.all([
    api.all('/companies'),
    api.all('/partners', { descendants: true }),
  ]);
  const partnerNames = new Map(partners.map((p) => [p.id, p.name]));
  const head = [
    h('h1', {}, 'Host platform (development)'),
    h('p', { class: 'lede' }, 'Learner facts come from the host platform, as the system: who joined a company, who logged in, who left. This screen stands in for the host while developing.'),
  ];
  if (companies.length === 0) {
    return h('div', {}, head, h('p', {}, 'No companies yet: a partner adds them on its Admin Dashboard.'));
  }
  const current = companies.find((co) => co.id === companyId) || null;
  const picker = select({ name: 'company' },
    [['', 'Choose a company'], ...companies.map((co) => [co.id, `${co.name} (${partnerNames.get(co.partner) || co.partner})`])],
    current ? current.id : '');
  picker.addEventListener('change', () => {
    location.hash = picker.value ? `#/host/${encodeURIComponent(picker.value)}` : '#/host';
  });
  const parts = [...head, h('div', { class: 'toolbar' }, field('Company', picker))];
  if (current) {
    parts.push(await learnersSection(c, current));
  }
  return h('div', {}, parts);
}

async function learnersSection(c, co) {
  const base = `/companies/${api.enc(co.id)}/learners`;
  const learners = await api.all(base);
  const fact = (learner, what, done) => async () => {
    try {
      await api.post(`${base}/${api.enc(learner)}/${what}`, {}, api.newKey());
      await c.refresh();
      say(done);
    } catch (err) {
      fail(err);
    }
  };
  const rows = learners.map((l) => [
    l.id,
    when(l.joined_at),
    l.last_login_at ? when(l.last_login_at) : 'never',
    l.left_at ? when(l.left_at) : '',
    l.left_at ? '' : h('div', { class: 'row-actions' },
      h('button', { type: 'button', 'aria-label': `Record login for ${l.id}`, onclick: fact(l.id, 'logins', `Login recorded for ${l.id}.`) }, 'Record login'),
      h('button', { type: 'button', 'aria-label': `Mark ${l.id} as left`, onclick: fact(l.id, 'left', `${l.id} marked as left ${co.name}.`) }, 'Mark as left')),
  ]);
  const input = h('input', { name: 'learner', required: true, autocomplete: 'off' });
  const form = h('form', {
    class: 'inline-form',
    'aria-labelledby': 'add-learner-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const id = input.value.trim();
      if (!id) {
        fail(new Error('Learner id is required.'));
        input.focus();
        return;
      }
      try {
        await api.post(`${base}/${api.enc(id)}/joined`, {}, api.newKey());
        await c.refresh();
        say(`${id} joined ${co.name}.`);
      } catch (err) {
        fail(err);
      }
    },
  }, field('Learner id', input), h('button', { type: 'submit', class: 'primary' }, 'Add learner'));
  return h('div', {},
    h('section', { 'aria-labelledby': 'add-learner-title' },
      h('h2', { id: 'add-learner-title' }, `Add a learner to ${co.name}`),
      form),
    h('section', { 'aria-labelledby': 'learners-title' },
      h('h2', { id: 'learners-title' }, `Learners of ${co.name}`),
      table(`Learners of ${co.name}`, ['Learner', 'Joined', 'Last login', 'Left', 'Actions'], rows, 'No learners yet.')));
}
