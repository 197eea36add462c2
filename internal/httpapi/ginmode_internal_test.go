package httpapi

import (
	"testing"

	"github.com/gin-gonic/gin"
)

// Config.Validate runs before any Handler; in debug mode gin would print its
// warning on the operator's terminal from it.
func TestGinReleaseModeBeforeValidate(t *testing.T) {
	if got := gin.Mode(); got != gin.ReleaseMode {
		t.Fatalf("gin mode at package load = %q, want %q", got, gin.ReleaseMode)
	}
}
