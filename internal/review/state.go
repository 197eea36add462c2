package review

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"healthrec/internal/apperr"
	"healthrec/internal/civil"
)

// State is a case's place in the chain of DESIGN §7.
type State string

// The case states.
const (
	Proposed      State = "proposed"        // 考核提出，待受理
	Accepted      State = "accepted"        // 受理
	Investigating State = "investigating"   // 调查
	Determined    State = "determined"      // 责任认定
	Decided       State = "decided"         // 处理决定
	Served        State = "served"          // 送达
	Appealed      State = "appealed"        // 申请复核
	Reviewed      State = "reviewed"        // 复核决定
	Archived      State = "archived"        // 备案
	ClosedNoFault State = "closed_no_fault" // 查无过错，结案
	Exempted      State = "exempted"        // 免予追究
	Dismissed     State = "dismissed"       // 初步核实后不予受理
)

// States lists every state in the order of the chain.
var States = []State{Proposed, Accepted, Investigating, Determined, Decided, Served, Appealed, Reviewed, Archived, ClosedNoFault, Exempted, Dismissed}

// transitions is the state machine. A case proposed from an assessment
// starts in proposed, where no clock runs: a reviewer accepts it after a
// preliminary check (受理, with a note; the investigation's 20 working days
// start then) or dismisses it with a reason. Beside the main chain:
//   - investigating → investigating is the one extension of the investigation
//     deadline (10 working days, with a reason);
//   - determined → determined is the subject's written defence (申辩, the
//     reason is the statement), once, within 5 working days of the
//     determination; no decision comes before it or the end of that period;
//   - closed_no_fault (no fault found) ends a case from accepted (a proposal
//     that turns out to be a data error) or investigating;
//   - exempted (免予追究, force majeure) ends a case from accepted,
//     investigating or determined, i.e. before a decision is made;
//   - served → archived once the appeal period is over; an appeal goes
//     through appealed → reviewed → archived.
//
// archived, closed_no_fault, exempted and dismissed are final.
var transitions = map[State][]State{
	Proposed:      {Accepted, Dismissed},
	Accepted:      {Investigating, ClosedNoFault, Exempted},
	Investigating: {Investigating, Determined, ClosedNoFault, Exempted},
	Determined:    {Determined, Decided, Exempted},
	Decided:       {Served},
	Served:        {Appealed, Archived},
	Appealed:      {Reviewed},
	Reviewed:      {Archived},
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, k := range States {
		if s == k {
			return true
		}
	}
	return false
}

// Final reports whether a case in s is over.
func (s State) Final() bool {
	return s == Archived || s == ClosedNoFault || s == Exempted || s == Dismissed
}

// FinalStates lists the final states, for SQL.
var FinalStates = []string{string(Archived), string(ClosedNoFault), string(Exempted), string(Dismissed)}

// Chinese names the state.
func (s State) Chinese() string {
	switch s {
	case Proposed:
		return "待受理"
	case Accepted:
		return "受理"
	case Investigating:
		return "调查"
	case Determined:
		return "责任认定"
	case Decided:
		return "处理决定"
	case Served:
		return "送达"
	case Appealed:
		return "申请复核"
	case Reviewed:
		return "复核决定"
	case Archived:
		return "备案"
	case ClosedNoFault:
		return "查无过错结案"
	case Exempted:
		return "免予追究"
	case Dismissed:
		return "不予受理"
	}
	return string(s)
}

// CanMove reports whether the state machine has the step from → to.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Decided reports whether a decision has been made in s (decided or later
// on the main chain): rectification items may be added from then on.
func (s State) Decided() bool {
	switch s {
	case Decided, Served, Appealed, Reviewed, Archived:
		return true
	}
	return false
}

// Step is a transition request (POST /cases/{id}/transitions). Reason is
// always required; the other fields only where the step needs them:
// responsibility and severity (and optionally findings) to determined,
// outcome to decided, review_result (and outcome when modified) to reviewed.
// For the extension (investigating → investigating) the reason is the
// extension's reason.
type Step struct {
	To             State          `json:"to"`
	Reason         string         `json:"reason"`
	Responsibility Responsibility `json:"responsibility"`
	Severity       Severity       `json:"severity"`
	Findings       string         `json:"findings"`
	Outcome        Outcome        `json:"outcome"`
	ReviewResult   ReviewResult   `json:"review_result"`
	// Meeting is the decision meeting, required to decided.
	Meeting *Meeting `json:"meeting"`
	// Panel is filled by the store: who may sit on the case.
	Panel *Panel `json:"-"`
}

// illegal is the 409 for a step the state machine does not have.
func illegal(c *Case, format string, args ...any) *apperr.Error {
	return apperr.Conflictf(format, args...).With("state", c.State)
}

// Apply moves the case by one step at now, as actor, and returns the event to
// record. It returns Invalid for a bad or missing field, and Conflict (with
// the case's state) for a step the state machine does not have or that comes
// at the wrong time: a second extension or one after the deadline, an appeal
// after the appeal period, archiving a served case before the period ends.
func (c *Case) Apply(s Step, actor string, now time.Time, cal *Calendar) (*Event, error) {
	if !s.To.Valid() {
		return nil, apperr.InvalidField("to", "未知的目标状态")
	}
	if !CanMove(c.State, s.To) {
		return nil, illegal(c, "案件当前为“%s”，不能转为“%s”", c.State.Chinese(), s.To.Chinese())
	}
	if err := s.check(c, now); err != nil {
		return nil, err
	}
	today := civil.Of(now)
	ev := &Event{CaseID: c.ID, From: string(c.State), To: string(s.To), Reason: s.Reason, Actor: actor, At: now, Details: Details{}}
	switch {
	case c.State == Proposed && s.To == Accepted:
		// The preliminary check's note is the step's reason.
		c.AcceptedOn, c.AcceptanceNote = today, s.Reason
		c.Recompute(cal)
		ev.Details["investigation_due"] = c.InvestigationDue
	case c.State == Investigating && s.To == Investigating:
		// The request for the one extension; a lead who did not ask
		// approves it (DecideExtension).
		if c.Extended || c.ExtensionRequestedBy != "" {
			return nil, illegal(c, "调查期限只能申请延长一次")
		}
		if today.After(c.InvestigationDue) {
			return nil, illegal(c, "调查期限已于 %s 届满，不能再延长", c.InvestigationDue).With("investigation_due", c.InvestigationDue)
		}
		c.ExtensionRequestedBy, c.ExtensionRequestedOn, c.ExtensionReason = actor, today, s.Reason
		ev.Details["action"] = "extension_request"
		ev.Details["extension_days"] = ExtensionDays
	case c.State == Determined && s.To == Determined:
		if c.Defence != "" {
			return nil, illegal(c, "已于 %s 提交书面申辩，不能再次提交", c.DefendedOn)
		}
		if !c.DefenceDue.IsZero() && today.After(c.DefenceDue) {
			return nil, illegal(c, "申辩期已于 %s 届满", c.DefenceDue).With("defence_due", c.DefenceDue)
		}
		c.Defence, c.DefendedOn = s.Reason, today
		ev.Details["defence"] = true
	case s.To == Determined:
		// The findings are the investigation group's (§7.2).
		if len(c.Group) < MinGroup {
			return nil, illegal(c, "尚未组成调查组（至少 %d 名问责人员），不能认定责任", MinGroup)
		}
		if !slices.Contains(c.Group, actor) {
			return nil, apperr.Forbiddenf("责任认定由调查组作出：%s 不是本案调查组成员", actor)
		}
		ev.Details["group"] = []string(c.Group)
		c.DeterminedOn = today
		c.Recompute(cal)
		ev.Details["defence_due"] = c.DefenceDue
		if today.After(c.InvestigationDue) {
			ev.Details["late"] = true
		}
		c.Responsibility, c.Severity, c.Findings = s.Responsibility, s.Severity, s.Findings
		ev.Details["responsibility"], ev.Details["severity"] = s.Responsibility, s.Severity
		if s.Findings != "" {
			ev.Details["findings"] = s.Findings
		}
	case s.To == Decided:
		if c.Defence == "" && !c.DefenceDue.IsZero() && !today.After(c.DefenceDue) {
			return nil, illegal(c, "申辩期至 %s：当事人提交书面申辩或申辩期届满后方可作出处理决定", c.DefenceDue).With("defence_due", c.DefenceDue)
		}
		s.Meeting.Chair = actor
		c.Outcome, c.DecidedOn, c.Meeting, c.DecidedBy = s.Outcome, today, s.Meeting, actor
		c.Recompute(cal)
		ev.Details["outcome"] = s.Outcome
		ev.Details["meeting"] = s.Meeting
		ev.Details["serving_due"] = c.ServingDue
	case s.To == Served:
		if today.After(c.ServingDue) {
			ev.Details["late"] = true
		}
		c.ServedOn = today
		c.Recompute(cal)
		ev.Details["appeal_due"] = c.AppealDue
	case s.To == Appealed:
		if today.After(c.AppealDue) {
			return nil, illegal(c, "复核申请期限已于 %s 届满", c.AppealDue).With("appeal_due", c.AppealDue)
		}
		c.AppealedOn = today
	case s.To == Reviewed:
		// Someone who took no part in the decision reviews it (§7.2).
		if c.TookPart(actor) {
			return nil, apperr.Forbiddenf("回避：%s 参与了原处理决定，不得办理复核", actor)
		}
		c.ReviewResult, c.ReviewedBy = s.ReviewResult, actor
		ev.Details["review_result"] = s.ReviewResult
		switch s.ReviewResult {
		case Modified:
			c.OriginalOutcome, c.Outcome = c.Outcome, s.Outcome
			ev.Details["outcome"], ev.Details["original_outcome"] = s.Outcome, c.OriginalOutcome
		case Revoked:
			c.OriginalOutcome, c.Outcome = c.Outcome, ""
			ev.Details["original_outcome"] = c.OriginalOutcome
		}
	case c.State == Served && s.To == Archived:
		if !today.After(c.AppealDue) {
			return nil, illegal(c, "复核申请期至 %s 届满，届满后方可备案", c.AppealDue).With("appeal_due", c.AppealDue)
		}
	}
	if s.To.Final() {
		c.ClosedOn = today
	}
	c.State = s.To
	return ev, nil
}

// check validates the step's fields for the target state: the ones it needs
// are present and valid, and no field of another step is sent.
func (s *Step) check(c *Case, now time.Time) error {
	var fe apperr.FieldErrors
	s.Reason = strings.TrimSpace(s.Reason)
	s.Findings = strings.TrimSpace(s.Findings)
	if s.Reason == "" {
		fe.Add("reason", "请写明理由")
	} else if len([]rune(s.Reason)) > 2000 {
		fe.Add("reason", "理由最多 2000 字")
	}
	unused := func(field string, set bool) {
		if set {
			fe.Add(field, fmt.Sprintf("转为“%s”时不需要此字段", s.To.Chinese()))
		}
	}
	// The defence (determined → determined) carries only its statement.
	determination := s.To == Determined && c.State != Determined
	unused("responsibility", !determination && s.Responsibility != "")
	unused("severity", !determination && s.Severity != "")
	unused("findings", !determination && s.Findings != "")
	unused("review_result", s.To != Reviewed && s.ReviewResult != "")
	unused("outcome", s.To != Decided && s.To != Reviewed && s.Outcome != "")
	unused("meeting", s.To != Decided && s.Meeting != nil)
	switch {
	case determination:
		switch s.Responsibility {
		case Direct, Leadership, Indirect:
		default:
			fe.Add("responsibility", "责任类型应为 direct、leadership 或 indirect")
		}
		switch s.Severity {
		case Light, Serious, VerySerious:
		default:
			fe.Add("severity", "情节应为 light、serious 或 very_serious")
		}
		if len([]rune(s.Findings)) > 10000 {
			fe.Add("findings", "认定事实最多 10000 字")
		}
	case s.To == Decided:
		checkOutcome(&fe, c, s.Outcome)
		checkMeeting(&fe, c, s, civil.Of(now))
	case s.To == Reviewed:
		switch s.ReviewResult {
		case Upheld, Revoked:
			unused("outcome", s.Outcome != "")
		case Modified:
			checkOutcome(&fe, c, s.Outcome)
			if s.Outcome != "" && s.Outcome == c.Outcome {
				fe.Add("outcome", "变更后的处理方式与原决定相同，应选择 upheld")
			}
		default:
			fe.Add("review_result", "复核结果应为 upheld、modified 或 revoked")
		}
	}
	return fe.Err()
}

func checkOutcome(fe *apperr.FieldErrors, c *Case, o Outcome) {
	known := false
	for _, k := range Outcomes {
		known = known || o == k
	}
	switch {
	case !known:
		fe.Add("outcome", "处理方式应为 criticism_education、admonishing_talk、written_self_examination、circulated_criticism、suspension、transfer、advise_resign、order_resign 或 propose_dismissal")
	case o.ForPersonOnly() && c.SubjectType == SubjectInstitution:
		fe.Add("outcome", "停职检查、调离岗位、劝其引咎辞职、责令辞职、建议免职只适用于个人，不适用于机构")
	}
}
