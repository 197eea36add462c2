package examform

// The form's code lists, numbered as on the paper form (国家基本公共卫生服务
// 规范 第三版, 健康体检表). Lists used by several items are named once.
var (
	normalAbnormal = []string{"正常", "异常"}
	noneHas        = []string{"无", "有"}
	negPos         = []string{"阴性", "阳性"}
	// 尿常规 qualitative results.
	urineGrades = []string{"-", "±", "+", "++", "+++", "++++"}
	gynItem     = []string{"未见异常", "异常"}
	elderly     = "65岁及以上老年人填写"
)

// Symptoms is the form's list of 25 symptoms; 无症状 is an answer.
var Symptoms = []string{"无症状", "头痛", "头晕", "心悸", "胸闷", "胸痛", "慢性咳嗽", "咳痰", "呼吸困难", "多饮",
	"多尿", "体重下降", "乏力", "关节肿痛", "视力模糊", "手脚麻木", "尿急", "尿痛", "便秘", "腹泻",
	"恶心呕吐", "眼花", "耳鸣", "乳房胀痛", "其他"}

// Form is the health examination table, its sections in the paper form's
// order.
var Form = []Section{
	{Key: "symptoms", Label: "症状", Fields: []Field{
		multi("symptoms", "症状", Symptoms...).required(),
		text("symptoms_other", "其他症状"),
	}, rule: func(v Values, add func(string, string)) {
		otherNeedsText(v, add, "symptoms", "25", "symptoms_other")
	}},
	{Key: "general", Label: "一般状况", Fields: []Field{
		number("temperature", "体温", "℃", 30, 45).column().required(),
		integer("pulse", "脉率", "次/分钟", 20, 250).column().required(),
		integer("respiration", "呼吸频率", "次/分钟", 4, 80).column().required(),
		integer("systolic", "血压（左侧）收缩压", "mmHg", 50, 300).column(),
		integer("diastolic", "血压（左侧）舒张压", "mmHg", 20, 200).column(),
		integer("systolic_right", "血压（右侧）收缩压", "mmHg", 50, 300).column(),
		integer("diastolic_right", "血压（右侧）舒张压", "mmHg", 20, 200).column(),
		number("height_cm", "身高", "cm", 30, 250).column().required(),
		number("weight_kg", "体重", "kg", 1, 400).column().required(),
		number("waist_cm", "腰围", "cm", 20, 250).column().required(),
		{Key: "bmi", Label: "体质指数（BMI）", Kind: Derived, Unit: "kg/m²", Column: true},
		choice("elderly_health_status", "老年人健康状态自我评估", "满意", "基本满意", "说不清楚", "不太满意", "不满意").note(elderly),
		choice("elderly_self_care", "老年人生活自理能力自我评估", "可自理（0～3分）", "轻度依赖（4～8分）", "中度依赖（9～18分）", "不能自理（≥19分）").note(elderly),
		choice("elderly_cognition", "老年人认知功能", "粗筛阴性", "粗筛阳性").note(elderly),
		integer("elderly_cognition_score", "简易智力状态检查总分", "分", 0, 30).note("认知功能粗筛阳性时填写"),
		choice("elderly_affect", "老年人情感状态", "粗筛阴性", "粗筛阳性").note(elderly),
		integer("elderly_depression_score", "老年人抑郁评分检查总分", "分", 0, 30).note("情感状态粗筛阳性时填写"),
	}, rule: func(v Values, add func(string, string)) {
		onlyWhen(v, add, "elderly_cognition", "2", "elderly_cognition_score", "粗筛阳性时才填写总分")
		onlyWhen(v, add, "elderly_affect", "2", "elderly_depression_score", "粗筛阳性时才填写总分")
	}, complete: func(_ Values, cols Values, add func(string, string)) {
		_, l := cols["systolic"]
		_, r := cols["systolic_right"]
		if !l && !r {
			add("systolic", "血压（左侧或右侧）须填写")
		}
	}},
	{Key: "lifestyle", Label: "生活方式", Fields: append([]Field{
		choice("exercise_frequency", "体育锻炼·锻炼频率", "每天", "每周一次以上", "偶尔", "不锻炼").required(),
		integer("exercise_minutes", "每次锻炼时间", "分钟", 1, 600),
		number("exercise_years", "坚持锻炼时间", "年", 0, 100),
		text("exercise_kind", "锻炼方式"),
		// 荤素均衡 goes with 嗜盐 and the like: no answer stands alone.
		Field{Key: "diet", Label: "饮食习惯", Kind: Multi, Codes: codes("荤素均衡", "荤食为主", "素食为主", "嗜盐", "嗜油", "嗜糖")}.max(3).required(),
		choice("smoking_status", "吸烟状况", "从不吸烟", "已戒烟", "吸烟").required(),
		integer("cigarettes_per_day", "日吸烟量", "支", 0, 200),
		integer("smoking_start_age", "开始吸烟年龄", "岁", 5, 100),
		integer("smoking_quit_age", "戒烟年龄", "岁", 5, 120),
		choice("drinking_frequency", "饮酒频率", "从不", "偶尔", "经常", "每天").required(),
		number("alcohol_per_day", "日饮酒量", "两", 0, 100),
		choice("alcohol_abstinent", "是否戒酒", "未戒酒", "已戒酒"),
		integer("alcohol_quit_age", "戒酒年龄", "岁", 5, 120),
		integer("drinking_start_age", "开始饮酒年龄", "岁", 5, 100),
		choice("drunk_last_year", "近一年内是否曾醉酒", "是", "否"),
		{Key: "alcohol_kinds", Label: "饮酒种类", Kind: Multi, Codes: codes("白酒", "啤酒", "红酒", "黄酒", "其他")},
		choice("occupational_exposure", "职业病危害因素接触史", noneHas...).required(),
		text("occupation_kind", "工种"),
		number("occupation_years", "从业时间", "年", 0, 80),
	}, hazardFields()...), rule: lifestyleRule},
	{Key: "organs", Label: "脏器功能", Fields: []Field{
		choice("lips", "口腔·口唇", "红润", "苍白", "发绀", "皲裂", "疱疹").required(),
		multi("dentition", "口腔·齿列", "正常", "缺齿", "龋齿", "义齿（假牙）").required(),
		text("dentition_note", "齿列异常部位"),
		choice("pharynx", "口腔·咽部", "无充血", "充血", "淋巴滤泡增生").required(),
		number("vision_left", "视力·左眼", "", 0.01, 5.3).required().note("小数记录或五分记录"),
		number("vision_right", "视力·右眼", "", 0.01, 5.3).required(),
		number("vision_corrected_left", "矫正视力·左眼", "", 0.01, 5.3),
		number("vision_corrected_right", "矫正视力·右眼", "", 0.01, 5.3),
		choice("hearing", "听力", "听见", "听不清或无法听见").required(),
		choice("motor", "运动功能", "可顺利完成", "无法独立完成其中任何一个动作").required(),
	}},
	{Key: "physical", Label: "查体", Fields: []Field{
		choice("fundus", "眼底", normalAbnormal...).note("高血压、糖尿病患者填写"),
		text("fundus_note", "眼底异常描述"),
		choice("skin", "皮肤", "正常", "潮红", "苍白", "发绀", "黄染", "色素沉着", "其他").required(),
		text("skin_note", "皮肤其他"),
		choice("sclera", "巩膜", "正常", "黄染", "充血", "其他").required(),
		text("sclera_note", "巩膜其他"),
		choice("lymph_nodes", "淋巴结", "未触及", "锁骨上", "腋窝", "其他").required(),
		text("lymph_nodes_note", "淋巴结其他"),
		choice("barrel_chest", "肺·桶状胸", "否", "是").required(),
		choice("breath_sounds", "肺·呼吸音", normalAbnormal...).required(),
		text("breath_sounds_note", "呼吸音异常描述"),
		choice("rales", "肺·罗音", "无", "干罗音", "湿罗音", "其他").required(),
		text("rales_note", "罗音其他"),
		integer("heart_rate", "心脏·心率", "次/分钟", 20, 250).required(),
		choice("heart_rhythm", "心脏·心律", "齐", "不齐", "绝对不齐").required(),
		choice("heart_murmur", "心脏·杂音", noneHas...).required(),
		text("heart_murmur_note", "杂音描述"),
		choice("abdominal_tenderness", "腹部·压痛", noneHas...).required(),
		choice("abdominal_mass", "腹部·包块", noneHas...).required(),
		choice("hepatomegaly", "腹部·肝大", noneHas...).required(),
		choice("splenomegaly", "腹部·脾大", noneHas...).required(),
		choice("shifting_dullness", "腹部·移动性浊音", noneHas...).required(),
		text("abdomen_note", "腹部异常描述"),
		choice("leg_oedema", "下肢水肿", "无", "单侧", "双侧不对称", "双侧对称").required(),
		choice("dorsalis_pedis", "足背动脉搏动", "未触及", "触及双侧对称", "触及左侧弱或消失", "触及右侧弱或消失").note("糖尿病患者填写"),
		choice("dre", "肛门指诊", "未见异常", "触痛", "包块", "前列腺异常", "其他"),
		text("dre_note", "肛门指诊其他"),
		multi("breast", "乳腺", "未见异常", "乳房切除", "异常泌乳", "乳腺包块", "其他"),
		text("breast_note", "乳腺其他"),
		choice("gyn_vulva", "妇科·外阴", gynItem...),
		choice("gyn_vagina", "妇科·阴道", gynItem...),
		choice("gyn_cervix", "妇科·宫颈", gynItem...),
		choice("gyn_uterus", "妇科·宫体", gynItem...),
		choice("gyn_adnexa", "妇科·附件", gynItem...),
		text("gyn_note", "妇科异常描述"),
		text("physical_other", "查体其他"),
	}},
	{Key: "tests", Label: "辅助检查", Fields: []Field{
		integer("haemoglobin", "血常规·血红蛋白", "g/L", 20, 250),
		number("wbc", "血常规·白细胞", "×10^9/L", 0.1, 100),
		integer("platelets", "血常规·血小板", "×10^9/L", 1, 1500),
		text("blood_other", "血常规·其他"),
		choice("urine_protein", "尿常规·尿蛋白", urineGrades...),
		choice("urine_glucose", "尿常规·尿糖", urineGrades...),
		choice("urine_ketones", "尿常规·尿酮体", urineGrades...),
		choice("urine_occult_blood", "尿常规·尿潜血", urineGrades...),
		text("urine_other", "尿常规·其他"),
		number("fasting_glucose", "空腹血糖", "mmol/L", 0.5, 40).column(),
		choice("ecg", "心电图", normalAbnormal...),
		text("ecg_note", "心电图异常描述"),
		number("urine_microalbumin", "尿微量白蛋白", "mg/dL", 0, 1000),
		choice("fecal_occult_blood", "大便潜血", negPos...),
		number("hba1c", "糖化血红蛋白", "%", 3, 20),
		choice("hbsag", "乙型肝炎表面抗原", negPos...),
		integer("alt", "肝功能·血清谷丙转氨酶", "U/L", 0, 5000),
		integer("ast", "肝功能·血清谷草转氨酶", "U/L", 0, 5000),
		number("albumin", "肝功能·白蛋白", "g/L", 5, 70),
		number("total_bilirubin", "肝功能·总胆红素", "μmol/L", 0, 800),
		number("conjugated_bilirubin", "肝功能·结合胆红素", "μmol/L", 0, 600),
		number("creatinine", "肾功能·血清肌酐", "μmol/L", 10, 3000),
		number("urea", "肾功能·血尿素", "mmol/L", 0.5, 80),
		number("potassium", "肾功能·血钾浓度", "mmol/L", 1.5, 9),
		number("sodium", "肾功能·血钠浓度", "mmol/L", 100, 180),
		number("total_cholesterol", "血脂·总胆固醇", "mmol/L", 0.5, 25),
		number("triglycerides", "血脂·甘油三酯", "mmol/L", 0.1, 50),
		number("ldl", "血脂·血清低密度脂蛋白胆固醇", "mmol/L", 0.1, 20),
		number("hdl", "血脂·血清高密度脂蛋白胆固醇", "mmol/L", 0.1, 5),
		choice("chest_xray", "胸部X线片", normalAbnormal...),
		text("chest_xray_note", "胸部X线片异常描述"),
		choice("ultrasound_abdomen", "B超·腹部", normalAbnormal...),
		text("ultrasound_abdomen_note", "腹部B超异常描述"),
		text("ultrasound_other", "B超·其他"),
		choice("cervical_smear", "宫颈涂片", normalAbnormal...),
		text("cervical_smear_note", "宫颈涂片异常描述"),
		text("tests_other", "辅助检查其他"),
	}, rule: func(v Values, add func(string, string)) {
		if t, ok := v["total_bilirubin"].(float64); ok {
			if c, ok := v["conjugated_bilirubin"].(float64); ok && c > t {
				add("conjugated_bilirubin", "结合胆红素不能高于总胆红素")
			}
		}
		if t, ok := v["total_cholesterol"].(float64); ok {
			for _, k := range []string{"ldl", "hdl"} {
				if c, ok := v[k].(float64); ok && c > t {
					add(k, "不能高于总胆固醇")
				}
			}
		}
	}},
	{Key: "problems", Label: "现存主要健康问题", Fields: []Field{
		multi("cerebrovascular", "脑血管疾病", "未发现", "缺血性卒中", "脑出血", "蛛网膜下腔出血", "短暂性脑缺血发作", "其他").required(),
		multi("kidney", "肾脏疾病", "未发现", "糖尿病肾病", "肾功能衰竭", "急性肾炎", "慢性肾炎", "其他").required(),
		multi("heart", "心脏疾病", "未发现", "心肌梗死", "心绞痛", "冠状动脉血运重建", "充血性心力衰竭", "心前区疼痛", "其他").required(),
		multi("vascular", "血管疾病", "未发现", "夹层动脉瘤", "动脉闭塞性疾病", "其他").required(),
		multi("eye", "眼部疾病", "未发现", "视网膜出血或渗出", "视乳头水肿", "白内障", "其他").required(),
		choice("neurological", "神经系统疾病", "未发现", "有").required(),
		choice("other_system", "其他系统疾病", "未发现", "有").required(),
		text("problems_note", "其他疾病描述"),
	}},
	{Key: "hospital", Label: "住院治疗情况", Fields: []Field{
		{Key: "admissions", Label: "住院史", Kind: Rows, MaxRows: 20, Columns: stayColumns("入院日期", "出院日期")},
		{Key: "home_sickbeds", Label: "家庭病床史", Kind: Rows, MaxRows: 20, Columns: stayColumns("建床日期", "撤床日期")},
	}, rule: func(v Values, add func(string, string)) {
		for _, k := range []string{"admissions", "home_sickbeds"} {
			rows, _ := v[k].([]any)
			for i, r := range rows {
				row, _ := r.(map[string]any)
				from, _ := row["from"].(string)
				to, _ := row["to"].(string)
				if from != "" && to != "" && to < from {
					add(k+"["+itoa(i)+"].to", "结束日期不能早于开始日期")
				}
			}
		}
	}},
	{Key: "medication", Label: "主要用药情况", Fields: []Field{
		{Key: "medicines", Label: "用药", Kind: Rows, MaxRows: 30, Columns: []Field{
			text("name", "药物名称").required(),
			text("usage", "用法"),
			text("dose", "用量"),
			text("duration", "用药时间"),
			choice("adherence", "服药依从性", "规律", "间断", "不服药"),
		}},
	}},
	{Key: "vaccinations", Label: "非免疫规划预防接种史", Fields: []Field{
		{Key: "vaccinations", Label: "接种", Kind: Rows, MaxRows: 30, Columns: []Field{
			text("name", "名称").required(),
			date("date", "接种日期"),
			text("institution", "接种机构"),
		}},
	}},
	{Key: "assessment", Label: "健康评价与健康指导", Fields: []Field{
		choice("evaluation", "健康评价", "体检无异常", "有异常").required(),
		{Key: "abnormalities", Label: "异常", Kind: Texts, MaxItems: 20},
		{Key: "guidance", Label: "健康指导", Kind: Multi, Codes: codes("纳入慢性病患者健康管理", "建议复查", "建议转诊")},
		{Key: "risk_factors", Label: "危险因素控制", Kind: Multi,
			Codes: codes("戒烟", "健康饮酒", "饮食", "锻炼", "减体重", "建议接种疫苗", "其他")},
		number("weight_target", "减体重目标", "kg", 1, 400),
		text("vaccine_advice", "建议接种的疫苗"),
		text("risk_other", "危险因素控制其他"),
	}, rule: func(v Values, add func(string, string)) {
		ab, _ := v["abnormalities"].([]any)
		switch v["evaluation"] {
		case "1":
			if len(ab) > 0 {
				add("abnormalities", "体检无异常时不填写异常")
			}
		case "2":
			if len(ab) == 0 {
				add("abnormalities", "有异常时至少填写一项异常")
			}
		}
		onlyWithCode(v, add, "risk_factors", "5", "weight_target", "选择“减体重”时才填写目标")
		onlyWithCode(v, add, "risk_factors", "6", "vaccine_advice", "选择“建议接种疫苗”时才填写疫苗")
	}},
}

// hazards are the kinds of occupational hazard the form asks after, each
// with what it is and whether there is protection.
var hazards = []struct{ key, label string }{
	{"dust", "粉尘"}, {"radiation", "放射物质"}, {"physical_hazard", "物理因素"}, {"chemical", "化学物质"}, {"other_hazard", "其他"},
}

func hazardFields() []Field {
	var out []Field
	for _, h := range hazards {
		out = append(out, text(h.key, "毒物种类·"+h.label),
			choice(h.key+"_protection", h.label+"·防护措施", noneHas...),
			text(h.key+"_protection_note", h.label+"·防护措施内容"))
	}
	return out
}

func stayColumns(from, to string) []Field {
	return []Field{
		date("from", from).required(),
		date("to", to),
		text("reason", "原因"),
		text("institution", "医疗机构名称"),
		text("case_number", "病案号"),
	}
}

// lifestyleRule keeps the lifestyle answers consistent: details of a habit
// the resident does not have are refused rather than kept silently.
func lifestyleRule(v Values, add func(string, string)) {
	if v["exercise_frequency"] == "4" {
		for _, k := range []string{"exercise_minutes", "exercise_years", "exercise_kind"} {
			absent(v, add, k, "不锻炼时不填写")
		}
	}
	if v["smoking_status"] == "1" {
		for _, k := range []string{"cigarettes_per_day", "smoking_start_age", "smoking_quit_age"} {
			absent(v, add, k, "从不吸烟时不填写")
		}
	}
	onlyWhen(v, add, "smoking_status", "2", "smoking_quit_age", "已戒烟时才填写戒烟年龄")
	notBefore(v, add, "smoking_start_age", "smoking_quit_age", "戒烟年龄不能小于开始吸烟年龄")
	if v["drinking_frequency"] == "1" {
		for _, k := range []string{"alcohol_per_day", "alcohol_abstinent", "alcohol_quit_age", "drinking_start_age", "drunk_last_year", "alcohol_kinds"} {
			absent(v, add, k, "从不饮酒时不填写")
		}
	}
	onlyWhen(v, add, "alcohol_abstinent", "2", "alcohol_quit_age", "已戒酒时才填写戒酒年龄")
	notBefore(v, add, "drinking_start_age", "alcohol_quit_age", "戒酒年龄不能小于开始饮酒年龄")
	if v["occupational_exposure"] == "1" {
		keys := []string{"occupation_kind", "occupation_years"}
		for _, h := range hazards {
			keys = append(keys, h.key, h.key+"_protection", h.key+"_protection_note")
		}
		for _, k := range keys {
			absent(v, add, k, "无职业病危害因素接触史时不填写")
		}
	}
}

func absent(v Values, add func(string, string), key, reason string) {
	if _, ok := v[key]; ok {
		add(key, reason)
	}
}

// onlyWhen refuses dependent unless item has the code.
func onlyWhen(v Values, add func(string, string), item, code, dependent, reason string) {
	if _, ok := v[dependent]; ok && v[item] != code {
		add(dependent, reason)
	}
}

// onlyWithCode refuses dependent unless the Multi item holds the code.
func onlyWithCode(v Values, add func(string, string), item, code, dependent, reason string) {
	if _, ok := v[dependent]; !ok {
		return
	}
	for _, c := range asStrings(v[item]) {
		if c == code {
			return
		}
	}
	add(dependent, reason)
}

func notBefore(v Values, add func(string, string), start, end, reason string) {
	s, ok1 := v[start].(float64)
	e, ok2 := v[end].(float64)
	if ok1 && ok2 && e < s {
		add(end, reason)
	}
}

// otherNeedsText asks for the text of "其他" when its code is chosen.
func otherNeedsText(v Values, add func(string, string), item, code, textKey string) {
	for _, c := range asStrings(v[item]) {
		if c == code {
			if s, _ := v[textKey].(string); s == "" {
				add(textKey, "选择“其他”时须填写内容")
			}
			return
		}
	}
}

func asStrings(x any) []string {
	switch v := x.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
