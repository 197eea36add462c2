// The tablet app (home-visit staff): today's due and overdue follow-ups for
// the worker's villages, the resident, and follow-up and visit forms that
// work without a connection. See docs/web.md for how offline sync works.
import { get, qs, setCSRF, getCSRF, me as fetchMe, logout, ApiError } from './api.js';
import {
  h, mount, field, readForm, showErrors, clearErrors, toast, fmtTime, today, errorBox,
} from './dom.js';
import { SEX, PROGRAMME, KIND, FIELD, label } from './labels.js';
import { followupSpecs, visitSpecs, timelineItem } from './forms.js';
import { loginView, renderWho, router, inboxBadge } from './shell.js';
import * as store from './store.js';
import * as outbox from './outbox.js';
import { isKeypop, entryKind, dueHref, dueText, keypopForm, flat } from './tablet-keypop.js';

let staff = null;
let online = navigator.onLine;

// Pages render after awaits (IndexedDB, the network). Only the page started
// last may draw: a slower, older render must not cover a newer one.
let renderSeq = 0;
function begin() {
  const mine = ++renderSeq;
  return () => mine === renderSeq;
}

// ---------- start-up ----------

async function start() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/tablet/sw.js', { scope: '/tablet/' }).catch(() => {});
  }
  outbox.onChange(() => {
    updateBadge();
    if (location.hash.startsWith('#/outbox')) outboxPage();
  });
  window.addEventListener('online', () => { setOnline(true); syncNow(); });
  window.addEventListener('offline', () => setOnline(false));
  document.addEventListener('visibilitychange', () => { if (!document.hidden) syncNow(); });
  // Retry now and then while entries wait: navigator.onLine is only a hint.
  setInterval(() => { if (pendingCount > 0) syncNow(); }, 30000);
  setOnline(navigator.onLine);
  updateBadge();

  const cached = await store.kvGet('me');
  setCSRF(await store.kvGet('csrf'));
  let fresh;
  const epoch = netEpoch;
  try {
    fresh = await fetchMe();
    answered(epoch);
  } catch (e) {
    if (!e.offline) throw e;
    setOnline(false);
    fresh = undefined; // unknown: offline
  }
  if (fresh === null) {
    // Signed out (or the session expired): sign in again; the outbox stays.
    return showLogin(cached);
  }
  if (fresh) await signedIn(fresh); else if (cached) staff = cached;
  if (!staff) {
    mount(h('h1', {}, '需要联网登录'), h('p', {}, '这台平板还没有登录过。请连接网络后登录一次，之后可离线使用。'));
    return;
  }
  renderWho(staff, signOut);
  inboxBadge('/#/inbox');
  route();
  syncNow();
}

function showLogin(cached) {
  const note = cached && pendingCount > 0 ? `还有 ${pendingCount} 条记录待同步，请用工号 ${cached.staff_code} 登录后同步。` : null;
  renderWho(null);
  loginView('登录 · 入户随访', async (s) => {
    await signedIn(s);
    await fetchMe().then((m) => m && signedIn(m)).catch(() => {});
    renderWho(staff, signOut);
    inboxBadge('/#/inbox');
    location.hash = '#/';
    route();
    syncNow();
  }, note);
}

// signedIn stores who is signed in and the CSRF token for offline use. A
// different person on the same tablet does not see the last one's residents.
async function signedIn(s) {
  const cached = await store.kvGet('me');
  if (cached && cached.staff_code !== s.staff_code) {
    await store.clear('records');
    await store.kvDel('worklist');
  }
  staff = s;
  await store.kvSet('me', { staff_code: s.staff_code, name: s.name, roles: s.roles, village_codes: s.village_codes });
  await store.kvSet('csrf', getCSRF());
}

async function signOut() {
  // Residents' data leaves the tablet with the person; unsent entries stay
  // (they are sent when the same person signs in again).
  await store.clear('records');
  await store.kvDel('worklist');
  await store.kvDel('me');
  await store.kvDel('csrf');
  await logout();
  staff = null;
  location.hash = '#/';
  showLogin(null);
}

// netEpoch counts the times the tablet went offline. A reply proves the
// tablet online only if it went offline no time after the request left:
// a late reply (a slow worklist) must not cover a newer "离线".
let netEpoch = 0;
function setOnline(v) {
  if (!v) netEpoch++;
  online = v;
  const net = document.getElementById('net');
  net.textContent = v ? '在线' : '离线';
  net.className = 'net ' + (v ? 'online' : 'offline');
}

/** answered: a reply to a request sent at epoch came back. */
function answered(epoch) {
  if (epoch === netEpoch) setOnline(true);
}

let pendingCount = 0;
async function updateBadge() {
  const list = await outbox.items();
  pendingCount = list.length;
  const rejected = list.filter((i) => i.state === 'rejected').length;
  const badge = document.getElementById('badge');
  badge.textContent = String(list.length);
  badge.dataset.count = String(list.length);
  badge.dataset.rejected = String(rejected);
  badge.classList.toggle('has-rejected', rejected > 0);
  document.getElementById('outbox-link').setAttribute('aria-label',
    `待同步 ${list.length} 条` + (rejected ? `，其中 ${rejected} 条被退回需处理` : ''));
}

let syncing = false;
async function syncNow() {
  if (!staff || syncing) return null;
  syncing = true;
  const epoch = netEpoch;
  try {
    const res = await outbox.sync(staff.staff_code);
    // Only a real answer says we are online; an empty outbox says nothing.
    if (res.stopped === 'offline') setOnline(false);
    else if (res.sent || res.rejected || res.stopped === 'auth') answered(epoch);
    if (res.stopped === 'auth') {
      toast('登录已过期，请重新登录后同步');
      showLogin(staff);
      return res;
    }
    if (res.sent) {
      toast(`已同步 ${res.sent} 条记录`);
      refreshWorklist().catch(() => {});
    }
    if (res.rejected) toast(`${res.rejected} 条记录被退回，请到“待同步”处理`);
    return res;
  } finally {
    syncing = false;
  }
}

const route = router([
  ['#/', () => worklistPage()],
  ['#/outbox', () => outboxPage()],
  ['#/resident/:id', ({ id }) => residentPage(id)],
  ['#/resident/:id/:kind', ({ id, kind }, q) => entryPage(id, kind, q.get('programme') || '', q.get('edit') || '', q.get('service') || '')],
], () => worklistPage());

// ---------- worklist ----------

// refreshWorklist downloads today's list and the residents on it that this
// tablet does not have as they are now (delta sync, docs/web.md): one
// request, GET /followups/worklist?since= the last answer's cursor, which
// sends only the records changed since; a second only when residents new
// on the list are missing here. Residents no longer on the list leave the
// tablet. Against a server without the route: the list, then each resident.
async function refreshWorklist() {
  const base = { within_days: 7, per_page: 500 };
  const prev = await store.kvGet('worklist');
  const since = prev && prev.staff_code === staff.staff_code && prev.cursor ? prev.cursor : undefined;
  const epoch = netEpoch;
  let w;
  try {
    try {
      w = await get('/followups/worklist' + qs({ ...base, since }));
    } catch (e) {
      // A cursor this server does not take (another version's): start over.
      if (!since || e.status !== 400 || !e.fields.some((f) => f.field === 'since')) throw e;
      w = await get('/followups/worklist' + qs(base));
    }
  } catch (e) {
    if (e.status !== 404 && e.status !== 405) throw e;
    return refreshEach(base, epoch);
  }
  const ok = (ans) => ans.records.filter((r) => r.status === 200);
  let got = ok(w);
  if (w.delta) {
    const held = new Set(await store.keys('records'));
    for (const r of got) held.add(r.record_id);
    const missing = [...new Set(w.due.items.map((i) => i.record_id))].filter((id) => !held.has(id));
    if (missing.length) {
      w = await get('/followups/worklist' + qs({ ...base, since: w.cursor, records: missing.join(',') }));
      got = got.concat(ok(w)); // the later copy of a record wins in putAll
    }
  }
  const wl = { as_of: w.due.as_of || today(), fetched_at: new Date().toISOString(), items: w.due.items,
    staff_code: staff.staff_code, cursor: w.cursor };
  await store.putAll('records', got.map((r) => ({ record_id: r.record_id, rec: r.body, fetched_at: wl.fetched_at })));
  await forgetOthers(wl);
  // The cursor is kept only once the records it stands for are.
  await store.kvSet('worklist', wl);
  answered(epoch);
  return wl;
}

// refreshEach is the worklist from a server without GET /followups/worklist.
async function refreshEach(base, epoch) {
  const out = await get('/followups/due' + qs(base));
  const wl = { as_of: out.as_of || today(), fetched_at: new Date().toISOString(), items: out.items, staff_code: staff.staff_code };
  const ids = [...new Set(out.items.map((i) => i.record_id))];
  await Promise.all(ids.map(async (id) => {
    try {
      const rec = await get('/records/' + encodeURIComponent(id));
      await store.put('records', { record_id: id, rec, fetched_at: wl.fetched_at });
    } catch (e) { /* the worklist still has name and phone */ }
  }));
  await store.kvSet('worklist', wl);
  answered(epoch);
  return wl;
}

// forgetOthers removes the residents no longer on the list: the tablet
// holds only the day's round.
async function forgetOthers(wl) {
  const on = new Set(wl.items.map((i) => i.record_id));
  const gone = (await store.keys('records')).filter((id) => !on.has(id));
  if (gone.length) await store.delAll('records', gone);
}

// villageNames names the list's villages from the residents' records.
async function villageNames() {
  const names = {};
  for (const r of await store.all('records')) {
    const b = r.rec && r.rec.basic;
    if (b && r.rec.names && r.rec.names.village_code) names[b.village_code] = r.rec.names.village_code;
  }
  return names;
}

async function worklistPage() {
  const current = begin();
  let wl = await store.kvGet('worklist');
  if (wl && wl.staff_code !== staff.staff_code) wl = null;
  const view = { village: (await store.kvGet('village')) || '', names: await villageNames() };
  if (!current()) return;
  renderWorklist(wl, view, !wl);
  // The page is drawn; the download draws it again if it is still the
  // page shown. Not awaited: the router holds other pages back while a
  // render is in flight (shell.js), and on a village link this takes long.
  if (!wl || wl.as_of !== today() || navigator.onLine) redrawAfterRefresh(wl, view, current);
}

async function redrawAfterRefresh(wl, view, current) {
  try {
    wl = await refreshWorklist();
    view.names = await villageNames();
    if (current()) renderWorklist(wl, view, false);
  } catch (e) {
    if (e.offline) setOnline(false);
    if (current()) renderWorklist(wl, view, false, e);
  }
}

// villageFilter is the choice of one village of the list (kept on the
// tablet): a round goes village by village.
function villageFilter(all, view, redraw) {
  const counts = new Map();
  for (const i of all) counts.set(i.village_code, (counts.get(i.village_code) || 0) + 1);
  if (counts.size < 2 && !view.village) return null;
  const name = (code) => view.names[code] || code;
  const sel = h('select', { id: 'village-filter', name: 'village' },
    h('option', { value: '' }, `全部村居（${all.length}）`),
    [...counts].map(([code, n]) => h('option', { value: code, selected: code === view.village }, `${name(code)}（${n}）`)));
  sel.addEventListener('change', async () => {
    view.village = sel.value;
    await store.kvSet('village', view.village);
    redraw();
  });
  return h('div', { class: 'field inline' }, h('label', { for: 'village-filter' }, '村居'), sel);
}

// byVillage groups one section's items by village, in the list's order,
// with the village's name as a heading when there is more than one.
function byVillage(items, view, cls) {
  const groups = new Map();
  for (const i of items) {
    if (!groups.has(i.village_code)) groups.set(i.village_code, []);
    groups.get(i.village_code).push(i);
  }
  return [...groups].map(([code, its]) => [
    groups.size > 1 ? h('h3', { class: 'village', 'data-village': code }, `${view.names[code] || code}（${its.length}）`) : null,
    h('ul', { class: 'worklist', 'data-village': code }, its.map((i) => worklistItem(i, cls)))]);
}

function worklistItem(i, cls) {
  return h('li', { class: cls === 'soon' ? '' : cls, 'data-village': i.village_code },
    h('a', { href: dueHref(i), 'data-record': i.record_id, 'data-service': i.service },
      h('div', { class: 'name' }, i.name, ' ', h('span', { class: 'tag ' + (i.overdue ? 'bad' : 'warn') },
        i.overdue ? `逾期 ${i.days_overdue} 天` : (i.days_until_due ? `${i.days_until_due} 天后` : '今日'))),
      h('div', { class: 'meta' }, dueText(i)),
      h('div', { class: 'meta' }, `${label(SEX, i.sex)} · ${i.birth_date || ''} · ${i.phone || '无电话'}`)));
}

function renderWorklist(wl, view, loading, err) {
  const all = wl ? wl.items : [];
  const onList = new Set(all.map((i) => i.village_code));
  if (view.village && !onList.has(view.village)) view.village = '';
  const list = view.village ? all.filter((i) => i.village_code === view.village) : all;
  const groups = [
    ['逾期', list.filter((i) => i.overdue), 'overdue'],
    ['今日到期', list.filter((i) => !i.overdue && !i.days_until_due), 'due'],
    ['7 天内到期', list.filter((i) => !i.overdue && i.days_until_due > 0), 'soon'],
  ];
  const search = h('form', { class: 'inline-form', role: 'search', id: 'tablet-search' },
    h('div', { class: 'field' }, h('label', { for: 'tq' }, '查找居民（需联网）'),
      h('input', { id: 'tq', name: 'q', type: 'search', placeholder: '姓名、身份证号或档案编号' })),
    h('button', { type: 'submit', class: 'secondary' }, '查找'));
  const found = h('div', { 'aria-live': 'polite' });
  search.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = search.q.value.trim();
    if (!q) return;
    try {
      const out = await get('/records' + qs({ q, per_page: 20 }));
      found.replaceChildren(out.items.length
        ? h('ul', { class: 'worklist' }, out.items.map((r) => h('li', {}, h('a', { href: '#/resident/' + r.record_id },
          h('div', { class: 'name' }, r.name), h('div', { class: 'meta' }, `${label(SEX, r.sex)} · ${r.birth_date} · ${r.village_name || r.village_code}`)))))
        : h('p', { class: 'empty' }, '没有找到。'));
    } catch (e) {
      found.replaceChildren(errorBox(e));
    }
  });
  mount(
    h('h1', {}, '今日随访'),
    h('p', { class: 'muted', id: 'worklist-meta' }, wl
      ? `截至 ${wl.as_of}，共 ${all.length} 项 · 清单更新于 ${fmtTime(wl.fetched_at)}`
      : (loading ? '正在下载今日清单…' : '尚无清单')),
    villageFilter(all, view, () => renderWorklist(wl, view, loading, err)),
    err && !err.offline ? errorBox(err) : null,
    err && err.offline ? h('p', { class: 'notice' }, '当前离线，显示的是上次下载的清单。') : null,
    list.length === 0 && wl ? h('p', { class: 'empty' }, '今天没有到期的随访。') : null,
    groups.filter(([, items]) => items.length).map(([title, items, cls]) => h('section', { 'aria-label': title, id: 'worklist-' + cls },
      h('h2', {}, `${title}（${items.length}）`),
      byVillage(items, view, cls))),
    h('h2', {}, '其他居民'), search, found,
  );
}

// ---------- resident ----------

async function residentData(id) {
  let cached = await store.get('records', id);
  if (navigator.onLine || !cached) {
    const epoch = netEpoch;
    try {
      const rec = await get('/records/' + encodeURIComponent(id));
      cached = { record_id: id, rec, fetched_at: new Date().toISOString() };
      await store.put('records', cached);
      answered(epoch);
    } catch (e) {
      if (!e.offline) throw e;
      setOnline(false);
    }
  }
  return cached;
}

function worklistItems(wl, id) {
  return wl && wl.staff_code === staff.staff_code ? wl.items.filter((i) => i.record_id === id) : [];
}

async function residentPage(id) {
  const current = begin();
  mount(h('h1', {}, '居民'), h('p', { class: 'loading' }, '正在加载…'));
  let data;
  try {
    data = await residentData(id);
  } catch (e) {
    if (current()) mount(h('h1', {}, '居民'), errorBox(e), h('p', {}, h('a', { href: '#/' }, '← 返回清单')));
    return;
  }
  const wl = await store.kvGet('worklist');
  const due = worklistItems(wl, id);
  const b = (data && data.rec && data.rec.basic) || due[0] || {};
  const waiting = (await outbox.items()).filter((i) => i.record_id === id);
  const fu = due.filter((d) => !isKeypop(d.kind));
  const progs = fu.length ? fu.map((d) => d.programme) : (due.length ? [] : ['hypertension', 'type2_diabetes']);
  const timeline = h('div', {});
  if (!current()) return;
  mount(
    h('p', {}, h('a', { href: '#/' }, '← 返回清单')),
    h('h1', {}, b.name || id),
    h('p', { class: 'muted' }, [label(SEX, b.sex), b.birth_date, b.phone || '', h('span', { class: 'rid' }, id)].filter(Boolean).map((x, i) => [i ? ' · ' : '', x])),
    !data ? h('p', { class: 'notice' }, '离线：这位居民的档案未下载，只能按随访清单信息记录。') : null,
    data && !navigator.onLine ? h('p', { class: 'notice' }, `离线：显示 ${fmtTime(data.fetched_at)} 下载的档案。`) : null,
    due.length ? h('ul', {}, due.map((d) => h('li', {}, `${dueText(d)}${d.overdue ? `（逾期 ${d.days_overdue} 天）` : ''}`))) : null,
    h('div', { class: 'actions' },
      due.filter((d) => isKeypop(d.kind)).map((d) => h('a', { class: 'button', href: dueHref(d) }, `记录${d.service_name || ''}`)),
      progs.map((p) => h('a', { class: 'button', href: `#/resident/${id}/followup?programme=${encodeURIComponent(p)}` }, `记录${label(PROGRAMME, p)}随访`)),
      h('a', { class: 'button secondary', href: `#/resident/${id}/visit` }, '记录接诊')),
    waiting.length ? h('section', {}, h('h2', {}, '本机待同步'), waiting.map(outboxCard)) : null,
    h('h2', {}, '最近服务记录'), timeline,
  );
  if (navigator.onLine) {
    get(`/records/${id}/timeline?per_page=5`).then((t) => {
      timeline.replaceChildren(t.items.length ? h('ol', { class: 'timeline' }, t.items.map(timelineItem)) : h('p', { class: 'empty' }, '尚无记录。'));
    }).catch(() => timeline.replaceChildren(h('p', { class: 'muted' }, '暂不可用。')));
  } else {
    timeline.replaceChildren(h('p', { class: 'muted' }, '离线时不显示。'));
  }
}

// ---------- entry forms ----------

async function entryPage(id, kind, programme, editKey, service) {
  if (kind !== 'followup' && kind !== 'visit' && !isKeypop(kind)) { location.hash = '#/resident/' + id; return; }
  const current = begin();
  const data = await store.get('records', id);
  const wl = await store.kvGet('worklist');
  const due = worklistItems(wl, id);
  const name = (data && data.rec && data.rec.basic && data.rec.basic.name) || (due[0] && due[0].name) || id;
  const editing = editKey ? await store.get('outbox', editKey) : null;
  // An entry being fixed keeps its own programme, whatever the list says now.
  if (editing && editing.body && editing.body.programme) programme = editing.body.programme;
  const progs = programme ? [programme] : (due.length ? due.map((d) => d.programme) : null);
  const keypop = isKeypop(kind) ? keypopForm(kind, service || (editing && editing.body.service) || '', today()) : null;
  const specs = keypop ? keypop.specs : kind === 'followup' ? followupSpecs(today(), progs, true) : visitSpecs(today());
  if (kind === 'followup' && programme === 'type2_diabetes') {
    // Diabetes follow-ups lead with glucose; blood pressure is optional.
    const i = specs.findIndex((s) => s.name === 'fasting_glucose');
    specs.splice(3, 0, specs.splice(i, 1)[0]);
  }
  const title = keypop ? keypop.title : kind === 'followup' ? `${progs && progs.length === 1 ? label(PROGRAMME, progs[0]) : ''}随访` : '接诊记录';
  const form = h('form', { novalidate: true, id: 'entry-form' },
    h('div', { class: 'grid' }, specs.map(field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, editing ? '保存修改并重新同步' : '保存'),
      h('a', { class: 'button secondary', href: '#/resident/' + id }, '取消')));
  if (editing) {
    fill(form, keypop ? flat(editing.body) : editing.body);
    if (editing.error) showErrors(form, Object.assign(new ApiError(editing.error.status, { error: editing.error })), FIELD);
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = keypop ? keypop.read(readForm(form, specs)) : readForm(form, specs);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    const here = location.hash;
    try {
      const plural = kind + 's';
      const item = editing
        ? await outbox.replace(editing.key, body)
        : await outbox.add({ record_id: id, kind: plural, body, name, staff_code: staff.staff_code });
      const res = await syncNow();
      const result = res && res.results[item.key];
      if (result && !result.ok && location.hash === here) {
        // Refused at once: keep the form open with the reasons; the entry
        // also waits in the outbox as refused until fixed or discarded.
        location.hash = `#/resident/${id}/${kind}?edit=${encodeURIComponent(item.key)}&programme=${encodeURIComponent(body.programme || '')}`;
        return;
      }
      toast(result && result.ok ? `已保存并同步：${title}` : `已保存在本机，联网后自动同步：${title}`);
      // Back to the list, unless the person has moved on meanwhile.
      if (location.hash === here) location.hash = '#/';
    } catch (e) {
      showErrors(form, e, FIELD);
    } finally {
      btn.disabled = false;
    }
  });
  if (!current()) return;
  mount(
    h('p', {}, h('a', { href: '#/resident/' + id }, '← 返回 ' + name)),
    h('h1', {}, `${name} · ${title}`),
    editing && editing.state === 'rejected' ? h('p', { class: 'alert', role: 'alert' }, '这条记录被服务器退回，请按提示修改后重新保存。') : null,
    form);
}

// fill puts a saved body back into a form.
function fill(form, body) {
  const put = (name, v) => {
    const els = form.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    for (const el of els) {
      if (el.type === 'radio') el.checked = String(el.value) === String(v);
      else el.value = Array.isArray(v) ? v.join('、') : v;
    }
  };
  for (const [k, v] of Object.entries(body || {})) put(k, v);
}

// ---------- outbox ----------

function outboxCard(i) {
  const rejected = i.state === 'rejected';
  const kind = entryKind(i.kind);
  return h('div', { class: 'outbox-item' + (rejected ? ' rejected' : ''), 'data-key': i.key, 'data-state': i.state },
    h('strong', {}, `${i.name || i.record_id} · ${label(KIND, kind)}${i.body.programme ? '（' + label(PROGRAMME, i.body.programme) + '）' : ''}`),
    h('div', { class: 'meta' }, `服务日期 ${i.body.service_date || ''} · 录入于 ${fmtTime(i.created_at)}${i.staff_code !== staff.staff_code ? ` · 由 ${i.staff_code} 录入，需其登录后同步` : ''}`),
    rejected
      ? h('div', { class: 'reject-reason' }, h('p', {}, h('strong', {}, `被退回（${i.error.status}）：`), i.error.message),
        i.error.fields && i.error.fields.length ? h('ul', {}, i.error.fields.map((f) => h('li', {}, `${FIELD[f.field] || f.field}：${f.reason}`))) : null,
        h('div', { class: 'actions' },
          h('a', { class: 'button', href: `#/resident/${i.record_id}/${kind}?edit=${encodeURIComponent(i.key)}&programme=${encodeURIComponent(i.body.programme || '')}&service=${encodeURIComponent(i.body.service || '')}` }, '修改'),
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (window.confirm('放弃这条记录？放弃后不会再同步。')) { await outbox.discard(i.key); outboxPage(); }
          } }, '放弃')))
      : h('p', { class: 'muted' }, i.attempts ? `等待网络（已尝试 ${i.attempts} 次）` : '等待同步'));
}

async function outboxPage() {
  const current = begin();
  const list = await outbox.items();
  const sent = (await store.kvGet('sent')) || [];
  if (!current() || !location.hash.startsWith('#/outbox')) return;
  mount(
    h('h1', {}, '待同步'),
    h('p', { class: 'muted' }, '离线录入的记录保存在本机，联网后按录入顺序自动发送；每条记录带有唯一编号，重复发送也只会保存一次。'),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'sync-now', onclick: async () => {
      const r = await syncNow();
      if (r && r.stopped === 'offline') toast('仍然离线，稍后自动重试');
    } }, '立即同步')),
    list.length ? h('div', { id: 'outbox' }, list.map(outboxCard)) : h('p', { class: 'empty' }, '没有待同步的记录。'),
    sent.length ? [h('h2', {}, '最近已同步'), h('ul', {}, sent.slice(0, 10).map((s) =>
      h('li', {}, `${s.name || s.record_id} · ${label(KIND, entryKind(s.kind))} · ${s.service_date || ''} · 同步于 ${fmtTime(s.at)}`)))] : null,
  );
}

start().catch((e) => mount(h('h1', {}, '出错了'), errorBox(e instanceof ApiError ? e : new ApiError(500, { error: { message: String(e) } }))));
