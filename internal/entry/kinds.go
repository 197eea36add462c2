package entry

import (
	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// VisitNote is a visit's own record, in SOAP order (接诊记录, DESIGN §4.1).
type VisitNote struct {
	Subjective string `json:"subjective"` // 主观资料: the complaint
	Objective  string `json:"objective"`  // 客观资料: findings
	Assessment string `json:"assessment"` // 评估
	Plan       string `json:"plan"`       // 处置计划
}

// VisitForm is what a client sends to record a visit.
type VisitForm struct {
	Base
	VisitNote
}

// Visit is a visit (接诊).
type Visit struct {
	Meta
	VisitForm
}

// Form implements Entry.
func (v *Visit) Form() any { return &v.VisitForm }

// Own implements Entry.
func (v *Visit) Own() any { return &v.VisitNote }

// Validate implements Entry: a visit has a complaint and an assessment.
func (v *Visit) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	v.Base.validate(&fe, today)
	text(&fe, "subjective", &v.Subjective, true, "主观资料（主诉）")
	text(&fe, "objective", &v.Objective, false, "客观资料")
	text(&fe, "assessment", &v.Assessment, true, "评估")
	text(&fe, "plan", &v.Plan, false, "处置计划")
	return fe.Err()
}

// Consultant is one consulting institution and doctor.
type Consultant struct {
	Institution string `json:"institution"`
	Doctor      string `json:"doctor"`
}

// ConsultationNote is a consultation's own record (会诊记录, DESIGN §4.4).
type ConsultationNote struct {
	Reason      string       `json:"reason"`
	Consultants []Consultant `json:"consultants"`
	Opinion     string       `json:"opinion"`
}

// ConsultationForm is what a client sends to record a consultation.
type ConsultationForm struct {
	Base
	ConsultationNote
}

// Consultation is a consultation (会诊).
type Consultation struct {
	Meta
	ConsultationForm
}

// Form implements Entry.
func (c *Consultation) Form() any { return &c.ConsultationForm }

// Own implements Entry.
func (c *Consultation) Own() any { return &c.ConsultationNote }

// Validate implements Entry: a reason, at least one consultant with an
// institution and a doctor, and the opinion.
func (c *Consultation) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	c.Base.validate(&fe, today)
	text(&fe, "reason", &c.Reason, true, "会诊原因")
	text(&fe, "opinion", &c.Opinion, true, "会诊意见")
	switch {
	case len(c.Consultants) == 0:
		fe.Add("consultants", "至少填写一个会诊机构及医生")
	case len(c.Consultants) > 20:
		fe.Add("consultants", "会诊机构及医生最多 20 个")
	}
	for i := range c.Consultants {
		text(&fe, "consultants", &c.Consultants[i].Institution, true, "会诊机构")
		text(&fe, "consultants", &c.Consultants[i].Doctor, true, "会诊医生")
	}
	if c.Consultants == nil {
		c.Consultants = []Consultant{}
	}
	return fe.Err()
}

// HospitalisationNote is a hospitalisation's own record (住院记录, DESIGN §4.4).
type HospitalisationNote struct {
	Hospital     string     `json:"hospital"`
	AdmittedOn   civil.Date `json:"admitted_on"`
	DischargedOn civil.Date `json:"discharged_on"` // empty while still in hospital
	Diagnosis    string     `json:"diagnosis"`
}

// HospitalisationForm is what a client sends to record a hospitalisation.
type HospitalisationForm struct {
	Base
	HospitalisationNote
}

// Hospitalisation is a stay in hospital (住院).
type Hospitalisation struct {
	Meta
	HospitalisationForm
}

// Form implements Entry.
func (h *Hospitalisation) Form() any { return &h.HospitalisationForm }

// Own implements Entry.
func (h *Hospitalisation) Own() any { return &h.HospitalisationNote }

// Validate implements Entry. The date of service defaults to the admission
// date: a stay is recorded as of the day it began.
func (h *Hospitalisation) Validate(today civil.Date) error {
	var fe apperr.FieldErrors
	if h.ServiceDate.IsZero() {
		h.ServiceDate = h.AdmittedOn
	}
	h.Base.validate(&fe, today)
	text(&fe, "hospital", &h.Hospital, true, "医院")
	text(&fe, "diagnosis", &h.Diagnosis, true, "诊断")
	dateIn(&fe, "admitted_on", h.AdmittedOn, true, civil.Date{}, "", today)
	dateIn(&fe, "discharged_on", h.DischargedOn, false, h.AdmittedOn, "入院日期", today)
	return fe.Err()
}
