// The HTTP API client: the only way the portal reaches the ledger. Every
// call goes to the API base of the page's meta element; errors are the API's
// RFC 9457 problem details, thrown as Problem.

const meta = document.querySelector('meta[name="licensing-api-base"]');

/** The API's base URL, without a trailing slash. */
export const base = ((meta && meta.content) || '/api/v1').replace(/\/+$/, '');

/** Problem is an error answer of the API: its problem details. */
export class Problem extends Error {
  constructor(status, body) {
    const p = body && typeof body === 'object' ? body : {};
    super(p.detail || p.title || `The server answered ${status}.`);
    this.name = 'Problem';
    this.status = status;
    this.problem = p;
    this.code = p.code || '';
  }
}

/** url returns the absolute URL of an API path with a query. */
export function url(path, query) {
  const u = new URL(base + path, location.href);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '' && v !== false) {
      u.searchParams.set(k, String(v));
    }
  }
  return u;
}

/** newKey returns a fresh idempotency key. */
export function newKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function call(method, path, { query, body, key } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (key) {
    headers['Idempotency-Key'] = key;
  }
  let res;
  try {
    res = await fetch(url(path, query), { method, headers, body: payload, credentials: 'same-origin' });
  } catch (err) {
    throw new Problem(0, { title: 'Network error', detail: `The API could not be reached (${err.message}).` });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.trim() };
    }
  }
  if (!res.ok) {
    throw new Problem(res.status, data || { title: res.statusText });
  }
  return data;
}

/** get reads an API path. */
export function get(path, query) {
  return call('GET', path, { query });
}

/** post sends a command; key is its idempotency key, if any. */
export function post(path, body, key) {
  return call('POST', path, { body: body || {}, key });
}

/** patch changes an object; key is its idempotency key, if any. */
export function patch(path, body, key) {
  return call('PATCH', path, { body: body || {}, key });
}

/** all reads every page of a listing and returns the items. */
export async function all(path, query) {
  const items = [];
  let after = '';
  for (;;) {
    const page = await get(path, { ...query, limit: 1000, after });
    items.push(...(page.items || []));
    if (!page.next) {
      return items;
    }
    after = page.next;
  }
}

/** enc escapes one path segment. */
export const enc = encodeURIComponent;
