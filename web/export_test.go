package web

import "io/fs"

// Files returns the portal's embedded files, for the tests.
func Files() fs.FS {
	f, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return f
}
