package pgtest_test

import (
	"testing"

	"github.com/licensing-go/licensing/internal/pgtest"
)

// TestConnString adds search_path and the other parameters to either form
// of connection string; it needs no server.
func TestConnString(t *testing.T) {
	for _, c := range []struct {
		name, env, want string
	}{
		{"URL", "postgres://u@db:5432/test?sslmode=disable",
			"postgres://u@db:5432/test?search_path=s1&sslmode=disable&synchronous_commit=off"},
		{"KeyValue", "host=db dbname=test", "host=db dbname=test search_path=s1 synchronous_commit=off"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(pgtest.Env, c.env)
			got := pgtest.ConnString(t, "s1", map[string]string{"synchronous_commit": "off"})
			if got != c.want {
				t.Errorf("ConnString = %q, want %q", got, c.want)
			}
		})
	}
}
