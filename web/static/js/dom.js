// Small DOM helpers. Text always goes in as text (never as HTML), so data
// from the API cannot inject markup; the CSP forbids inline script and style
// anyway.

/** h builds an element: h('a', {href: '#/x', class: 'y'}, 'text', child…). */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el && !tag.startsWith('svg:')) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** svg builds an SVG element. */
export const svg = (tag, attrs, ...children) => h('svg:' + tag, attrs, ...children);

let mountGuard = null;
/**
 * guardMounts sets the check every mount passes (the router's, shell.js):
 * a page render that is no longer the current route's must not draw.
 */
export function guardMounts(fn) { mountGuard = fn; }

/** mount replaces the content of the main area and moves focus to its heading. */
export function mount(...children) {
  const main = document.getElementById('main');
  if (mountGuard && !mountGuard()) return main;
  main.replaceChildren(...children.flat().filter(Boolean));
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
  return main;
}

let toastTimer;
/** toast shows a short status message (announced to screen readers). */
export function toast(msg) {
  const t = document.getElementById('toast');
  if (!t) return;
  t.textContent = msg;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.textContent = ''; }, 4000);
}

let seq = 0;
const uid = (name) => `f-${name.replace(/[^a-z0-9_-]/gi, '-')}-${++seq}`;

/**
 * field builds one labelled control. spec: {name, label, type, options:[[value,label]],
 * required, hint, min, max, step, placeholder, value, wide, autocomplete, inputmode}.
 */
export function field(spec) {
  const id = uid(spec.name);
  const hintId = spec.hint ? id + '-hint' : undefined;
  const common = {
    id, name: spec.name, required: spec.required, 'aria-describedby': hintId,
    autocomplete: spec.autocomplete || 'off',
  };
  let control;
  if (spec.type === 'select') {
    control = h('select', common,
      spec.required && spec.value ? null : h('option', { value: '' }, spec.placeholder || '— 请选择 —'),
      (spec.options || []).map(([v, l]) => h('option', { value: v, selected: String(v) === String(spec.value ?? '') }, l)));
  } else if (spec.type === 'textarea') {
    control = h('textarea', { ...common, rows: spec.rows || 3 });
    if (spec.value) control.value = spec.value;
  } else if (spec.type === 'radio') {
    // A group of big touch targets; the fieldset's legend is the label.
    const group = h('fieldset', { class: 'field' + (spec.wide ? ' wide' : ''), 'data-field': spec.name },
      h('legend', {}, spec.label, spec.required ? h('span', { class: 'muted' }, '（必填）') : null),
      h('div', { class: 'choice' }, (spec.options || []).map(([v, l], i) =>
        h('label', {}, h('input', { type: 'radio', name: spec.name, value: v, required: spec.required && i === 0,
          checked: String(v) === String(spec.value ?? '') }), l))),
      spec.hint ? h('span', { class: 'hint', id: hintId }, spec.hint) : null);
    return group;
  } else {
    control = h('input', {
      ...common, type: spec.type || 'text', min: spec.min, max: spec.max, step: spec.step,
      placeholder: spec.placeholder, inputmode: spec.inputmode, value: spec.value, maxlength: spec.maxlength,
    });
  }
  return h('div', { class: 'field' + (spec.wide ? ' wide' : '') + (spec.narrow ? ' narrow' : ''), 'data-field': spec.name },
    h('label', { for: id }, spec.label, spec.required ? h('span', { class: 'muted' }, '（必填）') : null),
    control,
    spec.hint ? h('span', { class: 'hint', id: hintId }, spec.hint) : null);
}

/**
 * readForm turns a form into a JSON body following the specs: numbers are
 * numbers, empty values are left out, "a.b" names nest, type 'list' splits
 * on 、，, or new lines.
 */
export function readForm(form, specs) {
  const out = {};
  const fd = new FormData(form);
  for (const s of specs) {
    let v = fd.get(s.name);
    if (v === null) continue;
    v = String(v).trim();
    if (v === '') continue;
    let val = v;
    if (s.type === 'number') val = Number(v);
    else if (s.list) val = v.split(/[、，,;；\n]+/).map((x) => x.trim()).filter(Boolean);
    else if (s.bool) val = v === 'true';
    const path = s.name.split('.');
    let o = out;
    for (const p of path.slice(0, -1)) o = (o[p] = o[p] || {});
    o[path[path.length - 1]] = val;
  }
  return out;
}

/** clearErrors removes the error marks of an earlier submit. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-alert').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-err'));
    if (ids.length) e.setAttribute('aria-describedby', ids.join(' ')); else e.removeAttribute('aria-describedby');
  });
}

/**
 * showErrors marks a failed submit: each field error next to its control
 * (aria-invalid, described by the reason), the rest in an alert at the top,
 * and focus on the first wrong control.
 */
export function showErrors(form, err, names = {}) {
  clearErrors(form);
  const summary = [];
  let first = null;
  for (const f of err.fields || []) {
    const box = form.querySelector(`[data-field="${CSS.escape(f.field)}"]`);
    if (!box) {
      summary.push(`${names[f.field] || f.field}：${f.reason}`);
      continue;
    }
    const control = box.querySelector('input, select, textarea');
    const id = (control?.id || uid(f.field)) + '-err';
    box.appendChild(h('p', { class: 'field-error', id }, f.reason));
    box.querySelectorAll('input, select, textarea').forEach((c) => {
      c.setAttribute('aria-invalid', 'true');
      c.setAttribute('aria-describedby', [c.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    });
    first = first || control;
  }
  const msg = err.offline ? '网络不可用，请检查网络后重试。' : err.message;
  const alert = h('div', { class: 'alert form-alert', role: 'alert' }, h('strong', {}, msg),
    summary.length ? h('ul', {}, summary.map((s) => h('li', {}, s))) : null,
    err.body?.error?.existing_record_id ? h('p', {}, '已有档案：',
      h('a', { href: '#/record/' + err.body.error.existing_record_id }, err.body.error.existing_record_id)) : null);
  form.prepend(alert);
  (first || alert).focus?.();
  if (!first) alert.scrollIntoView({ block: 'nearest' });
}

/** fmtDate shows a YYYY-MM-DD date or a timestamp's local date and time. */
export function fmtTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** today is the local date as YYYY-MM-DD. */
export function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** table builds a table from column specs {label, value(row) → node|string, num}. */
export function table(cols, rows, opts = {}) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    opts.caption ? h('caption', { class: 'muted' }, opts.caption) : null,
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: opts.rowClass ? opts.rowClass(r) : null },
      cols.map((c) => h('td', { class: c.num ? 'num' : null }, c.value(r))))))));
}

/** errorBox shows a failed load. */
export function errorBox(err) {
  return h('div', { class: 'alert', role: 'alert' }, err.offline ? '网络不可用，请稍后重试。' : err.message);
}
