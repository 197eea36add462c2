// The desk app (clinic doctors, records administrators): search, the record
// page, filing, entries, the access-request inbox and access history.
import { api, get, post, qs, me, hasRole, domainsOf, newKey } from './api.js';
import {
  h, mount, field, readForm, showErrors, clearErrors, toast, table, errorBox, fmtTime, today,
} from './dom.js';
import {
  SEX, STATUS, PROGRAMME, SECTION, ACTION, OUTCOME, REQUEST_STATUS, CONSENT_METHOD, REFERRAL_STATUS, FIELD, KIND, label,
} from './labels.js';
import {
  visitSpecs, followupSpecs, referralSpecs, examSpecs, enrolSpecs, timelineItem,
} from './forms.js';
import { KEYPOP_KINDS, keypopSpecs, numbered, scheduleList } from './keypop.js';
import { loginView, renderWho, renderNav, router, inboxBadge, provinceOnly } from './shell.js';
import { inboxPage, myAssessmentPage, myCasesPage, myCasePage } from './feedback.js';
import { staffPage, villagesPage, villagePage, importPage } from './admin.js';
import { myRequestsPage, myRequestPage, GRANT_SECTIONS } from './requester.js';
import { examPage, examHistory } from './exam.js';
import { basicInfoFields, readBasicInfo, changedBasicInfo, basicInfoFacts } from './basicinfo.js';
import { filingPage, filingBadge } from './filing.js';

let staff = null;
let refreshFiling = null; // the filing badge's refresh, for a doctor

async function start() {
  try {
    staff = await me();
  } catch (e) {
    mount(h('h1', {}, '无法连接服务器'), errorBox(e));
    return;
  }
  if (!staff) {
    loginView('登录 · 居民健康档案', async (s) => { staff = s; await enter(); });
    return;
  }
  await enter();
}

// isRequester: an outside requester with no other role reads only what a
// grant covers; the desk shows them their requests and nothing else.
const isRequester = () => hasRole(staff, 'requester') && !['doctor', 'records_admin', 'home_visit', 'admin', 'bureau', 'reviewer']
  .some((r) => hasRole(staff, r));
const isRecordsAdmin = () => hasRole(staff, 'records_admin') || hasRole(staff, 'admin');

async function enter() {
  staff = (await me()) || staff;
  if (provinceOnly(staff)) { location.href = '/province'; return; }
  renderWho(staff, () => { staff = null; location.hash = '#/'; start(); });
  if (isRequester()) {
    renderNav([['#/my-requests', '调阅申请']]);
    inboxBadge('#/inbox');
    if (!/^#\/(my-requests|record\/|inbox)/.test(location.hash)) { location.hash = '#/my-requests'; return; }
    route();
    return;
  }
  const nav = [['#/', '档案查询'], ['#/new', '新建档案'], ['#/due', '随访提醒']];
  if (hasRole(staff, 'doctor') || hasRole(staff, 'records_admin')) nav.push(['#/referrals', '双向转诊'], ['#/my', '我的考核'], ['#/my-cases', '我的问责']);
  if (hasRole(staff, 'doctor')) nav.push(['#/filing', '待归档']);
  if (hasRole(staff, 'records_admin')) nav.push(['#/requests', '授权申请']);
  if (isRecordsAdmin()) nav.push(['#/staff', '人员管理'], ['#/villages', '村居管理'], ['#/import', '批量导入']);
  if (hasRole(staff, 'home_visit')) nav.push(['/tablet/', '平板随访']);
  if (hasRole(staff, 'bureau') || hasRole(staff, 'reviewer')) nav.push(['/bureau', '考核看板']);
  renderNav(nav);
  inboxBadge('#/inbox');
  if (hasRole(staff, 'doctor')) refreshFiling = filingBadge('#/filing');
  if (!hasRole(staff, 'doctor') && !hasRole(staff, 'records_admin') && !hasRole(staff, 'home_visit')) {
    if (hasRole(staff, 'bureau') || hasRole(staff, 'reviewer')) { location.href = '/bureau'; return; }
  }
  route();
}

// A toast is about the page it was shown on: leaving the page clears it
// (one shown as the page changes, e.g. after filing, stays).
let toastShown = 0;
new MutationObserver(() => { toastShown = Date.now(); })
  .observe(document.getElementById('toast'), { childList: true, characterData: true, subtree: true });
window.addEventListener('hashchange', () => {
  const t = document.getElementById('toast');
  if (t && t.textContent && Date.now() - toastShown > 1500) t.textContent = '';
});

// adminOnly keeps the records administrator's pages to them; others (and
// requesters everywhere but their pages) land on their own start page.
const adminOnly = (fn) => (...args) => (isRecordsAdmin() ? fn(...args) : searchPage(''));
const notForRequester = (fn) => (...args) => (isRequester() ? myRequestsPage(new URLSearchParams()) : fn(...args));

const route = router([
  ['#/', notForRequester((_, q) => searchPage(q.get('q') || ''))],
  ['#/search', notForRequester((_, q) => searchPage(q.get('q') || ''))],
  ['#/new', notForRequester(() => newRecordPage())],
  ['#/due', notForRequester((_, q) => duePage(q))],
  ['#/referrals', notForRequester((_, q) => referralsPage(q.get('dir') === 'in' ? 'in' : 'out'))],
  ['#/requests', notForRequester((_, q) => requestsPage(q.get('status') || ''))],
  ['#/my-requests', (_, q) => myRequestsPage(q)],
  ['#/my-requests/:id', ({ id }) => myRequestPage(id)],
  ['#/staff', adminOnly((_, q) => staffPage(staff, q))],
  ['#/villages', adminOnly(() => villagesPage(staff))],
  ['#/villages/:code', adminOnly(({ code }) => villagePage(code))],
  ['#/import', adminOnly(() => importPage())],
  ['#/record/:id', ({ id }, q) => recordPage(id, q.get('add') || '', q.get('field') || '')],
  ['#/inbox', (_, q) => inboxPage(q)],
  ['#/filing', notForRequester((_, q) => filingPage(q, () => refreshFiling && refreshFiling()))],
  ['#/my', notForRequester((_, q) => myPage(q))],
  ['#/my-cases', notForRequester(() => myCasesPage(staff))],
  ['#/my-cases/:id', notForRequester(({ id }) => myCasePage(id, staff))],
  ['#/record/:id/history', notForRequester(({ id }) => historyPage(id))],
  ['#/record/:id/access', notForRequester(({ id }) => accessPage(id))],
  ['#/record/:id/exam/:exam', ({ id, exam }) => examPage(id, exam,
    !isRequester() && (hasRole(staff, 'doctor') || hasRole(staff, 'records_admin')))],
], () => (isRequester() ? myRequestsPage(new URLSearchParams()) : searchPage('')));

// ---------- search ----------

async function searchPage(q) {
  const input = h('input', { id: 'q', name: 'q', type: 'search', value: q, autocomplete: 'off',
    'aria-describedby': 'q-hint', placeholder: '例如：王芳 / 33012719550308002X / 3301271001010001' });
  const form = h('form', { class: 'inline-form', role: 'search', id: 'search-form' },
    h('div', { class: 'field' }, h('label', { for: 'q' }, '姓名、身份证号或档案编号'),
      h('span', { class: 'hint', id: 'q-hint' }, '姓名按开头匹配；身份证号 18 位；档案编号 16 位'), input),
    h('button', { type: 'submit' }, '查询'));
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    const target = '#/search' + qs({ q: v });
    if (location.hash === target) runSearch(v, results); else location.hash = target;
  });
  mount(h('h1', {}, '档案查询'), form, results);
  input.focus();
  if (q) runSearch(q, results);
}

async function runSearch(q, box) {
  box.replaceChildren(h('p', { class: 'loading' }, '正在查询…'));
  try {
    const out = await get('/records' + qs({ q, per_page: 50 }));
    if (!out.items.length) {
      box.replaceChildren(h('p', { class: 'empty' }, `没有找到与“${q}”相符的档案。`),
        h('p', {}, h('a', { href: '#/new', class: 'button secondary' }, '新建档案')));
      return;
    }
    box.replaceChildren(
      h('p', { class: 'muted' }, `共 ${out.total} 份档案${out.total > out.items.length ? `，显示前 ${out.items.length} 份` : ''}`),
      table([
        { label: '档案编号', value: (r) => h('a', { href: '#/record/' + r.record_id, class: 'rid' }, r.record_id) },
        { label: '姓名', value: (r) => h('a', { href: '#/record/' + r.record_id }, r.name) },
        { label: '性别', value: (r) => label(SEX, r.sex) },
        { label: '出生日期', value: (r) => r.birth_date },
        { label: '身份证号', value: (r) => r.id_number || '—' },
        { label: '村居', value: (r) => r.village_name || r.village_code },
        { label: '状态', value: (r) => statusTag(r.status) },
      ], out.items, { caption: '查询结果' }));
  } catch (e) {
    box.replaceChildren(errorBox(e));
  }
}

function statusTag(s) {
  return h('span', { class: 'tag ' + (s === 'active' ? 'ok' : 'warn') }, label(STATUS, s));
}

// ---------- record page ----------

async function optional(path) {
  try { return await get(path); } catch (e) {
    if (e.status === 404 && e.code === 'not_found' && /接口/.test(e.message)) return null; // route not there (yet)
    if (e.status === 403) return null;
    throw e;
  }
}

// myPage is My assessment: a doctor's own; a records administrator who is
// no doctor starts at their institution.
function myPage(q) {
  if (!q.get('scope_code') && !hasRole(staff, 'doctor') && hasRole(staff, 'records_admin')) {
    q.set('level', 'institution');
    q.set('scope_code', domainsOf(staff, 'records_admin')[0]);
  }
  return myAssessmentPage(q);
}

async function recordPage(id, add, focusField) {
  mount(h('h1', {}, '档案 ', h('span', { class: 'rid' }, id)), h('p', { class: 'loading' }, '正在加载…'));
  let rec;
  try {
    rec = await get('/records/' + encodeURIComponent(id));
  } catch (e) {
    mount(h('h1', {}, '档案 ', h('span', { class: 'rid' }, id)), errorBox(e), h('p', {}, h('a', { href: '#/' }, '返回查询')));
    return;
  }
  // What the caller may see of this record: a requester exactly what their
  // grant covers. A section outside it is named as such, never shown empty.
  const viaGrant = isRequester();
  const shown = new Set(rec.sections || []);
  if (!viaGrant) shown.add('entries');
  const [progs, timeline] = await Promise.all([
    rec.programmes ? Promise.resolve({ items: rec.programmes }) : Promise.resolve(null),
    shown.has('entries') ? optional(`/records/${id}/timeline?per_page=100`).catch(() => null) : Promise.resolve(null),
  ]);
  const names = rec.names || {};
  const named = (key, code) => (code && names[key] ? `${names[key]}（${code}）` : code);
  const withheld = (section, headingId, title) => h('section', { class: 'panel withheld', 'aria-labelledby': headingId, 'data-withheld': section },
    h('h2', { id: headingId }, title),
    h('p', { class: 'notice' }, viaGrant ? `您的授权不包含「${label(SECTION, section)}」，不能查阅这一部分。` : `您无权查看「${label(SECTION, section)}」。`));
  const b = rec.basic || {};
  const programmes = (progs && progs.items) || [];
  const isAdmin = hasRole(staff, 'records_admin');
  const canWrite = !viaGrant && (hasRole(staff, 'doctor') || isAdmin);

  const panel = h('div', { id: 'action-panel' });
  const addButton = (kind, text) => h('button', { type: 'button', class: 'secondary', 'data-add': kind,
    onclick: () => openForm(kind) }, text);
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': '操作' },
    canWrite ? [addButton('visit', '＋ 接诊'), addButton('followup', '＋ 随访'), addButton('exam', '＋ 健康体检'),
      addButton('referral', '＋ 转诊'), addButton('enrol', '＋ 纳入重点人群')] : null,
    hasRole(staff, 'home_visit') && !canWrite ? [addButton('visit', '＋ 接诊'), addButton('followup', '＋ 随访')] : null,
    // The key populations' services, for the programmes the resident is in.
    canWrite || hasRole(staff, 'home_visit') ? Object.entries(KEYPOP_KINDS)
      .filter(([, prog]) => programmes.some((p) => p.programme === prog && p.status !== 'ended'))
      .map(([kind]) => addButton(kind, '＋ ' + label(KIND, kind))) : null,
    canWrite ? programmes.filter((p) => p.programme === 'maternal' && p.status !== 'ended' && !p.delivered_on)
      .map(() => addButton('delivery', '＋ 记录分娩')) : null,
    viaGrant ? null : h('a', { class: 'button secondary', href: `/api/v1/records/${id}/card.pdf`, target: '_blank', rel: 'noopener', id: 'card-pdf' }, '打印信息卡（PDF）'),
    viaGrant ? null : h('a', { class: 'button secondary', href: `/api/v1/records/${id}/card.pdf?size=a4`, target: '_blank', rel: 'noopener', id: 'card-pdf-a4' }, 'A4 打印'),
    canWrite ? addButton('edit', '修改基本信息') : null,
    canWrite ? h('a', { class: 'button secondary', href: `#/record/${id}/history` }, '修改历史') : null,
    isAdmin ? h('a', { class: 'button secondary', href: `#/record/${id}/access` }, '访问记录') : null);

  function openForm(kind) {
    if (kind === 'edit') {
      panel.replaceChildren(editForm(id, b, focusField, () => recordPage(id), () => panel.replaceChildren()));
      const target = panel.querySelector(`[name="${focusField}"]`) || panel.querySelector('input');
      if (target) target.focus();
      return;
    }
    const forms = {
      visit: ['接诊记录', 'visits', visitSpecs(today())],
      followup: ['随访记录', 'followups', followupSpecs(today(), programmes.filter((p) => p.status !== 'ended')
        .map((p) => p.programme).filter((p) => p === 'hypertension' || p === 'type2_diabetes'))],
      exam: ['健康体检', 'exams', examSpecs(today())],
      referral: ['双向转诊（转出）', 'referrals', referralSpecs(today())],
      enrol: ['纳入重点人群管理', 'programmes', enrolSpecs(today())],
      child_visit: [label(KIND, 'child_visit'), 'child_visits', keypopSpecs('child_visit', '', today())],
      maternal_visit: [label(KIND, 'maternal_visit'), 'maternal_visits', keypopSpecs('maternal_visit', '', today())],
      elderly_check: [label(KIND, 'elderly_check'), 'elderly_checks', keypopSpecs('elderly_check', '', today())],
    };
    const mat = programmes.find((p) => p.programme === 'maternal' && p.status !== 'ended');
    if (kind === 'delivery' && mat) {
      forms.delivery = ['记录分娩', `programmes/${mat.id}/delivery`,
        [{ name: 'delivered_on', label: '分娩日期', type: 'date', required: true, value: today(), max: today() }]];
    }
    const [title, path, specs] = forms[kind];
    // A new exam opens its form, to be filled section by section.
    const done = kind === 'exam' ? (out) => { location.hash = `#/record/${id}/exam/${out.id}`; } : () => recordPage(id);
    panel.replaceChildren(entryForm(title, `/records/${id}/${path}`, specs, done, () => panel.replaceChildren()));
    panel.querySelector('h2').focus();
  }

  const basicFacts = [
    ['档案编号', h('span', { class: 'rid' }, b.record_id || id)], ['姓名', b.name], ['性别', label(SEX, b.sex)],
    ['出生日期', b.birth_date], ['身份证号', b.id_number || '—'], ['户籍类型', b.residence_type],
    ['民族', b.ethnicity], ['本人电话', b.phone], ['联系人', [b.contact_name, b.contact_phone].filter(Boolean).join(' ')],
    ['村居', named('village_code', b.village_code)], ['责任医生', named('responsible_doctor', b.responsible_doctor)],
    ['建档日期', b.filed_on], ['建档人', named('filed_by', b.filed_by)],
    ['建档机构', named('filing_institution', b.filing_institution)], ['状态', b.status ? statusTag(b.status) : ''],
  ];
  if (b.status && b.status !== 'active') basicFacts.push(['状态日期', b.status_date], ['迁往', b.destination]);

  const exams = rec.exams || [];
  const items = timeline ? timeline.items : exams.map((e) => ({ ...e, kind: 'exam' }));

  mount(
    viaGrant ? h('p', {}, h('a', { href: '#/my-requests' }, '← 返回我的申请')) : null,
    h('div', { class: 'record-head' }, h('h1', {}, b.name || '档案'), h('span', { class: 'rid muted' }, id),
      b.status ? statusTag(b.status) : null),
    actions, panel,
    viaGrant ? h('p', { class: 'notice', id: 'grant-note' }, '您通过授权查阅此档案，授权包含：',
      [...shown].map((x) => label(SECTION, x)).join('、') || '无', '。') : null,
    shown.has('basic') ? h('section', { class: 'panel', 'aria-labelledby': 'h-basic' }, h('h2', { id: 'h-basic' }, '个人基本信息'),
      h('dl', { class: 'facts' }, basicFacts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v || '—')))),
      h('h3', { id: 'h-basic-table' }, '个人基本信息表'),
      h('dl', { class: 'facts', id: 'basic-table' }, basicInfoFacts(b).map(([k, v]) => h('div', {}, h('dt', {}, k),
        h('dd', { class: v === '未填写' ? 'muted' : '' }, v)))),
      b.details_unmapped && Object.keys(b.details_unmapped).length ? h('p', { class: 'notice', id: 'details-unmapped' },
        '迁移时未能对应到表中项目的原有内容（请核对后在“修改基本信息”中转录）：', JSON.stringify(b.details_unmapped)) : null) : withheld('basic', 'h-basic', '个人基本信息'),
    h('div', { class: 'cols' },
      !shown.has('programmes') ? withheld('programmes', 'h-prog', '重点人群管理') : h('section', { class: 'panel', 'aria-labelledby': 'h-prog' }, h('h2', { id: 'h-prog' }, '重点人群管理'),
        programmes.length ? table([
          { label: '项目', value: (p) => label(PROGRAMME, p.programme) },
          { label: '纳入日期', value: (p) => p.enrolled_on },
          { label: '状态', value: (p) => (p.status === 'ended' ? `已结束 ${p.ended_on || ''}` : '管理中') },
          { label: '下次随访', value: (p) => p.next_followup_due || (p.delivered_on ? `分娩 ${p.delivered_on}` : '—') },
        ], programmes) : h('p', { class: 'empty' }, '未纳入重点人群管理。'),
        programmes.filter((p) => p.schedule && p.schedule.length).map((p) => h('div', {},
          h('h3', {}, `${label(PROGRAMME, p.programme)}服务计划`), scheduleList(p, today())))),
      !shown.has('exams') ? withheld('exams', 'h-exams', '健康体检') : h('section', { class: 'panel', 'aria-labelledby': 'h-exams' }, h('h2', { id: 'h-exams' }, '健康体检'),
        exams.length ? table([
          { label: '日期', value: (e) => e.service_date },
          { label: '血压', value: (e) => (e.systolic != null ? `${e.systolic}/${e.diastolic}` : '—') },
          { label: '身高', value: (e) => e.height_cm ?? '—', num: true },
          { label: '体重', value: (e) => e.weight_kg ?? '—', num: true },
          { label: 'BMI', value: (e) => e.bmi ?? '—', num: true },
          { label: '体检表', value: (e) => h('a', { href: `#/record/${id}/exam/${e.id}`, 'data-exam': e.id }, e.state === 'complete' ? '已完成'
            : `待补全（${Object.values(e.section_states || {}).filter((x) => x === 'complete').length}/11 部分已完成）`) },
          { label: '医生', value: (e) => (rec.staff_names || {})[e.staff_code || e.created_by] || e.staff_code || e.created_by },
        ], exams) : h('p', { class: 'empty' }, '尚无体检记录。'))),
    !shown.has('entries') ? withheld('entries', 'h-timeline', '服务记录（时间线）') : h('section', { class: 'panel', 'aria-labelledby': 'h-timeline' }, h('h2', { id: 'h-timeline' }, '服务记录（时间线）'),
      items.length ? h('ol', { class: 'timeline', id: 'timeline' }, items.map((e) => timelineItem(e, rec.staff_names || {}))) : h('p', { class: 'empty', id: 'timeline-empty' }, '尚无服务记录。')),
  );
  if (add) openForm(add);
}

// editForm changes the record's basic information (PATCH), opened at the
// field to fix when it comes from My assessment.
function editForm(id, b, focusField, onDone, onCancel) {
  const specs = [
    { name: 'name', label: '姓名', value: b.name },
    { name: 'sex', label: '性别', type: 'select', value: b.sex, options: [['M', '男'], ['F', '女']] },
    { name: 'birth_date', label: '出生日期', type: 'date', value: b.birth_date },
    { name: 'id_number', label: '身份证号', value: '', hint: '留空则不修改' },
    { name: 'residence_type', label: '户籍类型', value: b.residence_type },
    { name: 'ethnicity', label: '民族', value: b.ethnicity },
    { name: 'phone', label: '本人电话', value: b.phone },
    { name: 'contact_name', label: '联系人', value: b.contact_name },
    { name: 'contact_phone', label: '联系人电话', value: b.contact_phone },
    { name: 'responsible_doctor', label: '责任医生工号', value: b.responsible_doctor },
  ];
  const form = h('form', { class: 'panel', novalidate: true, id: 'edit-form' },
    h('h2', { tabindex: '-1' }, '修改基本信息'),
    h('div', { class: 'grid' }, specs.map((sp) => field({ ...sp, hint: sp.name === focusField ? '需修正此项' : sp.hint }))),
    basicInfoFields(b),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '保存'),
      h('button', { type: 'button', class: 'secondary', onclick: onCancel }, '取消')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = readForm(form, specs);
    const body = {};
    for (const sp of specs) if (v[sp.name] !== undefined && String(v[sp.name]) !== String(sp.value ?? '')) body[sp.name] = v[sp.name];
    Object.assign(body, changedBasicInfo(readBasicInfo(form, b), b));
    try {
      await api('PATCH', `/records/${id}`, body);
      toast('已保存基本信息');
      await onDone();
    } catch (e) {
      showErrors(form, e, FIELD);
    }
  });
  return form;
}

/**
 * entryForm is a form that POSTs an entry with an Idempotency-Key fixed for
 * the life of the form, so a double click or a retry after a lost answer
 * creates the entry once.
 */
function entryForm(title, path, specs, onDone, onCancel) {
  const key = newKey();
  const form = h('form', { class: 'panel', novalidate: true, id: 'entry-form' },
    h('h2', { tabindex: '-1' }, title),
    h('div', { class: 'grid' }, specs.map(field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '保存'),
      h('button', { type: 'button', class: 'secondary', onclick: onCancel }, '取消')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const out = await post(path, numbered(readForm(form, specs), specs), { 'Idempotency-Key': key });
      toast(`已保存：${title}`);
      await onDone(out);
    } catch (e) {
      showErrors(form, e, FIELD);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

// ---------- new record ----------

async function villageOptions() {
  // The villages of the caller's institutions, grouped by township.
  const insts = new Set([...domainsOf(staff, 'doctor'), ...domainsOf(staff, 'records_admin'), ...domainsOf(staff, 'home_visit')]);
  const counties = (await get('/regions')).items;
  const towns = (await Promise.all(counties.map((c) => get('/regions' + qs({ parent: c.code }))))).flatMap((r) => r.items);
  const groups = await Promise.all(towns.map(async (t) => {
    const v = (await get('/regions' + qs({ parent: t.code }))).items.filter((x) => insts.has(x.institution_code));
    return [t, v];
  }));
  return groups.filter(([, v]) => v.length);
}

async function newRecordPage() {
  mount(h('h1', {}, '新建居民健康档案'), h('p', { class: 'loading' }, '正在加载村居…'));
  let groups = [];
  try { groups = await villageOptions(); } catch (e) { /* the field still takes a code */ }
  const specs = [
    { name: 'name', label: '姓名', required: true, maxlength: 50 },
    { name: 'sex', label: '性别', type: 'select', required: true, options: [['M', '男'], ['F', '女']] },
    { name: 'birth_date', label: '出生日期', type: 'date', required: true, max: today() },
    { name: 'id_number', label: '身份证号', hint: '18 位；新生儿等无证件者可不填', maxlength: 18 },
    { name: 'residence_type', label: '户籍类型', type: 'select', options: [['户籍', '户籍'], ['非户籍', '非户籍']] },
    { name: 'ethnicity', label: '民族', placeholder: '如：汉族' },
    { name: 'phone', label: '本人电话', hint: '11 位手机号或带区号的固定电话', inputmode: 'tel' },
    { name: 'contact_name', label: '联系人姓名' },
    { name: 'contact_phone', label: '联系人电话', inputmode: 'tel' },
    { name: 'responsible_doctor', label: '责任医生工号', hint: '不填则按村居的责任医生' },
  ];
  const villageId = 'f-village';
  const village = h('div', { class: 'field', 'data-field': 'village_code' },
    h('label', { for: villageId }, '村居', h('span', { class: 'muted' }, '（必填）')),
    groups.length
      ? h('select', { id: villageId, name: 'village_code', required: true },
        h('option', { value: '' }, '— 请选择 —'),
        groups.map(([t, vs]) => h('optgroup', { label: t.name }, vs.map((v) => h('option', { value: v.code }, `${v.name}（${v.code}）`)))))
      : h('input', { id: villageId, name: 'village_code', required: true, inputmode: 'numeric', maxlength: 12 }));
  const all = [{ name: 'village_code' }, ...specs];
  const form = h('form', { novalidate: true, id: 'new-record' },
    h('fieldset', {}, h('legend', {}, '基本信息'), h('div', { class: 'grid' }, village, specs.slice(0, 10).map(field))),
    basicInfoFields(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '建档'), h('a', { href: '#/', class: 'button secondary' }, '取消')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { ...readForm(form, all), ...readBasicInfo(form) };
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const out = await post('/records', body);
      toast(`已建档：${out.record_id}`);
      location.hash = '#/record/' + out.record_id;
    } catch (e) {
      showErrors(form, e, FIELD);
    } finally {
      btn.disabled = false;
    }
  });
  mount(h('h1', {}, '新建居民健康档案'), h('p', { class: 'muted' }, '档案编号由系统按村居顺序分配。'), form);
}

// ---------- due follow-ups ----------

// duePage is the due list, a page at a time, optionally one village's.
async function duePage(q) {
  const pageNo = Math.max(1, Number(q.get('page')) || 1);
  const village = q.get('village') || '';
  const per = 50;
  mount(h('h1', {}, '随访提醒'), h('p', { class: 'loading' }, '正在加载…'));
  let out;
  let groups = [];
  try {
    [out, groups] = await Promise.all([
      get('/followups/due' + qs({ per_page: per, page: pageNo, within_days: 14, village_code: village })),
      villageOptions().catch(() => []),
    ]);
  } catch (e) {
    mount(h('h1', {}, '随访提醒'), e.status === 404 ? h('p', { class: 'notice' }, '随访功能尚未开通。') : errorBox(e));
    return;
  }
  const vname = Object.fromEntries(groups.flatMap(([, vs]) => vs.map((v) => [v.code, v.name])));
  const go = (params) => { location.hash = '#/due' + qs({ village, page: pageNo, ...params }); };
  const picker = h('select', { id: 'due-village', name: 'village', onchange: (ev) => go({ village: ev.target.value, page: 1 }) },
    h('option', { value: '' }, '全部村居'),
    groups.map(([t, vs]) => h('optgroup', { label: t.name }, vs.map((v) => h('option', { value: v.code, selected: v.code === village }, v.name)))));
  const pages = Math.max(1, Math.ceil(out.total / per));
  const pager = h('nav', { class: 'actions pager', 'aria-label': '翻页' },
    h('button', { type: 'button', class: 'secondary', id: 'due-prev', disabled: pageNo <= 1, onclick: () => go({ page: pageNo - 1 }) }, '上一页'),
    h('span', { class: 'muted', id: 'due-page' }, `第 ${pageNo} / ${pages} 页`),
    h('button', { type: 'button', class: 'secondary', id: 'due-next', disabled: pageNo >= pages, onclick: () => go({ page: pageNo + 1 }) }, '下一页'));
  mount(h('h1', {}, '随访提醒'),
    h('div', { class: 'field' }, h('label', { for: 'due-village' }, '村居'), picker),
    h('p', { class: 'muted' }, `截至 ${out.as_of || today()}：${village ? (vname[village] || village) + ' ' : ''}${out.total} 项到期或逾期（含 14 天内到期）`),
    out.items.length ? [table([
      { label: '应随访日期', value: (r) => r.due_date },
      { label: '状态', value: (r) => (r.overdue ? h('span', { class: 'tag bad' }, `逾期 ${r.days_overdue} 天`) : h('span', { class: 'tag warn' }, r.days_until_due ? `${r.days_until_due} 天后` : '今日到期')) },
      { label: '姓名', value: (r) => h('a', { href: `#/record/${r.record_id}?add=${r.kind || 'followup'}` }, r.name) },
      { label: '项目', value: (r) => label(PROGRAMME, r.programme) + (r.kind && r.kind !== 'followup' ? ` · ${r.service_name}（至 ${r.due_by}）` : '') },
      { label: '电话', value: (r) => r.phone || '—' },
      { label: '村居', value: (r) => r.village_name || vname[r.village_code] || r.village_code },
      { label: '上次随访', value: (r) => r.last_followup_date || '—' },
    ], out.items), pages > 1 ? pager : null] : h('p', { class: 'empty' }, '没有到期的随访。'));
}

// ---------- referrals ----------

// The open two-way referrals of the caller's institutions: those it issued
// (out) and those addressed to it (in), with the next step of each. The
// issuing side may record every step (the receiving hospital may not use
// the service); the receiving side receives and returns.
async function referralsPage(dir) {
  const title = '双向转诊';
  const tabs = h('p', { class: 'tabs', role: 'group', 'aria-label': '方向' },
    [['out', '本机构转出'], ['in', '转入本机构']].map(([d, l]) =>
      h('a', { href: '#/referrals' + qs({ dir: d }), class: 'button ' + (d === dir ? '' : 'secondary'),
        'aria-current': d === dir ? 'page' : null }, l)));
  const panel = h('div', { id: 'referral-panel' });
  mount(h('h1', {}, title), tabs, h('p', { class: 'loading' }, '正在加载…'));
  let out;
  try {
    out = await get('/referrals' + qs({ direction: dir, per_page: 200 }));
  } catch (e) {
    mount(h('h1', {}, title), tabs, errorBox(e));
    return;
  }
  const reload = () => referralsPage(dir);
  const step = (r, transition, text, specs) => h('button', {
    type: 'button', class: 'secondary', 'data-step': transition, 'data-referral': r.id,
    onclick: async () => {
      if (!specs) {
        try {
          await post(`/referrals/${r.id}/${transition}`, { date: today() });
          toast(`已${text}：${r.name}`);
          await reload();
        } catch (e) {
          panel.replaceChildren(errorBox(e));
        }
        return;
      }
      panel.replaceChildren(entryForm(`${text}：${r.name}（${r.to_institution}）`, `/referrals/${r.id}/${transition}`, specs,
        reload, () => panel.replaceChildren()));
      panel.querySelector('h2').focus();
    },
  }, text);
  const steps = (r) => {
    if (r.status === 'issued') {
      return [step(r, 'receive', dir === 'in' ? '接收' : '登记接收'), dir === 'out' ? step(r, 'close', '关闭', closeSpecs()) : null];
    }
    return [step(r, 'return', dir === 'in' ? '回转' : '登记回转', returnSpecs())];
  };
  mount(h('h1', {}, title), tabs, panel,
    h('p', { class: 'muted' }, `未完成的转诊 ${out.total} 份（已转出或已接收），最早的在前`),
    out.items.length ? table([
      { label: '转出日期', value: (r) => r.service_date },
      // The receiving side sees the slip, not the record (another institution's).
      { label: '姓名', value: (r) => (dir === 'in' ? r.name : h('a', { href: '#/record/' + r.record_id }, r.name)) },
      { label: dir === 'in' ? '转出机构' : '转入机构', value: (r) => (dir === 'in' ? r.institution_name || r.institution_code : [r.to_institution, r.to_department].filter(Boolean).join(' ')) },
      { label: '转出原因', value: (r) => r.reason },
      { label: '状态', value: (r) => h('span', { class: 'tag ' + (r.open_days > 30 ? 'bad' : 'warn') }, `${label(REFERRAL_STATUS, r.status)} · ${r.open_days} 天`) },
      { label: '操作', value: (r) => h('div', { class: 'actions' }, steps(r)) },
    ], out.items, { caption: dir === 'in' ? '转入本机构的转诊' : '本机构转出的转诊' })
      : h('p', { class: 'empty' }, '没有未完成的转诊。'));
}

/** returnSpecs: the back-referral slip (回转单). */
const returnSpecs = () => [
  { name: 'date', label: '回转日期', type: 'date', required: true, value: today(), max: today() },
  { name: 'diagnosis', label: '诊断结果', type: 'textarea', required: true, wide: true },
  { name: 'treatment', label: '主要检查及治疗', type: 'textarea', wide: true },
  { name: 'recommendations', label: '康复建议（社区随访）', type: 'textarea', wide: true },
  { name: 'doctor', label: '回转医生' },
];

/** closeSpecs: closing a referral that will not be received. */
const closeSpecs = () => [
  { name: 'date', label: '关闭日期', type: 'date', required: true, value: today(), max: today() },
  { name: 'reason', label: '关闭原因', type: 'textarea', required: true, wide: true, hint: '例如：患者未前往、改转他院' },
];

// ---------- history and access log ----------

async function historyPage(id) {
  const back = h('p', {}, h('a', { href: '#/record/' + id }, '← 返回档案'));
  try {
    const out = await get(`/records/${id}/history?per_page=200`);
    const exam = out.items.some((r) => r.action === 'exam') ? await examHistory() : null;
    mount(h('h1', {}, '修改历史 ', h('span', { class: 'rid' }, id)), back,
      out.items.length ? table([
        { label: '时间', value: (r) => fmtTime(r.changed_at) },
        { label: '操作人', value: (r) => r.changed_by },
        { label: '操作', value: (r) => ({ file: '建档', update: '修改', status: '状态变更', exam: '体检表', import: '导入', migrate: '迁移：个人基本信息表结构化' }[r.action] || r.action) },
        { label: '变更（修改前 → 修改后）', value: (r) => h('ul', {}, Object.entries(r.changes || {}).map(([k, c]) =>
          h('li', {}, r.action === 'exam' && exam ? exam(k, c) : `${FIELD[k] || k}：${show(c.before)} → ${show(c.after)}`))) },
      ], out.items) : h('p', { class: 'empty' }, '没有修改记录。'));
  } catch (e) {
    mount(h('h1', {}, '修改历史'), back, errorBox(e));
  }
}

function show(v) {
  if (v === null || v === undefined || v === '') return '（空）';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

async function accessPage(id) {
  const back = h('p', {}, h('a', { href: '#/record/' + id }, '← 返回档案'));
  try {
    const out = await get(`/records/${id}/access-log?per_page=200`);
    mount(h('h1', {}, '访问记录 ', h('span', { class: 'rid' }, id)), back,
      h('p', { class: 'muted' }, `谁查看或修改过这份档案，最新在前；共 ${out.total} 条，含被拒绝的尝试。`),
      table([
        { label: '时间', value: (r) => fmtTime(r.at) },
        { label: '人员', value: (r) => r.staff_code },
        { label: '角色', value: (r) => r.roles },
        { label: '内容', value: (r) => label(SECTION, r.section) },
        { label: '操作', value: (r) => label(ACTION, r.action) },
        { label: '授权', value: (r) => (r.grant_id ? `授权 #${r.grant_id}` : '—') },
        { label: '结果', value: (r) => h('span', { class: 'tag ' + (r.outcome === 'allowed' ? 'ok' : 'bad') }, label(OUTCOME, r.outcome)) },
        { label: '原因', value: (r) => r.reason || '' },
      ], out.items, { rowClass: (r) => (r.outcome === 'denied' ? 'warn' : null) }));
  } catch (e) {
    mount(h('h1', {}, '访问记录'), back, errorBox(e));
  }
}

// ---------- access requests ----------

// The states of a request (DESIGN §6.2): submitted → approved (by the
// institution) → active (the resident or guardian consented) → expired or
// revoked; or rejected, or refused by the resident.
async function requestsPage(state) {
  mount(h('h1', {}, '授权申请'), h('p', { class: 'loading' }, '正在加载…'));
  let out;
  try {
    out = await get('/access-requests' + qs({ state, per_page: 200 }));
  } catch (e) {
    mount(h('h1', {}, '授权申请'), e.status === 404 ? h('p', { class: 'notice' }, '授权申请功能尚未开通。') : errorBox(e));
    return;
  }
  const filters = [['', '全部'], ['submitted', '待审批'], ['approved', '待登记居民意见'], ['active', '授权生效'], ['rejected', '已驳回'], ['refused', '居民拒绝'], ['revoked', '已撤销'], ['expired', '已过期']];
  const filterNav = h('div', { class: 'actions', role: 'group', 'aria-label': '按状态筛选' },
    filters.map(([v, t]) => h('a', { class: 'button ' + (v === state ? '' : 'secondary'), href: '#/requests' + qs({ status: v }),
      'aria-current': v === state ? 'page' : null }, t)));
  mount(h('h1', {}, '授权申请'),
    h('p', { class: 'muted' }, '外单位查阅档案须经本机构批准，并经居民或监护人同意后生效；可随时撤销，撤销后下一次访问即失效。'),
    filterNav,
    out.items.length ? h('div', { id: 'requests' }, out.items.map(requestCard)) : h('p', { class: 'empty' }, '没有授权申请。'));
}

/** named shows a code as "name（code）" when names has it. */
function named(names, code) {
  const n = (names || {})[code];
  return n ? `${n}（${code}）` : code;
}

function requestCard(r) {
  const st = r.state || '';
  const box = h('section', { class: 'panel', 'data-request': r.id, 'data-state': st, 'aria-labelledby': `req-${r.id}` });
  const actions = h('div', { class: 'actions' });
  const work = h('div', {});
  const act = (text, fn, cls) => h('button', { type: 'button', class: cls || 'secondary', 'data-action': text, onclick: fn }, text);
  const reasonForm = (verb, path, danger, required) => {
    const specs = [{ name: 'reason', label: `${verb}理由`, type: 'textarea', required, wide: true }];
    const f = h('form', { novalidate: true, class: 'request-form' }, specs.map(field),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: danger ? 'danger' : '' }, `确认${verb}`),
        h('button', { type: 'button', class: 'secondary', onclick: () => work.replaceChildren() }, '取消')));
    f.addEventListener('submit', (ev) => submitTo(ev, f, path, readForm(f, specs), `已${verb}`));
    work.replaceChildren(f);
    f.querySelector('textarea').focus();
  };
  const consentForm = () => {
    const specs = [
      { name: 'given', label: '居民或监护人意见', type: 'radio', required: true, options: [['true', '同意'], ['false', '拒绝']], bool: true },
      { name: 'given_by', label: '表态人姓名', required: true },
      { name: 'relationship', label: '与居民关系', required: true, placeholder: '本人 / 配偶 / 子女 / 监护人' },
      { name: 'method', label: '方式', type: 'select', required: true, options: Object.entries(CONSENT_METHOD) },
      { name: 'reference', label: '凭证编号', hint: '同意时必填：知情同意书编号、面谈或通话记录编号' },
    ];
    const f = h('form', { novalidate: true, class: 'request-form' }, h('div', { class: 'grid' }, specs.map(field)),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登记'),
        h('button', { type: 'button', class: 'secondary', onclick: () => work.replaceChildren() }, '取消')));
    f.addEventListener('submit', (ev) => submitTo(ev, f, `/access-requests/${r.id}/consent`, readForm(f, specs), '已登记居民意见'));
    work.replaceChildren(f);
    f.querySelector('input').focus();
  };
  async function submitTo(ev, f, path, body, done) {
    ev.preventDefault();
    clearErrors(f);
    try {
      await post(path, body);
      toast(done);
      requestsPage(new URLSearchParams((location.hash.split('?')[1]) || '').get('status') || '');
    } catch (e) {
      showErrors(f, e, FIELD);
    }
  }
  if (st === 'submitted') {
    actions.append(act('批准', () => reasonForm('批准', `/access-requests/${r.id}/approve`, false, true), 'primary'),
      act('驳回', () => reasonForm('驳回', `/access-requests/${r.id}/reject`, true, true)));
  }
  if (st === 'approved') actions.append(act('登记居民意见', consentForm, 'primary'));
  if (st === 'approved' || st === 'active') {
    actions.append(act('撤销', () => reasonForm('撤销', `/access-requests/${r.id}/revoke`, true, true)));
  }
  const sections = (r.sections || []).map((x) => label(SECTION, x)).join('、');
  const c = r.consent;
  const tagClass = st === 'active' ? 'ok' : (st === 'submitted' || st === 'approved' ? 'warn' : 'info');
  box.append(...[
    h('h2', { id: `req-${r.id}` }, `申请 #${r.id} `, h('span', { class: 'tag ' + tagClass }, label(REQUEST_STATUS, st))),
    h('dl', { class: 'facts' }, [
      ['档案', h('a', { href: '#/record/' + r.record_id, class: 'rid' }, r.record_id)],
      ['居民', r.resident_name || ''],
      ['申请人', named(r.staff_names, r.requested_by)], ['用途', r.purpose], ['查阅内容', sections], ['期限', r.days ? `${r.days} 天` : ''],
      ['提交时间', fmtTime(r.submitted_at)],
      ['居民意见', c ? `${c.given ? '同意' : '拒绝'}（${[c.given_by, c.relationship, label(CONSENT_METHOD, c.method), c.reference].filter(Boolean).join('，')}）` : '未登记'],
      ['生效时间', r.activated_at ? fmtTime(r.activated_at) : ''],
      ['有效期至', r.expires_at ? fmtTime(r.expires_at) : ''],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v || '—')))),
    r.transitions && r.transitions.length ? h('details', { open: st === 'rejected' || st === 'refused' || st === 'revoked' },
      h('summary', {}, `处理经过（${r.transitions.length} 步）`),
      h('ol', { class: 'request-history' }, r.transitions.map((t) => h('li', {}, `${fmtTime(t.at)} ${named(r.staff_names, t.by)}：${label(REQUEST_STATUS, t.from) || '提交'} → ${label(REQUEST_STATUS, t.to)}${t.reason ? '（' + t.reason + '）' : ''}`)))) : null,
    actions, work].filter(Boolean));
  return box;
}

start();
