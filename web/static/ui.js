// Small accessible building blocks: elements, messages, dialogs, menu
// buttons, tabs and tables. Each follows the WAI-ARIA Authoring Practices,
// so that people (and tests) find controls by role and label.

/**
 * h makes an element: h('button', {type: 'button', onclick: f}, 'Save').
 * Attributes whose value is null, undefined or false are left out; "on..."
 * attributes are listeners; children may be strings, nodes, or arrays.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'value' || k === 'checked' || k === 'selected') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else {
      el.append(c instanceof Node ? c : String(c));
    }
  }
}

let ids = 0;

/** uid returns an id unique in the page. */
export function uid(prefix) {
  ids += 1;
  return `${prefix || 'id'}-${ids}`;
}

/** field is a labelled control: a label and its input, select or textarea. */
export function field(labelText, control, hint) {
  control.id = control.id || uid('field');
  const parts = [h('label', { for: control.id }, labelText), control];
  if (hint) {
    const hintEl = h('span', { class: 'hint', id: uid('hint') }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

/** select makes a select from [value, text] pairs. */
export function select(attrs, options, selected) {
  return h('select', attrs, options.map(([v, t]) => h('option', { value: v, selected: v === selected }, t)));
}

/** say shows a status message (role=status) and clears the alert. */
export function say(text) {
  document.getElementById('alert').textContent = '';
  const s = document.getElementById('status');
  s.textContent = '';
  // A change the screen reader hears even when the text repeats.
  requestAnimationFrame(() => {
    s.textContent = text;
  });
}

/**
 * fail shows an error (role=alert): the API's problem detail, with its
 * code when it has one.
 */
export function fail(err) {
  document.getElementById('status').textContent = '';
  const a = document.getElementById('alert');
  a.textContent = '';
  const p = err && err.problem;
  let text = (err && err.message) || String(err);
  if (p && p.code) {
    text += ` (${p.code})`;
  }
  requestAnimationFrame(() => {
    a.textContent = text;
  });
}

/** clearMessages empties the status and alert regions. */
export function clearMessages() {
  document.getElementById('status').textContent = '';
  document.getElementById('alert').textContent = '';
}

/**
 * dialog opens a modal dialog with a heading and a form. body is what goes
 * in the form above its buttons; onSubmit gets the form and returns a
 * promise: the dialog closes when it resolves and shows the error, in its
 * own role=alert, when it rejects. Escape and Cancel close it; focus
 * returns to where it was.
 */
export function dialog({ title, body, submit, onSubmit, describe }) {
  const opener = document.activeElement;
  const headingId = uid('dialog-title');
  const error = h('p', { class: 'alert', role: 'alert' });
  const submitButton = h('button', { type: 'submit', class: 'primary' }, submit || 'Save');
  const form = h('form', { novalidate: true }, body, error,
    h('div', { class: 'buttons' }, submitButton,
      h('button', { type: 'button', onclick: () => close() }, 'Cancel')));
  const d = h('dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, title), describe ? h('p', {}, describe) : null, form);
  function close() {
    d.close();
  }
  d.addEventListener('close', () => {
    d.remove();
    if (opener && opener.isConnected) {
      opener.focus();
    } else {
      // The screen was drawn again: start from its heading.
      const heading = document.querySelector('#view h1') || document.getElementById('main');
      heading.focus();
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    for (const c of form.querySelectorAll('[aria-invalid]')) {
      c.removeAttribute('aria-invalid');
    }
    for (const c of form.querySelectorAll('[required]')) {
      if (!c.value.trim()) {
        const label = form.querySelector(`label[for="${c.id}"]`);
        error.textContent = `${label ? label.textContent : 'This field'} is required.`;
        c.setAttribute('aria-invalid', 'true');
        c.focus();
        return;
      }
    }
    submitButton.disabled = true;
    try {
      await onSubmit(form);
      close();
    } catch (err) {
      let text = err.message || String(err);
      if (err.problem && err.problem.code) {
        text += ` (${err.problem.code})`;
      }
      // The field at fault, by the problem's field: named and marked.
      const bad = err.problem && err.problem.field && form.querySelector(`[name="${CSS.escape(err.problem.field)}"]`);
      if (bad) {
        bad.setAttribute('aria-invalid', 'true');
        const label = form.querySelector(`label[for="${CSS.escape(bad.id)}"]`);
        if (label) {
          text = `${label.textContent}: ${text}`;
        }
      }
      error.textContent = text;
    } finally {
      submitButton.disabled = false;
    }
  });
  document.body.append(d);
  d.showModal();
  const first = form.querySelector('input, select, textarea, button');
  if (first) {
    first.focus();
  }
  return d;
}

/**
 * menuButton is a button that opens a menu of actions ([text, fn] pairs):
 * aria-haspopup, aria-expanded, arrow keys, Home, End, Escape and Tab, as
 * the WAI-ARIA menu button pattern has them.
 */
export function menuButton({ label, text, items, className }) {
  const menuId = uid('menu');
  const button = h('button', {
    type: 'button', class: className || 'menu-button', 'aria-haspopup': 'menu',
    'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': label,
  }, text);
  const entries = items.map(([t, fn]) => h('li', { role: 'menuitem', tabindex: '-1', 'data-action': t }, t));
  const menu = h('ul', { role: 'menu', id: menuId, 'aria-label': label, hidden: true }, entries);
  const wrap = h('div', { class: 'menu-wrap' }, button, menu);

  function open(focusIndex) {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    entries[(focusIndex + entries.length) % entries.length].focus();
    document.addEventListener('pointerdown', outside, true);
  }
  function close(refocus) {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) {
      button.focus();
    }
  }
  function outside(ev) {
    if (!wrap.contains(ev.target)) {
      close(false);
    }
  }
  function activate(i) {
    close(true);
    items[i][1]();
  }
  button.addEventListener('click', () => (menu.hidden ? open(0) : close(true)));
  // Enter and Space click the button, as on any button.
  button.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      open(0);
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      open(-1);
    }
  });
  entries.forEach((li, i) => {
    li.addEventListener('click', () => activate(i));
    li.addEventListener('keydown', (ev) => {
      const n = entries.length;
      switch (ev.key) {
        case 'ArrowDown': ev.preventDefault(); entries[(i + 1) % n].focus(); break;
        case 'ArrowUp': ev.preventDefault(); entries[(i - 1 + n) % n].focus(); break;
        case 'Home': ev.preventDefault(); entries[0].focus(); break;
        case 'End': ev.preventDefault(); entries[n - 1].focus(); break;
        case 'Escape': ev.preventDefault(); close(true); break;
        case 'Tab': close(false); break;
        case 'Enter': case ' ': ev.preventDefault(); activate(i); break;
        default:
          // Type-ahead: the first item starting with the key.
          if (ev.key.length === 1) {
            const j = entries.findIndex((e) => e.textContent.toLowerCase().startsWith(ev.key.toLowerCase()));
            if (j >= 0) {
              entries[j].focus();
            }
          }
      }
    });
  });
  return wrap;
}

/**
 * tabs is a tab list whose tabs are links between routes: [text, href,
 * selected] triples. The selected tab's panel is panel; arrow keys move
 * between tabs.
 */
export function tabs(label, list, panel) {
  const tabEls = list.map(([text, href, selected]) => h('a', {
    role: 'tab', href, id: uid('tab'), 'aria-selected': selected ? 'true' : 'false',
    tabindex: selected ? '0' : '-1',
  }, text));
  const tablist = h('div', { role: 'tablist', 'aria-label': label, class: 'tabs' }, tabEls);
  tabEls.forEach((t, i) => t.addEventListener('keydown', (ev) => {
    const n = tabEls.length;
    let j = -1;
    if (ev.key === 'ArrowRight') j = (i + 1) % n;
    if (ev.key === 'ArrowLeft') j = (i - 1 + n) % n;
    if (ev.key === 'Home') j = 0;
    if (ev.key === 'End') j = n - 1;
    if (j >= 0) {
      ev.preventDefault();
      tabEls[j].focus();
      tabEls[j].click();
    }
  }));
  const selected = tabEls.find((t) => t.getAttribute('aria-selected') === 'true');
  const panelEl = h('div', { role: 'tabpanel', 'aria-labelledby': selected ? selected.id : null, class: 'tabpanel' }, panel);
  return h('div', {}, tablist, panelEl);
}

/** table makes a table with a caption, column headers and rows of cells. */
export function table(caption, headers, rows, empty) {
  if (rows.length === 0 && empty) {
    return h('p', { class: 'muted' }, empty);
  }
  const wrap = h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c, i) => (i === 0
      ? h('th', { scope: 'row' }, c)
      : h('td', {}, c))))))));
  // A wide table scrolls in its own box, but one with menus must not clip them.
  if (wrap.querySelector('[aria-haspopup="menu"]')) {
    wrap.classList.add('has-menus');
  }
  return wrap;
}

/** day returns the UTC date of an RFC 3339 instant: 2027-11-30. */
export function day(t) {
  return t ? String(t).slice(0, 10) : '';
}

/** when returns an instant as date and UTC time: 2027-11-30 10:00 UTC. */
export function when(t) {
  if (!t) {
    return '';
  }
  const s = String(t);
  return `${s.slice(0, 10)} ${s.slice(11, 16)} UTC`;
}

/** daysBetween returns the whole days from now until t (0 if past). */
export function daysBetween(now, t) {
  const ms = Date.parse(t) - Date.parse(now);
  return Math.max(0, Math.floor(ms / 86400000));
}

/** plural returns "1 licence" or "5 licences". */
export function plural(n, word, many) {
  return `${n} ${n === 1 ? word : (many || `${word}s`)}`;
}

/** actorLabel names an actor for people: pam@acme.example (partner manager). */
export function actorLabel(a) {
  if (!a || !a.kind) {
    return '';
  }
  const who = { partner: 'partner manager', company: 'company manager', system: 'system' }[a.kind] || a.kind;
  return a.user ? `${a.user} (${who})` : who;
}
