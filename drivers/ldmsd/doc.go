// Package ldmsd renders ldmsd configuration files and command lines from
// resolved daemons (v1.Expand). It depends only on apis/v1: package plan
// imports it, so it must not import plan.
package ldmsd
