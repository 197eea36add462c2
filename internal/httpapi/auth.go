package httpapi

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"healthrec/internal/access"
	"healthrec/internal/apperr"
	"healthrec/internal/ident"
	"healthrec/internal/postgres"
	"healthrec/internal/staff"
)

const (
	sessionCookie = "healthrec_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "principal"
	viaCookieKey  = "via_cookie"
)

type loginRequest struct {
	StaffCode string `json:"staff_code"`
	Password  string `json:"password"`
}

type loginResponse struct {
	Token     string       `json:"token"`
	CSRFToken string       `json:"csrf_token"`
	ExpiresAt time.Time    `json:"expires_at"`
	Staff     *staff.Staff `json:"staff"`
}

// loginHandler checks a password and starts a session: the token in the body
// for API clients and tablets, and an HttpOnly cookie for the web. Every
// failure and every refusal of a locked-out caller is logged.
func (s *Server) loginHandler(c *gin.Context) {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		c.Error(err)
		return
	}
	addr := c.ClientIP()
	if why := s.login.locked(addr, req.StaffCode, s.db.Now()); why != "" {
		s.logLogin(c, req.StaffCode, "locked", why)
		c.Header("Retry-After", "60")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, errorBody{Error: map[string]any{
			"code": apperr.Unauthorized, "message": "登录失败次数过多，请一分钟后再试"}})
		return
	}
	hash, err := s.db.PasswordHash(c.Request.Context(), req.StaffCode)
	if err != nil {
		c.Error(err)
		return
	}
	// An unknown or inactive code has no hash; CheckPassword still does a
	// full bcrypt comparison, so both take the same time.
	if !staff.CheckPassword(hash, req.Password) {
		s.login.fail(addr, req.StaffCode, s.db.Now())
		s.logLogin(c, req.StaffCode, "failed", "")
		c.Error(apperr.Errorf(apperr.Unauthorized, "工号或密码错误"))
		return
	}
	s.login.reset(addr, req.StaffCode)
	sess, err := s.db.CreateSession(c.Request.Context(), req.StaffCode)
	if err != nil {
		c.Error(err)
		return
	}
	st, err := s.db.Staff(c.Request.Context(), req.StaffCode)
	if err != nil {
		c.Error(err)
		return
	}
	s.logLogin(c, req.StaffCode, "ok", "")
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: !s.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode,
	})
	c.JSON(http.StatusOK, loginResponse{Token: sess.Token, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt, Staff: st})
}

// logLogin writes one line per login attempt that an operator may need:
// who (as typed, cut short), from where, and the outcome.
func (s *Server) logLogin(c *gin.Context, code, outcome, detail string) {
	if len(code) > 64 {
		code = code[:64] + "…"
	}
	level := slog.LevelWarn
	if outcome == "ok" {
		level = slog.LevelInfo
	}
	args := []any{"staff_code", code, "client", c.ClientIP(), "outcome", outcome}
	if detail != "" {
		args = append(args, "detail", detail)
	}
	s.log.Log(c.Request.Context(), level, "login", args...)
}

func (s *Server) logout(c *gin.Context) {
	if err := s.db.DeleteSession(c.Request.Context(), sessionToken(c)); err != nil {
		c.Error(err)
		return
	}
	s.sessions.forget(sessionToken(c))
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !s.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode})
	c.Status(http.StatusNoContent)
}

type meResponse struct {
	*staff.Staff
	CSRFToken string `json:"csrf_token,omitempty"`
	// InstitutionNames name the caller's institution and those of their
	// roles, for the pages' headers: people read names, not codes.
	InstitutionNames map[string]string `json:"institution_names"`
}

func (s *Server) me(c *gin.Context) {
	st := principal(c).Staff
	names := map[string]string{}
	codes := []string{st.InstitutionCode}
	for _, g := range st.Grants {
		if code, ok := strings.CutPrefix(g.Domain, staff.InstitutionDomain("")); ok {
			codes = append(codes, code)
		}
	}
	for _, code := range codes {
		if code == "" || names[code] != "" {
			continue
		}
		in, err := s.db.Institution(c.Request.Context(), code)
		if err != nil {
			if apperr.CodeOf(err) == apperr.NotFound {
				continue
			}
			c.Error(err)
			return
		}
		names[code] = in.Name
	}
	c.JSON(http.StatusOK, meResponse{Staff: st, CSRFToken: c.GetString("csrf"), InstitutionNames: names})
}

// sessionToken reads the bearer token, or else the session cookie.
func sessionToken(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	if ck, err := c.Cookie(sessionCookie); err == nil {
		return ck
	}
	return ""
}

// authenticate resolves the session. A cookie session must also send the
// session's CSRF token on unsafe methods; a bearer token cannot be sent by a
// foreign page, so it needs none.
func (s *Server) authenticate(c *gin.Context) {
	tok := sessionToken(c)
	if tok == "" {
		c.Error(apperr.Errorf(apperr.Unauthorized, "请先登录"))
		c.Abort()
		return
	}
	sess, err := s.sessions.resolve(c.Request.Context(), tok, s.db.SessionStaff)
	if err != nil {
		c.Error(err)
		c.Abort()
		return
	}
	// The caller is known before the CSRF check, so that a refusal names
	// them in the access log (auditDenials).
	c.Set(principalKey, access.NewPrincipal(sess.Staff))
	viaCookie := !strings.HasPrefix(c.GetHeader("Authorization"), "Bearer ")
	if viaCookie && !safeMethod(c.Request.Method) &&
		subtle.ConstantTimeCompare([]byte(c.GetHeader(csrfHeader)), []byte(sess.CSRFToken)) != 1 {
		c.Error(apperr.Forbiddenf("缺少或错误的 CSRF 令牌"))
		c.Abort()
		return
	}
	c.Set("csrf", sess.CSRFToken)
	c.Next()
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func principal(c *gin.Context) *access.Principal {
	return c.MustGet(principalKey).(*access.Principal)
}

// authorizeRoute is the route-level half of the gate: the caller must hold a
// role allowed to call this route in some domain. Record-level checks follow
// in the handlers through the same enforcer.
func (s *Server) authorizeRoute(c *gin.Context) {
	p := principal(c)
	if strings.HasPrefix(c.FullPath(), "/api/v1/records/:id") {
		if _, err := ident.ParseRecordID(c.Param("id")); err != nil {
			c.Error(apperr.InvalidField("record_id", "档案编号应为 16 位数字（12 位村居代码 + 4 位序号）"))
			c.Abort()
			return
		}
	}
	if !s.gate.AllowRoute(p, c.FullPath(), c.Request.Method) {
		err := apperr.Forbiddenf("角色无权访问 %s %s", c.Request.Method, c.FullPath())
		if id := c.Param("id"); id != "" && strings.HasPrefix(c.FullPath(), "/api/v1/records/:id") {
			// A denied attempt on a record is audited even when the role
			// has no business with records at all.
			if lerr := s.gate.LogDenied(c.Request.Context(), p, id, sectionOfPath(c.FullPath()), actionOfMethod(c.Request.Method), err.Message,
				c.Request.Method, c.Request.URL.Path); lerr != nil {
				c.Error(lerr)
				c.Abort()
				return
			}
		}
		c.Error(err)
		c.Abort()
		return
	}
	c.Next()
}

func sectionOfPath(path string) string {
	switch rest := strings.TrimPrefix(path, "/api/v1/records/:id"); rest {
	case "", "/status":
		return "basic"
	case "/card.pdf":
		return "card"
	case "/exams", "/exams/:exam", "/exams/:exam/sections/:section", "/exams/:exam/form.pdf":
		return "exams"
	case "/programmes", "/programmes/:eid", "/programmes/:eid/end":
		return "programmes"
	case "/history":
		return "history"
	case "/access-log":
		return "access_log"
	default:
		return "entries"
	}
}

func actionOfMethod(m string) string {
	if safeMethod(m) {
		return access.Read
	}
	return access.Write
}

// loginLimiter slows password guessing. Two counts of failures in the last
// minute: per client address and staff code (5: one person mistyping), and
// per address (30: one address trying a password on many codes). Both live
// in LRU caches of bounded size, so a spray of new keys evicts the keys least
// recently tried, never everyone at once; a key under attack is tried again
// and again and so stays.
type loginLimiter struct {
	mu    sync.Mutex
	pairs *simplelru.LRU[string, []time.Time]
	addrs *simplelru.LRU[string, []time.Time]
}

const (
	loginMaxFailures     = 5
	loginMaxAddrFailures = 30
	loginWindow          = time.Minute
	// loginLimiterSize bounds each cache: 100,000 keys of at most 30
	// timestamps are a few tens of megabytes at worst.
	loginLimiterSize = 100000
)

func newLoginLimiter(size int) *loginLimiter {
	pairs, err := simplelru.NewLRU[string, []time.Time](size, nil)
	if err != nil {
		panic(err) // size ≤ 0: a programming error
	}
	addrs, _ := simplelru.NewLRU[string, []time.Time](size, nil)
	return &loginLimiter{pairs: pairs, addrs: addrs}
}

func pairKey(addr, code string) string { return addr + "|" + code }

// locked returns why the address, or the address and code, may not try now,
// or "".
func (l *loginLimiter) locked(addr, code string, now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(recent(l.addrs, addr, now)) >= loginMaxAddrFailures {
		return "address"
	}
	if len(recent(l.pairs, pairKey(addr, code), now)) >= loginMaxFailures {
		return "address+staff_code"
	}
	return ""
}

func (l *loginLimiter) fail(addr, code string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrs.Add(addr, append(recent(l.addrs, addr, now), now))
	k := pairKey(addr, code)
	l.pairs.Add(k, append(recent(l.pairs, k, now), now))
}

// reset forgets the pair's failures after a good password. The address's
// stay: a login to one's own account must not reset a spray.
func (l *loginLimiter) reset(addr, code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs.Remove(pairKey(addr, code))
}

// recent returns key's failures within the window (a copy).
func recent(c *simplelru.LRU[string, []time.Time], key string, now time.Time) []time.Time {
	all, _ := c.Get(key)
	keep := make([]time.Time, 0, len(all)+1)
	for _, t := range all {
		if now.Sub(t) < loginWindow {
			keep = append(keep, t)
		}
	}
	return keep
}

// page reads ?page=&per_page= (max 500).
func page(c *gin.Context) (postgres.Page, error) {
	var p postgres.Page
	var fe apperr.FieldErrors
	if v := c.Query("page"); v != "" {
		if n, ok := atoiPositive(v); ok {
			p.Page = n
		} else {
			fe.Add("page", "应为正整数")
		}
	}
	if v := c.Query("per_page"); v != "" {
		if n, ok := atoiPositive(v); ok && n <= postgres.MaxPerPage {
			p.PerPage = n
		} else {
			fe.Add("per_page", "应为 1–500 的整数")
		}
	}
	return p, fe.Err()
}

func atoiPositive(s string) (int, bool) {
	n := 0
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, n > 0
}

type listResponse[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

func list[T any](items []T, total int, p postgres.Page) listResponse[T] {
	pg := p.Page
	if pg < 1 {
		pg = 1
	}
	return listResponse[T]{Items: items, Total: total, Page: pg, PerPage: p.Limit()}
}
