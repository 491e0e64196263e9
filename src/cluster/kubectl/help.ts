// `kubectl`, `kubectl help`, `kubectl --help`: kubectl 1.30's root help
// (cobra's command groups, as templates.ActsAsRootCommand prints them, with
// the plugin group kubectl adds even when no plugin is installed), on stdout,
// exit 0; `kubectl VERB --help` and `kubectl help VERB` print the verb's own
// (help_verbs.ts). The lab runs get, describe, apply, create, delete, patch,
// exec and version; the others answer kubectl's unknown-command error.

import { VERB_HELP } from './help_verbs.ts';

export const KUBECTL_HELP = `kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

Basic Commands (Beginner):
  create          Create a resource from a file or from stdin
  expose          Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service
  run             Run a particular image on the cluster
  set             Set specific features on objects

Basic Commands (Intermediate):
  explain         Get documentation for a resource
  get             Display one or many resources
  edit            Edit a resource on the server
  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector

Deploy Commands:
  rollout         Manage the rollout of a resource
  scale           Set a new size for a deployment, replica set, or replication controller
  autoscale       Auto-scale a deployment, replica set, stateful set, or replication controller

Cluster Management Commands:
  certificate     Modify certificate resources
  cluster-info    Display cluster information
  top             Display resource (CPU/memory) usage
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance
  taint           Update the taints on one or more nodes

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod
  attach          Attach to a running container
  exec            Execute a command in a container
  port-forward    Forward one or more local ports to a pod
  proxy           Run a proxy to the Kubernetes API server
  cp              Copy files and directories to and from containers
  auth            Inspect authorization
  debug           Create debugging sessions for troubleshooting workloads and nodes
  events          List events

Advanced Commands:
  diff            Diff the live version against a would-be applied version
  apply           Apply a configuration to a resource by file name or stdin
  patch           Update fields of a resource
  replace         Replace a resource by file name or stdin
  wait            Experimental: Wait for a specific condition on one or many resources
  kustomize       Build a kustomization target from a directory or URL

Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource
  completion      Output shell completion code for the specified shell (bash, zsh, fish, or powershell)

Subcommands provided by plugins:

Other Commands:
  api-resources   Print the supported API resources on the server
  api-versions    Print the supported API versions on the server, in the form of "group/version"
  config          Modify kubeconfig files
  plugin          Provides utilities for interacting with plugins
  version         Print the client and server version information

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands).
`;

/** True for the argv that print the root help: none, `help`, `--help`, `-h`. */
export function wantsRootHelp(argv: string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0]!));
}

/** The root help without its description: what cobra's Usage() prints after an unknown help topic. */
const ROOT_USAGE = KUBECTL_HELP.slice(KUBECTL_HELP.indexOf('\nBasic Commands'));

/**
 * `kubectl VERB --help` (or -h, anywhere before `--`) and `kubectl help VERB`:
 * the verb's help on stdout, exit 0, for the verbs the lab runs. `kubectl help
 * TOPIC` for any other word answers as cobra does: "Unknown help topic" and the
 * root usage on stderr, exit 0. Undefined when argv asks for no help.
 */
export function verbHelp(argv: string[]): { stdout: string; stderr: string; exitCode: number } | undefined {
  const [verb, ...rest] = argv;
  if (verb === undefined) return undefined;
  if (verb === 'help' && rest.length > 0) {
    const text = VERB_HELP[rest[0]!];
    return text !== undefined ? { stdout: text, stderr: '', exitCode: 0 } : { stdout: '', stderr: `Unknown help topic [\`${rest[0]}\`]\n\n${ROOT_USAGE}`, exitCode: 0 };
  }
  const text = VERB_HELP[verb];
  const flags = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  return text !== undefined && flags.some((a) => a === '--help' || a === '-h') ? { stdout: text, stderr: '', exitCode: 0 } : undefined;
}
