// The outside requester's workspace (DESIGN §6.2): file a request to read a
// record, follow it through approval and the resident's consent, and open
// the record while the grant is active. A requester has no standing access:
// no search, no other page.
import { get, post, qs } from './api.js';
import { h, mount, field, readForm, showErrors, clearErrors, toast, errorBox, fmtTime } from './dom.js';
import { SECTION, REQUEST_STATUS, CONSENT_METHOD, FIELD, label } from './labels.js';

/** The sections a grant may cover, in the record page's order. */
export const GRANT_SECTIONS = ['basic', 'exams', 'programmes', 'entries'];

const STATE_HELP = {
  submitted: '等待档案所在机构审批。',
  approved: '机构已批准，正在征求居民或监护人的意见；同意后授权生效。',
  active: '授权生效：可在有效期内查阅下列内容。',
  expired: '授权已到期。如仍需查阅，请重新申请。',
  revoked: '授权已被撤销。',
  rejected: '申请被驳回。',
  refused: '居民或监护人不同意。',
};

/** myRequestsPage lists the requester's requests with a form to file one. */
export async function myRequestsPage(q) {
  const state = q.get('status') || '';
  mount(h('h1', {}, '调阅申请'), h('p', { class: 'loading' }, '正在加载…'));
  let out;
  try {
    out = await get('/access-requests' + qs({ state, per_page: 200 }));
  } catch (e) {
    mount(h('h1', {}, '调阅申请'), errorBox(e));
    return;
  }
  const specs = [
    { name: 'record_id', label: '档案编号', required: true, inputmode: 'numeric', maxlength: 16, hint: '16 位，由居民或转诊单提供' },
    { name: 'purpose', label: '用途', type: 'textarea', required: true, wide: true, hint: '如：转诊至本院心内科，需既往体检结果' },
    { name: 'days', label: '期限（天）', type: 'number', required: true, min: 1, max: 90, value: 30, narrow: true, hint: '1–90 天，自居民同意时起算' },
  ];
  const sections = h('fieldset', { class: 'field wide', 'data-field': 'sections' }, h('legend', {}, '查阅内容', h('span', { class: 'muted' }, '（必填，只申请需要的部分）')),
    h('div', { class: 'choice' }, GRANT_SECTIONS.map((s) => h('label', {}, h('input', { type: 'checkbox', name: 'section', value: s }), label(SECTION, s)))));
  const form = h('form', { class: 'panel', novalidate: true, id: 'request-form' }, h('h2', {}, '新的调阅申请'),
    h('div', { class: 'grid' }, specs.map(field), sections),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交申请')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { ...readForm(form, specs), sections: [...form.querySelectorAll('input[name=section]:checked')].map((c) => c.value) };
    try {
      const r = await post('/access-requests', body);
      toast(`已提交申请 #${r.id}`);
      location.hash = '#/my-requests/' + r.id;
    } catch (e) {
      showErrors(form, e, FIELD);
    }
  });
  const filters = [['', '全部'], ['submitted', '待审批'], ['approved', '待居民同意'], ['active', '授权生效'], ['expired', '已过期'],
    ['rejected', '已驳回'], ['refused', '居民拒绝'], ['revoked', '已撤销']];
  mount(h('h1', {}, '调阅申请'),
    h('p', { class: 'muted' }, '查阅外单位居民的健康档案须经档案所在机构批准，并经居民或监护人同意；授权只覆盖申请的内容和期限。'),
    form,
    h('h2', {}, '我的申请'),
    h('div', { class: 'actions', role: 'group', 'aria-label': '按状态筛选' }, filters.map(([v, t]) =>
      h('a', { class: 'button ' + (v === state ? '' : 'secondary'), href: '#/my-requests' + qs({ status: v }), 'aria-current': v === state ? 'page' : null }, t))),
    out.items.length ? h('div', { id: 'my-requests' }, out.items.map((r) => summaryCard(r))) : h('p', { class: 'empty' }, '没有申请。'));
}

function summaryCard(r) {
  return h('section', { class: 'panel', 'data-request': r.id, 'data-state': r.state },
    h('h3', {}, h('a', { href: '#/my-requests/' + r.id }, `申请 #${r.id}`), ' ', stateTag(r.state)),
    h('p', {}, `档案 ${r.record_id} · ${(r.sections || []).map((s) => label(SECTION, s)).join('、')} · ${r.days} 天 · 提交于 ${fmtTime(r.submitted_at)}`),
    h('p', { class: 'muted' }, STATE_HELP[r.state] || ''));
}

function stateTag(st) {
  const cls = st === 'active' ? 'ok' : (st === 'submitted' || st === 'approved' ? 'warn' : 'info');
  return h('span', { class: 'tag ' + cls }, label(REQUEST_STATUS, st));
}

/** myRequestPage follows one request: its state, what it covers and its history. */
export async function myRequestPage(id) {
  const back = h('p', {}, h('a', { href: '#/my-requests' }, '← 返回我的申请'));
  let r;
  try {
    r = await get('/access-requests/' + id);
  } catch (e) {
    mount(h('h1', {}, `申请 #${id}`), back, errorBox(e));
    return;
  }
  const c = r.consent;
  const covered = new Set(r.sections || []);
  mount(h('h1', {}, `申请 #${r.id} `, stateTag(r.state)), back,
    h('p', { class: r.state === 'active' ? 'notice ok' : 'notice' }, STATE_HELP[r.state] || ''),
    h('dl', { class: 'facts' }, [
      ['档案编号', h('span', { class: 'rid' }, r.record_id)], ['用途', r.purpose], ['期限', `${r.days} 天`],
      ['提交时间', fmtTime(r.submitted_at)], ['生效时间', r.activated_at ? fmtTime(r.activated_at) : '未生效'],
      ['有效期至', r.expires_at ? fmtTime(r.expires_at) : '—'],
      ['居民意见', c ? `${c.given ? '同意' : '拒绝'}（${[c.relationship, label(CONSENT_METHOD, c.method)].filter(Boolean).join('，')}）` : '未登记'],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v || '—')))),
    h('section', { class: 'panel', id: 'grant-scope' }, h('h2', {}, '授权范围'),
      h('ul', {}, GRANT_SECTIONS.map((s) => h('li', { 'data-section': s }, `${label(SECTION, s)}：`,
        covered.has(s) ? h('strong', {}, '已申请') : h('span', { class: 'muted' }, '不在申请范围内，不能查阅')))),
      r.state === 'active' ? h('p', {}, h('a', { class: 'button', id: 'open-record', href: '#/record/' + r.record_id }, '查阅档案')) : null),
    h('section', { class: 'panel' }, h('h2', {}, '处理经过'),
      h('ol', { id: 'request-history' }, (r.transitions || []).map((t) => h('li', {},
        `${fmtTime(t.at)}　${label(REQUEST_STATUS, t.from) || '—'} → ${label(REQUEST_STATUS, t.to)}`,
        t.reason ? `（${t.reason}）` : '')))));
}
