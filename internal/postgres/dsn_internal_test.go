package postgres

import "testing"

func TestMultiHostDSN(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@db:5432/h?sslmode=disable", "postgres://u:p@db:5432/h?sslmode=disable"},
		{"host=a port=1", "host=a port=1"},
		{"postgres://app:p%27w@10.0.0.1:5432,10.0.0.2:5433/healthrec?target_session_attrs=read-write&connect_timeout=3",
			`connect_timeout='3' dbname='healthrec' host='10.0.0.1,10.0.0.2' password='p\'w' port='5432,5433' target_session_attrs='read-write' user='app'`},
		{"postgresql://app@db1,db2/x", `dbname='x' host='db1,db2' port='5432,5432' user='app'`},
	} {
		got, err := multiHostDSN(c.in)
		if err != nil || got != c.want {
			t.Errorf("multiHostDSN(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := multiHostDSN("postgres://u@a:1,b:2/x?host=c"); err == nil {
		t.Error("a host both in the address and as a parameter was accepted")
	}
}
