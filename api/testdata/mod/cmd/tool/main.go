// Command tool is a program: it has no API to keep.
package main

func main() {}
