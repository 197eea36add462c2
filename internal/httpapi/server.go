// Package httpapi is the HTTP side of the service: the JSON API of DESIGN §10,
// the probes and the web pages. Handlers read top to bottom: decode → check →
// store → respond. Errors go through c.Error and one middleware writes them.
package httpapi

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"healthrec/internal/access"
	"healthrec/internal/postgres"
	"healthrec/web"
)

// Config holds the HTTP settings.
type Config struct {
	// InsecureCookies drops the Secure flag, for plain-HTTP deployments that are
	// not localhost. Browsers treat http://localhost as secure, so the default
	// works for local use.
	InsecureCookies bool
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For and X-Real-IP name the client (HEALTHREC_TRUSTED_PROXIES).
	// Empty: no proxy is trusted and the client is the connection's peer, so
	// a forged header cannot move a caller out of a login lockout.
	TrustedProxies []string
	// Postmaster reports the supervised embedded PostgreSQL (nil with
	// DATABASE_URL); /healthz and /readyz show it (health.go).
	Postmaster func() PostmasterStatus
	// Replica, when set, serves the reads that tolerate lag (replica.go).
	Replica *postgres.DB
	// Collectors are more /metrics, registered as they are: the backup age
	// and the replication state (internal/app/metrics.go).
	Collectors []prometheus.Collector
	// ProvinceStaleAfter is how old a county's heartbeat may be before the
	// province's answers mark its figures stale (postgres.StaleAfter when 0).
	ProvinceStaleAfter time.Duration
}

// gin starts in debug mode and says so on stderr whenever an engine is made
// (Validate makes one before Handler runs): the service is never in it.
func init() { gin.SetMode(gin.ReleaseMode) }

// Validate checks the trusted proxies parse.
func (c Config) Validate() error {
	if err := gin.New().SetTrustedProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("HEALTHREC_TRUSTED_PROXIES: %w", err)
	}
	return nil
}

// Server serves the API.
type Server struct {
	db      *postgres.DB
	gate    *access.Gate
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	login   *loginLimiter
	// sessions caches resolved sessions for a few seconds; handlers that
	// change staff, roles or villages flush it.
	sessions *sessionCache
	// engine is the router itself: a batch serves its items through it
	// (batch.go).
	engine http.Handler
	// imports are the web imports running, for their progress (import_progress.go).
	imports importRuns
}

// New builds the server.
func New(db *postgres.DB, gate *access.Gate, log *slog.Logger, cfg Config) *Server {
	return &Server{db: db, gate: gate, log: log, cfg: cfg, metrics: newMetrics(prometheus.NewRegistry(), cfg.Collectors...), login: newLoginLimiter(loginLimiterSize),
		sessions: newSessionCache(db.Now)}
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	r := gin.New()
	// gin trusts every proxy unless told otherwise. A list that does not
	// parse (New's caller validates it) trusts none.
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		s.log.Error("trusted proxies ignored", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(s.recoverPanics, s.observe, securityHeaders, s.writeErrors)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { c.Error(errNotFoundRoute) })
	r.NoMethod(methodNotAllowed) // gin has set the Allow header

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	static, _ := fs.Sub(web.Static, "static")
	r.StaticFS("/static", http.FS(static))
	s.pageRoutes(r)

	api := r.Group("/api/v1", noStore)
	api.POST("/login", s.loginHandler)
	api.GET("/openapi.json", serveOpenAPI)
	authed := api.Group("", s.auditDenials, s.authenticate, s.authorizeRoute)
	s.routes(authed)
	s.engine = r
	return r
}

func (s *Server) routes(api *gin.RouterGroup) {
	api.POST("/logout", s.logout)
	api.GET("/me", s.me)

	api.GET("/institutions", s.listInstitutions)
	api.POST("/institutions", s.createInstitution)
	api.GET("/regions", s.listRegions)
	api.POST("/regions", s.createRegion)
	api.GET("/regions/:code", s.getRegion)
	api.PUT("/villages/:code/populations/:year", s.putPopulation)
	api.GET("/villages/:code/populations", s.listPopulations)
	api.GET("/villages/:code/responsibilities", s.listResponsibilities)
	api.POST("/villages/:code/responsibilities", s.createResponsibility)

	api.GET("/staff", s.listStaff)
	api.POST("/staff", s.createStaff)
	api.GET("/staff/:code", s.getStaff)
	api.PATCH("/staff/:code", s.patchStaff)
	api.PUT("/staff/:code/password", s.putPassword)
	api.PUT("/staff/:code/villages", s.putStaffVillages)

	api.GET("/records", s.searchRecords)
	api.POST("/records", s.fileRecord)
	api.GET("/records/:id", s.getRecord)
	api.PATCH("/records/:id", s.patchRecord)
	api.POST("/records/:id/status", s.changeStatus)
	api.GET("/records/:id/history", recordList(s, "history", (*postgres.DB).History))
	api.GET("/records/:id/access-log", recordList(s, "access_log", (*postgres.DB).AccessLog))
	api.GET("/records/:id/exams", recordList(s, "exams", (*postgres.DB).Exams))
	api.POST("/records/:id/exams", s.createExam)
	s.examRoutes(api)
	s.entryRoutes(api)
	api.POST("/batch", s.batch)
	api.GET("/followups/worklist", s.worklist)
	s.accessRequestRoutes(api)
	s.caseRoutes(api)
	s.inboxRoutes(api)
	s.importRoutes(api)
	s.reportRoutes(api)
	s.provinceRoutes(api)
	s.filingRoutes(api)
	s.correctionRoutes(api)
}
