// Feedback before judgement (DESIGN §5.7, §5.8), shared by the desk, the
// tablet and the bureau: the inbox with its unread badge, "My assessment"
// (live figures, rank, trend, records to fix with one click to the field),
// and the subject's side of accountability cases (deadlines, facts,
// decision notice, review request, items closed with evidence).
import { OUTCOME } from './review.js';
import { api, get, post, qs, domainsOf } from './api.js';
import { h, mount, field, readForm, showErrors, clearErrors, toast, table, errorBox, fmtTime } from './dom.js';
import { INDICATOR, CASE_STATE, RULE, SNAPSHOT_KIND, FIELD, label } from './labels.js';
import { trend, pct } from './chart.js';

const INDICATORS = ['coverage', 'quality', 'usage'];

const KIND = { warning: '预警', case: '问责', reminder: '提醒', access_request: '授权申请' };
const SMS_STATE = { pending: '短信待发送', sent: '短信已发送' };

/** inboxPage lists the person's messages; opening one marks it read. */
export async function inboxPage(q) {
  const unread = q && q.get('unread') === 'true';
  mount(h('h1', {}, '消息'), h('p', { class: 'loading' }, '正在加载…'));
  try {
    const out = await get('/inbox' + qs({ per_page: 100, unread: unread ? 'true' : undefined }));
    const open = async (m, ev) => {
      if (!m.read_at) { try { await post(`/inbox/${m.id}/read`); } catch (e) { /* still follow */ } }
      if (m.link && m.link.startsWith('/#/') && location.pathname === '/') { ev.preventDefault(); location.hash = m.link.slice(2); }
    };
    mount(h('h1', {}, '消息'),
      h('div', { class: 'actions' },
        h('a', { class: 'button ' + (unread ? 'secondary' : ''), href: '#/inbox' }, '全部'),
        h('a', { class: 'button ' + (unread ? '' : 'secondary'), href: '#/inbox?unread=true' }, `未读（${out.unread}）`),
        out.unread ? h('button', { type: 'button', class: 'secondary', id: 'read-all', onclick: async () => {
          await post('/inbox/read-all'); toast('已全部标为已读'); inboxPage(q);
        } }, '全部标为已读') : null),
      out.items.length ? h('ul', { class: 'inbox', id: 'inbox' }, out.items.map((m) => h('li', { class: m.read_at ? 'read' : 'unread', 'data-kind': m.kind },
        h('div', { class: 'meta' }, h('span', { class: 'tag' + (m.kind === 'warning' ? ' warn' : '') }, KIND[m.kind] || m.kind), ' ',
          fmtTime(m.created_at), m.read_at ? '' : h('span', { class: 'tag bad' }, '未读'),
          m.sms ? h('span', { class: 'muted', title: m.sms.last_error || '' }, ` · ${SMS_STATE[m.sms.state] || m.sms.state}` +
            (m.sms.state === 'pending' && m.sms.attempts ? `（已尝试 ${m.sms.attempts} 次，将重试）` : '')) : null),
        m.link ? h('a', { class: 'title', href: m.link, onclick: (ev) => open(m, ev) }, m.title) : h('strong', {}, m.title),
        m.body ? h('p', {}, m.body) : null))) : h('p', { class: 'empty' }, unread ? '没有未读消息。' : '还没有消息。'));
  } catch (e) {
    mount(h('h1', {}, '消息'), errorBox(e));
  }
}

// ---------- my assessment ----------

// FIX says where each rule is fixed on the record page: a basic field to
// edit, or an entry to add.
const FIX = {
  Q1: 'edit:name', Q2: 'edit:sex', Q3: 'edit:birth_date', Q4: 'edit:id_number', Q5: 'edit:id_number',
  Q6: 'edit:residence_type', Q7: 'edit:ethnicity', Q8: 'edit:phone', Q9: 'edit:responsible_doctor',
  Q10: 'add:exam', Q11: 'add:exam', Q12: 'edit:blood_abo', Q13: 'edit:education', Q14: 'edit:drug_allergies',
  Q15: 'edit:disabilities', usage: 'add:visit',
};

/** fixLink is the one click from a broken rule to what fixes it. */
export function fixLink(recordId, rule) {
  const [how, what] = (FIX[rule] || 'edit:name').split(':');
  return how === 'edit' ? `/#/record/${recordId}?add=edit&field=${what}` : `/#/record/${recordId}?add=${what}`;
}

const gapText = (g) => (g == null ? '—' : `${g > 0 ? '+' : ''}${Number(g).toFixed(1)}`);

/**
 * myAssessmentPage shows a scope's live figures against the targets (as of
 * today or a chosen date), its rank in the county, its trend over published
 * snapshots and its records to fix, nearest fix first.
 */
export async function myAssessmentPage(q, base = '#/my') {
  const asOf = q.get('as_of') || '';
  const level = q.get('level') || '';
  const scope = q.get('scope_code') || '';
  const title = '我的考核';
  const dateForm = h('form', { class: 'toolbar', id: 'as-of-form' },
    field({ name: 'as_of', label: '统计截止日（默认今天）', type: 'date', value: asOf }),
    h('button', { type: 'submit' }, '查看'));
  dateForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = base + qs({ level: level || undefined, scope_code: scope || undefined, as_of: readForm(dateForm, [{ name: 'as_of' }]).as_of });
  });
  mount(h('h1', {}, title), dateForm, h('p', { class: 'loading' }, '正在计算…'));
  let out;
  try {
    out = await get('/assessment' + qs({ as_of: asOf || undefined, level: level || undefined, scope_code: scope || undefined, per_page: 200 }));
  } catch (e) {
    mount(h('h1', {}, title), dateForm, errorBox(e));
    return;
  }
  const fig = Object.fromEntries(out.figures.map((f) => [f.indicator, f]));
  const cards = h('div', { class: 'stats', id: 'my-figures' }, INDICATORS.map((k) => {
    const f = fig[k] || {};
    const below = f.gap != null && f.gap < 0;
    return h('div', { class: 'stat' + (below ? ' warn' : ''), 'data-indicator': k },
      h('div', { class: 'label' }, label(INDICATOR, k)),
      h('div', { class: 'value', 'data-rate': f.rate ?? '' }, pct(f.rate)),
      h('div', { class: 'muted' }, `${f.numerator ?? 0} / ${f.denominator ?? 0} · 目标 ${pct(f.target)} · 差距 ${gapText(f.gap)} 个百分点`),
      h('div', {}, f.rank ? `全县第 ${f.rank} 名 / 共 ${f.ranked} 名` : '暂无排名'),
      f.bottom_three ? h('span', { class: 'tag warn' }, '末三位') : null);
  }));
  const pts = new Map();
  for (const k of INDICATORS) {
    for (const p of (out.trend && out.trend.indicators && out.trend.indicators[k]) || []) {
      const key = `${p.as_of} #${p.snapshot_id}`;
      if (!pts.has(key)) pts.set(key, { label: p.as_of, values: {} });
      pts.get(key).values[k] = p.rate;
    }
  }
  const points = [...pts.values()];
  const rules = out.rules || {};
  const ruleText = (r) => `${rules[r] || RULE[r] || r}`;
  const records = out.records || [];
  mount(h('h1', {}, title, ' · ', out.scope_name || out.scope_code),
    h('p', { class: 'muted' }, `截至 ${out.as_of} 的实时数据（全部在档记录）；修正档案后立即计入，已发布的快照不变。`),
    dateForm, cards,
    out.doctors ? h('section', { 'aria-labelledby': 'h-docs' }, h('h2', { id: 'h-docs' }, '本机构各责任医生'),
      doctorTable(out.doctors, base, asOf)) : null,
    h('section', { 'aria-labelledby': 'h-trend' }, h('h2', { id: 'h-trend' }, '历次考核快照'),
      points.length ? trend(`${out.scope_name || out.scope_code} · 三率趋势`, points, INDICATOR, out.targets)
        : h('p', { class: 'empty' }, '还没有已发布的快照。')),
    h('section', { 'aria-labelledby': 'h-fix' }, h('h2', { id: 'h-fix' }, `需修正的档案（${out.total} 份，问题少的在前）`),
      records.length ? h('ul', { class: 'fixes', id: 'fix-list' }, records.map((r) => h('li', { 'data-record': r.record_id },
        h('span', { class: 'rid' }, r.record_id), ' ', r.details ? r.details.name : '',
        h('ul', {}, [...(r.rules || []), ...(r.has_dynamic_record ? [] : ['usage'])].map((rule) => h('li', {},
          h('span', { class: 'muted' }, rule === 'usage' ? '' : `${rule} `), ruleText(rule), ' ',
          h('a', { class: 'fix', href: fixLink(r.record_id, rule), 'data-rule': rule }, rule === 'usage' ? '补录服务记录' : '去修正'),
          rule === 'usage' && r.usage_reason ? h('p', { class: 'muted usage-reason' }, r.usage_reason) : null)))))) :
        h('p', { class: 'empty' }, '没有需修正的档案。')),
  );
}

function doctorTable(rows, base, asOf) {
  const byDoc = new Map();
  for (const r of rows) {
    if (!byDoc.has(r.scope_code)) byDoc.set(r.scope_code, { code: r.scope_code, name: r.scope_name, ind: {} });
    byDoc.get(r.scope_code).ind[r.indicator] = r;
  }
  return table([
    { label: '责任医生', value: (d) => h('a', { href: base + qs({ level: 'doctor', scope_code: d.code, as_of: asOf || undefined }) }, d.name || d.code) },
    ...INDICATORS.map((k) => ({ label: INDICATOR[k], num: true, value: (d) => (d.ind[k] ? `${pct(d.ind[k].rate)}（${gapText(d.ind[k].gap)}）` : '—') })),
  ], [...byDoc.values()]);
}

// ---------- the subject's cases ----------

const DUE = (c) => {
  switch (c.state) {
    case 'proposed': return '待问责办公室初步核实（尚未计时）';
    case 'accepted': case 'investigating': return `调查期限 ${c.investigation_due}`;
    case 'determined': return c.defence ? `已提交申辩（${c.defended_on}）` : (c.defence_due ? `申辩期限 ${c.defence_due}` : '');
    case 'decided': return `送达期限 ${c.serving_due}`;
    case 'served': return `复核申请期限 ${c.appeal_due}`;
    default: return '';
  }
};

/** myCasesPage lists the cases about the person (or their institution). */
export async function myCasesPage(staff) {
  mount(h('h1', {}, '我的问责'), h('p', { class: 'loading' }, '正在加载…'));
  try {
    // A reviewer sees the county's cases here too; this page is the subject's.
    const insts = domainsOf(staff, 'records_admin');
    const items = (await get('/cases?per_page=200')).items.filter((c) => (c.subject_type === 'staff'
      ? c.subject_code === staff.staff_code : insts.includes(c.subject_code)));
    mount(h('h1', {}, '我的问责'),
      h('p', { class: 'muted' }, '考核结果低于目标时，问责办公室先初步核实；受理后才开始计算调查期限。您可以查看事实和数据、下载决定书、在期限内申请复核。'),
      items.length ? table([
        { label: '编号', value: (c) => h('a', { href: `#/my-cases/${c.id}` }, `#${c.id}`) },
        { label: '对象', value: (c) => c.subject_name || c.subject_code },
        { label: '状态', value: (c) => label(CASE_STATE, c.state) },
        { label: '期限', value: (c) => DUE(c) || '—' },
        { label: '提出日期', value: (c) => c.proposed_on || c.accepted_on || '—' },
      ], items) : h('p', { class: 'empty', id: 'no-cases' }, '没有关于您的问责案件。'));
  } catch (e) {
    mount(h('h1', {}, '我的问责'), errorBox(e));
  }
}

/** myCasePage is one case as its subject sees it. */
export async function myCasePage(id, staff) {
  mount(h('h1', {}, `问责案件 #${id}`), h('p', { class: 'loading' }, '正在加载…'));
  let c; let items = [];
  try {
    c = await get(`/cases/${id}`);
    items = (await get(`/cases/${id}/items`).catch(() => ({ items: [] }))).items || [];
  } catch (e) {
    mount(h('h1', {}, `问责案件 #${id}`), errorBox(e));
    return;
  }
  const facts = [
    ['状态', label(CASE_STATE, c.state)], ['期限', DUE(c) || '—'], ['提出日期', c.proposed_on || '—'], ['受理日期', c.accepted_on || '—'],
    ['谈话', { deputy: '分管领导谈话', principal: '主要领导谈话' }[c.talk_by] || '—'],
    ['处理决定', c.outcome ? (OUTCOME[c.outcome] || c.outcome) : '—'], ['送达日期', c.served_on || '—'], ['复核结果', c.review_result || '—'],
    // 第八条: what the outcome does to the grade, as kept on the case.
    ['考核影响', (c.consequences || []).map((k) => `${k.period} ${k.cap_name || k.cap}`).join('；') || '—'],
  ];
  const decided = ['decided', 'served', 'appealed', 'reviewed', 'archived'].includes(c.state);
  const todayISO = new Date().toISOString().slice(0, 10);
  const appeal = c.state === 'served' && c.appeal_due >= todayISO ? appealForm(c, staff) : null;
  const defence = c.state === 'determined' && !c.defence && c.defence_due && c.defence_due >= todayISO ? defenceForm(c) : null;
  mount(h('h1', {}, `问责案件 #${c.id}`),
    h('dl', { class: 'facts', id: 'case-facts' }, facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
    h('section', { class: 'panel' }, h('h2', {}, '事实与数据'), h('p', { class: 'pre' }, c.facts),
      (c.triggers || []).length ? table([
        { label: '快照', value: (w) => w.snapshot_id },
        { label: '指标', value: (w) => label(INDICATOR, w.indicator) },
        { label: '实际', value: (w) => pct(w.rate), num: true },
        { label: '目标', value: (w) => pct(w.target), num: true },
        { label: '差距', value: (w) => gapText(w.gap), num: true },
        { label: '排名', value: (w) => (w.rank ? `第 ${w.rank} 名${w.last_place ? '（倒数第一）' : ''}` : '—') },
      ], c.triggers) : null),
    decided ? h('p', {}, h('a', { class: 'button secondary', id: 'decision-pdf', href: `/api/v1/cases/${c.id}/decision.pdf`, target: '_blank', rel: 'noopener' }, '查看/下载问责决定书（PDF）')) : null,
    c.findings ? h('section', { class: 'panel' }, h('h2', {}, '认定事实'), h('p', { class: 'pre' }, c.findings)) : null,
    c.defence ? h('section', { class: 'panel' }, h('h2', {}, `书面申辩（${c.defended_on}）`), h('p', { class: 'pre' }, c.defence)) : null,
    defence, appeal,
    items.length ? h('section', { class: 'panel', id: 'my-items' }, h('h2', {}, '整改事项'), items.map((it) => itemBlock(it, staff, () => myCasePage(id, staff)))) : null,
    h('section', { class: 'panel' }, h('h2', {}, '办理过程'), h('ol', { class: 'timeline' }, (c.events || []).map((e) => h('li', {},
      h('span', { class: 'muted' }, fmtTime(e.at)), ' ', label(CASE_STATE, e.to), '：', e.reason)))));
}

function defenceForm(c) {
  const specs = [{ name: 'reason', label: '申辩意见', type: 'textarea', required: true }];
  const f = h('form', { class: 'panel', id: 'defence-form' }, h('h2', {}, `书面申辩（${c.defence_due} 前）`),
    h('p', { class: 'muted' }, '对认定的事实有异议，可在期限内提交书面申辩；申辩提交或期满后才会作出处理决定。'), specs.map(field),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交申辩')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    try {
      await post(`/cases/${c.id}/transitions`, { to: 'determined', ...readForm(f, specs) });
      toast('已提交书面申辩');
      location.reload();
    } catch (e) { showErrors(f, e, FIELD); }
  });
  return f;
}

function appealForm(c) {
  const specs = [{ name: 'reason', label: '复核理由', type: 'textarea', required: true }];
  const f = h('form', { class: 'panel', id: 'appeal-form' }, h('h2', {}, `申请复核（${c.appeal_due} 前）`), specs.map(field),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交复核申请')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    try {
      await post(`/cases/${c.id}/transitions`, { to: 'appealed', ...readForm(f, specs) });
      toast('已提交复核申请');
      location.reload();
    } catch (e) { showErrors(f, e, FIELD); }
  });
  return f;
}

const ITEM_STATE = { open: '整改中', closed: '已报完成，待回头看', verified: '回头看已通过', reopened: '回头看未通过，重新整改' };

function itemBlock(it, staff, reload) {
  const mine = it.owner === staff.staff_code;
  const pending = it.state === 'open' || it.state === 'reopened';
  const files = h('input', { type: 'file', name: 'files', multiple: true, accept: 'image/jpeg,image/png,application/pdf' });
  const specs = [{ name: 'evidence', label: '整改情况说明', type: 'textarea', required: true }];
  const form = mine && pending ? h('form', { class: 'item-close', 'data-item': it.id }, specs.map(field),
    h('div', { class: 'field' }, h('label', {}, '佐证材料（照片或 PDF，每个不超过 10 MB）'), files),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '报告整改完成'))) : null;
  if (form) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        for (const file of files.files) {
          const fd = new FormData();
          fd.append('file', file);
          await api('POST', `/items/${it.id}/evidence`, fd);
        }
        await post(`/items/${it.id}/close`, readForm(form, specs));
        toast('已报告整改完成');
        reload();
      } catch (e) { showErrors(form, e, FIELD); }
    });
  }
  return h('div', { class: 'item', id: `item-${it.id}` },
    h('h3', {}, it.description),
    h('p', {}, `责任人 ${it.owner_name || it.owner} · 期限 ${it.due_date} · `, h('span', { class: 'tag' + (it.overdue ? ' bad' : '') }, ITEM_STATE[it.state] || it.state)),
    it.evidence ? h('p', {}, '整改说明：', it.evidence) : null,
    (it.files || []).length ? h('ul', {}, it.files.map((f) => h('li', {}, h('a', { href: `/api/v1/items/${it.id}/evidence/${f.id}`, target: '_blank', rel: 'noopener' }, f.name),
      h('span', { class: 'muted' }, ` ${Math.ceil(f.size / 1024)} KB · SHA-256 ${f.sha256.slice(0, 12)}…`)))) : null,
    it.verified_at ? h('p', { class: it.state === 'verified' ? 'notice' : 'alert' }, `回头看（${fmtTime(it.verified_at)}）：${ITEM_STATE[it.state]}${it.verify_note ? '，' + it.verify_note : ''}`) : null,
    form);
}

export { SNAPSHOT_KIND };
