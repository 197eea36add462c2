// The reviewer's workspace (DESIGN §7.2–§7.5): the county's cases with
// filters, and a case page with its timeline, deadlines, the investigation
// group, the defence, the decision meeting, the review, items and the
// decision notice; each step is a form asking exactly what it needs.
// Reviewers and review leads act; the bureau sees the same pages read-only.
import { get, post, qs, hasRole } from './api.js';
import { h, mount, field, readForm, toast, table, errorBox, fmtTime, today, showErrors } from './dom.js';
import { CASE_STATE, label } from './labels.js';

const SOURCE = { snapshot: '考核预警', complaint: '投诉举报', inspection: '监督检查', instruction: '上级交办' };
const RESP = { direct: '直接责任', leadership: '领导责任', indirect: '间接责任' };
const SEVERITY = { light: '情节较轻', serious: '情节较重', very_serious: '情节严重' };
export const OUTCOME = {
  criticism_education: '批评教育', admonishing_talk: '诫勉谈话', written_self_examination: '责令书面检查',
  circulated_criticism: '通报批评', suspension: '停职检查', transfer: '调离岗位',
  advise_resign: '劝其引咎辞职', order_resign: '责令辞职', propose_dismissal: '建议免职',
};
const REVIEW_RESULT = { upheld: '维持原决定', modified: '变更处理决定', revoked: '撤销处理决定' };
const CAP = { not_excellent: '不得评为优秀', basically_competent: '基本称职', not_competent: '不称职' };
const ITEM_STATE = { open: '整改中', closed: '已报完成', verified: '回头看已验收', reopened: '重新整改' };
const opts = (m) => Object.entries(m);

const acts = (staff) => hasRole(staff, 'reviewer') || hasRole(staff, 'review_lead');
const leads = (staff) => hasRole(staff, 'review_lead');

/** dueOf is the deadline the case's state runs against. */
function dueOf(c) {
  switch (c.state) {
    case 'accepted': case 'investigating': return c.investigation_due ? `调查期限 ${c.investigation_due}${c.extended ? '（已延长）' : ''}` : '';
    case 'determined': return c.defence ? `已申辩（${c.defended_on}）` : (c.defence_due ? `申辩期限 ${c.defence_due}` : '');
    case 'decided': return c.serving_due ? `送达期限 ${c.serving_due}` : '';
    case 'served': return c.appeal_due ? `复核申请期限 ${c.appeal_due}` : '';
    default: return '';
  }
}

/** caseListPage lists the cases the caller may see, filtered by the query. */
export async function caseListPage(q, staff) {
  const specs = [
    { name: 'state', label: '状态', type: 'select', value: q.get('state') || '', options: opts(CASE_STATE) },
    { name: 'overdue', label: '超期', type: 'select', value: q.get('overdue') || '', options: [['true', '已超期'], ['false', '未超期']] },
    { name: 'subject', label: '对象（工号或机构代码）', value: q.get('subject') || '' },
    { name: 'source', label: '来源', type: 'select', value: q.get('source') || '', options: opts(SOURCE) },
  ];
  const f = h('form', { class: 'toolbar', id: 'case-filter' }, specs.map(field), h('button', { type: 'submit' }, '筛选'));
  f.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/cases' + qs(readForm(f, specs)); });
  const head = [h('h1', {}, acts(staff) ? '问责工作台' : '问责案件（只读）'), f];
  mount(...head, h('p', { class: 'loading' }, '正在加载…'));
  try {
    const params = { per_page: 200 };
    for (const k of ['state', 'overdue', 'subject', 'source']) if (q.get(k)) params[k] = q.get(k);
    const items = (await get('/cases' + qs(params))).items || [];
    const overdue = items.filter((c) => c.overdue).length;
    mount(...head,
      overdue ? h('p', { class: 'alert', role: 'note' }, `${overdue} 个案件已超期。`) : null,
      items.length ? h('div', { id: 'case-list' }, table([
        { label: '编号', value: (c) => h('a', { href: `#/case/${c.id}`, 'data-case': c.id }, `#${c.id}`) },
        { label: '对象', value: (c) => `${c.subject_name || c.subject_code}${c.subject_type === 'institution' ? '（机构）' : ''}` },
        { label: '来源', value: (c) => SOURCE[c.source] || c.source },
        { label: '状态', value: (c) => label(CASE_STATE, c.state) },
        { label: '当前期限', value: (c) => dueOf(c) || '—' },
        { label: '提示', value: (c) => (c.overdue ? h('span', { class: 'tag bad' }, '已超期') : '') },
        { label: '办理', value: (c) => (c.state === 'proposed' && acts(staff) ? h('span', {},
          h('button', { type: 'button', class: 'secondary', 'data-accept': c.id, onclick: () => decideProposal(c, 'accepted', q, staff) }, '受理'), ' ',
          h('button', { type: 'button', class: 'secondary', 'data-dismiss': c.id, onclick: () => decideProposal(c, 'dismissed', q, staff) }, '不予受理')) : '') },
      ], items, { rowClass: (c) => (c.overdue ? 'warn' : null) })) : h('p', { class: 'empty', id: 'case-list' }, '没有符合条件的案件。'));
  } catch (e) {
    mount(...head, errorBox(e));
  }
}

// decideProposal is the quick answer to a proposed case from the list:
// accept after the preliminary check (the investigation clock starts) or
// dismiss, each with its note.
function decideProposal(c, to, q, staff) {
  document.getElementById('proposal-form')?.remove();
  const specs = [{ name: 'reason', label: to === 'accepted' ? '初步核实情况' : '不予受理的理由', type: 'textarea', required: true }];
  const f = h('form', { id: 'proposal-form', class: 'card' }, h('h2', {}, `${to === 'accepted' ? '受理' : '不予受理'}案件 #${c.id}（${c.subject_name || c.subject_code}）`),
    h('p', { class: 'pre' }, c.facts), specs.map(field),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'proposal-confirm' }, '确认'),
      h('button', { type: 'button', class: 'secondary', onclick: () => f.remove() }, '取消')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post(`/cases/${c.id}/transitions`, { to, ...readForm(f, specs) });
      toast(to === 'accepted' ? `已受理案件 #${c.id}` : `案件 #${c.id} 不予受理`);
      caseListPage(q, staff);
    } catch (e) { showErrors(f, e); }
  });
  document.querySelector('main h1').after(f);
  f.querySelector('textarea').focus();
}

/** actionForm is one step: its fields, posted to path; the page reloads. */
function actionForm(id, title, path, specs, extra, reload, note) {
  const f = h('form', { class: 'panel action', id }, h('h3', {}, title), note ? h('p', { class: 'muted' }, note) : null,
    specs.map(field), h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交')));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { ...(extra || {}), ...readForm(f, specs) };
    try {
      await post(path, body);
      toast(`${title}：已提交`);
      reload();
    } catch (e) { showErrors(f, e); }
  });
  return f;
}

const reasonSpec = (lbl) => ({ name: 'reason', label: lbl || '理由', type: 'textarea', required: true, wide: true });

/** actions are the forms the state allows the caller. */
function actions(c, staff, reload) {
  if (!acts(staff)) return [];
  const tr = `/cases/${c.id}/transitions`;
  const step = (id, title, to, specs, note) => actionForm(id, title, tr, specs, { to }, reload, note);
  const out = [];
  const groupForm = () => actionForm('form-group', '组成调查组', `/cases/${c.id}/group`,
    [{ name: 'members', label: '调查组成员工号（至少 2 人，用顿号分隔）', required: true, list: true, value: (c.group || []).join('、') }],
    {}, reload, '调查组成员须为本县问责人员，且不属回避情形（当事人、当事人所在机构人员、投诉人、申报利害关系者）。');
  switch (c.state) {
    case 'proposed':
      out.push(step('form-accept', '受理（初步核实）', 'accepted', [reasonSpec('初步核实情况')]),
        step('form-dismiss', '不予受理', 'dismissed', [reasonSpec('不予受理的理由')]));
      break;
    case 'accepted':
      out.push(groupForm(), step('form-investigate', '立案调查', 'investigating', [reasonSpec('调查安排')]),
        step('form-no-fault', '查无过错结案', 'closed_no_fault', [reasonSpec()]));
      break;
    case 'investigating':
      out.push(groupForm());
      if (!c.extension_requested_by && !c.extended) out.push(step('form-extend', '申请延期（10 个工作日）', 'investigating', [reasonSpec('延期理由')], '延期只能申请一次，由未提出申请的领导小组成员批准。'));
      if (c.extension_requested_by && !c.extended && !c.extension_refused && leads(staff)) {
        out.push(actionForm('form-extension', `审批延期申请（申请人 ${c.extension_requested_by}）`, `/cases/${c.id}/extension`, [
          { name: 'approve', label: '审批意见', type: 'select', required: true, bool: true, options: [['true', '批准'], ['false', '不批准']] },
          { name: 'note', label: '说明', type: 'textarea', wide: true }], {}, reload));
      }
      out.push(step('form-determine', '责任认定（调查组）', 'determined', [
        { name: 'responsibility', label: '责任类型', type: 'select', required: true, options: opts(RESP) },
        { name: 'severity', label: '情节', type: 'select', required: true, options: opts(SEVERITY) },
        { name: 'findings', label: '认定事实', type: 'textarea', required: true, wide: true }, reasonSpec('认定依据')],
      '认定后将通知当事人，当事人可在 5 个工作日内提交书面申辩。'),
      step('form-no-fault', '查无过错结案', 'closed_no_fault', [reasonSpec()]));
      break;
    case 'determined':
      if (leads(staff)) {
        out.push(step('form-decide', '会议研究作出处理决定', 'decided', [
          { name: 'outcome', label: '处理方式', type: 'select', required: true, options: opts(OUTCOME).filter(([k]) => c.subject_type === 'staff' || !['suspension', 'transfer', 'advise_resign', 'order_resign', 'propose_dismissal'].includes(k)) },
          { name: 'meeting.date', label: '会议日期', type: 'date', required: true, value: today() },
          { name: 'meeting.body', label: '会议名称', required: true, placeholder: '党委会、院务会、局务会' },
          { name: 'meeting.members_present', label: '出席的领导小组成员工号（顿号分隔）', required: true, list: true, wide: true },
          { name: 'meeting.deviation_reason', label: '从重或从轻的理由（超出第七条范围时必填）', type: 'textarea', wide: true },
          reasonSpec('决定理由')],
        c.defence || !c.defence_due ? '' : `申辩期至 ${c.defence_due}：当事人提交申辩或期满后方可作出决定。`));
      }
      out.push(step('form-exempt', '免予追究', 'exempted', [reasonSpec('免予追究的理由（不可抗力等）')]));
      break;
    case 'decided':
      out.push(step('form-serve', '送达', 'served', [reasonSpec('送达方式')]));
      break;
    case 'served':
      out.push(step('form-archive', '备案', 'archived', [reasonSpec('备案说明')], `复核申请期至 ${c.appeal_due}，期满后方可备案。`));
      break;
    case 'appealed':
      out.push(step('form-review', '复核决定（由未参与原决定的人员办理）', 'reviewed', [
        { name: 'review_result', label: '复核结果', type: 'select', required: true, options: opts(REVIEW_RESULT) },
        { name: 'outcome', label: '变更后的处理方式（仅变更时）', type: 'select', options: opts(OUTCOME) }, reasonSpec('复核意见')],
      '复核期间原决定不停止执行。'));
      break;
    case 'reviewed':
      out.push(step('form-archive', '备案', 'archived', [reasonSpec('备案说明')]));
      break;
  }
  if (['decided', 'served', 'appealed', 'reviewed'].includes(c.state)) {
    out.push(actionForm('form-item', '新增整改事项', `/cases/${c.id}/items`, [
      { name: 'owner', label: '责任人工号', required: true },
      { name: 'co_responsible', label: '共同责任人工号（顿号分隔）', list: true },
      { name: 'due_date', label: '完成期限', type: 'date', required: true },
      { name: 'followup_months', label: '回头看（完成后几个月，默认 3）', type: 'number', min: 1, max: 12 },
      { name: 'description', label: '整改要求', type: 'textarea', required: true, wide: true },
      { name: 'completion_standard', label: '完成标准', type: 'textarea', wide: true }], {}, reload));
  }
  return out;
}

const kv = (pairs) => h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
  .map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));

/** casePage is one case in the workspace. */
export async function casePage(id, staff) {
  const reload = () => casePage(id, staff);
  let c; let items = [];
  try {
    c = await get(`/cases/${id}`);
    items = (await get(`/cases/${id}/items`).catch(() => ({ items: [] }))).items || [];
  } catch (e) {
    mount(h('h1', {}, `问责案件 #${id}`), errorBox(e));
    return;
  }
  const decided = ['decided', 'served', 'appealed', 'reviewed', 'archived'].includes(c.state);
  const m = c.meeting;
  const forms = actions(c, staff, reload);
  mount(h('h1', {}, `问责案件 #${c.id}：${c.subject_name || c.subject_code}`),
    h('p', {}, h('a', { href: '#/cases' }, '← 返回案件列表')),
    h('div', { id: 'case-page' },
      kv([['状态', h('strong', { id: 'case-state' }, label(CASE_STATE, c.state))], ['当前期限', dueOf(c) || '—'],
        ['来源', SOURCE[c.source] || c.source], ['受理日期', c.accepted_on || '—'],
        ['调查期限', c.investigation_due ? c.investigation_due + (c.extended ? `（已延长，批准人 ${c.extension_approved_by || '—'}）` : '') : ''],
        ['延期申请', c.extension_requested_by ? `${c.extension_requested_by}：${c.extension_reason}${c.extension_refused ? '（未批准）' : ''}` : ''],
        ['超期', c.overdue ? h('span', { class: 'tag bad' }, '已超期') : '']]),
      c.complainant ? h('section', { class: 'panel', id: 'case-complainant' }, h('h2', {}, '投诉人（不向当事人公开）'),
        kv([['姓名', c.complainant.name], ['联系方式', c.complainant.contact], ['工号', c.complainant.staff_code]])) : null,
      h('section', { class: 'panel' }, h('h2', {}, '问题事实'), h('p', { class: 'pre' }, c.facts)),
      h('section', { class: 'panel', id: 'case-group' }, h('h2', {}, '调查组'),
        (c.group || []).length ? h('p', {}, c.group.join('、')) : h('p', { class: 'muted' }, '尚未组成调查组。')),
      c.responsibility ? h('section', { class: 'panel', id: 'case-findings' }, h('h2', {}, '责任认定'),
        kv([['责任类型', RESP[c.responsibility]], ['情节', SEVERITY[c.severity]], ['认定日期', c.determined_on], ['认定事实', c.findings]])) : null,
      c.responsibility ? h('section', { class: 'panel', id: 'case-defence' }, h('h2', {}, '当事人申辩'),
        c.defence ? h('p', { class: 'pre' }, `${c.defended_on}：${c.defence}`) : h('p', { class: 'muted' }, c.defence_due ? `申辩期至 ${c.defence_due}，尚未提交。` : '—')) : null,
      m ? h('section', { class: 'panel', id: 'case-meeting' }, h('h2', {}, '决定会议'),
        kv([['会议', m.body], ['日期', m.date], ['出席成员', (m.members_present || []).join('、')], ['记录人', m.chair],
          [m.deviation === 'heavier' ? '从重理由' : '从轻理由', m.deviation ? m.deviation_reason : '']])) : null,
      c.outcome || c.review_result ? h('section', { class: 'panel', id: 'case-outcome' }, h('h2', {}, '处理结果'),
        kv([['处理方式', OUTCOME[c.outcome] || (c.review_result === 'revoked' ? '已撤销' : '')], ['原处理方式', OUTCOME[c.original_outcome]],
          ['决定日期', c.decided_on], ['送达日期', c.served_on], ['复核', c.review_result ? `${REVIEW_RESULT[c.review_result]}（${c.reviewed_by || '—'}）` : ''],
          ['影响（第八条）', (c.consequences || []).map((k) => `${k.period} ${CAP[k.cap] || k.cap}`).join('；')]])) : null,
      decided ? h('p', {}, h('a', { class: 'button secondary', id: 'decision-pdf', href: `/api/v1/cases/${c.id}/decision.pdf`, target: '_blank', rel: 'noopener' }, '问责决定书（PDF）')) : null,
      items.length ? h('section', { class: 'panel', id: 'case-items' }, h('h2', {}, '整改事项'), table([
        { label: '事项', value: (it) => [it.description, it.completion_standard ? h('div', { class: 'muted' }, `完成标准：${it.completion_standard}`) : null] },
        { label: '责任人', value: (it) => `${it.owner_name || ''}（${it.owner}）${(it.co_responsible || []).length ? '；共同：' + it.co_responsible.join('、') : ''}` },
        { label: '期限', value: (it) => it.due_date }, { label: '状态', value: (it) => ITEM_STATE[it.state] || it.state },
        { label: '回头看', value: (it) => (it.followup_due ? `${it.followup_due} 前` : `完成后 ${it.followup_months || 3} 个月`) }], items),
      acts(staff) ? items.filter((it) => it.state === 'closed').map((it) => actionForm(`form-verify-${it.id}`, `回头看：${it.description}`, `/items/${it.id}/verify`, [
        { name: 'accepted', label: '验收结果', type: 'select', required: true, bool: true, options: [['true', '通过'], ['false', '未通过，重新整改']] },
        { name: 'note', label: '说明', type: 'textarea', wide: true }], {}, reload, `佐证：${it.evidence}`)) : null) : null,
      forms.length ? h('section', { id: 'case-actions' }, h('h2', {}, '办理'), forms) : null,
      h('section', { class: 'panel' }, h('h2', {}, '办理过程'), h('ol', { class: 'timeline', id: 'case-timeline' }, (c.events || []).map((e) => h('li', {},
        h('span', { class: 'muted' }, fmtTime(e.at)), ' ', e.actor, ' · ', label(CASE_STATE, e.to), '：', e.reason))))));
}

/** supervisionPage is the on-time completion rate of items per institution
 * for a month, its circulation PDF, and the expert help visits (定点解剖),
 * which the bureau records. */
export async function supervisionPage(q, staff) {
  const month = q.get('month') || today().slice(0, 7);
  const specs = [{ name: 'month', label: '月份', type: 'month', value: month }];
  const f = h('form', { class: 'toolbar', id: 'supervision-form' }, specs.map(field), h('button', { type: 'submit' }, '查看'));
  f.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/supervision' + qs(readForm(f, specs)); });
  mount(h('h1', {}, '督办与回头看'), f, h('p', { class: 'loading' }, '正在加载…'));
  try {
    const [rates, visits] = await Promise.all([get('/supervision' + qs({ month })), get('/help-visits')]);
    const visitSpecs = [
      { name: 'scope_type', label: '范围', type: 'select', required: true, options: [['institution', '机构'], ['township', '乡镇'], ['doctor', '责任医生']] },
      { name: 'scope_code', label: '代码', required: true },
      { name: 'visited_on', label: '日期', type: 'date', required: true, value: today() },
      { name: 'experts', label: '专家（顿号分隔）', required: true, list: true, wide: true },
      { name: 'findings', label: '发现的问题', type: 'textarea', required: true, wide: true },
      { name: 'items', label: '整改事项（每行一条）', type: 'textarea', list: true, wide: true }];
    mount(h('h1', {}, '督办与回头看'), f,
      h('section', { class: 'panel', id: 'on-time' }, h('h2', {}, `${month} 督办事项按期完成率`),
        (rates.items || []).length ? table([
          { label: '机构', value: (r) => r.institution_name || r.institution_code },
          { label: '到期事项', num: true, value: (r) => String(r.due) },
          { label: '按期完成', num: true, value: (r) => String(r.on_time) },
          { label: '按期完成率', num: true, value: (r) => (r.rate === null ? '—' : `${r.rate.toFixed(1)}%`) }], rates.items) : h('p', { class: 'empty' }, '本月没有到期的督办事项。'),
        h('p', {}, h('a', { class: 'button secondary', href: `/api/v1/supervision${qs({ month, format: 'pdf' })}` }, '下载月度通报（PDF）'))),
      h('section', { class: 'panel', id: 'help-visits' }, h('h2', {}, '定点解剖'),
        (visits.items || []).length ? table([
          { label: '日期', value: (v) => v.visited_on }, { label: '范围', value: (v) => `${v.scope_type} ${v.scope_code}` },
          { label: '专家', value: (v) => (v.experts || []).join('、') }, { label: '发现', value: (v) => v.findings },
          { label: '整改事项', value: (v) => (v.items || []).join('；') }], visits.items) : h('p', { class: 'empty' }, '还没有定点解剖记录。')),
      hasRole(staff, 'bureau') ? actionForm('form-help-visit', '记录定点解剖', '/help-visits', visitSpecs, {}, () => supervisionPage(q, staff)) : null);
  } catch (e) {
    mount(h('h1', {}, '督办与回头看'), f, errorBox(e));
  }
}
