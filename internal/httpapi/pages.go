package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"healthrec/web"
)

// pageRoutes serves the browser apps: the desk (/), the tablet app
// (/tablet/, with its service worker), the bureau dashboard (/bureau) and
// the province's view over its counties (/province).
// They are static shells; every datum comes from the JSON API.
func (s *Server) pageRoutes(r *gin.Engine) {
	build := assetsVersion()
	r.GET("/", servePage("desk.html", build))
	r.GET("/bureau", servePage("bureau.html", build))
	r.GET("/province", servePage("province.html", build))
	// The tablet app lives under /tablet/ so that the service worker at
	// /tablet/sw.js controls it with its default scope.
	r.GET("/tablet", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/tablet/") })
	r.GET("/tablet/", servePage("tablet.html", build))
	r.GET("/tablet/sw.js", serviceWorker(build))
	r.GET("/tablet/manifest.webmanifest", func(c *gin.Context) {
		b, _ := fs.ReadFile(web.Pages, "pages/manifest.webmanifest")
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/manifest+json", b)
	})
}

// servePage answers an app shell. The shells name their assets with
// ?v=<build> so that a new binary's assets are never mixed with cached old ones.
func servePage(name, build string) gin.HandlerFunc {
	b, err := fs.ReadFile(web.Pages, "pages/"+name)
	if err != nil {
		panic("web page missing: " + name)
	}
	body := []byte(strings.ReplaceAll(string(b), "{{BUILD}}", build))
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", body)
	}
}

// serviceWorker answers the tablet's service worker with the build's version
// in it: a new build changes the script, so browsers install the new worker,
// which drops the old cache.
func serviceWorker(build string) gin.HandlerFunc {
	b, err := fs.ReadFile(web.Pages, "pages/sw.js")
	if err != nil {
		panic("web page missing: sw.js")
	}
	body := []byte(strings.ReplaceAll(string(b), "{{BUILD}}", build))
	return func(c *gin.Context) {
		// Browsers re-check the worker script at most daily unless told
		// otherwise; no-cache makes every navigation see a new build.
		c.Header("Cache-Control", "no-cache")
		c.Header("Service-Worker-Allowed", "/tablet/")
		c.Data(http.StatusOK, "text/javascript; charset=utf-8", body)
	}
}

// assetsVersion is a short hash over every embedded web file (WalkDir goes
// in lexical order, so the hash is stable for the same files).
func assetsVersion() string {
	h := sha256.New()
	for _, root := range []fs.FS{web.Static, web.Pages} {
		_ = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(root, p)
				h.Write([]byte(p))
				h.Write(b)
			}
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
