package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
)

// filledExam is a whole health examination table, section by section, each
// complete, and for each section a few answers as the printed form reads
// them.
var filledExam = []struct {
	section string
	values  map[string]any
	printed []string
}{
	{"symptoms", map[string]any{"symptoms": []string{"2", "3", "25"}, "symptoms_other": "夜间盗汗"}, []string{"头痛、头晕、其他", "夜间盗汗"}},
	{"general", map[string]any{"temperature": 36.6, "pulse": 76, "respiration": 18, "systolic": 146, "diastolic": 92,
		"systolic_right": 142, "diastolic_right": 90, "height_cm": 162, "weight_kg": 70.5, "waist_cm": 88,
		"elderly_health_status": "2", "elderly_self_care": "1", "elderly_cognition": "2", "elderly_cognition_score": 26, "elderly_affect": "1"},
		[]string{"36.6℃", "146mmHg", "162cm", "26.9kg/m²", "基本满意", "可自理（0～3分）", "粗筛阳性", "26分"}},
	{"lifestyle", map[string]any{"exercise_frequency": "2", "exercise_minutes": 40, "exercise_years": 5, "exercise_kind": "太极拳",
		"diet": []string{"1", "4"}, "smoking_status": "2", "cigarettes_per_day": 20, "smoking_start_age": 20, "smoking_quit_age": 60,
		"drinking_frequency": "2", "alcohol_per_day": 1.5, "alcohol_abstinent": "1", "drinking_start_age": 25, "drunk_last_year": "2",
		"alcohol_kinds": []string{"1", "4"}, "occupational_exposure": "2", "occupation_kind": "石材加工", "occupation_years": 12,
		"dust": "石英粉尘", "dust_protection": "2", "dust_protection_note": "防尘口罩"},
		[]string{"每周一次以上", "40分钟", "太极拳", "荤素均衡、嗜盐", "已戒烟", "60岁", "白酒、黄酒", "石材加工", "石英粉尘", "防尘口罩"}},
	{"organs", map[string]any{"lips": "1", "dentition": []string{"2", "4"}, "dentition_note": "左下6缺失", "pharynx": "2",
		"vision_left": 4.8, "vision_right": 4.9, "hearing": "1", "motor": "1"},
		[]string{"红润", "缺齿、义齿（假牙）", "左下6缺失", "充血", "4.8", "4.9", "听见", "可顺利完成"}},
	{"physical", map[string]any{"fundus": "2", "fundus_note": "动脉硬化Ⅰ级", "skin": "1", "sclera": "1", "lymph_nodes": "1",
		"barrel_chest": "1", "breath_sounds": "1", "rales": "1", "heart_rate": 76, "heart_rhythm": "1", "heart_murmur": "1",
		"abdominal_tenderness": "1", "abdominal_mass": "1", "hepatomegaly": "1", "splenomegaly": "1", "shifting_dullness": "1",
		"leg_oedema": "4", "dorsalis_pedis": "2"},
		[]string{"动脉硬化Ⅰ级", "未触及", "76次/分钟", "双侧对称", "触及双侧对称"}},
	{"tests", map[string]any{"haemoglobin": 128, "wbc": 6.2, "platelets": 210, "urine_protein": "2", "urine_glucose": "1",
		"fasting_glucose": 6.8, "ecg": "2", "ecg_note": "ST段压低", "alt": 32, "ast": 28, "creatinine": 88, "urea": 5.6,
		"total_cholesterol": 5.9, "triglycerides": 2.1, "ldl": 3.6, "hdl": 1.1, "hba1c": 6.4},
		[]string{"128g/L", "6.2×10^9/L", "±", "6.8mmol/L", "ST段压低", "32U/L", "88μmol/L", "5.9mmol/L", "6.4%"}},
	{"problems", map[string]any{"cerebrovascular": []string{"1"}, "kidney": []string{"1"}, "heart": []string{"3"}, "vascular": []string{"1"},
		"eye": []string{"4"}, "neurological": "1", "other_system": "1"},
		[]string{"心绞痛", "白内障", "未发现"}},
	{"hospital", map[string]any{"admissions": []map[string]any{{"from": "2023-11-02", "to": "2023-11-12", "reason": "不稳定型心绞痛",
		"institution": "县人民医院", "case_number": "Z2023-1188"}}, "home_sickbeds": []any{}},
		[]string{"不稳定型心绞痛", "县人民医院", "Z2023-1188", "2023-11-02"}},
	{"medication", map[string]any{"medicines": []map[string]any{{"name": "苯磺酸氨氯地平片", "usage": "口服", "dose": "5mg每日一次",
		"duration": "3年", "adherence": "1"}, {"name": "阿司匹林肠溶片", "usage": "口服", "dose": "100mg", "adherence": "2"}}},
		[]string{"苯磺酸氨氯地平片", "5mg每日一次", "规律", "阿司匹林肠溶片", "间断"}},
	{"vaccinations", map[string]any{"vaccinations": []map[string]any{{"name": "23价肺炎球菌多糖疫苗", "date": "2023-10-15", "institution": "千岛湖镇社区卫生服务中心"}}},
		[]string{"23价肺炎球菌多糖疫苗", "2023-10-15"}},
	{"assessment", map[string]any{"evaluation": "2", "abnormalities": []string{"血压升高", "空腹血糖受损"}, "guidance": []string{"1", "2"},
		"risk_factors": []string{"2", "5", "6"}, "weight_target": 65, "vaccine_advice": "流感疫苗"},
		[]string{"有异常", "血压升高", "空腹血糖受损", "纳入慢性病患者健康管理、建议复查", "减体重", "65kg", "流感疫苗"}},
}

// TestExamSectionsAPI enters a health examination the desk's way: created
// with its vital signs, then section by section, drafts first, each
// finished later; and refuses what the form does not allow, with the field
// and the reason.
func TestExamSectionsAPI(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	rid := doc.fileRecord(f.VillageA1, "欧阳秀英", nil)

	form := doc.mustReq("GET", "/api/v1/exam-form", nil, 200).Body
	sections, _ := form["sections"].([]any)
	if len(sections) != len(filledExam) {
		t.Fatalf("form has %d sections, want %d", len(sections), len(filledExam))
	}

	// Created as before: vitals at the top level (quality rule Q11 reads them).
	created := doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-06-20",
		"systolic": 150, "diastolic": 95, "height_cm": 162, "weight_kg": 70, "sections": map[string]any{"symptoms": map[string]any{"symptoms": []string{"1"}}}}, 201).Body
	exam := fmt.Sprintf("/api/v1/records/%s/exams/%v", rid, created["id"])
	if created["state"] != "draft" || created["section_states"].(map[string]any)["symptoms"] != "draft" {
		t.Fatalf("created: %v %v", created["state"], created["section_states"])
	}

	t.Run("ErrCreateWithBadSections", func(t *testing.T) {
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"service_date": "2024-06-20", "sections": map[string]any{"symptoms": map[string]any{"symptoms": []string{"1", "2"}}}}, "symptoms.symptoms"},
			{map[string]any{"service_date": "2024-06-20", "sections": map[string]any{"general": map[string]any{"systolic": 120}}}, "general.systolic"},
			{map[string]any{"service_date": "2024-06-20", "section_states": map[string]any{"lifestyle": "complete"}}, "lifestyle.diet"},
			{map[string]any{"service_date": "2024-06-20", "sections": map[string]any{"dreams": map[string]any{}}}, "sections.dreams"},
		} {
			r := doc.req("POST", "/api/v1/records/"+rid+"/exams", tc.body)
			fields := map[string]bool{}
			for _, f := range r.Body["error"].(map[string]any)["fields"].([]any) {
				fields[f.(map[string]any)["field"].(string)] = true
			}
			if r.Status != 400 || !fields[tc.field] {
				t.Errorf("%v: %d %s, want 400 on %s", tc.body, r.Status, r.Raw, tc.field)
			}
		}
	})
	t.Run("DraftThenComplete", func(t *testing.T) {
		r := doc.mustReq("PATCH", exam+"/sections/lifestyle", map[string]any{"values": map[string]any{"exercise_frequency": "1"}}, 200).Body
		if r["section_states"].(map[string]any)["lifestyle"] != "draft" {
			t.Fatalf("states %v", r["section_states"])
		}
		r2 := doc.req("PATCH", exam+"/sections/lifestyle", map[string]any{"values": map[string]any{}, "state": "complete"})
		if r2.Status != 400 || !strings.HasPrefix(r2.errField(), "lifestyle.") {
			t.Fatalf("completing an unfinished section: %d %s", r2.Status, r2.Raw)
		}
	})
	t.Run("ErrOutOfRange", func(t *testing.T) {
		for _, tc := range []struct{ section, item, field string }{
			{"tests", `"haemoglobin": 400`, "tests.haemoglobin"},
			{"tests", `"alt": -1`, "tests.alt"},
			{"tests", `"fasting_glucose": 90`, "fasting_glucose"},
			{"general", `"systolic": 400, "diastolic": 80`, "systolic"},
			{"organs", `"lips": "9"`, "organs.lips"},
			{"symptoms", `"symptoms": ["1", "2"]`, "symptoms.symptoms"},
			{"lifestyle", `"smell": "1"`, "lifestyle.smell"},
		} {
			r := doc.req("PATCH", exam+"/sections/"+tc.section, `{"values": {`+tc.item+`}}`)
			if r.Status != 400 || r.errField() != tc.field {
				t.Errorf("%s %s: %d %s", tc.section, tc.item, r.Status, r.Raw)
			}
		}
		if r := doc.req("PATCH", exam+"/sections/tests", map[string]any{"state": "done"}); r.Status != 400 || r.errField() != "state" {
			t.Errorf("bad state: %d %s", r.Status, r.Raw)
		}
		if r := doc.req("PATCH", exam+"/sections/dreams", map[string]any{}); r.Status != 404 {
			t.Errorf("unknown section: %d %s", r.Status, r.Raw)
		}
		other := doc.fileRecord(f.VillageA1, "周桂兰", nil)
		if r := doc.req("GET", fmt.Sprintf("/api/v1/records/%s/exams/%v", other, created["id"]), nil); r.Status != 404 {
			t.Errorf("another record's exam: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("FilledIsComplete", func(t *testing.T) {
		var last map[string]any
		for _, s := range filledExam {
			last = doc.mustReq("PATCH", exam+"/sections/"+s.section, map[string]any{"values": s.values, "state": "complete"}, 200).Body
		}
		if last["state"] != "complete" {
			t.Fatalf("every section complete, exam %v: %v", last["state"], last["section_states"])
		}
		got := doc.mustReq("GET", exam, nil, 200).Body
		if got["systolic"] != 146.0 || got["fasting_glucose"] != 6.8 || got["bmi"] != 26.9 {
			t.Fatalf("columns from sections: %v %v %v", got["systolic"], got["fasting_glucose"], got["bmi"])
		}
		rec := doc.mustReq("GET", "/api/v1/records/"+rid, nil, 200).Body
		if ex := rec["exams"].([]any)[0].(map[string]any); ex["state"] != "complete" {
			t.Fatalf("record page exam %v", ex["state"])
		}
	})
	t.Run("Access", func(t *testing.T) {
		hv := e.login(f.HomeVisitA)
		hv.mustReq("GET", exam, nil, 200)
		hv.mustReq("PATCH", exam+"/sections/symptoms", map[string]any{"values": map[string]any{"symptoms": []string{"2"}}}, 403)
		if who, sec, out := e.lastAccess(rid); who != f.HomeVisitA || sec != "exams" || out != "denied" {
			t.Errorf("home visit's patch: access log %s %s %s", who, sec, out)
		}
		e.login(f.DoctorB).mustReq("GET", exam, nil, 403)
		e.login(f.DoctorB).mustReq("PATCH", exam+"/sections/symptoms", map[string]any{"values": map[string]any{}}, 403)
		e.addRequester("req_exams")
		req := e.login("req_exams")
		grantTo(req, e.login(f.AdminA), rid, 30, "active", "exams")
		req.mustReq("GET", exam, nil, 200)
		req.mustReq("PATCH", exam+"/sections/symptoms", map[string]any{"values": map[string]any{}}, 403)
		text := pdftest.Compact(t, req.mustReq("GET", exam+"/form.pdf", nil, 200).Raw)
		if strings.Contains(text, "欧阳秀英") || !strings.Contains(text, rid) {
			t.Errorf("exams-only grantee's PDF names the resident or lacks the record ID:\n%s", text)
		}
	})
}

// TestExamPDF prints a filled examination as the standard's form and reads
// it back with pdftotext: every section, and every section's answers.
func TestExamPDF(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	rid := doc.fileRecord(f.VillageA1, "欧阳秀英", nil)
	created := doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-06-20"}, 201).Body
	exam := fmt.Sprintf("/api/v1/records/%s/exams/%v", rid, created["id"])
	for _, s := range filledExam {
		doc.mustReq("PATCH", exam+"/sections/"+s.section, map[string]any{"values": s.values, "state": "complete"}, 200)
	}
	r := doc.mustReq("GET", exam+"/form.pdf", nil, 200)
	if ct := r.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("Content-Type %q", ct)
	}
	text := pdftest.Compact(t, r.Raw)
	for _, want := range []string{"健康体检表", "欧阳秀英", rid, "2024-06-20", "症状（已完成）", "一般状况（已完成）", "生活方式（已完成）",
		"脏器功能（已完成）", "查体（已完成）", "辅助检查（已完成）", "现存主要健康问题（已完成）", "住院治疗情况（已完成）",
		"主要用药情况（已完成）", "非免疫规划预防接种史（已完成）", "健康评价与健康指导（已完成）"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	for _, s := range filledExam {
		for _, want := range s.printed {
			if !strings.Contains(text, want) {
				t.Errorf("PDF lacks %s's answer %q", s.section, want)
			}
		}
	}
	if t.Failed() {
		t.Logf("PDF text:\n%s", text)
	}
}
