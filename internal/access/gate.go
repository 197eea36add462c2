// Package access is the one gate every request to a record passes (DESIGN §6):
// casbin decides from the role policy, the record's domain and the caller's
// grants; the village rule for home-visit staff sits beside it; and every
// decision on a record is written to the append-only access log.
package access

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"

	"healthrec/internal/apperr"
	"healthrec/internal/staff"
	"healthrec/policies"
)

// Actions on record sections.
const (
	Read  = "read"
	Write = "write"
	// Sync is a record sent to a device for use offline (SyncSections).
	Sync = "sync"
)

// RecordScope names where a record belongs. A record ID that names no
// record still names a village (its first 12 digits): Missing is set, and
// the scope is where such a record would be.
type RecordScope struct {
	RecordID        string `db:"record_id"`
	VillageCode     string `db:"village_code"`
	InstitutionCode string `db:"institution_code"`
	CountyCode      string `db:"county_code"`
	Missing         bool   `db:"missing"`
}

// Grant is an active consent grant: read-only access to some sections of one
// record until it expires.
type Grant struct {
	ID       int64
	Sections []string
}

// Store is what the gate needs from storage.
type Store interface {
	// RecordScope returns the scope of a record, or of a missing record
	// in an existing village (Missing set); NotFound when not even the
	// village exists.
	RecordScope(ctx context.Context, id string) (*RecordScope, error)
	AppendAccess(ctx context.Context, entries ...LogEntry) error
	// ActiveGrant returns the caller's grant on a record that is active now,
	// or nil.
	ActiveGrant(ctx context.Context, staffCode, recordID string, now time.Time) (*Grant, error)
}

// LogEntry is one line of the access log.
type LogEntry struct {
	ID        int64     `json:"id" db:"id"`
	At        time.Time `json:"at" db:"at"`
	StaffCode string    `json:"staff_code" db:"staff_code"`
	Roles     string    `json:"roles" db:"roles"`
	RecordID  string    `json:"record_id" db:"record_id"`
	Section   string    `json:"section" db:"section"`
	Action    string    `json:"action" db:"action"`
	GrantID   *int64    `json:"grant_id" db:"grant_id"`
	Outcome   string    `json:"outcome" db:"outcome"`
	Reason    string    `json:"reason" db:"reason"`
	Method    string    `json:"method" db:"method"`
	Path      string    `json:"path" db:"path"`
}

// Gate authorises requests.
type Gate struct {
	enforcer *casbin.SyncedCachedEnforcer
	store    Store
	now      func() time.Time
	log      *slog.Logger
}

// NewGate builds the gate over the embedded model and policy.
func NewGate(store Store, now func() time.Time, log *slog.Logger) (*Gate, error) {
	e, err := policy()
	if err != nil {
		return nil, err
	}
	return &Gate{enforcer: e, store: store, now: now, log: log}, nil
}

// policy is the one enforcer of the embedded policy, shared by every gate
// and by the rules that need no gate (MayAuthor, for the import): the policy
// is fixed for the process's life, so its decisions are too.
var policy = sync.OnceValues(func() (*casbin.SyncedCachedEnforcer, error) {
	m, err := model.NewModelFromString(policies.Model)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, stringadapter.NewAdapter(stripComments(policies.Policy)))
	if err != nil {
		return nil, fmt.Errorf("casbin policy: %w", err)
	}
	// A decision depends only on the caller's grants (Principal's cache key)
	// and the request, and the policy is fixed at start: casbin keeps each
	// decision, which spares evaluating every policy line twice a request.
	e.SetCache(newDecisionCache(maxDecisions))
	e.AddFunction("holds", holds)
	var ps patterns
	e.AddFunction("pathMatch", ps.matchFunc("pathMatch", pathRegexp))
	e.AddFunction("actionMatch", ps.matchFunc("actionMatch", actionRegexp))
	return e, nil
})

func stripComments(csv string) string {
	var b strings.Builder
	for _, line := range strings.Split(csv, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// holds(principal, role, domain) is the model's role test: "*" is anyone signed in.
func holds(args ...any) (any, error) {
	if len(args) != 3 {
		return false, fmt.Errorf("holds: want 3 arguments")
	}
	p, ok := args[0].(*Principal)
	role, _ := args[1].(string)
	dom, _ := args[2].(string)
	if !ok || p == nil {
		return false, nil
	}
	if role == "*" {
		return true, nil
	}
	for _, g := range p.grants {
		if string(g.Role) == role && g.Domain == dom {
			return true, nil
		}
	}
	return false, nil
}

// Principal is the signed-in caller as the enforcer sees it.
type Principal struct {
	Staff  *staff.Staff
	grants []staff.Grant
	key    string // GetCacheKey's
}

// NewPrincipal wraps a staff member.
func NewPrincipal(s *staff.Staff) *Principal {
	return &Principal{Staff: s, grants: s.Grants, key: grantsKey(s.Grants)}
}

// with returns a copy of p that also holds extra grants.
func (p *Principal) with(extra ...staff.Grant) *Principal {
	grants := append(slices.Clone(p.grants), extra...)
	return &Principal{Staff: p.Staff, grants: grants, key: grantsKey(grants)}
}

// Roles is how the access log names the caller's roles.
func (p *Principal) Roles() string { return rolesString(p.Staff) }

// GetCacheKey is the part of a decision that comes from the caller: their
// grants (holds reads nothing else), so callers with the same grants share
// decisions.
func (p *Principal) GetCacheKey() string { return p.key }

func grantsKey(grants []staff.Grant) string {
	var b strings.Builder
	b.WriteString("grants:")
	for _, g := range grants {
		b.WriteString(string(g.Role))
		b.WriteByte('@')
		b.WriteString(g.Domain)
		b.WriteByte(';')
	}
	return b.String()
}

// AllowRoute reports whether the caller may call the route (a gin path) with
// method in any domain they hold a role in.
func (g *Gate) AllowRoute(p *Principal, path, method string) bool {
	doms := p.Staff.Domains()
	if len(doms) == 0 {
		doms = []string{""}
	}
	for _, d := range doms {
		if ok, _ := g.enforcer.Enforce(p, d, path, method); ok {
			return true
		}
	}
	return false
}

// AllowIn reports whether the caller may do act on obj within domain.
func (g *Gate) AllowIn(p *Principal, domain, obj, act string) bool {
	ok, err := g.enforcer.Enforce(p, domain, obj, act)
	if err != nil {
		g.log.Error("casbin", "err", err)
	}
	return ok
}

// RequireIn is AllowIn returning Forbidden with a reason.
func (g *Gate) RequireIn(p *Principal, domain, obj, act string) error {
	if g.AllowIn(p, domain, obj, act) {
		return nil
	}
	return apperr.Forbiddenf("无权在 %s 执行 %s %s", domain, obj, act)
}

// Request describes one attempt on a record section, for the log.
type Request struct {
	RecordID string
	Section  string // basic, card, exams, programmes, entries, entries.<kind>, history, access_log
	Action   string // read or write
	Method   string
	Path     string
}

// RequireRoute checks the current route (gin path and method) within one
// domain: the handler's resource-level check, e.g. that a records
// administrator edits a village of their own institution.
func (g *Gate) RequireRoute(p *Principal, domain, path, method string) error {
	if ok, _ := g.enforcer.Enforce(p, domain, path, method); ok {
		return nil
	}
	return apperr.Forbiddenf("无权在 %s 范围内执行 %s %s", domain, method, path)
}

// Decision is the gate's answer on a record.
type Decision struct {
	Scope *RecordScope
	// Full is true when the caller holds a role over the record (not merely a
	// consent grant), so may see unmasked personal details everywhere.
	Full    bool
	GrantID *int64
}

// Record decides one attempt on a record and logs it. It returns Forbidden
// with a reason for a denial, and NotFound for a record that does not exist
// (not logged: there is no record) — but only to a caller who could see it
// if it did: anybody else is denied as for an existing record, so that a
// 404 never tells an outsider which record IDs exist.
func (g *Gate) Record(ctx context.Context, p *Principal, req Request) (*Decision, error) {
	d, audit, err := g.RecordWrite(ctx, p, req)
	if err != nil {
		return nil, err
	}
	// A read that cannot be audited does not happen.
	if err := audit.Settle(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// RecordWrite decides an attempt on a record as Record does, but leaves the
// audit row of an allowed attempt to the caller: a write inserts it in its
// own transaction (PendingAudit), so that the write and its row commit
// together, in one commit instead of two. A denial is logged at once.
func (g *Gate) RecordWrite(ctx context.Context, p *Principal, req Request) (*Decision, *PendingAudit, error) {
	scope, err := g.store.RecordScope(ctx, req.RecordID)
	if err != nil {
		return nil, nil, err
	}
	d, reason, err := g.decide(ctx, p, scope, req)
	if err != nil {
		return nil, nil, err
	}
	if d != nil && scope.Missing {
		return nil, nil, notFound(req.RecordID)
	}
	entry := LogEntry{
		StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: req.RecordID, Section: req.Section,
		Action: req.Action, Outcome: "allowed", Method: req.Method, Path: req.Path,
	}
	if d == nil {
		entry.Outcome, entry.Reason = "denied", reason
		if err := g.store.AppendAccess(ctx, entry); err != nil {
			return nil, nil, err
		}
		noteDenial(ctx)
		return nil, nil, apperr.Forbiddenf("%s", reason)
	}
	entry.GrantID = d.GrantID
	return d, &PendingAudit{Entry: entry, store: g.store}, nil
}

// PendingAudit is the audit row of an allowed attempt not yet written. The
// write that commits it calls Written; Settle writes it on its own otherwise
// (the write failed, or never reached its transaction), so that every
// attempt is logged either way.
type PendingAudit struct {
	Entry   LogEntry
	store   Store
	written bool
}

// Written records that the row was committed with the write.
func (a *PendingAudit) Written() { a.written = true }

// IsWritten reports whether the row was committed with the write.
func (a *PendingAudit) IsWritten() bool { return a != nil && a.written }

// Settle writes the row unless it was written with the write, and returns
// once it is committed.
func (a *PendingAudit) Settle(ctx context.Context) error {
	if a == nil || a.written {
		return nil
	}
	a.written = true
	return a.store.AppendAccess(ctx, a.Entry)
}

// Sections decides read access to several sections of one record (the
// record page), logs every decision in one write, and returns the allowed
// sections. Forbidden when none is allowed.
func (g *Gate) Sections(ctx context.Context, p *Principal, recordID string, sections []string, method, path string) (*Decision, map[string]bool, error) {
	return g.sections(ctx, p, recordID, sections, method, path, false)
}

// SyncSections decides the sections of one record sent to a device in a
// sync (the tablet's worklist) as Sections does, but logs what was allowed
// as one row, action "sync": a record synced is written to the access log
// once per sync, not as a read of each section nobody made. Its section is
// "record" when every section was allowed, else the allowed ones. Denials
// are logged one by one, as always.
func (g *Gate) SyncSections(ctx context.Context, p *Principal, recordID string, sections []string, method, path string) (*Decision, map[string]bool, error) {
	return g.sections(ctx, p, recordID, sections, method, path, true)
}

// SectionsIn is Sections on the record's scope as the caller read it (the
// record page reads it in the statement that reads the page, one round
// trip fewer; nothing read is answered before this returns).
func (g *Gate) SectionsIn(ctx context.Context, p *Principal, scope *RecordScope, sections []string, method, path string) (*Decision, map[string]bool, error) {
	return g.sectionsIn(ctx, p, scope, sections, method, path, false)
}

// SyncSectionsIn is SyncSections on the scope as the caller read it.
func (g *Gate) SyncSectionsIn(ctx context.Context, p *Principal, scope *RecordScope, sections []string, method, path string) (*Decision, map[string]bool, error) {
	return g.sectionsIn(ctx, p, scope, sections, method, path, true)
}

func (g *Gate) sections(ctx context.Context, p *Principal, recordID string, sections []string, method, path string, sync bool) (*Decision, map[string]bool, error) {
	scope, err := g.store.RecordScope(ctx, recordID)
	if err != nil {
		return nil, nil, err
	}
	return g.sectionsIn(ctx, p, scope, sections, method, path, sync)
}

func (g *Gate) sectionsIn(ctx context.Context, p *Principal, scope *RecordScope, sections []string, method, path string, sync bool) (*Decision, map[string]bool, error) {
	recordID := scope.RecordID
	allowed := map[string]bool{}
	var first *Decision
	var reason string
	entries := make([]LogEntry, 0, len(sections))
	for _, sec := range sections {
		d, why, err := g.decide(ctx, p, scope, Request{RecordID: recordID, Section: sec, Action: Read})
		if err != nil {
			return nil, nil, err
		}
		e := LogEntry{StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: recordID, Section: sec,
			Action: Read, Outcome: "allowed", Method: method, Path: path}
		if d == nil {
			e.Outcome, e.Reason = "denied", why
			if reason == "" {
				reason = why
			}
		} else {
			e.GrantID = d.GrantID
			allowed[sec] = true
			if first == nil {
				first = d
			}
		}
		entries = append(entries, e)
	}
	if first != nil && scope.Missing {
		return nil, nil, notFound(recordID)
	}
	if sync && first != nil {
		entries = syncEntries(entries, len(sections))
	}
	if err := g.store.AppendAccess(ctx, entries...); err != nil {
		return nil, nil, err
	}
	if first == nil {
		noteDenial(ctx)
		return nil, nil, apperr.Forbiddenf("%s", reason)
	}
	return first, allowed, nil
}

// syncEntries folds the allowed rows of one record's sections into one
// "sync" row, kept where the first allowed one was; denials stay as they are.
func syncEntries(entries []LogEntry, all int) []LogEntry {
	var allowed []string
	out := make([]LogEntry, 0, len(entries))
	at := -1
	for _, e := range entries {
		if e.Outcome != "allowed" {
			out = append(out, e)
			continue
		}
		allowed = append(allowed, e.Section)
		if at < 0 {
			at = len(out)
			e.Action = Sync
			out = append(out, e)
		}
	}
	if len(allowed) == all {
		out[at].Section = "record"
	} else {
		out[at].Section = strings.Join(allowed, ",")
	}
	return out
}

// notFound answers an attempt on a missing record to a caller who may see
// it where it would be.
func notFound(recordID string) error {
	return apperr.NotFoundf("档案 %s 不存在", recordID)
}

// LogReads records that the caller read the listed records' summaries (a
// search result page), in one write.
func (g *Gate) LogReads(ctx context.Context, p *Principal, recordIDs []string, method, path string) error {
	if len(recordIDs) == 0 {
		return nil
	}
	entries := make([]LogEntry, len(recordIDs))
	for i, id := range recordIDs {
		entries[i] = LogEntry{StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: id, Section: "summary",
			Action: Read, Outcome: "allowed", Method: method, Path: path}
	}
	return g.store.AppendAccess(ctx, entries...)
}

// LogSynced records that the listed records' summaries were sent to a
// device in a sync (the worklist's due list), one "sync" row each.
func (g *Gate) LogSynced(ctx context.Context, p *Principal, recordIDs []string, method, path string) error {
	if len(recordIDs) == 0 {
		return nil
	}
	entries := make([]LogEntry, len(recordIDs))
	for i, id := range recordIDs {
		entries[i] = LogEntry{StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: id, Section: "summary",
			Action: Sync, Outcome: "allowed", Method: method, Path: path}
	}
	return g.store.AppendAccess(ctx, entries...)
}

// LogDenied records a denial decided before the record-level check (the
// caller's role may not call the route at all).
// A denial on a route that names no record has an empty recordID.
func (g *Gate) LogDenied(ctx context.Context, p *Principal, recordID, section, action, reason, method, path string) error {
	err := g.store.AppendAccess(ctx, LogEntry{StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: recordID,
		Section: section, Action: action, Outcome: "denied", Reason: reason, Method: method, Path: path})
	if err == nil {
		noteDenial(ctx)
	}
	return err
}

// Filing decides a filing (a record that does not exist yet) in the
// domain of its village's institution. An allowed filing gets its audit row
// pending, as every write does (RecordWrite); the store fills in the new
// record's ID. A denial is logged at once, on no record.
func (g *Gate) Filing(ctx context.Context, p *Principal, domain, method, path string) (*PendingAudit, error) {
	if !g.AllowIn(p, domain, "record.basic", Write) {
		err := apperr.Forbiddenf("无权在 %s 建档", domain)
		if lerr := g.LogDenied(ctx, p, "", "basic", Write, err.Message, method, path); lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	return g.Allowed(p, "", "basic", method, path), nil
}

// Allowed returns the pending audit row of a write the caller has allowed
// beside the record check (a referral's receiving institution), so that it
// commits with the write as every write's row does.
func (g *Gate) Allowed(p *Principal, recordID, section, method, path string) *PendingAudit {
	return &PendingAudit{store: g.store, Entry: LogEntry{StaffCode: p.Staff.Code, Roles: rolesString(p.Staff), RecordID: recordID,
		Section: section, Action: Write, Outcome: "allowed", Method: method, Path: path}}
}

// decide returns the decision, or nil and the reason for a denial. An error
// means the grant could not be looked up: the attempt is neither allowed nor
// denied, and the caller answers 503 rather than a misleading 403.
func (g *Gate) decide(ctx context.Context, p *Principal, scope *RecordScope, req Request) (*Decision, string, error) {
	obj := "record." + req.Section
	dom := staff.InstitutionDomain(scope.InstitutionCode)
	if g.AllowIn(p, dom, obj, req.Action) {
		if !inVillage(p.Staff, dom, scope.VillageCode) {
			return nil, "入户随访人员只能访问分配给本人的村居（" + scope.VillageCode + " 未分配）", nil
		}
		return &Decision{Scope: scope, Full: true}, "", nil
	}
	grant, err := g.store.ActiveGrant(ctx, p.Staff.Code, scope.RecordID, g.now())
	if err != nil {
		return nil, "", fmt.Errorf("grant lookup: %w", err)
	}
	if grant != nil {
		recDom := "record:" + scope.RecordID
		var extra []staff.Grant
		for _, s := range grant.Sections {
			extra = append(extra, staff.Grant{Role: staff.Role("grantee:" + s), Domain: recDom})
		}
		if g.AllowIn(p.with(extra...), recDom, obj, req.Action) {
			id := grant.ID
			return &Decision{Scope: scope, GrantID: &id}, "", nil
		}
		return nil, fmt.Sprintf("授权 #%d 不包含 %s 的%s权限（授权为只读，范围：%s）", grant.ID, req.Section, actionName(req.Action), strings.Join(grant.Sections, "、")), nil
	}
	if roles := rolesIn(p.Staff, dom); roles != "" {
		// The record is within the caller's institution; the section is not
		// within their role.
		return nil, fmt.Sprintf("角色 %s 无权%s档案 %s 的 %s", roles, actionName(req.Action), scope.RecordID, req.Section), nil
	}
	return nil, fmt.Sprintf("无权%s档案 %s 的 %s：档案不在本人机构或村居范围内，且无有效的授权", actionName(req.Action), scope.RecordID, req.Section), nil
}

// inVillage is the village rule beside the policy: a home-visit worker
// who holds no wider role in the institution reaches only their villages.
func inVillage(s *staff.Staff, dom, village string) bool {
	return !s.HasIn(staff.HomeVisit, dom) || s.HasIn(staff.Doctor, dom) || s.HasIn(staff.RecordsAdmin, dom) ||
		slices.Contains(s.Villages, village)
}

// rolesIn lists the roles s holds in domain.
func rolesIn(s *staff.Staff, domain string) string {
	var out []string
	for _, g := range s.Grants {
		if g.Domain == domain {
			out = append(out, string(g.Role))
		}
	}
	return strings.Join(out, "、")
}

func actionName(a string) string {
	if a == Write {
		return "修改"
	}
	return "查看"
}

func rolesString(s *staff.Staff) string {
	parts := make([]string, 0, len(s.Grants))
	for _, g := range s.Grants {
		parts = append(parts, string(g.Role)+"@"+g.Domain)
	}
	return strings.Join(parts, ",")
}
