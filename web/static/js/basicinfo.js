// The personal basic information table (个人基本信息表) on the desk: its
// controls for the new-record and edit forms, reading them back into the
// API's fields, and the answers as the record page shows them. Every item
// tells "not recorded" (未填写) from "none" (无): nothing chosen is not
// recorded; none is the list's own 无 answer, or, for the lists of items
// (past diseases, operations, trauma, transfusions, hereditary disease),
// the choice 无.
import { h } from './dom.js';
import { BASIC_CODES } from './labels.js';

const SINGLE = [['blood_abo', '血型（ABO）'], ['blood_rh', 'Rh 血型'], ['education', '文化程度'], ['occupation', '职业'],
  ['marital_status', '婚姻状况']];
const LIVING = [['kitchen_exhaust', '厨房排风设施'], ['fuel', '燃料类型'], ['water', '饮水'], ['toilet', '厕所'],
  ['livestock_pen', '禽畜栏']];
// Lists of codes, with the "other" text that goes with their 其他 answer.
const MULTI = [['payment_types', '医疗费用支付方式', 'payment_other'], ['drug_allergies', '药物过敏史', 'drug_allergy_other'],
  ['exposures', '暴露史', null]];
const FAMILY = [['family_father', '父亲'], ['family_mother', '母亲'], ['family_siblings', '兄弟姐妹'], ['family_children', '子女']];
const EVENTS = [['operations', '手术', '名称'], ['traumas', '外伤', '名称'], ['transfusions', '输血', '原因']];

/** BASIC_FIELDS are the API's field names of the table. */
export const BASIC_FIELDS = [...SINGLE.map((x) => x[0]), 'payment_types', 'payment_other', 'drug_allergies', 'drug_allergy_other',
  'exposures', 'past_diseases', 'operations', 'traumas', 'transfusions', ...FAMILY.map((x) => x[0]), 'family_history_other',
  'hereditary_diseases', 'disabilities', 'disability_other', ...LIVING.map((x) => x[0])];

let seq = 0;
const uid = (name) => `bi-${name}-${++seq}`;

function single(name, text, value) {
  const id = uid(name);
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: id }, text),
    h('select', { id, name }, h('option', { value: '' }, '— 未填写 —'),
      BASIC_CODES[name].map(([c, l]) => h('option', { value: c, selected: c === (value || '') }, l))));
}

function checks(name, text, values, other, otherValue) {
  const have = new Set(values || []);
  return h('fieldset', { class: 'field wide', 'data-field': name },
    h('legend', {}, text),
    h('div', { class: 'choice' }, BASIC_CODES[name].map(([c, l]) =>
      h('label', {}, h('input', { type: 'checkbox', name, value: c, checked: have.has(c) }), l))),
    other ? h('input', { name: other, 'aria-label': text + '：其他', placeholder: '选“其他”时请注明', value: otherValue || '',
      'data-field': other }) : null,
    h('span', { class: 'hint' }, '都不选即“未填写”；没有请选“无”'));
}

// state is the 未填写 / 无 / 有 choice of a list of items.
function state(name, items) {
  const id = uid(name + '-state');
  const v = items == null ? '' : (items.length ? 'some' : 'none');
  return h('select', { id, name: name + '.state', 'aria-label': '填写情况' },
    [['', '未填写'], ['none', '无'], ['some', '有']].map(([c, l]) => h('option', { value: c, selected: c === v }, l)));
}

function pastDiseases(items) {
  const by = new Map((items || []).map((p) => [p.code, p]));
  return h('fieldset', { class: 'field wide', 'data-field': 'past_diseases' },
    h('legend', {}, '既往史：疾病（确诊时间）'), state('past_diseases', items),
    h('div', { class: 'choice diseases' }, BASIC_CODES.past_diseases.map(([c, l]) => h('span', { class: 'disease' },
      h('label', {}, h('input', { type: 'checkbox', name: 'past_diseases', value: c, checked: by.has(c) }), l),
      h('input', { type: 'month', name: 'past_diseases.' + c, 'aria-label': l + ' 确诊时间', value: by.get(c)?.diagnosed_on?.slice(0, 7) || '' }),
      ['6', '11', '12', '13'].includes(c) ? h('input', { name: 'past_diseases.' + c + '.note', 'aria-label': l + ' 名称',
        placeholder: '名称', value: by.get(c)?.note || '' }) : null))));
}

function events(name, text, what, items) {
  const id = uid(name);
  return h('div', { class: 'field wide', 'data-field': name },
    h('label', { for: id }, '既往史：' + text), state(name, items),
    h('textarea', { id, name, rows: 2, placeholder: `每行一项：${what} 日期（YYYY-MM 或 YYYY-MM-DD）` },
      (items || []).map((e) => `${e.name} ${e.date}`).join('\n')));
}

/** basicInfoFields builds the table's controls, filled from a record. */
export function basicInfoFields(b = {}) {
  const hid = uid('hereditary');
  return [
    h('fieldset', {}, h('legend', {}, '个人基本信息表'),
      h('div', { class: 'grid' }, SINGLE.map(([n, t]) => single(n, t, b[n])),
        MULTI.map(([n, t, o]) => checks(n, t, b[n], o, o && b[o])))),
    h('fieldset', {}, h('legend', {}, '既往史'),
      h('div', { class: 'grid' }, pastDiseases(b.past_diseases), EVENTS.map(([n, t, w]) => events(n, t, w, b[n])))),
    h('fieldset', {}, h('legend', {}, '家族史与遗传病史'),
      h('div', { class: 'grid' }, FAMILY.map(([n, t]) => checks(n, '家族史：' + t, b[n])),
        h('div', { class: 'field', 'data-field': 'family_history_other' }, h('label', { for: hid + 'o' }, '家族史：其他疾病'),
          h('input', { id: hid + 'o', name: 'family_history_other', value: b.family_history_other || '' })),
        h('div', { class: 'field wide', 'data-field': 'hereditary_diseases' }, h('label', { for: hid }, '遗传病史'),
          state('hereditary_diseases', b.hereditary_diseases),
          h('input', { id: hid, name: 'hereditary_diseases', placeholder: '疾病名称，多个用顿号分开',
            value: (b.hereditary_diseases || []).join('、') })))),
    h('fieldset', {}, h('legend', {}, '残疾情况与生活环境'),
      h('div', { class: 'grid' }, checks('disabilities', '残疾情况', b.disabilities, 'disability_other', b.disability_other),
        LIVING.map(([n, t]) => single(n, t, b[n])))),
  ];
}

const parts = (v) => String(v || '').split(/[、，,;；\n]+/).map((x) => x.trim()).filter(Boolean);

/**
 * readBasicInfo reads the table's controls into the API's fields; b is the
 * record's table, whose full diagnosis dates a month control keeps.
 */
export function readBasicInfo(form, b = {}) {
  const was = new Map((b.past_diseases || []).map((p) => [p.code, p.diagnosed_on || '']));
  const fd = new FormData(form);
  const out = {};
  for (const [n] of [...SINGLE, ...LIVING]) out[n] = String(fd.get(n) || '');
  for (const [n, , o] of MULTI) {
    const v = fd.getAll(n).map(String);
    out[n] = v.length ? v : null;
    if (o) out[o] = String(fd.get(o) || '').trim();
  }
  for (const [n] of FAMILY) {
    const v = fd.getAll(n).map(String);
    out[n] = v.length ? v : null;
  }
  out.family_history_other = String(fd.get('family_history_other') || '').trim();
  const dv = fd.getAll('disabilities').map(String);
  out.disabilities = dv.length ? dv : null;
  out.disability_other = String(fd.get('disability_other') || '').trim();
  // Items entered count as "有" even when the choice was left at 未填写.
  const listOf = (name, some) => {
    const st = fd.get(name + '.state');
    if (st === 'none') return [];
    const v = some();
    return st === 'some' || v.length ? v : null;
  };
  out.past_diseases = listOf('past_diseases', () => fd.getAll('past_diseases').map((c) => {
    let on = String(fd.get('past_diseases.' + c) || '');
    if (on && (was.get(String(c)) || '').startsWith(on)) on = was.get(String(c));
    const p = { code: String(c), diagnosed_on: on };
    const note = String(fd.get('past_diseases.' + c + '.note') || '').trim();
    if (note) p.note = note;
    return p;
  }));
  for (const [n] of EVENTS) {
    out[n] = listOf(n, () => String(fd.get(n) || '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const m = l.match(/^(.*?)\s+(\d{4}-\d{2}(?:-\d{2})?)$/);
      return m ? { name: m[1].trim(), date: m[2] } : { name: l, date: '' };
    }));
  }
  out.hereditary_diseases = listOf('hereditary_diseases', () => parts(fd.get('hereditary_diseases')));
  return out;
}

/** changedBasicInfo keeps the fields whose answer differs from the record's. */
export function changedBasicInfo(next, b) {
  const out = {};
  const norm = (v) => JSON.stringify(v ?? null);
  for (const k of BASIC_FIELDS) {
    const was = b[k] ?? (typeof next[k] === 'string' ? '' : null);
    if (norm(next[k]) !== norm(was)) out[k] = next[k];
  }
  return out;
}

const lab = (name, c) => (BASIC_CODES[name].find(([x]) => x === c) || [c, c])[1];

/** basicInfoFacts are the table's answers as the record page shows them. */
export function basicInfoFacts(b) {
  const NR = '未填写';
  const one = (n) => (b[n] ? lab(n, b[n]) : NR);
  const many = (n, o) => (b[n] == null ? NR : b[n].map((c) => (o && b[o] && lab(n, c).startsWith('其他') ? `${lab(n, c)}：${b[o]}` : lab(n, c))).join('、'));
  const items = (v, f) => (v == null ? NR : v.length ? v.map(f).join('；') : '无');
  const fam = (n) => many(n) + (b[n] && b[n].includes('12') && b.family_history_other ? `（${b.family_history_other}）` : '');
  return [
    ['血型', `${one('blood_abo')} / ${one('blood_rh')}`], ['文化程度', one('education')], ['职业', one('occupation')],
    ['婚姻状况', one('marital_status')], ['医疗费用支付方式', many('payment_types', 'payment_other')],
    ['药物过敏史', many('drug_allergies', 'drug_allergy_other')], ['暴露史', many('exposures')],
    ['既往史：疾病', items(b.past_diseases, (p) => `${lab('past_diseases', p.code)}${p.note ? '：' + p.note : ''}（确诊 ${p.diagnosed_on}）`)],
    ...EVENTS.map(([n, t]) => ['既往史：' + t, items(b[n], (e) => `${e.name}（${e.date}）`)]),
    ...FAMILY.map(([n, t]) => ['家族史：' + t, fam(n)]),
    ['遗传病史', items(b.hereditary_diseases, (x) => x)],
    ['残疾情况', many('disabilities', 'disability_other')],
    ...LIVING.map(([n, t]) => [t, one(n)]),
  ];
}
