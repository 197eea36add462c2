// The responsible doctor's filing queue (归档): the entries home-visit staff
// and other doctors wrote on the doctor's records, filed one or a batch at
// a time. Filing changes no entry; a wrong entry is corrected on the record
// page (a new version).
import { get, post, qs } from './api.js';
import { h, mount, toast, table, errorBox, fmtTime } from './dom.js';
import { KIND, label } from './labels.js';

let badgeTimer;

/** filingBadge puts the queue's length on the nav link to href. */
export function filingBadge(href) {
  const link = document.querySelector(`#nav a[href="${href}"]`);
  if (!link) return;
  let badge = link.querySelector('.badge');
  if (!badge) {
    badge = h('span', { class: 'badge', id: 'filing-count', hidden: true }, '');
    link.append(' ', badge);
  }
  const refresh = async () => {
    try {
      const out = await get('/filing/queue' + qs({ per_page: 1 }));
      const n = out.total || 0;
      badge.textContent = n ? String(n) : '';
      badge.hidden = !n;
      link.setAttribute('aria-label', n ? `待归档，${n} 条` : '待归档，无');
    } catch (e) { /* offline: keep the last count */ }
  };
  refresh();
  clearInterval(badgeTimer);
  badgeTimer = setInterval(refresh, 60000);
  return refresh;
}

/** filingPage lists the caller's queue with a checkbox per entry and files the ticked ones. */
export async function filingPage(q, onFiled) {
  const page = Number(q.get('page')) || 1;
  let out;
  try {
    out = await get('/filing/queue' + qs({ page, per_page: 50 }));
  } catch (e) {
    mount(h('h1', {}, '待归档'), errorBox(e));
    return;
  }
  const items = out.items || [];
  const boxes = new Map();
  const all = h('input', { type: 'checkbox', id: 'filing-all', 'aria-label': '全选本页',
    onchange: () => { for (const b of boxes.values()) b.checked = all.checked; } });
  const fileBtn = h('button', { type: 'button', id: 'filing-submit' }, '归档所选');
  fileBtn.addEventListener('click', async () => {
    const ids = [...boxes].filter(([, b]) => b.checked).map(([id]) => id);
    if (!ids.length) { toast('请先勾选要归档的服务记录'); return; }
    fileBtn.disabled = true;
    try {
      const res = await post('/filing', { entry_ids: ids });
      toast(`已归档 ${res.filed.length} 条` + (res.already_filed.length ? `（${res.already_filed.length} 条此前已归档）` : '') + `，剩余 ${res.queue} 条`);
      if (onFiled) onFiled();
      await filingPage(q, onFiled);
    } catch (e) {
      toast(e.message);
      fileBtn.disabled = false;
    }
  });
  mount(
    h('h1', {}, `待归档（${out.total} 条）`),
    h('p', { class: 'muted' }, '入户随访人员和其他医生在您负责的档案上填写的服务记录，由责任医生审核后归档。归档不改动记录内容；记录有误请在档案页更正（保留原版本）。'),
    items.length ? [
      table([
        { label: all, value: (it) => { const b = h('input', { type: 'checkbox', 'aria-label': `选择服务记录 ${it.entry_id}`, 'data-entry': it.entry_id }); boxes.set(it.entry_id, b); return b; } },
        { label: '档案', value: (it) => h('a', { href: `#/record/${it.record_id}` }, it.name || it.record_id) },
        { label: '类别', value: (it) => label(KIND, it.kind) },
        { label: '服务日期', value: (it) => it.service_date },
        { label: '填写人', value: (it) => it.written_by_name || it.written_by },
        { label: '提交时间', value: (it) => fmtTime(it.queued_at) },
        { label: '服务规范', value: (it) => (it.conforming ? '符合' : h('span', { class: 'tag warn' }, '不符合（不计入使用率）')) },
      ], items),
      h('p', {}, fileBtn),
      out.total > page * 50 ? h('p', {}, h('a', { href: '#/filing' + qs({ page: page + 1 }) }, '下一页')) : null,
    ] : h('p', { class: 'empty' }, '没有待归档的服务记录。'),
  );
}
