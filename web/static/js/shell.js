// What the three apps share: the sign-in form, the bar with the signed-in
// person, the navigation and a tiny hash router.
import { ApiError, login, logout, get } from './api.js';
import { h, mount, field, showErrors, clearErrors, guardMounts } from './dom.js';
import { ROLE, label } from './labels.js';

/** loginView shows the sign-in form; onDone(staff) runs after a successful sign-in. */
export function loginView(title, onDone, note) {
  const specs = [
    { name: 'staff_code', label: '工号', required: true, autocomplete: 'username' },
    { name: 'password', label: '密码', type: 'password', required: true, autocomplete: 'current-password' },
  ];
  const form = h('form', { id: 'login-form', novalidate: true },
    specs.map(field),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登录')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const fd = new FormData(form);
    const code = String(fd.get('staff_code') || '').trim();
    const pw = String(fd.get('password') || '');
    const fields = [];
    if (!code) fields.push({ field: 'staff_code', reason: '请输入工号' });
    if (!pw) fields.push({ field: 'password', reason: '请输入密码' });
    if (fields.length) {
      showErrors(form, Object.assign(new ApiError(400, null), { message: '请填写工号和密码', fields }));
      return;
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const out = await login(code, pw);
      await onDone(out.staff);
    } catch (e) {
      showErrors(form, e);
      form.querySelector('input[name=password]').value = '';
    } finally {
      btn.disabled = false;
    }
  });
  mount(h('section', { class: 'login' }, h('h1', {}, title), note ? h('p', { class: 'notice' }, note) : null, form));
  form.querySelector('input').focus();
}

// The roles of a county's own apps (desk, tablet, bureau).
const COUNTY_ROLES = ['doctor', 'home_visit', 'records_admin', 'bureau', 'reviewer', 'review_lead', 'admin', 'requester'];

/**
 * provinceOnly: the account holds the province role and none of a county's:
 * it lands on the province's page (/province), the only one it may read.
 */
export function provinceOnly(staff) {
  const roles = (staff && staff.roles) || [];
  return roles.some((g) => g.role === 'province') && !roles.some((g) => COUNTY_ROLES.includes(g.role));
}

/** renderWho shows who is signed in, with a sign-out button. */
export function renderWho(staff, onLogout) {
  const who = document.getElementById('who');
  if (!staff) { who.replaceChildren(); return; }
  const roles = [...new Set((staff.roles || []).map((g) => label(ROLE, g.role)))].join('、');
  who.replaceChildren(
    h('span', {}, staff.name || staff.staff_code, h('span', { class: 'sr-role' }, roles ? `（${roles}）` : '')),
    h('button', { type: 'button', class: 'secondary', id: 'logout', onclick: async () => {
      await logout();
      if (onLogout) onLogout(); else location.reload();
    } }, '退出'));
}

/** renderNav shows the navigation links and marks the current one. */
export function renderNav(items) {
  const nav = document.getElementById('nav');
  if (!nav) return;
  nav.hidden = items.length === 0;
  nav.replaceChildren(...items.map(([href, text]) => h('a', { href }, text)));
  markNav();
}

export function markNav() {
  const nav = document.getElementById('nav');
  if (!nav) return;
  const here = location.hash || '#/';
  for (const a of nav.querySelectorAll('a')) {
    const href = a.getAttribute('href');
    const on = href === '#/' ? here === '#/' || here === '' : here.startsWith(href);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

// Page renders in flight, by generation, and the latest route's. A page
// renders after awaits (the API, IndexedDB), so an earlier route's render
// can finish after a newer one's: while renders of more than one route are
// in flight nobody can tell whose mount is whose, so none draws; once only
// the latest route's is left, it draws. If one of its mounts was held back
// meanwhile, the latest route renders again when the others have settled.
// A render in flight longer than ABANDON_MS behind a newer route stops
// counting, so that a hung request cannot freeze the app.
const inflight = new Set();
let latest = 0;
let heldBack = false;
let rerun = null;
const ABANDON_MS = 10000;

let placing = false;

guardMounts(() => {
  if (placing || inflight.size === 0) return true; // an event handler, or a settled page's own update
  if (inflight.size === 1 && inflight.has(latest)) {
    heldBack = false;
    return true;
  }
  heldBack = true;
  return false;
});

function settled(gen) {
  if (!inflight.delete(gen)) return;
  if (inflight.size === 0 && heldBack && rerun) {
    heldBack = false;
    rerun();
  }
}

/**
 * router calls the handler of the first matching pattern ('#/record/:id')
 * with the params and the query, on load and on every hash change. A
 * handler returns its render's promise; a render of a route that is no
 * longer current never mounts (see inflight above).
 */
export function router(routes, fallback) {
  const render = (fn) => {
    const gen = ++latest;
    heldBack = false;
    if (inflight.size > 0) {
      // The page held back shows at least that it is coming.
      placing = true;
      mount(h('p', { class: 'loading' }, '正在加载…'));
      placing = false;
    }
    inflight.add(gen);
    let p;
    try {
      p = Promise.resolve(fn());
    } catch (e) {
      p = Promise.reject(e);
    }
    const done = () => settled(gen);
    p.then(done, done);
    for (const older of inflight) {
      if (older !== gen) setTimeout(() => settled(older), ABANDON_MS);
    }
    return p;
  };
  const run = () => {
    const raw = location.hash || '#/';
    const [path, query] = raw.split('?');
    const params = new URLSearchParams(query || '');
    for (const [pattern, fn] of routes) {
      const names = [];
      const re = new RegExp('^' + pattern.replace(/:[a-z_]+/g, (m) => { names.push(m.slice(1)); return '([^/]+)'; }) + '/?$');
      const m = path.match(re);
      if (m) {
        const args = {};
        names.forEach((n, i) => { args[n] = decodeURIComponent(m[i + 1]); });
        markNav();
        return render(() => fn(args, params));
      }
    }
    return render(fallback);
  };
  rerun = run;
  window.addEventListener('hashchange', run);
  return run;
}

// The inbox badge (DESIGN §5.8): every page shows the unread count.
let badgeTimer = null;
let badgeRefresh = null;

/** inboxBadge puts "消息 N" beside the signed-in person, linking to href. */
export function inboxBadge(href) {
  const who = document.getElementById('who');
  if (!who) return;
  let a = document.getElementById('inbox-badge');
  if (!a) {
    a = h('a', { id: 'inbox-badge', class: 'badge-link', href }, '消息 ', h('span', { class: 'badge', id: 'inbox-count' }, ''));
    who.prepend(a);
  }
  const refresh = async () => {
    try {
      const out = await get('/inbox/unread');
      const n = out.unread || 0;
      const c = document.getElementById('inbox-count');
      if (c) { c.textContent = n ? String(n) : ''; c.hidden = !n; }
      a.setAttribute('aria-label', n ? `消息，${n} 条未读` : '消息，无未读');
    } catch (e) { /* offline: keep the last count */ }
  };
  refresh();
  clearInterval(badgeTimer);
  badgeTimer = setInterval(refresh, 60000);
  if (badgeRefresh) window.removeEventListener('hashchange', badgeRefresh);
  badgeRefresh = refresh;
  window.addEventListener('hashchange', refresh);
}

