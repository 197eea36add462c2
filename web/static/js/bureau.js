// The bureau dashboard: coverage, quality and usage by county, township,
// institution and doctor with drill-down, charts against the targets, the
// trend over published snapshots, CSV/PDF downloads, publishing, and the
// review cases.
import { api, get, post, qs, me, hasRole, domainsOf } from './api.js';
import { h, mount, field, readForm, toast, table, errorBox, fmtTime, today } from './dom.js';
import { INDICATOR, LEVEL, RULE, SNAPSHOT_KIND, label } from './labels.js';
import { bars, trend, pct } from './chart.js';
import { loginView, renderWho, renderNav, router, inboxBadge, provinceOnly } from './shell.js';
import { inboxPage, myAssessmentPage } from './feedback.js';
import { caseListPage, casePage, supervisionPage } from './review.js';

const LEVELS = ['county', 'township', 'institution', 'doctor'];
const INDICATORS = ['coverage', 'quality', 'usage'];
const DEFAULT_TARGETS = { coverage: 90, quality: 90, usage: 60 };

let staff = null;

async function start() {
  try { staff = await me(); } catch (e) { mount(h('h1', {}, '无法连接服务器'), errorBox(e)); return; }
  if (!staff) { loginView('登录 · 卫健局考核看板', async (s) => { staff = s; await enter(); }); return; }
  await enter();
}

async function enter() {
  staff = (await me()) || staff;
  if (provinceOnly(staff)) { location.href = '/province'; return; }
  renderWho(staff, () => { staff = null; location.hash = '#/'; start(); });
  const nav = [];
  if (hasRole(staff, 'bureau') || hasRole(staff, 'records_admin')) nav.push(['#/', '三率报表']);
  const reviews = hasRole(staff, 'reviewer') || hasRole(staff, 'review_lead');
  if (hasRole(staff, 'bureau') || reviews) nav.push(['#/snapshots', '已发布快照']);
  if (hasRole(staff, 'bureau')) nav.push(['#/trends', '趋势']);
  if (hasRole(staff, 'bureau') || reviews) nav.push(['#/cases', reviews ? '问责工作台' : '问责案件'], ['#/supervision', '督办']);
  if (hasRole(staff, 'records_admin')) nav.push(['#/my', '机构考核']);
  if (hasRole(staff, 'doctor') || hasRole(staff, 'records_admin')) nav.push(['/', '档案工作台']);
  nav.push(['#/inbox', '消息']);
  renderNav(nav);
  inboxBadge('#/inbox');
  route();
}

const route = router([
  ['#/', (_, q) => landing(q)],
  ['#/report', (_, q) => reportPage(q)],
  ['#/records', (_, q) => recordsPage(q)],
  ['#/snapshots', () => snapshotsPage()],
  ['#/trends', (_, q) => trendsPage(q)],
  ['#/cases', (_, q) => caseListPage(q, staff)],
  ['#/case/:id', ({ id }) => casePage(id, staff)],
  ['#/supervision', (_, q) => supervisionPage(q, staff)],
  ['#/inbox', (_, q) => inboxPage(q)],
  ['#/my', (_, q) => {
    if (!q.get('scope_code')) { q.set('level', 'institution'); q.set('scope_code', domainsOf(staff, 'records_admin')[0] || ''); }
    return myAssessmentPage(q);
  }],
], () => landing(new URLSearchParams()));

// landing: a reviewer or review lead without the bureau's or a records
// administrator's report lands on the review workspace, not on a refusal.
function landing(q) {
  const reports = hasRole(staff, 'bureau') || hasRole(staff, 'records_admin');
  if (!reports && (hasRole(staff, 'reviewer') || hasRole(staff, 'review_lead'))) return caseListPage(q, staff);
  return reportPage(q);
}

// ---------- report shape ----------

const num = (v) => (v === null || v === undefined || v === '' ? null : Number(v));

function indicatorOf(o) {
  if (!o || typeof o !== 'object') return null;
  return {
    numerator: num(o.numerator), denominator: num(o.denominator), rate: num(o.rate), target: num(o.target),
    gap: num(o.gap), rank: num(o.rank), warning: !!(o.warning === true || o.warning === 1 || o.warning === '1' || (o.warnings && o.warnings.length)),
    reason: o.warning_reason || (typeof o.warning === 'string' ? o.warning : ''),
  };
}

/**
 * normalize turns a rates report into {as_of, seed, sample, targets, scopes:
 * [{level, code, name, parent, ind: {coverage: {...}}}], warnings, stats}.
 * It reads the shapes the API may use: rows like the CSV (one per scope and
 * indicator), scopes with an object per indicator, or levels keyed by name.
 */
export function normalize(r) {
  const out = { as_of: r.as_of, seed: r.seed, sample: r.sample, targets: { ...DEFAULT_TARGETS, ...(r.targets || {}) }, scopes: [], warnings: r.warnings || [], stats: r.stats || r.summary || null };
  const byKey = new Map();
  const scope = (level, code, name, extra) => {
    const key = level + '|' + code;
    if (!byKey.has(key)) {
      const s = { level, code, name: name || code, parent: '', ind: {}, raw: extra || {} };
      byKey.set(key, s);
      out.scopes.push(s);
    }
    const s = byKey.get(key);
    const ex = extra || {};
    s.parent = s.parent || ex.parent_code || ex.parent || (level === 'doctor' ? ex.institution_code : '') ||
      (level === 'institution' ? ex.township_code : '') || (level === 'township' ? ex.county_code : '') || '';
    if (!s.name || s.name === code) s.name = name || code;
    return s;
  };
  const rows = Array.isArray(r.rows) ? r.rows : (Array.isArray(r.items) ? r.items : null);
  if (rows && rows.length && rows[0].indicator) {
    for (const row of rows) scope(row.level, row.scope_code, row.scope_name, row).ind[row.indicator] = indicatorOf(row);
  } else {
    let list = [];
    if (Array.isArray(r.scopes)) list = r.scopes;
    else if (r.levels && typeof r.levels === 'object') {
      for (const [lv, v] of Object.entries(r.levels)) {
        const arr = Array.isArray(v) ? v : (v.scopes || v.items || []);
        for (const s of arr) list.push({ level: lv, ...s });
        if (!Array.isArray(v) && v.stats) out.stats = { ...(out.stats || {}), [lv]: v.stats };
      }
    } else if (rows) list = rows;
    for (const s of list) {
      const sc = scope(s.level, s.scope_code || s.code, s.scope_name || s.name, s);
      const inds = s.indicators || s;
      for (const k of INDICATORS) if (inds[k]) sc.ind[k] = indicatorOf(inds[k]);
    }
  }
  for (const s of out.scopes) {
    for (const k of INDICATORS) if (s.ind[k] && s.ind[k].target === null) s.ind[k].target = out.targets[k];
  }
  // summaries: per level and indicator, the top and bottom three, max, min, mean.
  if (Array.isArray(r.summaries)) {
    out.stats = {};
    for (const sm of r.summaries) (out.stats[sm.level] = out.stats[sm.level] || {})[sm.indicator] = sm;
  }
  return out;
}

// parentOf finds a scope's parent at the level above when the report does
// not say: townships sit in counties by region code.
function parentOf(s, links) {
  if (s.parent) return s.parent;
  if (s.level === 'township') return s.code.slice(0, 6);
  if (s.level === 'institution') return (links.instTownships[s.code] || [])[0] || '';
  return '';
}

// links maps institutions to their townships through the village registry,
// for reports that do not name them.
async function regionLinks(countyCodes) {
  const instTownships = {};
  try {
    for (const county of countyCodes) {
      const towns = (await get('/regions' + qs({ parent: county }))).items;
      await Promise.all(towns.map(async (t) => {
        const villages = (await get('/regions' + qs({ parent: t.code }))).items;
        for (const v of villages) {
          if (!v.institution_code) continue;
          const l = (instTownships[v.institution_code] = instTownships[v.institution_code] || []);
          if (!l.includes(t.code)) l.push(t.code);
        }
      }));
    }
  } catch (e) { /* drill-down then shows the whole level */ }
  return { instTownships };
}

// ---------- report page ----------

let lastParams = null;
let cached = null; // {key, report, links}

function paramsFrom(q) {
  return {
    as_of: q.get('as_of') || today(), sample: q.get('sample') || '50', seed: q.get('seed') || '1',
  };
}

async function reportPage(q) {
  const p = paramsFrom(q);
  const path = (q.get('path') || '').split(',').filter(Boolean); // drill path: level:code,…
  lastParams = p;
  const toolbar = paramForm(p, (np) => { location.hash = '#/' + qs({ ...np }); });
  mount(h('h1', {}, '建档率 · 合格率 · 使用率'), toolbar, h('p', { class: 'loading' }, '正在计算…'));
  const key = JSON.stringify(p);
  try {
    if (!cached || cached.key !== key) {
      // Raw, for X-Data-As-Of: the report may come from a replica.
      const res = await api('GET', '/reports/rates' + qs({ ...p, format: 'json' }), undefined, { raw: true });
      const report = normalize(await res.json());
      const counties = report.scopes.filter((s) => s.level === 'county').map((s) => s.code);
      const links = await regionLinks(counties.length ? counties : domainsOf(staff, 'bureau'));
      cached = { key, report, links, dataAsOf: res.headers.get('X-Data-As-Of') };
    }
  } catch (e) {
    mount(h('h1', {}, '建档率 · 合格率 · 使用率'), toolbar,
      e.status === 404 ? h('p', { class: 'notice' }, '报表接口尚未开通。') : errorBox(e));
    return;
  }
  renderReport(p, path, toolbar);
}

function paramForm(p, onGo) {
  const specs = [
    { name: 'as_of', label: '截至日期', type: 'date', value: p.as_of, required: true },
    { name: 'sample', label: '抽样数（数字或 all）', value: p.sample, narrow: true },
    { name: 'seed', label: '随机种子', value: p.seed, type: 'number', narrow: true },
  ];
  const f = h('form', { class: 'toolbar', id: 'params' }, specs.map(field), h('button', { type: 'submit' }, '计算'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = readForm(f, specs);
    cached = null;
    onGo({ as_of: v.as_of || today(), sample: v.sample || '50', seed: v.seed ?? '1' });
  });
  return f;
}

function renderReport(p, path, toolbar) {
  const { report, links } = cached;
  // The level shown is the one below the last step of the path, counted
  // from the coarsest level the report has: a records administrator's
  // report starts at their institutions.
  const depth = path.length;
  const first = Math.max(0, LEVELS.findIndex((l) => report.scopes.some((s) => s.level === l)));
  const level = LEVELS[Math.min(first + depth, LEVELS.length - 1)];
  const parentCode = depth ? path[depth - 1].split(':')[1] : '';
  let scopes = report.scopes.filter((s) => s.level === level);
  if (parentCode) {
    const filtered = scopes.filter((s) => parentOf(s, links) === parentCode);
    if (filtered.length || level !== 'doctor') scopes = filtered;
  }
  const hrefFor = (np) => '#/' + qs({ ...p, path: np.join(',') });
  const nameOf = (lv, code) => (report.scopes.find((s) => s.level === lv && s.code === code) || {}).name || code;
  const crumbs = h('nav', { 'aria-label': '层级' }, h('ol', { class: 'crumbs' },
    h('li', {}, depth ? h('a', { href: hrefFor([]) }, first ? '本机构' : '全部县') : h('span', { 'aria-current': 'page' }, first ? '本机构' : '全部县')),
    path.map((step, i) => {
      const [lv, code] = step.split(':');
      const text = `${label(LEVEL, lv)}：${nameOf(lv, code)}`;
      return h('li', {}, i === depth - 1 ? h('span', { 'aria-current': 'page' }, text) : h('a', { href: hrefFor(path.slice(0, i + 1)) }, text));
    })));
  const drill = (s) => {
    if (s.level === 'doctor') {
      location.hash = '#/records' + qs({ ...p, level: 'doctor', scope_code: s.code, name: s.name });
      return;
    }
    location.hash = hrefFor([...path, `${s.level}:${s.code}`]);
  };
  const csv = '/api/v1/reports/rates' + qs({ ...p, format: 'csv' });
  const pdf = '/api/v1/reports/rates' + qs({ ...p, format: 'pdf' });
  const warned = scopes.filter((s) => INDICATORS.some((k) => s.ind[k] && s.ind[k].warning));
  const canPublish = hasRole(staff, 'bureau');

  const charts = h('div', { class: 'charts', id: 'charts' }, INDICATORS.map((k) => bars(
    `${label(INDICATOR, k)} · ${label(LEVEL, level)}`,
    scopes.map((s) => ({ label: s.name, value: s.ind[k] ? s.ind[k].rate : null, warn: s.ind[k] && s.ind[k].warning, key: s.code, scope: s })),
    (scopes.find((s) => s.ind[k]) || { ind: { [k]: { target: report.targets[k] } } }).ind[k].target ?? report.targets[k],
    (r) => drill(r.scope))));

  const cols = [
    { label: label(LEVEL, level), value: (s) => h('button', { type: 'button', class: 'link', 'data-scope': s.code, onclick: () => drill(s) }, s.name) },
    ...INDICATORS.map((k) => ({ label: `${label(INDICATOR, k)}（分子/分母）`, num: true, value: (s) => {
      const i = s.ind[k];
      if (!i) return '—';
      return h('span', {}, h('strong', {}, pct(i.rate)), ` (${i.numerator ?? '—'}/${i.denominator ?? '—'})`,
        i.rank ? h('span', { class: 'muted' }, ` 第${i.rank}名`) : null,
        i.warning ? h('span', { class: 'tag bad' }, ` 预警 ${i.gap != null ? i.gap.toFixed(1) : ''}`) : null);
    } })),
  ];

  mount(
    h('h1', {}, '建档率 · 合格率 · 使用率'), toolbar,
    h('p', { class: 'muted' }, `截至 ${report.as_of || p.as_of} · 抽样 ${report.sample ?? p.sample} · 种子 ${report.seed ?? p.seed} · 目标：建档率 ${report.targets.coverage}%，合格率 ${report.targets.quality}%，使用率 ${report.targets.usage}%`),
    staleNotice(cached.dataAsOf),
    h('div', { class: 'actions' },
      h('a', { class: 'button secondary', href: csv, download: `rates-${p.as_of}.csv`, id: 'download-csv' }, '下载 CSV'),
      h('a', { class: 'button secondary', href: pdf, target: '_blank', rel: 'noopener', id: 'download-pdf' }, '下载 PDF'),
      canPublish ? h('button', { type: 'button', id: 'publish', onclick: () => publish(p) }, '发布为快照') : null),
    crumbs,
    h('h2', { id: 'level-title' }, `${label(LEVEL, level)}（${scopes.length}）`, level !== 'doctor' ? h('span', { class: 'muted' }, ' · 点击名称或柱条查看下一级') : h('span', { class: 'muted' }, ' · 点击医生查看档案问题清单')),
    warned.length ? h('div', { class: 'alert', role: 'note', id: 'warnings' }, h('strong', {}, `预警 ${warned.length} 个：`),
      h('ul', {}, warned.map((s) => h('li', {}, `${s.name}：`, INDICATORS.filter((k) => s.ind[k] && s.ind[k].warning)
        .map((k) => `${label(INDICATOR, k)} ${pct(s.ind[k].rate)}（差距 ${s.ind[k].gap != null ? s.ind[k].gap.toFixed(1) : '—'} 个百分点）`).join('，'))))) : null,
    charts,
    h('h2', {}, '明细'),
    table(cols, scopes, { rowClass: (s) => (INDICATORS.some((k) => s.ind[k] && s.ind[k].warning) ? 'warn' : null) }),
    report.stats ? statsBlock(report.stats, level) : null,
  );
}

/**
 * staleNotice says how current the figures are when they are more than a
 * minute old: a report read from a replica that lags (X-Data-As-Of, the
 * replica's last replay). Fresh figures need no notice.
 */
function staleNotice(asOf) {
  const t = asOf ? Date.parse(asOf) : NaN;
  if (Number.isNaN(t) || Date.now() - t <= 60000) return null;
  const min = Math.floor((Date.now() - t) / 60000);
  const at = new Date(t).toLocaleString('zh-CN', { hour12: false });
  return h('p', { class: 'notice', id: 'data-as-of', role: 'status' },
    `数据截至 ${at}（约 ${min} 分钟前）：报表读自只读副本，此后的录入尚未计入。`);
}

function statsBlock(stats, level) {
  const st = stats[level] || null;
  if (!st || typeof st !== 'object') return null;
  const names = (list) => (list || []).map((x) => `${x.rank}. ${x.scope_name || x.scope_code} ${pct(x.rate)}`).join('；') || '—';
  return h('section', { 'aria-labelledby': 'h-stats' }, h('h2', { id: 'h-stats' }, `${label(LEVEL, level)}排名（全县）`),
    h('div', { class: 'stats' }, INDICATORS.filter((k) => st[k]).map((k) => {
      const v = st[k];
      return h('div', { class: 'stat' }, h('div', { class: 'label' }, label(INDICATOR, k)),
        h('div', { class: 'value' }, pct(v.mean)), h('div', { class: 'muted' }, `平均 · 最高 ${pct(v.max)} · 最低 ${pct(v.min)}`),
        h('div', {}, h('strong', {}, '前三：'), names(v.top_three)),
        h('div', {}, h('strong', {}, '后三：'), names(v.bottom_three)));
    })));
}

// publish asks for the snapshot's kind (a pre-assessment only warns; an
// assessment also proposes cases for those below target) and publishes. A
// second snapshot of the same kind and date is refused with the first one's
// number; the form then offers to correct it, with a reason.
function publish(p) {
  const old = document.getElementById('publish-form');
  if (old) old.remove();
  const md = String(p.as_of || '').slice(5);
  const specs = [
    { name: 'kind', label: '快照类型', type: 'radio', required: true, value: md === '04-30' || md === '08-31' ? 'pre_assessment' : 'assessment',
      options: [['pre_assessment', '预考核（只发预警，不启动问责）'], ['assessment', '考核（低于目标的提出问责建议）']] },
    { name: 'title', label: '标题', value: `${p.as_of} 考核快照` },
  ];
  const reasonSpec = { name: 'reason', label: '更正理由', type: 'textarea', required: true };
  let supersedes = null;
  const extra = h('div', {});
  const f = h('form', { id: 'publish-form', class: 'card' }, h('h2', {}, `发布截至 ${p.as_of} 的快照`),
    h('p', { class: 'muted' }, '发布后数据冻结，不再随档案修改而变化；预警推送给被点名的医生和机构档案管理员。'),
    specs.map(field), extra,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'publish-confirm' }, '确认发布'),
      h('button', { type: 'button', class: 'secondary', onclick: () => f.remove() }, '取消')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const b = readForm(f, supersedes ? [...specs, reasonSpec] : specs);
    try {
      const out = await post('/snapshots', { ...b, supersedes: supersedes || undefined, as_of: p.as_of,
        sample: /^\d+$/.test(p.sample) ? Number(p.sample) : p.sample, seed: Number(p.seed) });
      toast(`已发布${b.kind === 'assessment' ? '考核' : '预考核'}快照 #${out.id ?? ''}${out.cases_proposed ? `，提出问责建议 ${out.cases_proposed} 件` : ''}`);
      location.hash = '#/snapshots';
    } catch (e) {
      if (e.status === 409 && e.body && e.body.error && e.body.error.existing_snapshot_id) {
        supersedes = e.body.error.existing_snapshot_id;
        extra.replaceChildren(h('p', { class: 'alert', role: 'note' }, e.message), field(reasonSpec));
        f.querySelector('#publish-confirm').textContent = `更正并取代快照 #${supersedes}`;
        return;
      }
      toast(e.message);
    }
  });
  document.querySelector('main .actions').after(f);
  f.querySelector('input, select').focus();
}

// ---------- doctor drill-down: the records behind the figures ----------

async function recordsPage(q) {
  const p = paramsFrom(q);
  const name = q.get('name') || q.get('scope_code');
  const back = h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => history.back() }, '← 返回上一级'));
  mount(h('h1', {}, `档案问题清单 · ${name}`), back, h('p', { class: 'loading' }, '正在加载…'));
  const indicator = q.get('indicator') || '';
  try {
    const out = await get('/reports/rates/records' + qs({ ...p, level: q.get('level'), scope_code: q.get('scope_code'), indicator, per_page: 500 }));
    const items = out.items || out.records || [];
    const tabs = h('div', { class: 'actions', role: 'group', 'aria-label': '指标' },
      [['', '全部'], ['quality', '合格率问题'], ['usage', '使用率问题']].map(([k, t]) => h('a', {
        class: 'button ' + (k === indicator ? '' : 'secondary'), 'aria-current': k === indicator ? 'page' : null,
        href: '#/records' + qs({ ...Object.fromEntries(q), indicator: k }) }, t)));
    mount(h('h1', {}, `档案问题清单 · ${name}`), back, tabs,
      h('p', { class: 'muted' }, `共 ${out.total ?? items.length} 份档案未达要求，修正后实时计入当前数据（已发布快照不变）。`),
      items.length ? table([
        { label: '档案编号', value: (r) => h('span', { class: 'rid' }, r.record_id) },
        { label: '姓名', value: (r) => (r.details ? r.details.name : '（无权查看）') },
        { label: '村居', value: (r) => r.village_code || '' },
        { label: '未通过的规则', value: (r) => (r.rules || []).map((x) => `${x} ${(out.rules || {})[x] || RULE[x] || ''}`).join('；') || '—' },
        { label: '一年内服务记录', value: (r) => (r.has_dynamic_record ? '有' : h('span', { class: 'tag warn' }, '无')) },
      ], items) : h('p', { class: 'empty' }, '没有问题档案。'));
  } catch (e) {
    mount(h('h1', {}, `档案问题清单 · ${name}`), back, errorBox(e));
  }
}

// ---------- snapshots ----------

async function snapshotsPage() {
  mount(h('h1', {}, '已发布快照'), h('p', { class: 'loading' }, '正在加载…'));
  try {
    const out = await get('/snapshots?per_page=200');
    const items = out.items || [];
    mount(h('h1', {}, '已发布快照'),
      h('p', { class: 'muted' }, '快照冻结发布时的数据、参数、随机种子和抽中的档案；之后修改档案不会改变快照。'),
      items.length ? table([
        { label: '编号', value: (s) => `#${s.id}` },
        { label: '类型', value: (s) => label(SNAPSHOT_KIND, s.kind) },
        { label: '截至日期', value: (s) => s.as_of },
        { label: '状态', value: (s) => [s.superseded_by ? h('span', { class: 'tag warn' }, `已被 #${s.superseded_by} 取代`) : '现行',
          s.supersedes ? h('div', { class: 'muted' }, `更正 #${s.supersedes}：${s.supersede_reason || ''}`) : null] },
        { label: '抽样 / 种子', value: (s) => `${s.sample ?? '—'} / ${s.seed ?? '—'}` },
        { label: '发布时间', value: (s) => fmtTime(s.published_at || s.created_at) },
        { label: '发布人', value: (s) => s.published_by || s.created_by || '' },
        { label: '下载', value: (s) => h('span', {},
          h('a', { href: `/api/v1/snapshots/${s.id}?format=csv`, download: `snapshot-${s.id}.csv` }, 'CSV'), ' · ',
          h('a', { href: `/api/v1/snapshots/${s.id}?format=pdf`, target: '_blank', rel: 'noopener' }, 'PDF')) },
      ], items, { rowClass: (s) => (s.superseded_by ? 'muted' : null) }) : h('p', { class: 'empty' }, '还没有发布过快照。在“三率报表”页计算后可发布。'));
  } catch (e) {
    mount(h('h1', {}, '已发布快照'), e.status === 404 ? h('p', { class: 'notice' }, '快照接口尚未开通。') : errorBox(e));
  }
}

// ---------- trends ----------

function trendPoints(out) {
  // Accepts {items|points: [{as_of, coverage: 71.2 | {rate}, …}]} or
  // {series: {coverage: [{as_of, rate}]}}.
  const val = (v) => (v && typeof v === 'object' ? num(v.rate) : num(v));
  const series = out.indicators || out.series;
  if (series && typeof series === 'object' && !Array.isArray(series)) {
    const dates = new Map();
    for (const [k, arr] of Object.entries(series)) {
      for (const pt of arr) {
        const d = pt.as_of || pt.date;
        if (!dates.has(d)) dates.set(d, { label: d, values: {} });
        dates.get(d).values[k] = val(pt);
      }
    }
    return [...dates.values()].sort((a, b) => a.label.localeCompare(b.label));
  }
  const list = out.items || out.points || (Array.isArray(out) ? out : []);
  return list.map((pt) => ({ label: pt.as_of || pt.date || `#${pt.snapshot_id}`, values: Object.fromEntries(INDICATORS.map((k) => [k, val(pt[k] ?? (pt.indicators || {})[k] ?? (pt.rates || {})[k])])) }))
    .sort((a, b) => String(a.label).localeCompare(String(b.label)));
}

async function trendsPage(q) {
  const level = q.get('level') || 'county';
  const code = q.get('scope_code') || domainsOf(staff, 'bureau')[0] || '';
  const specs = [
    { name: 'level', label: '层级', type: 'select', required: true, value: level, options: LEVELS.map((l) => [l, LEVEL[l]]) },
    { name: 'scope_code', label: '代码（县、乡镇、机构代码或医生工号）', value: code },
  ];
  const f = h('form', { class: 'toolbar', id: 'trend-form' }, specs.map(field), h('button', { type: 'submit' }, '查看'));
  f.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/trends' + qs(readForm(f, specs)); });
  mount(h('h1', {}, '趋势'), f, h('p', { class: 'loading' }, '正在加载…'));
  try {
    const out = await get('/trends' + qs({ level, scope_code: code }));
    const points = trendPoints(out);
    mount(h('h1', {}, '趋势'), f,
      h('p', { class: 'muted' }, '各已发布快照中的三率，一个快照一个点。'),
      points.length ? [trend(`${label(LEVEL, level)} ${out.scope_name || code} · 三率趋势`, points, INDICATOR, out.targets || DEFAULT_TARGETS),
        table([{ label: '快照', value: (pt) => pt.label }, ...INDICATORS.map((k) => ({ label: INDICATOR[k], num: true, value: (pt) => pct(pt.values[k]) }))], points)]
        : h('p', { class: 'empty' }, '还没有已发布的快照。'));
  } catch (e) {
    mount(h('h1', {}, '趋势'), f, e.status === 404 ? h('p', { class: 'notice' }, '趋势接口尚未开通。') : errorBox(e));
  }
}

start();
