// Chinese names for the API's English codes and field names.

export const SEX = { M: '男', F: '女' };
export const STATUS = { active: '在册', moved_out: '已迁出', deceased: '已死亡' };
export const ROLE = {
  doctor: '责任医生', home_visit: '入户随访人员', records_admin: '档案管理员', bureau: '卫健局',
  reviewer: '问责办公室', admin: '系统管理员', requester: '外部申请人', province: '省级卫健部门',
};
export const PROGRAMME = {
  hypertension: '高血压', type2_diabetes: '2型糖尿病', elderly: '老年人（≥65岁）', children_0_6: '0–6岁儿童',
  maternal: '孕产妇', severe_mental: '严重精神障碍', tuberculosis: '肺结核',
};
export const KIND = {
  exam: '健康体检', visit: '接诊', referral: '双向转诊', followup: '随访', consultation: '会诊', hospitalisation: '住院',
  child_visit: '儿童健康管理', maternal_visit: '孕产妇健康管理', elderly_check: '老年人健康管理',
};
export const METHOD = { clinic: '门诊', home: '家庭', phone: '电话' };
export const ADHERENCE = { regular: '规律', intermittent: '间断', none: '不服药' };
export const CLASSIFICATION = {
  satisfactory: '控制满意', unsatisfactory: '控制不满意', adverse_reaction: '不良反应', complication: '并发症',
};
export const REFERRAL_STATUS = { issued: '已转出', received: '已接收', returned: '已回转', closed: '已关闭' };
export const SECTION = {
  basic: '基本信息', card: '信息卡', exams: '健康体检', programmes: '重点人群', entries: '服务记录', history: '修改历史',
  access_log: '访问记录', 'entries.visits': '接诊', 'entries.followups': '随访', 'entries.referrals': '转诊',
  'entries.consultations': '会诊', 'entries.hospitalisations': '住院', 'entries.child_visits': '儿童健康管理',
  'entries.maternal_visits': '孕产妇健康管理', 'entries.elderly_checks': '老年人健康管理',
  record: '档案（基本信息、体检、重点人群）', summary: '随访清单条目',
};
export const ACTION = { read: '查看', write: '写入', export: '导出', sync: '同步到平板' };
export const OUTCOME = { allowed: '允许', denied: '拒绝' };
export const REQUEST_STATUS = {
  submitted: '待审批', approved: '已批准待同意', active: '授权生效', expired: '已过期', revoked: '已撤销',
  rejected: '已驳回', refused: '居民拒绝',
};
export const CONSENT_METHOD = { signed_form: '书面签字', in_person: '当面', phone: '电话' };
export const INDICATOR = { coverage: '建档率', quality: '合格率', usage: '使用率' };
export const LEVEL = { county: '县', township: '乡镇', institution: '机构', doctor: '责任医生' };
export const CASE_STATE = {
  proposed: '待受理', dismissed: '不予受理', accepted: '受理', investigating: '调查', determined: '责任认定', decided: '处理决定', served: '送达',
  appealed: '申请复核', reviewed: '复核决定', archived: '备案', closed_no_fault: '无责结案', exempted: '免予追究',
};
export const SNAPSHOT_KIND = { pre_assessment: '预考核', assessment: '考核' };
export const RULE = {
  Q1: '姓名', Q2: '性别', Q3: '出生日期', Q4: '身份证号有效', Q5: '身份证号与出生日期、性别一致', Q6: '户籍类型',
  Q7: '民族', Q8: '联系电话', Q9: '责任医生', Q10: '有健康体检', Q11: '最近体检有血压、身高、体重',
  Q12: '血型（ABO、Rh）', Q13: '文化程度、职业、婚姻状况、医疗费用支付方式',
  Q14: '过敏史、暴露史、既往史、家族史、遗传病史', Q15: '残疾情况、生活环境', usage: '一年内无服务记录',
};

/**
 * BASIC_CODES are the code lists of the personal basic information table
 * (个人基本信息表), as internal/record/codes.go holds them: [code, label].
 */
const FAMILY = [['1', '无'], ['2', '高血压'], ['3', '糖尿病'], ['4', '冠心病'], ['5', '慢性阻塞性肺疾病'], ['6', '恶性肿瘤'],
  ['7', '脑卒中'], ['8', '严重精神障碍'], ['9', '结核病'], ['10', '肝炎'], ['11', '先天畸形'], ['12', '其他']];
export const BASIC_CODES = {
  blood_abo: [['1', 'A型'], ['2', 'B型'], ['3', 'O型'], ['4', 'AB型'], ['5', '不详']],
  blood_rh: [['1', 'Rh阴性'], ['2', 'Rh阳性'], ['3', '不详']],
  education: [['1', '研究生'], ['2', '大学本科'], ['3', '大学专科和专科学校'], ['4', '中等专业学校'], ['5', '技工学校'],
    ['6', '高中'], ['7', '初中'], ['8', '小学'], ['9', '文盲或半文盲'], ['10', '不详']],
  occupation: [['0', '国家机关、党群组织、企业、事业单位负责人'], ['1', '专业技术人员'], ['2', '办事人员和有关人员'],
    ['3', '商业、服务业人员'], ['4', '农、林、牧、渔、水利业生产人员'], ['5', '生产、运输设备操作人员及有关人员'], ['6', '军人'],
    ['7', '不便分类的其他从业人员'], ['8', '无职业']],
  marital_status: [['1', '未婚'], ['2', '已婚'], ['3', '丧偶'], ['4', '离婚'], ['5', '未说明的婚姻状况']],
  payment_types: [['1', '城镇职工基本医疗保险'], ['2', '城镇居民基本医疗保险'], ['3', '新型农村合作医疗'], ['4', '贫困救助'],
    ['5', '商业医疗保险'], ['6', '全公费'], ['7', '全自费'], ['8', '其他']],
  drug_allergies: [['1', '无'], ['2', '青霉素'], ['3', '磺胺'], ['4', '链霉素'], ['5', '其他']],
  exposures: [['1', '无'], ['2', '化学品'], ['3', '毒物'], ['4', '射线']],
  past_diseases: [['2', '高血压'], ['3', '糖尿病'], ['4', '冠心病'], ['5', '慢性阻塞性肺疾病'], ['6', '恶性肿瘤'], ['7', '脑卒中'],
    ['8', '严重精神障碍'], ['9', '结核病'], ['10', '肝炎'], ['11', '其他法定传染病'], ['12', '职业病'], ['13', '其他']],
  family_father: FAMILY, family_mother: FAMILY, family_siblings: FAMILY, family_children: FAMILY,
  disabilities: [['1', '无残疾'], ['2', '视力残疾'], ['3', '听力残疾'], ['4', '言语残疾'], ['5', '肢体残疾'], ['6', '智力残疾'],
    ['7', '精神残疾'], ['8', '其他残疾']],
  kitchen_exhaust: [['1', '无'], ['2', '油烟机'], ['3', '换气扇'], ['4', '烟囱']],
  fuel: [['1', '液化气'], ['2', '煤'], ['3', '天然气'], ['4', '沼气'], ['5', '柴火'], ['6', '其他']],
  water: [['1', '自来水'], ['2', '经净化过滤的水'], ['3', '井水'], ['4', '河湖水'], ['5', '塘水'], ['6', '其他']],
  toilet: [['1', '卫生厕所'], ['2', '一格或二格粪池式'], ['3', '马桶'], ['4', '露天粪坑'], ['5', '简易棚厕']],
  livestock_pen: [['1', '无'], ['2', '单设'], ['3', '室内'], ['4', '室外']],
};

/** Field names as the forms label them, for errors that have no control on the page. */
export const FIELD = {
  village_code: '村居', name: '姓名', sex: '性别', birth_date: '出生日期', id_number: '身份证号',
  residence_type: '户籍类型', ethnicity: '民族', phone: '本人电话', contact_name: '联系人', contact_phone: '联系人电话',
  responsible_doctor: '责任医生', service_date: '服务日期', staff_code: '医生工号', programme: '项目',
  systolic: '收缩压', diastolic: '舒张压', fasting_glucose: '空腹血糖', weight_kg: '体重', height_cm: '身高',
  method: '随访方式', classification: '随访分类', adherence: '服药依从性', next_date: '下次随访日期',
  subjective: '主诉', objective: '查体所见', assessment: '评估', plan: '处置计划', reason: '理由',
  to_institution: '转入机构', impression: '初步印象', enrolled_on: '纳入日期', record_id: '档案编号',
  service: '服务', lmp_date: '末次月经', delivered_on: '分娩日期', discharged_on: '出院日期', birth_weight_kg: '出生体重',
  jaundice: '黄疸部位', umbilical_cord: '脐带', feeding: '喂养方式', length_cm: '身长', gestational_weeks: '孕周',
  fundal_height_cm: '宫底高度', fetal_heart_rate: '胎心率', breasts: '乳房', lochia: '恶露', uterus: '子宫', wound: '伤口',
  abnormality: '异常情况', health_self_assessment: '健康状态自我评估', 'self_care.eating': '进餐', 'self_care.grooming': '梳洗',
  'self_care.dressing': '穿衣', 'self_care.toileting': '如厕', 'self_care.activity': '活动',
  blood_abo: '血型', blood_rh: 'Rh 血型', education: '文化程度', occupation: '职业', marital_status: '婚姻状况',
  payment_types: '医疗费用支付方式', payment_other: '其他支付方式', drug_allergies: '药物过敏史', drug_allergy_other: '其他过敏药物',
  exposures: '暴露史', past_diseases: '既往史：疾病', operations: '既往史：手术', traumas: '既往史：外伤', transfusions: '既往史：输血',
  family_father: '家族史：父亲', family_mother: '家族史：母亲', family_siblings: '家族史：兄弟姐妹', family_children: '家族史：子女',
  family_history_other: '家族史：其他疾病', hereditary_diseases: '遗传病史', disabilities: '残疾情况', disability_other: '其他残疾',
  kitchen_exhaust: '厨房排风设施', fuel: '燃料类型', water: '饮水', toilet: '厕所', livestock_pen: '禽畜栏',
  details: '原有补充信息', details_unmapped: '未能对应的原有内容',
};

/** label looks a code up in a table, falling back to the code. */
export const label = (table, code) => (code in table ? table[code] : code || '');
