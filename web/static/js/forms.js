// The entry forms (field specs) the desk and the tablet share, and how an
// entry reads on the timeline.
import { h } from './dom.js';
import {
  ADHERENCE, CLASSIFICATION, KIND, METHOD, PROGRAMME, REFERRAL_STATUS, label,
} from './labels.js';
import { keypopSummary } from './keypop.js';

const opts = (table) => Object.entries(table);

/** visitSpecs: a visit in SOAP order (接诊记录). */
export const visitSpecs = (today) => [
  { name: 'service_date', label: '接诊日期', type: 'date', required: true, value: today, max: today },
  { name: 'subjective', label: '主观资料（主诉）', type: 'textarea', required: true, wide: true },
  { name: 'objective', label: '客观资料（查体所见）', type: 'textarea', wide: true },
  { name: 'assessment', label: '评估', type: 'textarea', required: true, wide: true },
  { name: 'plan', label: '处置计划', type: 'textarea', wide: true },
];

/** followupSpecs: a hypertension or diabetes follow-up (随访记录). */
export const followupSpecs = (today, programmes, radios) => {
  const progs = (programmes && programmes.length ? programmes : ['hypertension', 'type2_diabetes'])
    .map((p) => [p, label(PROGRAMME, p)]);
  const choice = radios ? 'radio' : 'select';
  return [
    { name: 'programme', label: '随访项目', type: choice, required: true, options: progs, value: progs.length === 1 ? progs[0][0] : undefined },
    { name: 'service_date', label: '随访日期', type: 'date', required: true, value: today, max: today },
    { name: 'method', label: '随访方式', type: choice, required: true, options: opts(METHOD), value: radios ? 'home' : undefined },
    { name: 'systolic', label: '收缩压', type: 'number', min: 50, max: 300, inputmode: 'numeric', hint: 'mmHg' },
    { name: 'diastolic', label: '舒张压', type: 'number', min: 20, max: 200, inputmode: 'numeric', hint: 'mmHg' },
    { name: 'fasting_glucose', label: '空腹血糖', type: 'number', min: 0.5, max: 40, step: 0.1, inputmode: 'decimal', hint: 'mmol/L' },
    { name: 'weight_kg', label: '体重', type: 'number', min: 1, max: 400, step: 0.1, inputmode: 'decimal', hint: 'kg' },
    { name: 'symptoms', label: '症状', list: true, hint: '多个症状用顿号或逗号分开；无症状可不填', wide: true },
    { name: 'adherence', label: '服药依从性', type: choice, options: opts(ADHERENCE) },
    { name: 'adverse_reactions', label: '药物不良反应', hint: '无则不填' },
    { name: 'classification', label: '此次随访分类', type: choice, required: true, options: opts(CLASSIFICATION), wide: radios },
    { name: 'lifestyle_advice', label: '生活方式指导', type: 'textarea', wide: true },
    { name: 'next_date', label: '下次随访日期', type: 'date', min: today, hint: '不填则按 3 个月后计' },
  ];
};

/** referralSpecs: a two-way referral out (双向转诊·转出). */
export const referralSpecs = (today) => [
  { name: 'service_date', label: '转出日期', type: 'date', required: true, value: today, max: today },
  { name: 'to_institution', label: '转入机构', required: true },
  { name: 'to_department', label: '转入科室' },
  { name: 'impression', label: '初步印象', type: 'textarea', required: true, wide: true },
  { name: 'history', label: '主要现病史、既往史', type: 'textarea', wide: true },
  { name: 'treatment', label: '治疗经过', type: 'textarea', wide: true },
  { name: 'reason', label: '转出原因', type: 'textarea', required: true, wide: true },
];

/**
 * examSpecs: a new health examination, its date and vital signs; the rest
 * of the form is filled section by section on the exam's page (exam.js).
 */
export const examSpecs = (today) => [
  { name: 'service_date', label: '体检日期', type: 'date', required: true, value: today, max: today },
  { name: 'systolic', label: '左侧收缩压', type: 'number', min: 50, max: 300, hint: 'mmHg' },
  { name: 'diastolic', label: '左侧舒张压', type: 'number', min: 20, max: 200, hint: 'mmHg' },
  { name: 'height_cm', label: '身高', type: 'number', min: 30, max: 250, step: 0.1, hint: 'cm' },
  { name: 'weight_kg', label: '体重', type: 'number', min: 1, max: 400, step: 0.1, hint: 'kg' },
  { name: 'waist_cm', label: '腰围', type: 'number', min: 20, max: 250, step: 0.1, hint: 'cm' },
  { name: 'temperature', label: '体温', type: 'number', min: 30, max: 45, step: 0.1, hint: '℃' },
  { name: 'pulse', label: '脉率', type: 'number', min: 20, max: 250, hint: '次/分' },
  { name: 'respiration', label: '呼吸频率', type: 'number', min: 4, max: 80, hint: '次/分' },
  { name: 'fasting_glucose', label: '空腹血糖', type: 'number', min: 0.5, max: 40, step: 0.1, hint: 'mmol/L' },
];

/** enrolSpecs: enrolment in a key-population programme (重点人群). */
export const enrolSpecs = (today) => [
  { name: 'programme', label: '项目', type: 'select', required: true, options: opts(PROGRAMME) },
  { name: 'enrolled_on', label: '纳入日期', type: 'date', required: true, value: today, max: today },
  { name: 'lmp_date', label: '末次月经', type: 'date', max: today, hint: '孕产妇必填：产前检查按孕周排期' },
  { name: 'discharged_on', label: '新生儿出院日期', type: 'date', max: today, hint: '0–6岁儿童可填：新生儿访视在出院后 7 天内' },
];

const bp = (s, d) => (s != null && d != null ? `血压 ${s}/${d} mmHg` : '');
const join = (...xs) => xs.filter((x) => x !== undefined && x !== null && x !== '').join('；');

/** entrySummary is one line about an entry or exam of the timeline. */
export function entrySummary(e) {
  switch (e.kind) {
    case 'exam':
      return join(e.state === 'complete' ? '体检表已完成' : '体检表待补全', bp(e.systolic, e.diastolic), e.height_cm != null ? `身高 ${e.height_cm} cm` : '',
        e.weight_kg != null ? `体重 ${e.weight_kg} kg` : '', e.bmi != null ? `BMI ${e.bmi}` : '',
        e.fasting_glucose != null ? `空腹血糖 ${e.fasting_glucose} mmol/L` : '');
    case 'visit':
      return join(e.subjective && `主诉：${e.subjective}`, e.assessment && `评估：${e.assessment}`, e.plan && `处置：${e.plan}`);
    case 'referral':
      return join(`转至 ${e.to_institution || e.to_institution_code || ''}${e.to_department ? ' ' + e.to_department : ''}`,
        e.reason && `原因：${e.reason}`, e.status && label(REFERRAL_STATUS, e.status));
    case 'followup':
      return join(label(PROGRAMME, e.programme), label(METHOD, e.method), bp(e.systolic, e.diastolic),
        e.fasting_glucose != null ? `空腹血糖 ${e.fasting_glucose}` : '', label(CLASSIFICATION, e.classification),
        e.next_date && `下次 ${e.next_date}`);
    case 'consultation':
      return join(e.reason && `原因：${e.reason}`, e.opinion && `意见：${e.opinion}`);
    case 'hospitalisation':
      return join(e.hospital, `${e.admitted_on || ''}–${e.discharged_on || '在院'}`, e.diagnosis);
    default:
      return keypopSummary(e);
  }
}

/** timelineItem renders an entry as a list item. */
export function timelineItem(e, names = {}) {
  const who = e.staff_code || e.created_by;
  return h('li', { 'data-kind': e.kind },
    h('span', { class: 'when' }, e.service_date || ''),
    h('span', { class: 'tag info kind' }, label(KIND, e.kind)),
    who ? h('span', { class: 'muted' }, ` ${names[who] || who}`) : null,
    h('div', { class: 'body' }, entrySummary(e)));
}
