// Package ldmsd renders ldmsd configuration files and command lines from
// resolved daemons: Config and Command for the seed format (v1.Expand),
// NodeConfig and NodeCommand for the ldms-test format (v1.ExpandNodes),
// as LDMS_Test.py writes them. It depends only on apis/v1: package plan
// imports it, so it must not import plan.
package ldmsd
