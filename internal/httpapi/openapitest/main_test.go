package openapitest_test

import (
	"testing"

	"healthrec/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
