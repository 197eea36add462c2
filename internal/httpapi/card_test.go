package httpapi_test

import (
	"strings"
	"testing"

	"healthrec/internal/pdfdoc/pdftest"
)

// TestRecordCard prints the record card and reads it back with pdftotext.
func TestRecordCard(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc := e.login(f.DoctorA)
	id := validID("1955-03-08", 2)
	rid := doc.fileRecord(f.VillageA1, "欧阳秀英", map[string]any{"id_number": id, "responsible_doctor": f.DoctorA,
		"contact_name": "欧阳明", "contact_phone": "13700001111",
		"blood_abo": "4", "drug_allergies": []string{"2", "3"}, "past_diseases": []map[string]any{{"code": "4", "diagnosed_on": "2019-05"}}})
	doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-10"}, 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "elderly", "enrolled_on": "2024-01-10"}, 201)

	r := doc.mustReq("GET", "/api/v1/records/"+rid+"/card.pdf", nil, 200)
	if ct := r.Header.Get("Content-Type"); ct != "application/pdf" || !strings.HasPrefix(string(r.Raw), "%PDF-") {
		t.Fatalf("Content-Type %q, body starts %q", ct, r.Raw[:min(8, len(r.Raw))])
	}
	text := pdftest.Compact(t, r.Raw)
	for _, want := range []string{"居民健康档案信息卡", "欧阳秀英", rid, id, "女", "1955-03-08", "AB型", "青霉素、磺胺", "高血压、冠心病",
		"欧阳明13700001111", "千岛湖镇社区卫生服务中心", "人员docA13800000000", "村101"} {
		if !strings.Contains(text, want) {
			t.Errorf("card text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "老年人") {
		t.Errorf("elderly care printed as a chronic condition:\n%s", text)
	}
	if who, sec, out := e.lastAccess(rid); who != f.DoctorA || sec != "card" || out != "allowed" {
		t.Fatalf("access log: %s %s %s", who, sec, out)
	}

	t.Run("HomeVisit", func(t *testing.T) {
		e.login(f.HomeVisitA).mustReq("GET", "/api/v1/records/"+rid+"/card.pdf", nil, 200)
	})
	t.Run("Denied", func(t *testing.T) {
		inA2 := doc.fileRecord(f.VillageA2, "外村", nil)
		for _, tc := range []struct{ who, rid string }{{f.HomeVisitA, inA2}, {f.DoctorB, rid}, {f.Requester, rid}, {f.Bureau, rid}} {
			e.login(tc.who).mustReq("GET", "/api/v1/records/"+tc.rid+"/card.pdf", nil, 403)
			if who, sec, out := e.lastAccess(tc.rid); who != tc.who || sec != "card" || out != "denied" {
				t.Errorf("%s: access log %s %s %s", tc.who, who, sec, out)
			}
		}
	})
	t.Run("Sparse", func(t *testing.T) {
		bare := doc.fileRecord(f.VillageA2, "李四", bareTable())
		text := pdftest.Compact(t, doc.mustReq("GET", "/api/v1/records/"+bare+"/card.pdf", nil, 200).Raw)
		for _, want := range []string{"李四", bare, "身份证号：未填写", "血型：未填写", "过敏史：未填写", "慢性病患病情况：未填写", "责任医生：未指定"} {
			if !strings.Contains(text, want) {
				t.Errorf("sparse card lacks %q:\n%s", want, text)
			}
		}
	})
	t.Run("RecordedNone", func(t *testing.T) {
		// Recorded as none is "无"; the card is card-sized, A4 on request.
		body := bareTable()
		body["drug_allergies"], body["past_diseases"] = []string{"1"}, []any{}
		none := doc.fileRecord(f.VillageA2, "王五", body)
		card := doc.mustReq("GET", "/api/v1/records/"+none+"/card.pdf", nil, 200).Raw
		text := pdftest.Compact(t, card)
		for _, want := range []string{"过敏史：无", "慢性病患病情况：无", "血型：未填写"} {
			if !strings.Contains(text, want) {
				t.Errorf("card lacks %q:\n%s", want, text)
			}
		}
		a4 := doc.mustReq("GET", "/api/v1/records/"+none+"/card.pdf?size=a4", nil, 200).Raw
		if !strings.Contains(string(card), "/MediaBox [ 0 0 297.64 419.53 ]") || !strings.Contains(string(a4), "/MediaBox [ 0 0 595.00 842.00 ]") {
			t.Errorf("page sizes: card %q, a4 %q", mediaBox(card), mediaBox(a4))
		}
		doc.mustReq("GET", "/api/v1/records/"+none+"/card.pdf?size=letter", nil, 400)
	})
	t.Run("NotFound", func(t *testing.T) {
		doc.mustReq("GET", "/api/v1/records/"+f.VillageA1+"9999/card.pdf", nil, 404)
	})
	t.Run("WholeTable", func(t *testing.T) {
		// The A4 sheet of a filled record prints every item's answer.
		full := doc.fileRecord(f.VillageA2, "钱六", map[string]any{"blood_abo": "1", "blood_rh": "2", "education": "7",
			"occupation": "4", "marital_status": "3", "payment_types": []string{"3", "8"}, "payment_other": "大病保险",
			"drug_allergies": []string{"5"}, "drug_allergy_other": "头孢", "exposures": []string{"4"},
			"past_diseases": []map[string]any{{"code": "3", "diagnosed_on": "2016-04"}, {"code": "6", "note": "胃癌", "diagnosed_on": "2020-01"}},
			"operations":    []map[string]any{{"name": "胃大部切除术", "date": "2020-02-11"}}, "traumas": []any{},
			"transfusions":  []map[string]any{{"name": "术中出血", "date": "2020-02"}},
			"family_father": []string{"2", "7"}, "family_mother": []string{"3"}, "family_siblings": []string{"1"},
			"family_children": []string{"12"}, "family_history_other": "痛风", "hereditary_diseases": []string{"色盲"},
			"disabilities": []string{"3"}, "kitchen_exhaust": "4", "fuel": "5", "water": "3", "toilet": "2", "livestock_pen": "3"})
		text := pdftest.Compact(t, doc.mustReq("GET", "/api/v1/records/"+full+"/card.pdf?size=a4", nil, 200).Raw)
		for _, want := range []string{"个人基本信息表", "血型：A型/Rh阳性", "文化程度：初中", "职业：农、林、牧、渔、水利业生产人员",
			"婚姻状况：丧偶", "新型农村合作医疗、其他：大病保险", "药物过敏史：其他：头孢", "暴露史：射线",
			"糖尿病（确诊2016-04）", "恶性肿瘤：胃癌（确诊2020-01）", "胃大部切除术（2020-02-11）", "既往史：外伤：无",
			"术中出血（2020-02）", "家族史：父亲：高血压、脑卒中", "家族史：母亲：糖尿病", "家族史：兄弟姐妹：无",
			"其他（其他：痛风）", "遗传病史：色盲", "残疾情况：听力残疾", "厨房排风设施：烟囱", "燃料类型：柴火", "饮水：井水",
			"厕所：一格或二格粪池式", "禽畜栏：室内", "过敏史：头孢", "慢性病患病情况：糖尿病、恶性肿瘤（胃癌）"} {
			if !strings.Contains(text, want) {
				t.Errorf("sheet lacks %q:\n%s", want, text)
			}
		}
		bare := doc.fileRecord(f.VillageA2, "孙七", bareTable())
		text = pdftest.Compact(t, doc.mustReq("GET", "/api/v1/records/"+bare+"/card.pdf?size=a4", nil, 200).Raw)
		for _, want := range []string{"既往史：手术：未填写", "厕所：未填写", "遗传病史：未填写"} {
			if !strings.Contains(text, want) {
				t.Errorf("bare sheet lacks %q:\n%s", want, text)
			}
		}
	})
}

// TestEntriesUnderGrants reads the timeline, programmes and card through
// consent grants: each shows what its sections cover and nothing more, and
// the card masks the identity number for a grantee.
func TestEntriesUnderGrants(t *testing.T) {
	e := newEnv(t)
	e.at("2024-06-30")
	f := e.f
	doc, ra := e.login(f.DoctorA), e.login(f.AdminA)
	id := validID("1955-03-08", 4)
	rid := doc.fileRecord(f.VillageA1, "林秀英", map[string]any{"id_number": id})
	doc.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "hypertension", "enrolled_on": "2024-01-10"}, 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-06-01"), 201)
	doc.mustReq("POST", "/api/v1/records/"+rid+"/exams", map[string]any{"service_date": "2024-05-01"}, 201)
	grantee := func(code string, sections ...string) *client {
		e.addRequester(code)
		c := e.login(code)
		grantTo(c, ra, rid, 30, "active", sections...)
		return c
	}
	kinds := func(r response) string {
		var out []string
		for _, it := range r.Body["items"].([]any) {
			out = append(out, it.(map[string]any)["kind"].(string))
		}
		return strings.Join(out, " ")
	}
	t.Run("Entries", func(t *testing.T) {
		c := grantee("req_entries", "entries")
		if got := kinds(c.mustReq("GET", "/api/v1/records/"+rid+"/timeline", nil, 200)); got != "visit" {
			t.Fatalf("timeline through an entries grant: %s", got)
		}
		c.mustReq("GET", "/api/v1/records/"+rid+"/card.pdf", nil, 403)
		c.mustReq("GET", "/api/v1/records/"+rid+"/programmes", nil, 403)
		c.mustReq("POST", "/api/v1/records/"+rid+"/visits", visitBody("2024-06-02"), 403)
		if who, sec, out := e.lastAccess(rid); who != "req_entries" || sec != "entries" || out != "denied" {
			t.Fatalf("denied write: access log %s %s %s", who, sec, out)
		}
	})
	t.Run("EntriesAndExams", func(t *testing.T) {
		c := grantee("req_both", "entries", "exams")
		if got := kinds(c.mustReq("GET", "/api/v1/records/"+rid+"/timeline", nil, 200)); got != "visit exam" {
			t.Fatalf("timeline: %s", got)
		}
	})
	t.Run("ExamsOnly", func(t *testing.T) {
		grantee("req_exams", "exams").mustReq("GET", "/api/v1/records/"+rid+"/timeline", nil, 403)
	})
	t.Run("Programmes", func(t *testing.T) {
		c := grantee("req_prog", "programmes")
		if r := c.mustReq("GET", "/api/v1/records/"+rid+"/programmes", nil, 200); r.Body["total"] != 1.0 {
			t.Fatalf("programmes: %s", r.Raw)
		}
		c.mustReq("POST", "/api/v1/records/"+rid+"/programmes", map[string]any{"programme": "elderly", "enrolled_on": "2024-01-10"}, 403)
	})
	t.Run("BasicCardMasked", func(t *testing.T) {
		c := grantee("req_basic", "basic")
		text := pdftest.Compact(t, c.mustReq("GET", "/api/v1/records/"+rid+"/card.pdf", nil, 200).Raw)
		if !strings.Contains(text, "林秀英") || strings.Contains(text, id) || !strings.Contains(text, id[:6]+"********"+id[14:]) {
			t.Fatalf("card through a basic grant:\n%s", text)
		}
		c.mustReq("GET", "/api/v1/records/"+rid+"/timeline", nil, 403)
	})
}

func mediaBox(pdf []byte) string {
	s := string(pdf)
	if i := strings.Index(s, "/MediaBox"); i >= 0 {
		return s[i:min(len(s), i+40)]
	}
	return ""
}
