package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
	"healthrec/internal/entry"
	"healthrec/internal/ident"
	"healthrec/internal/pdfdoc"
	"healthrec/internal/postgres"
	"healthrec/internal/record"
)

// recordCard is the printable record card (《居民健康档案信息卡》, DESIGN §3):
// who the resident is, blood type, chronic conditions, allergies, and whom to
// call. A caller reading through a consent grant sees the identity number
// masked, as in lists.
func (s *Server) recordCard(c *gin.Context) {
	// The card prints card-sized (A6) unless ?size=a4 asks for the sheet;
	// checked before the gate, so a bad value is no access at all.
	a4 := false
	switch c.Query("size") {
	case "", "card":
	case "a4":
		a4 = true
	default:
		c.Error(apperr.InvalidField("size", "应为 card（卡片，A6）或 a4"))
		return
	}
	d, ok := s.recordAccess(c, "card", access.Read)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	r, err := s.db.Record(ctx, c.Param("id"))
	if err != nil {
		c.Error(err)
		return
	}
	en, _, err := s.db.Enrolments(ctx, r.RecordID, postgres.Page{PerPage: postgres.MaxPerPage})
	if err != nil {
		c.Error(err)
		return
	}
	cd := cardData{Record: r, Enrolments: en, Full: d.Full, A4: a4}
	if v, err := s.db.Village(ctx, r.VillageCode); err == nil {
		cd.Village = v.Name
	}
	if in, err := s.db.Institution(ctx, d.Scope.InstitutionCode); err == nil {
		cd.Institution = in.Name
	} else if apperr.CodeOf(err) != apperr.NotFound {
		c.Error(err)
		return
	}
	if r.ResponsibleDoctor != "" {
		if st, err := s.db.Staff(ctx, r.ResponsibleDoctor); err == nil {
			cd.Doctor, cd.DoctorPhone = st.Name, st.Phone
		} else if apperr.CodeOf(err) != apperr.NotFound {
			c.Error(err)
			return
		}
	}
	pdf, err := cd.pdf()
	if err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="card-%s.pdf"`, r.RecordID))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// recordNames are the names a person reads where the record holds codes:
// its village, responsible doctor, filing institution and filer. A code
// that names nothing registered is left out (the page shows the code).
func (s *Server) recordNames(ctx context.Context, r *record.Record) (map[string]string, error) {
	out := map[string]string{}
	keep := func(key, name string, err error) error {
		if err == nil && name != "" {
			out[key] = name
			return nil
		}
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		return nil
	}
	v, err := s.db.Village(ctx, r.VillageCode)
	if err := keep("village_code", nameOf(v, err, func() string { return v.Name }), err); err != nil {
		return nil, err
	}
	if r.FilingInstitution != "" {
		in, err := s.db.Institution(ctx, r.FilingInstitution)
		if err := keep("filing_institution", nameOf(in, err, func() string { return in.Name }), err); err != nil {
			return nil, err
		}
	}
	for key, code := range map[string]string{"responsible_doctor": r.ResponsibleDoctor, "filed_by": r.FiledBy} {
		if code == "" {
			continue
		}
		st, err := s.db.Staff(ctx, code)
		if err := keep(key, nameOf(st, err, func() string { return st.Name }), err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func nameOf[T any](p *T, err error, name func() string) string {
	if err != nil || p == nil {
		return ""
	}
	return name()
}

// cardData is what the card prints.
type cardData struct {
	Record      *record.Record
	Enrolments  []entry.Enrolment
	Full        bool // the caller may see the identity number unmasked
	Village     string
	Institution string
	Doctor      string
	DoctorPhone string
	// A4 prints on an A4 sheet rather than card-sized (A6).
	A4 bool
}

// The card's size: A6 portrait, in points, with narrow margins.
const (
	cardW, cardH = 297.64, 419.53
	cardMargin   = 22
)

func (cd cardData) pdf() ([]byte, error) {
	r := cd.Record
	opts := []pdfdoc.Option{pdfdoc.Author(cd.Institution)}
	if !cd.A4 {
		opts = append(opts, pdfdoc.PageSize(cardW, cardH), pdfdoc.Margin(cardMargin))
	}
	d, err := pdfdoc.New(opts...)
	if err != nil {
		return nil, err
	}
	d.Title("居民健康档案信息卡")
	idNumber := r.IDNumber
	if !cd.Full {
		idNumber = ident.Mask(idNumber)
	}
	// "未填写" where nothing was ever recorded; "无" only where the record
	// says there is none (an empty list of allergies, say): a card that
	// reads "过敏史：无" for a question never asked misleads a clinician.
	d.KeyValues([][2]string{
		{"姓名", r.Name},
		{"性别", sexName(r.Sex)},
		{"出生日期", orNone(dateText(r.BirthDate), notRecorded)},
		{"健康档案编号", r.RecordID},
		{"身份证号", orNone(idNumber, notRecorded)},
		{"血型", bloodType(&r.BasicInfo)},
		{"慢性病患病情况", cd.chronicText()},
		{"过敏史", allergyText(&r.BasicInfo)},
		{"本人电话", orNone(r.Phone, notRecorded)},
		{"紧急情况联系人", orNone(strings.TrimSpace(r.ContactName+" "+r.ContactPhone), notRecorded)},
		{"村（居）", orNone(cd.Village, r.VillageCode)},
		{"建档机构", orNone(cd.Institution, "—")},
		{"责任医生", orNone(strings.TrimSpace(cd.Doctor+" "+cd.DoctorPhone), "未指定")},
		{"建档日期", r.FiledOn.String()},
	})
	if r.Status != record.Active {
		d.Note(fmt.Sprintf("档案状态：%s（%s）", statusName(r.Status), r.StatusDate))
	}
	d.Note("请妥善保管本卡，就诊时出示。")
	if cd.A4 {
		// The sheet carries the whole personal basic information table:
		// every item's answer, "无" and "未填写" told apart.
		d.Heading("个人基本信息表")
		d.KeyValues(r.BasicInfo.Answers())
		if len(r.DetailsUnmapped) > 0 {
			d.Note("迁移时未能对应到表中项目的原有内容（请医生核对后转录）：" + detailText(map[string]any(r.DetailsUnmapped)))
		}
	}
	return d.Bytes()
}

// notRecorded is what the card prints for an item never recorded.
const notRecorded = "未填写"

// chronicText is the chronic conditions line: the conditions, "无" when the
// record says none (no programme, past history of diseases answered none),
// "未填写" when nothing says either way.
func (cd cardData) chronicText() string {
	if c := cd.chronic(); len(c) > 0 {
		return strings.Join(c, "、")
	}
	if cd.Record.PastDiseases != nil {
		return "无"
	}
	return notRecorded
}

func dateText(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// chronic lists the resident's chronic conditions: those of active
// programmes, then the diseases of the past history.
func (cd cardData) chronic() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range cd.Enrolments {
		if e.Status == entry.EnrolmentActive && e.Programme.Chronic() {
			add(e.Programme.Chinese())
		}
	}
	for _, p := range cd.Record.PastDiseases {
		name := record.DiseaseCodes.Label(p.Code)
		if p.Note != "" {
			name += "（" + p.Note + "）"
		}
		add(name)
	}
	return out
}

// bloodType prints the blood type: ABO and Rh, "未填写" when neither was
// recorded.
func bloodType(b *record.BasicInfo) string {
	if b.BloodABO == "" && b.BloodRh == "" {
		return notRecorded
	}
	abo, rh := record.BloodABOCodes.Label(b.BloodABO), record.BloodRhCodes.Label(b.BloodRh)
	if abo == "" {
		abo = "ABO 未填写"
	}
	if rh == "不详" {
		rh = "Rh 不详"
	}
	return strings.TrimSpace(abo + " " + rh)
}

// allergyText prints the drug allergies: their names, "无" when recorded
// as none, "未填写" when never recorded.
func allergyText(b *record.BasicInfo) string {
	if b.DrugAllergies == nil {
		return notRecorded
	}
	parts := make([]string, 0, len(b.DrugAllergies))
	for _, c := range b.DrugAllergies {
		l := record.AllergyCodes.Label(c)
		if c == record.AllergyCodes.Other && b.AllergyOther != "" {
			l = b.AllergyOther
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, "、")
}

// detailText prints a free-form details value: strings as they are, lists
// joined with "、", objects as "key：value" pairs.
func detailText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case bool:
		if x {
			return "是"
		}
		return "否"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := detailText(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "、")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if s := detailText(x[k]); s != "" {
				parts = append(parts, k+"："+s)
			}
		}
		return strings.Join(parts, "；")
	}
	return fmt.Sprint(v)
}

func sexName(s string) string {
	switch s {
	case "M":
		return "男"
	case "F":
		return "女"
	}
	return "未说明"
}

func statusName(s record.Status) string {
	switch s {
	case record.MovedOut:
		return "已迁出"
	case record.Deceased:
		return "已死亡"
	}
	return string(s)
}

func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}
