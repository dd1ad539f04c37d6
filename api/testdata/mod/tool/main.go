// Command tool is a main package outside cmd: it has no API to keep.
package main

// Exported is not recorded.
func Exported() {}

func main() {}
