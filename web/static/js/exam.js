// The health examination table (健康体检表) on the desk: one exam, section
// by section, each saved as a draft (暂存) and finished later (完成本部分).
// The sections, items, code lists, units and ranges come from the server
// (GET /exam-form), so the page, the API and the printed form agree.
import { api, get } from './api.js';
import { h, mount, showErrors, clearErrors, toast, errorBox } from './dom.js';

const STATE = { draft: '暂存', complete: '已完成' };
const stateTag = (s) => h('span', { class: 'tag ' + (s === 'complete' ? 'ok' : s === 'draft' ? 'warn' : 'info'), 'data-state': s || 'none' },
  STATE[s] || '未填写');

let formCache = null;
/** examForm is the form's description, loaded once. */
export async function examForm() {
  if (!formCache) formCache = get('/exam-form').then((f) => f.sections).catch((e) => { formCache = null; throw e; });
  return formCache;
}

const num = (x) => (Number.isInteger(x) ? String(x) : String(x));

/** answerText is an answer as a person reads it (code labels, number and unit). */
export function answerText(f, v) {
  if (v === undefined || v === null || v === '') return '';
  const code = (c) => (f.codes || []).find((x) => x.code === c)?.label || c;
  switch (f.kind) {
    case 'choice': return code(v);
    case 'multi': return (v || []).map(code).join('、');
    case 'number': case 'derived': return `${num(v)}${f.unit ? ' ' + f.unit : ''}`;
    case 'texts': return (v || []).map((s, i) => `${i + 1}. ${s}`).join('；');
    case 'rows':
      if (!v.length) return '无';
      return v.map((r, i) => `${i + 1}. ` + (f.columns || []).map((c) => (r[c.key] != null ? `${c.label} ${answerText(c, r[c.key])}` : ''))
        .filter(Boolean).join('，')).join('\n');
    default: return String(v);
  }
}

/** valueOf is an item's answer in an exam: column items at the top level. */
const valueOf = (exam, s, f) => (f.column ? exam[f.key] : ((exam.sections || {})[s.key] || {})[f.key]);

/** errName is the name an error of the item carries (and its box's data-field). */
const errName = (s, f) => (f.column ? f.key : `${s.key}.${f.key}`);

// ---------- controls ----------

let seq = 0;
const uid = (p) => `x-${p.replace(/[^a-z0-9]/gi, '-')}-${++seq}`;

function control(s, f, value) {
  const name = errName(s, f);
  const id = uid(name);
  const hint = [f.unit, f.min != null ? `${f.min}–${f.max}` : '', f.note].filter(Boolean).join('；');
  const lab = h('label', { for: id }, f.label, f.required ? h('span', { class: 'muted' }, '（完成时必填）') : null);
  const box = (ctl, wide) => h('div', { class: 'field' + (wide ? ' wide' : ''), 'data-field': name, 'data-key': f.key },
    lab, ctl, hint ? h('span', { class: 'hint' }, hint) : null);
  switch (f.kind) {
    case 'choice':
      return box(h('select', { id, name: f.key },
        h('option', { value: '' }, '— 未填 —'),
        f.codes.map((c) => h('option', { value: c.code, selected: value === c.code }, `${c.code} ${c.label}`))));
    case 'multi': {
      const set = new Set(value || []);
      return h('fieldset', { class: 'field wide', 'data-field': name, 'data-key': f.key },
        h('legend', {}, f.label, f.required ? h('span', { class: 'muted' }, '（完成时必填）') : null),
        h('div', { class: 'choice' }, f.codes.map((c) => h('label', {},
          h('input', { type: 'checkbox', name: f.key, value: c.code, checked: set.has(c.code) }), `${c.code} ${c.label}`))),
        hint ? h('span', { class: 'hint' }, hint) : null);
    }
    case 'number':
      return box(h('input', { id, name: f.key, type: 'number', inputmode: 'decimal', min: f.min, max: f.max,
        step: f.integer ? 1 : 'any', value: value ?? '' }));
    case 'date':
      return box(h('input', { id, name: f.key, type: 'date', value: value || '' }));
    case 'texts': {
      const ta = h('textarea', { id, name: f.key, rows: 3 });
      ta.value = (value || []).join('\n');
      return h('div', { class: 'field wide', 'data-field': name, 'data-key': f.key }, lab, ta, h('span', { class: 'hint' }, '每行一项'));
    }
    case 'rows': return rowsControl(s, f, value);
    case 'derived':
      return h('div', { class: 'field', 'data-key': f.key }, h('span', { class: 'label' }, f.label),
        h('output', { name: f.key }, value != null ? answerText(f, value) : '由身高、体重计算'));
    default:
      return box(h('input', { id, name: f.key, type: 'text', maxlength: 500, value: value || '' }), f.key.endsWith('note') || f.key.endsWith('other'));
  }
}

// A table item (medication, hospital stays): a row of inputs per row, rows
// added and removed on the page.
function rowsControl(s, f, value) {
  const body = h('div', { class: 'rows' });
  const addRow = (r = {}) => {
    const row = h('div', { class: 'grid row-item', 'data-row': '' },
      f.columns.map((c) => {
        const id = uid(`${f.key}-${c.key}`);
        let ctl;
        if (c.kind === 'choice') {
          ctl = h('select', { id, 'data-col': c.key }, h('option', { value: '' }, '—'),
            c.codes.map((x) => h('option', { value: x.code, selected: r[c.key] === x.code }, x.label)));
        } else {
          ctl = h('input', { id, 'data-col': c.key, type: c.kind === 'date' ? 'date' : 'text', value: r[c.key] || '' });
        }
        return h('div', { class: 'field' }, h('label', { for: id }, c.label, c.required ? h('span', { class: 'muted' }, '（必填）') : null), ctl);
      }),
      h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, '删除此行'));
    body.append(row);
  };
  (value || []).forEach(addRow);
  return h('fieldset', { class: 'field wide', 'data-field': errName(s, f), 'data-key': f.key, 'data-rows': '' },
    h('legend', {}, f.label), body,
    h('button', { type: 'button', class: 'secondary', onclick: () => addRow() }, `＋ 添加${f.label}`),
    h('span', { class: 'hint' }, '没有则不添加，标记“已完成”即为“无”'));
}

/** readSection gathers a section form's answers; a cleared item is null (the PATCH clears it). */
function readSection(form, s) {
  const out = {};
  for (const f of s.fields) {
    if (f.kind === 'derived') continue;
    const box = form.querySelector(`[data-key="${f.key}"]`);
    if (!box) continue;
    let v = null;
    switch (f.kind) {
      case 'multi': {
        const xs = [...box.querySelectorAll('input:checked')].map((x) => x.value);
        v = xs.length ? xs : null;
        break;
      }
      case 'number': {
        const x = box.querySelector('input').value.trim();
        v = x === '' ? null : Number(x);
        break;
      }
      case 'texts': {
        const xs = box.querySelector('textarea').value.split('\n').map((x) => x.trim()).filter(Boolean);
        v = xs.length ? xs : null;
        break;
      }
      case 'rows': {
        const rows = [...box.querySelectorAll('[data-row]')].map((r) => {
          const o = {};
          r.querySelectorAll('[data-col]').forEach((c) => { if (c.value.trim()) o[c.dataset.col] = c.value.trim(); });
          return o;
        }).filter((o) => Object.keys(o).length);
        v = rows;
        break;
      }
      default: {
        const x = box.querySelector('input, select').value.trim();
        v = x === '' ? null : x;
      }
    }
    out[f.key] = v;
  }
  return out;
}

function sectionView(exam, s) {
  const rows = s.fields.map((f) => [f.label, answerText(f, valueOf(exam, s, f))]).filter(([, a]) => a);
  return rows.length ? h('dl', { class: 'facts' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', { style: 'white-space: pre-line' }, v))))
    : h('p', { class: 'empty' }, '未填写。');
}

// ---------- the page ----------

/** examPage shows one exam section by section; a writer edits each section in place. */
export async function examPage(recordId, examId, canWrite) {
  const base = `/records/${encodeURIComponent(recordId)}/exams/${encodeURIComponent(examId)}`;
  const back = h('p', {}, h('a', { href: '#/record/' + recordId }, '← 返回档案'));
  mount(h('h1', {}, '健康体检表'), back, h('p', { class: 'loading' }, '正在加载…'));
  let sections; let exam;
  try {
    [sections, exam] = await Promise.all([examForm(), get(base)]);
  } catch (e) {
    mount(h('h1', {}, '健康体检表'), back, errorBox(e));
    return;
  }
  const head = h('div', { class: 'record-head' }, h('h1', {}, '健康体检表 ', h('span', { class: 'muted' }, exam.service_date)),
    h('span', { id: 'exam-state' }, stateTag(exam.state)));
  const toc = h('nav', { class: 'actions', 'aria-label': '体检表各部分' }, sections.map((s) =>
    h('a', { class: 'button secondary', href: `#/record/${recordId}/exam/${examId}`, 'data-goto': s.key,
      onclick: (ev) => { ev.preventDefault(); document.getElementById('sec-' + s.key)?.scrollIntoView(); } },
    s.label, ' ', stateTag((exam.section_states || {})[s.key]))));
  const panels = sections.map((s) => sectionPanel(s));

  function sectionPanel(s) {
    const st = (exam.section_states || {})[s.key];
    const panel = h('section', { class: 'panel', id: 'sec-' + s.key, 'data-section': s.key, 'aria-labelledby': 'h-sec-' + s.key });
    const title = h('h2', { id: 'h-sec-' + s.key, tabindex: '-1' }, s.label, ' ', stateTag(st));
    if (!canWrite) {
      panel.append(title, sectionView(exam, s));
      return panel;
    }
    const form = h('form', { novalidate: true, 'data-section-form': s.key },
      h('div', { class: 'grid' }, s.fields.map((f) => control(s, f, valueOf(exam, s, f)))),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'draft', class: 'secondary' }, '暂存'),
        h('button', { type: 'submit', value: 'complete' }, '完成本部分')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const state = ev.submitter?.value || 'draft';
      const buttons = form.querySelectorAll('button[type=submit]');
      buttons.forEach((b) => { b.disabled = true; });
      try {
        exam = await api('PATCH', `${base}/sections/${s.key}`, { values: readSection(form, s), state });
        toast(`已保存：${s.label}（${STATE[state]}）`);
        const fresh = sectionPanel(s);
        panel.replaceWith(fresh);
        panels[panels.indexOf(panel)] = fresh;
        document.getElementById('exam-state').replaceChildren(stateTag(exam.state));
        toc.querySelector(`[data-goto="${s.key}"] .tag`)?.replaceWith(stateTag(exam.section_states[s.key]));
        fresh.querySelector('h2').focus();
      } catch (e) {
        showErrors(form, e);
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
    panel.append(title, form);
    return panel;
  }

  mount(back, head,
    h('p', { class: 'muted' }, '依据《国家基本公共卫生服务规范（第三版）》健康体检表。各部分可先暂存，之后补全并标记“已完成”；全部完成后体检表即为已完成。'),
    h('p', {}, h('a', { class: 'button secondary', id: 'exam-pdf', href: `/api/v1${base}/form.pdf`, target: '_blank', rel: 'noopener' }, '打印体检表（PDF）')),
    toc, ...panels);
}

/**
 * examHistory names the record history's exam changes ("exam 12
 * lifestyle.smoking_status") as the form does, answers by their labels.
 */
export async function examHistory() {
  const sections = await examForm();
  return (key, c) => {
    const m = /^exam (\d+) ([a-z_]+)\.([a-z_]+)$/.exec(key);
    const s = m && sections.find((x) => x.key === m[2]);
    if (!s) return `${key}：${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
    if (m[3] === 'state') return `体检表 #${m[1]} ${s.label}：${STATE[c.before] || '未填写'} → ${STATE[c.after] || c.after}`;
    const f = s.fields.find((x) => x.key === m[3]);
    const show = (v) => (v == null ? '（空）' : (f ? answerText(f, v) : String(v)) || '（空）');
    return `体检表 #${m[1]} ${s.label}·${f ? f.label : m[3]}：${show(c.before)} → ${show(c.after)}`;
  };
}
