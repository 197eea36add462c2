// The key populations' forms (儿童、孕产妇、老年人健康管理): field specs per
// scheduled service, how such an entry reads on the timeline, and an
// enrolment's schedule. Shared by the desk and the tablet (docs/web.md).
import { h } from './dom.js';

/** SERVICE names the scheduled services (the due list's service codes). */
export const SERVICE = {
  followup: '随访', newborn_visit: '新生儿家庭访视', check_1m: '满月健康检查', check_3m: '3月龄健康检查',
  check_6m: '6月龄健康检查', check_8m: '8月龄健康检查', check_12m: '12月龄健康检查', check_18m: '18月龄健康检查',
  check_24m: '24月龄健康检查', check_30m: '30月龄健康检查', check_36m: '36月龄健康检查', check_48m: '4岁健康检查',
  check_60m: '5岁健康检查', check_72m: '6岁健康检查', prenatal_1: '第1次产前检查', prenatal_2: '第2次产前随访（孕16–20周）',
  prenatal_3: '第3次产前随访（孕21–24周）', prenatal_4: '第4次产前随访（孕28–36周）', prenatal_5: '第5次产前随访（孕37–40周）',
  postpartum: '产后访视', postpartum_42: '产后42天健康检查', annual: '老年人年度健康管理',
};

/** KEYPOP_KINDS are the entry kinds of the scheduled services, by programme. */
export const KEYPOP_KINDS = { child_visit: 'children_0_6', maternal_visit: 'maternal', elderly_check: 'elderly' };

const CHILD = Object.keys(SERVICE).filter((s) => s === 'newborn_visit' || s.startsWith('check_'));
const MATERNAL = Object.keys(SERVICE).filter((s) => s.startsWith('prenatal_') || s.startsWith('postpartum'));

const FEEDING = [['exclusive_breast', '纯母乳'], ['mixed', '混合'], ['formula', '人工']];
const JAUNDICE = [['none', '无'], ['face', '面部'], ['trunk', '躯干'], ['limbs', '四肢'], ['palms_soles', '手足']];
const CORD = [['not_fallen', '未脱'], ['fallen', '脱落'], ['oozing', '脐部有渗出'], ['other', '其他']];
const NORMAL = [['normal', '未见异常'], ['abnormal', '异常']];
const SCREEN = [['negative', '阴性'], ['positive', '阳性']];
const LEVELS = [['0', '可自理'], ['1', '轻度依赖'], ['2', '中度依赖'], ['3', '不能自理']];
const SELF = [['1', '满意'], ['2', '基本满意'], ['3', '说不清楚'], ['4', '不太满意'], ['5', '不满意']];

const num = (name, label, min, max, hint, extra = {}) => ({ name, label, type: 'number', min, max, step: 0.1, inputmode: 'decimal', hint, ...extra });
const pick = (name, label, options, extra = {}) => ({ name, label, type: 'radio', options, wide: true, ...extra });

/**
 * keypopSpecs returns the form of a key population's service: kind is
 * child_visit, maternal_visit or elderly_check; service the scheduled
 * service when known (the tablet opens it from the due list), else the form
 * asks for it and shows every item.
 */
export function keypopSpecs(kind, service, today) {
  const date = { name: 'service_date', label: '服务日期', type: 'date', required: true, value: today, max: today };
  const which = (codes) => (service
    ? { name: 'service', label: '服务', type: 'select', required: true, options: [[service, SERVICE[service] || service]], value: service }
    : { name: 'service', label: '服务', type: 'select', required: true, options: codes.map((c) => [c, SERVICE[c]]) });
  if (kind === 'child_visit') {
    const newborn = !service || service === 'newborn_visit';
    const checks = !service || service !== 'newborn_visit';
    const only = service ? undefined : '仅新生儿家庭访视';
    return [
      which(CHILD), date,
      newborn ? num('birth_weight_kg', '出生体重', 0.3, 7, only || 'kg', { required: !!service }) : null,
      newborn ? num('gestation_weeks', '出生孕周', 20, 45, only || '周', { step: 1, inputmode: 'numeric' }) : null,
      num('weight_kg', '目前体重', 0.3, 60, 'kg', { required: true }),
      num('length_cm', '身长（身高）', 20, 150, service ? 'cm' : 'cm；健康检查必填', { required: !!service && checks }),
      checks ? num('head_circumference_cm', '头围', 20, 60, 'cm') : null,
      newborn ? num('temperature_c', '体温', 30, 43, '℃') : null,
      pick('feeding', '喂养方式', FEEDING, { required: !!service && newborn }),
      newborn ? pick('jaundice', '黄疸部位', JAUNDICE, { required: !!service, hint: only }) : null,
      newborn ? pick('umbilical_cord', '脐带', CORD, { required: !!service, hint: only }) : null,
      checks ? num('hemoglobin_gl', '血红蛋白', 20, 250, 'g/L', { step: 1 }) : null,
      checks ? pick('development', '发育评估', [['normal', '通过'], ['abnormal', '未通过']]) : null,
      checks ? { name: 'illness', label: '两次随访间患病情况', type: 'textarea', wide: true } : null,
      { name: 'guidance', label: '指导', type: 'textarea', wide: true },
    ].filter(Boolean);
  }
  if (kind === 'maternal_visit') {
    const ante = !service || service.startsWith('prenatal_');
    const later = !service || (ante && service !== 'prenatal_1');
    const post = !service || service.startsWith('postpartum');
    const req = (x) => !!service && x;
    return [
      which(MATERNAL), date,
      ante ? num('gestational_weeks', '孕周', 1, 45, '周', { step: 1, inputmode: 'numeric', required: req(true) }) : null,
      service === 'prenatal_1' || !service ? num('gravidity', '孕次', 1, 20, '', { step: 1 }) : null,
      service === 'prenatal_1' || !service ? num('parity', '产次', 0, 20, '', { step: 1 }) : null,
      num('weight_kg', '体重', 25, 200, 'kg', { required: req(ante) }),
      num('systolic', '收缩压', 50, 300, 'mmHg', { step: 1, inputmode: 'numeric', required: true }),
      num('diastolic', '舒张压', 20, 200, 'mmHg', { step: 1, inputmode: 'numeric', required: true }),
      later ? num('fundal_height_cm', '宫底高度', 5, 50, 'cm', { required: req(true) }) : null,
      later ? num('abdominal_circumference_cm', '腹围', 50, 160, 'cm') : null,
      later ? num('fetal_heart_rate', '胎心率', 60, 220, '次/分', { step: 1, inputmode: 'numeric', required: req(true) }) : null,
      ante ? num('hemoglobin_gl', '血红蛋白', 20, 250, 'g/L', { step: 1 }) : null,
      post ? num('temperature_c', '体温', 30, 43, '℃') : null,
      post ? pick('breasts', '乳房', NORMAL, { required: req(true) }) : null,
      post ? pick('lochia', '恶露', NORMAL, { required: req(true) }) : null,
      post ? pick('uterus', '子宫', NORMAL, { required: req(true) }) : null,
      post ? pick('wound', '伤口', [['none', '无伤口'], ['normal', '愈合良好'], ['abnormal', '异常']], { required: req(true) }) : null,
      pick('classification', '分类', NORMAL, { required: true }),
      { name: 'abnormality', label: '异常情况', type: 'textarea', wide: true, hint: '分类为异常时必填' },
      { name: 'guidance', label: '指导', type: 'textarea', wide: true },
    ].filter(Boolean);
  }
  return [
    date,
    pick('health_self_assessment', '健康状态自我评估', SELF, { required: true, wide: true, number: true }),
    ...[['eating', '进餐'], ['grooming', '梳洗'], ['dressing', '穿衣'], ['toileting', '如厕'], ['activity', '活动']].map(([k, l]) =>
      ({ ...pick('self_care.' + k, `生活自理能力·${l}`, LEVELS, { required: true, wide: true }), number: true })),
    pick('cognition', '认知功能粗筛', SCREEN),
    pick('emotion', '情感状态粗筛', SCREEN),
    { name: 'guidance', label: '健康指导', type: 'textarea', wide: true },
  ];
}

/** numbered turns the radio answers that are numbers into numbers (readForm reads them as text). */
export function numbered(body, specs) {
  for (const s of specs) {
    if (!s.number) continue;
    const path = s.name.split('.');
    let o = body;
    for (const p of path.slice(0, -1)) o = o && o[p];
    const last = path[path.length - 1];
    if (o && o[last] !== undefined) o[last] = Number(o[last]);
  }
  return body;
}

const LEVEL = { independent: '可自理', mild: '轻度依赖', moderate: '中度依赖', dependent: '不能自理' };
const pair = (table, v) => (table.find(([k]) => k === v) || [])[1] || v;
const join = (...xs) => xs.filter((x) => x !== undefined && x !== null && x !== '').join('；');

/** keypopSummary is one line about a key population's entry on the timeline. */
export function keypopSummary(e) {
  switch (e.kind) {
    case 'child_visit':
      return join(SERVICE[e.service] || e.service, e.birth_weight_kg != null ? `出生体重 ${e.birth_weight_kg} kg` : '',
        e.weight_kg != null ? `体重 ${e.weight_kg} kg` : '', e.length_cm != null ? `身长 ${e.length_cm} cm` : '',
        e.feeding && `喂养 ${pair(FEEDING, e.feeding)}`, e.jaundice && `黄疸 ${pair(JAUNDICE, e.jaundice)}`,
        e.umbilical_cord && `脐带 ${pair(CORD, e.umbilical_cord)}`);
    case 'maternal_visit':
      return join(SERVICE[e.service] || e.service, e.gestational_weeks != null ? `孕 ${e.gestational_weeks} 周` : '',
        e.systolic != null ? `血压 ${e.systolic}/${e.diastolic} mmHg` : '', e.fundal_height_cm != null ? `宫底高度 ${e.fundal_height_cm} cm` : '',
        e.fetal_heart_rate != null ? `胎心 ${e.fetal_heart_rate} 次/分` : '', e.lochia && `恶露 ${pair(NORMAL, e.lochia)}`,
        e.classification && pair(NORMAL, e.classification));
    case 'elderly_check':
      return join('年度健康管理', e.health_self_assessment != null ? `自我评估 ${pair(SELF, String(e.health_self_assessment))}` : '',
        `自理能力评分 ${e.self_care_score}（${LEVEL[e.self_care_level] || e.self_care_level || ''}）`);
    default:
      return '';
  }
}

/** scheduleList shows an enrolment's services: given, due, overdue or to come, as of today. */
export function scheduleList(p, today) {
  if (!p.schedule || !p.schedule.length) return null;
  const state = (it) => {
    if (it.done_on) return ['已完成 ' + it.done_on, 'ok'];
    if (it.listed_until && it.listed_until < today) return ['未完成（漏访）', 'bad'];
    if (it.window_end < today) return ['逾期', 'bad'];
    if (it.window_start <= today) return ['应服务', 'warn'];
    return ['未到期', 'info'];
  };
  return h('ol', { class: 'schedule', 'data-enrolment': p.id }, p.schedule.map((it) => {
    const [text, cls] = state(it);
    return h('li', { 'data-service': it.service },
      h('span', {}, SERVICE[it.service] || it.name), ' ',
      h('span', { class: 'muted' }, `${it.window_start} – ${it.window_end}`), ' ',
      h('span', { class: 'tag ' + cls }, text));
  }));
}
