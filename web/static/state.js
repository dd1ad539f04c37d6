// What the screens share: companies read once per page load, and the
// listeners of the event stream.

import * as api from './api.js';

const companies = new Map();

/** companyNamed reads a company, once per page load. */
export function companyNamed(id) {
  if (!companies.has(id)) {
    companies.set(id, api.get(`/companies/${api.enc(id)}`).catch((err) => {
      companies.delete(id);
      throw err;
    }));
  }
  return companies.get(id);
}

/** forgetCompanies drops what companyNamed read (after a change). */
export function forgetCompanies() {
  companies.clear();
}

const listeners = new Set();

/** onEvent calls fn with each event of the stream; it returns the remover. */
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** emit hands an event of the stream to the listeners. */
export function emit(e) {
  for (const fn of listeners) {
    fn(e);
  }
}
