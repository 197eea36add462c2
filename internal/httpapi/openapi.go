package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI is the API's contract (OpenAPI 3): every route under /api/v1,
// its parameters, bodies, answers, the roles allowed (x-roles) and the
// idempotency and paging rules. The tests hold every exchange they make
// to it (openapitest), so it cannot drift from what the server does.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the document served at /api/v1/openapi.json.
func OpenAPI() []byte { return openAPI }

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPI)
}
