package record

// The code lists of the personal basic information table (个人基本信息表),
// as the paper form of the National Basic Public Health Service
// specification (国家基本公共卫生服务规范, 第三版, 居民健康档案管理服务规范,
// 附件 2) prints them beside each answer, the numbering WS 365 (城乡居民健康
// 档案基本数据集) follows for these items. The API and the import take the
// codes; pages, the card and the PDF print the labels. Migration 00024 holds
// the same lists in the table basic_codes (TestCodeListsMatchSQL keeps the
// two equal).

// Code is one answer of a list.
type Code struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// CodeList is the answers of one item, in the form's order. None is the
// code that answers "none" (无), "" where the item has no such answer;
// Other the code whose answer carries free text (其他), "" where none.
type CodeList struct {
	Name  string
	Codes []Code
	None  string
	Other string
}

// Label returns the label of a code, "" for an unknown one.
func (l CodeList) Label(code string) string {
	for _, c := range l.Codes {
		if c.Code == code {
			return c.Label
		}
	}
	return ""
}

// Has reports whether code is one of the list's.
func (l CodeList) Has(code string) bool { return l.Label(code) != "" }

// familyDiseases is the list each family member's history takes.
var familyDiseases = []Code{{"1", "无"}, {"2", "高血压"}, {"3", "糖尿病"}, {"4", "冠心病"}, {"5", "慢性阻塞性肺疾病"},
	{"6", "恶性肿瘤"}, {"7", "脑卒中"}, {"8", "严重精神障碍"}, {"9", "结核病"}, {"10", "肝炎"}, {"11", "先天畸形"}, {"12", "其他"}}

// The code lists, by the name the API gives their field.
var (
	BloodABOCodes = CodeList{Name: "blood_abo", Codes: []Code{{"1", "A型"}, {"2", "B型"}, {"3", "O型"}, {"4", "AB型"}, {"5", "不详"}}}
	BloodRhCodes  = CodeList{Name: "blood_rh", Codes: []Code{{"1", "Rh阴性"}, {"2", "Rh阳性"}, {"3", "不详"}}}
	// Education follows the form's ten answers (GB/T 4658 grouped).
	EducationCodes = CodeList{Name: "education", Codes: []Code{{"1", "研究生"}, {"2", "大学本科"}, {"3", "大学专科和专科学校"},
		{"4", "中等专业学校"}, {"5", "技工学校"}, {"6", "高中"}, {"7", "初中"}, {"8", "小学"}, {"9", "文盲或半文盲"}, {"10", "不详"}}}
	// Occupation is the major groups of GB/T 6565, 0–8 as the form numbers them.
	OccupationCodes = CodeList{Name: "occupation", Codes: []Code{{"0", "国家机关、党群组织、企业、事业单位负责人"},
		{"1", "专业技术人员"}, {"2", "办事人员和有关人员"}, {"3", "商业、服务业人员"}, {"4", "农、林、牧、渔、水利业生产人员"},
		{"5", "生产、运输设备操作人员及有关人员"}, {"6", "军人"}, {"7", "不便分类的其他从业人员"}, {"8", "无职业"}}}
	// MaritalStatus follows GB/T 2261.2 as the form groups it.
	MaritalCodes = CodeList{Name: "marital_status", Codes: []Code{{"1", "未婚"}, {"2", "已婚"}, {"3", "丧偶"}, {"4", "离婚"},
		{"5", "未说明的婚姻状况"}}}
	PaymentCodes = CodeList{Name: "payment_types", Other: "8", Codes: []Code{{"1", "城镇职工基本医疗保险"},
		{"2", "城镇居民基本医疗保险"}, {"3", "新型农村合作医疗"}, {"4", "贫困救助"}, {"5", "商业医疗保险"}, {"6", "全公费"},
		{"7", "全自费"}, {"8", "其他"}}}
	AllergyCodes = CodeList{Name: "drug_allergies", None: "1", Other: "5", Codes: []Code{{"1", "无"}, {"2", "青霉素"},
		{"3", "磺胺"}, {"4", "链霉素"}, {"5", "其他"}}}
	ExposureCodes = CodeList{Name: "exposures", None: "1", Codes: []Code{{"1", "无"}, {"2", "化学品"}, {"3", "毒物"}, {"4", "射线"}}}
	// DiseaseCodes are the past-history diseases; "无" is an empty list there.
	DiseaseCodes = CodeList{Name: "past_diseases", Codes: []Code{{"2", "高血压"}, {"3", "糖尿病"}, {"4", "冠心病"},
		{"5", "慢性阻塞性肺疾病"}, {"6", "恶性肿瘤"}, {"7", "脑卒中"}, {"8", "严重精神障碍"}, {"9", "结核病"}, {"10", "肝炎"},
		{"11", "其他法定传染病"}, {"12", "职业病"}, {"13", "其他"}}}
	FamilyCodes     = CodeList{Name: "family_history", None: "1", Other: "12", Codes: familyDiseases}
	DisabilityCodes = CodeList{Name: "disabilities", None: "1", Other: "8", Codes: []Code{{"1", "无残疾"}, {"2", "视力残疾"},
		{"3", "听力残疾"}, {"4", "言语残疾"}, {"5", "肢体残疾"}, {"6", "智力残疾"}, {"7", "精神残疾"}, {"8", "其他残疾"}}}
	KitchenCodes = CodeList{Name: "kitchen_exhaust", Codes: []Code{{"1", "无"}, {"2", "油烟机"}, {"3", "换气扇"}, {"4", "烟囱"}}}
	FuelCodes    = CodeList{Name: "fuel", Codes: []Code{{"1", "液化气"}, {"2", "煤"}, {"3", "天然气"}, {"4", "沼气"}, {"5", "柴火"},
		{"6", "其他"}}}
	WaterCodes = CodeList{Name: "water", Codes: []Code{{"1", "自来水"}, {"2", "经净化过滤的水"}, {"3", "井水"}, {"4", "河湖水"},
		{"5", "塘水"}, {"6", "其他"}}}
	ToiletCodes = CodeList{Name: "toilet", Codes: []Code{{"1", "卫生厕所"}, {"2", "一格或二格粪池式"}, {"3", "马桶"},
		{"4", "露天粪坑"}, {"5", "简易棚厕"}}}
	LivestockCodes = CodeList{Name: "livestock_pen", Codes: []Code{{"1", "无"}, {"2", "单设"}, {"3", "室内"}, {"4", "室外"}}}
)

// CodeLists are every list, for the conformance test and the docs.
var CodeLists = []CodeList{BloodABOCodes, BloodRhCodes, EducationCodes, OccupationCodes, MaritalCodes, PaymentCodes,
	AllergyCodes, ExposureCodes, DiseaseCodes, FamilyCodes, DisabilityCodes, KitchenCodes, FuelCodes, WaterCodes,
	ToiletCodes, LivestockCodes}

// AnsweredBasicInfo is a table with every item answered, most of them
// "none": a healthy resident's, for tests and the demo to start from.
func AnsweredBasicInfo() BasicInfo {
	return BasicInfo{BloodABO: "5", BloodRh: "3", Education: "7", Occupation: "4", MaritalStatus: "2",
		PaymentTypes: []string{"3"}, DrugAllergies: []string{"1"}, Exposures: []string{"1"}, PastDiseases: []PastDisease{},
		Operations: []Event{}, Traumas: []Event{}, Transfusions: []Event{}, FamilyFather: []string{"1"},
		FamilyMother: []string{"1"}, FamilySiblings: []string{"1"}, FamilyChildren: []string{"1"}, HereditaryDiseases: []string{},
		Disabilities: []string{"1"}, KitchenExhaust: "2", Fuel: "1", Water: "1", Toilet: "1", LivestockPen: "1"}
}
