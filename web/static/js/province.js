// The province's view over its counties (DESIGN §9): each county's three
// rates with their province-wide ranks, top and bottom three, warnings and
// targets, then a county's townships and institutions; how current each
// county's figures are (a county offline stays listed, marked with its
// data's age); CSV/PDF downloads; an as-of date. Everything comes from
// GET /province/report, which never carries a record or a person.
import { api, qs, me, domainsOf } from './api.js';
import { h, mount, field, readForm, table, errorBox, today } from './dom.js';
import { INDICATOR, LEVEL, label } from './labels.js';
import { bars, pct } from './chart.js';
import { loginView, renderWho, renderNav, router } from './shell.js';

const INDICATORS = ['coverage', 'quality', 'usage'];

let staff = null;

async function start() {
  try { staff = await me(); } catch (e) { mount(h('h1', {}, '无法连接服务器'), errorBox(e)); return; }
  if (!staff) { loginView('登录 · 省级考核看板', async (s) => { staff = s; await enter(); }); return; }
  await enter();
}

async function enter() {
  staff = (await me()) || staff;
  renderWho(staff, () => { staff = null; location.hash = '#/'; start(); });
  // The province role reaches the province's routes and nothing else: no
  // inbox badge, no link to the county apps.
  renderNav([['#/', '各县三率']]);
  route();
}

const route = router([
  ['#/', (_, q) => reportPage(q)],
], () => reportPage(new URLSearchParams()));

// ---------- the report, shaped for the page ----------

let cached = null; // {asOf, scopes, summaries, warnings, feeds}

/**
 * shape turns the report's rows (one per scope and indicator) into scopes
 * {level, code, name, parent, ind: {coverage: row, …}}, keeping the
 * summaries per level and indicator and the counties' data age by code.
 */
function shape(r) {
  const byKey = new Map();
  for (const row of r.rows || []) {
    const key = row.level + '|' + row.scope_code;
    if (!byKey.has(key)) {
      byKey.set(key, { level: row.level, code: row.scope_code, name: row.scope_name || row.scope_code,
        parent: row.level === 'county' ? '' : (row.parent_code || ''), ind: {} });
    }
    byKey.get(key).ind[row.indicator] = row;
  }
  const summaries = {};
  for (const s of r.summaries || []) (summaries[s.level] = summaries[s.level] || {})[s.indicator] = s;
  const feeds = {};
  for (const f of r.counties || []) feeds[f.county_code] = f;
  return { asOf: r.as_of, scopes: [...byKey.values()], summaries, warnings: r.warnings || [], feeds, counties: r.counties || [] };
}

// provinces are the codes of the account's province grants: an account of
// more than one province picks one (the API asks for province_code then).
const provinces = () => domainsOf(staff, 'province').sort();

async function reportPage(q) {
  const asOf = q.get('as_of') || today();
  const county = q.get('county') || '';
  const province = provinces().includes(q.get('province')) ? q.get('province') : provinces()[0] || '';
  const toolbar = dateForm(asOf, province);
  mount(h('h1', {}, '全省 · 建档率 · 合格率 · 使用率'), toolbar, h('p', { class: 'loading' }, '正在计算…'));
  try {
    if (!cached || cached.asOf !== asOf || cached.province !== province) {
      const r = await api('GET', '/province/report' + qs({ as_of: asOf, sample: 'all', format: 'json', province_code: province }));
      cached = { ...shape(r), asOf, province };
    }
  } catch (e) {
    mount(h('h1', {}, '全省 · 建档率 · 合格率 · 使用率'), toolbar, errorBox(e));
    return;
  }
  if (county) renderCounty(asOf, county, toolbar); else renderProvince(asOf, toolbar);
}

function dateForm(asOf, province) {
  const specs = [{ name: 'as_of', label: '截至日期', type: 'date', value: asOf, required: true }];
  if (provinces().length > 1) {
    specs.unshift({ name: 'province', label: '省', type: 'select', required: true, value: province,
      options: provinces().map((c) => [c, `省级代码 ${c}`]) });
  }
  const f = h('form', { class: 'toolbar', id: 'params' }, specs.map(field), h('button', { type: 'submit' }, '计算'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = readForm(f, specs);
    cached = null;
    // Another province has other counties: its page starts at the top.
    const county = v.province && v.province !== province ? '' : new URLSearchParams(location.hash.split('?')[1] || '').get('county');
    const next = '#/' + qs({ as_of: v.as_of || today(), province: v.province, county });
    if (location.hash === next) route(); else location.hash = next;
  });
  return f;
}

function downloads(asOf) {
  const base = '/api/v1/province/report';
  const p = { as_of: asOf, sample: 'all', province_code: cached.province };
  return h('div', { class: 'actions' },
    h('a', { class: 'button secondary', href: base + qs({ ...p, format: 'csv' }), download: `rates-province-${asOf}.csv`, id: 'download-csv' }, '下载 CSV'),
    h('a', { class: 'button secondary', href: base + qs({ ...p, format: 'pdf' }), target: '_blank', rel: 'noopener', id: 'download-pdf' }, '下载 PDF'));
}

// ---------- data age ----------

/** ageCell says how current a county's figures are: stale ones with their age, in words. */
function ageCell(f) {
  if (!f) return '—';
  if (f.stale) return h('span', { class: 'tag bad', 'data-stale': f.county_code }, f.message || '数据不是最新');
  const at = f.data_as_of ? new Date(f.data_as_of).toLocaleString('zh-CN', { hour12: false }) : '';
  return h('span', { class: 'tag ok' }, at ? `最新（截至 ${at}）` : '最新');
}

/** staleNotice lists the counties whose figures are not current, by name; never hidden, never dropped. */
function staleNotice(feeds) {
  const stale = feeds.filter((f) => f.stale);
  if (!stale.length) return null;
  return h('div', { class: 'notice', role: 'status', id: 'stale-counties' },
    h('strong', {}, `${stale.length} 个县的数据不是最新，报表仍按收到的最后数据计算：`),
    h('ul', {}, stale.map((f) => h('li', {}, `${f.county_name || f.county_code}：${f.message}`))));
}

// ---------- figures ----------

function rateCell(i) {
  if (!i) return '—';
  return h('span', {}, h('strong', {}, pct(i.rate)), ` (${i.numerator}/${i.denominator})`,
    i.rank ? h('span', { class: 'muted' }, ` 全省第${i.rank}名`) : null,
    h('span', { class: 'muted' }, ` · 目标 ${pct(i.target)}`),
    i.warning ? h('span', { class: 'tag bad' }, ` 预警${i.gap != null && i.gap < 0 ? ` ${Number(i.gap).toFixed(1)}` : ''}`) : null);
}

function charts(level, scopes, onPick) {
  return h('div', { class: 'charts', id: 'charts' }, INDICATORS.map((k) => {
    const withRow = scopes.find((s) => s.ind[k]);
    return bars(`${label(INDICATOR, k)} · ${label(LEVEL, level)}`,
      scopes.map((s) => ({ label: s.name, value: s.ind[k] ? s.ind[k].rate : null, warn: s.ind[k] && s.ind[k].warning, key: s.code, scope: s })),
      withRow ? withRow.ind[k].target : null, onPick ? (r) => onPick(r.scope) : null);
  }));
}

function warningsBlock(scopes, id) {
  const warned = scopes.filter((s) => INDICATORS.some((k) => s.ind[k] && s.ind[k].warning));
  if (!warned.length) return null;
  return h('div', { class: 'alert', role: 'note', id }, h('strong', {}, `预警 ${warned.length} 个：`),
    h('ul', {}, warned.map((s) => h('li', {}, `${s.name}：`, INDICATORS.filter((k) => s.ind[k] && s.ind[k].warning)
      .map((k) => {
        const i = s.ind[k];
        const why = [i.bottom_three ? '全省后三' : '', i.gap != null && i.gap < 0 ? `低于目标 ${Math.abs(i.gap).toFixed(1)} 个百分点` : ''].filter(Boolean).join('、');
        return `${label(INDICATOR, k)} ${pct(i.rate)}（${why || '预警'}）`;
      }).join('，')))));
}

function statsBlock(level, id) {
  const st = cached.summaries[level];
  if (!st) return null;
  const names = (list) => (list || []).map((x) => `${x.rank}. ${x.scope_name || x.scope_code} ${pct(x.rate)}`).join('；') || '—';
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, `${label(LEVEL, level)}排名（全省）`),
    h('div', { class: 'stats' }, INDICATORS.filter((k) => st[k]).map((k) => {
      const v = st[k];
      return h('div', { class: 'stat', 'data-indicator': k }, h('div', { class: 'label' }, `${label(INDICATOR, k)}（${v.ranked} 个参与排名）`),
        h('div', { class: 'value' }, pct(v.mean)), h('div', { class: 'muted' }, `平均 · 最高 ${pct(v.max)} · 最低 ${pct(v.min)}`),
        h('div', {}, h('strong', {}, '前三：'), names(v.top_three)),
        h('div', {}, h('strong', {}, '后三：'), names(v.bottom_three)));
    })));
}

function meta(asOf) {
  const which = provinces().length > 1 ? `省级代码 ${cached.province} · ` : '';
  return h('p', { class: 'muted' }, `${which}截至 ${asOf} · 按各县全部在档记录计算 · 排名为全省排名 · 各县按本县目标考核`);
}

// ---------- pages ----------

function renderProvince(asOf, toolbar) {
  const counties = cached.scopes.filter((s) => s.level === 'county');
  // A county listed in the feeds but without a row still shows, with its age.
  const rows = cached.counties.map((f) => counties.find((s) => s.code === f.county_code) ||
    { level: 'county', code: f.county_code, name: f.county_name || f.county_code, ind: {} });
  for (const s of counties) if (!rows.includes(s)) rows.push(s);
  const open = (s) => { location.hash = '#/' + qs({ as_of: asOf, province: cached.province, county: s.code }); };
  const cols = [
    { label: '县', value: (s) => h('a', { href: '#/' + qs({ as_of: asOf, province: cached.province, county: s.code }), 'data-county': s.code }, s.name) },
    ...INDICATORS.map((k) => ({ label: `${label(INDICATOR, k)}（分子/分母）`, num: true, value: (s) => rateCell(s.ind[k]) })),
    { label: '数据时间', value: (s) => ageCell(cached.feeds[s.code]) },
  ];
  mount(
    h('h1', {}, '全省 · 建档率 · 合格率 · 使用率'), toolbar, meta(asOf),
    staleNotice(cached.counties),
    downloads(asOf),
    h('nav', { 'aria-label': '层级' }, h('ol', { class: 'crumbs' }, h('li', {}, h('span', { 'aria-current': 'page' }, '全省')))),
    h('h2', { id: 'level-title' }, `县（${rows.length}）`, h('span', { class: 'muted' }, ' · 点击县名或柱条查看乡镇和机构')),
    warningsBlock(rows, 'warnings'),
    charts('county', rows, open),
    h('h2', {}, '各县明细'),
    h('div', { id: 'province-table' }, table(cols, rows, { rowClass: (s) => {
      const f = cached.feeds[s.code];
      return [f && f.stale ? 'stale' : '', INDICATORS.some((k) => s.ind[k] && s.ind[k].warning) ? 'warn' : ''].filter(Boolean).join(' ') || null;
    } })),
    statsBlock('county', 'h-stats'),
  );
}

function renderCounty(asOf, code, toolbar) {
  const county = cached.scopes.find((s) => s.level === 'county' && s.code === code);
  const feed = cached.feeds[code];
  const name = (county && county.name) || (feed && feed.county_name) || code;
  const back = '#/' + qs({ as_of: asOf, province: cached.province });
  const of = (level) => cached.scopes.filter((s) => s.level === level && (s.parent === code || (!s.parent && level === 'township' && s.code.slice(0, 6) === code)));
  const towns = of('township');
  const insts = of('institution');
  const cols = (level) => [
    { label: label(LEVEL, level), value: (s) => s.name },
    ...INDICATORS.map((k) => ({ label: `${label(INDICATOR, k)}（分子/分母）`, num: true, value: (s) => rateCell(s.ind[k]) })),
  ];
  const warnRow = (s) => (INDICATORS.some((k) => s.ind[k] && s.ind[k].warning) ? 'warn' : null);
  mount(
    h('h1', {}, `${name} · 建档率 · 合格率 · 使用率`), toolbar, meta(asOf),
    h('nav', { 'aria-label': '层级' }, h('ol', { class: 'crumbs' },
      h('li', {}, h('a', { href: back }, '全省')), h('li', {}, h('span', { 'aria-current': 'page' }, `县：${name}`)))),
    h('p', { id: 'county-age' }, '数据时间：', ageCell(feed)),
    downloads(asOf),
    county ? h('div', { id: 'county-figures' }, table(cols('county'), [county])) : h('p', { class: 'empty' }, '该县尚无数据。'),
    h('h2', { id: 'townships-title' }, `乡镇（${towns.length}）`),
    warningsBlock(towns, 'township-warnings'),
    towns.length ? h('div', { id: 'township-table' }, table(cols('township'), towns, { rowClass: warnRow })) : h('p', { class: 'empty' }, '没有乡镇数据。'),
    h('h2', { id: 'institutions-title' }, `机构（${insts.length}）`),
    warningsBlock(insts, 'institution-warnings'),
    insts.length ? h('div', { id: 'institution-table' }, table(cols('institution'), insts, { rowClass: warnRow })) : h('p', { class: 'empty' }, '没有机构数据。'),
    insts.length ? charts('institution', insts, null) : null,
    statsBlock('institution', 'h-stats-inst'),
  );
}

start();
