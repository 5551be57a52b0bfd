// Package version holds the build's version, set by hack/build.sh.
package version

// Version is the git description of the build, or "dev".
var Version = "dev"
