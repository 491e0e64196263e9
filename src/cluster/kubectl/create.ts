// `kubectl create -f`: unlike dplab's all-or-nothing apply, kubectl sends each
// object of the stream in its own request (resource.Builder with
// ContinueOnError). Objects that can be created are, and printed as
// `pod/x created`; each failure is wrapped by cmdutil.AddSourceToErr
// ("error when creating \"STDIN\": ...") and printed on stderr after the
// others, exit code 1. A stream that stops parsing stops there, after the
// documents before it were created.

import { parseAllDocuments } from 'yaml';
import { ClusterError, type ExecResult } from '../facade.ts';
import type { KubeApi } from '../kube/api.ts';
import { manifestsFromDocuments } from '../kube/request.ts';
import { STDIN_SOURCE } from '../kube/yaml_errors.ts';

type Docs = ReturnType<typeof parseAllDocuments>;

export function kubectlCreate(api: KubeApi, text: string, source = STDIN_SOURCE): ExecResult {
  const created: string[] = [];
  const errors: ClusterError[] = [];
  const docs: Docs = parseAllDocuments(text);
  for (let i = 0; i < docs.length; i++) {
    let objs;
    try { objs = manifestsFromDocuments(docs.slice(i, i + 1) as Docs, text); } catch (e) {
      errors.push(asClusterError(e));
      break; // kubectl's stream visitor returns on the first document it cannot decode
    }
    for (const obj of objs) {
      try { created.push(api.createObject(obj)); } catch (e) { errors.push(asClusterError(e)); }
    }
  }
  if (created.length === 0 && errors.length === 0) return { stdout: '', stderr: 'error: no objects passed to create\n', exitCode: 1 };
  const alone = errors.length === 1;
  return {
    stdout: created.map((l) => `${l}\n`).join(''),
    stderr: errors.map((e) => `${errorLine(e.message, source, alone)}\n`).join(''),
    exitCode: errors.length ? 1 : 0,
  };
}

function asClusterError(e: unknown): ClusterError {
  if (e instanceof ClusterError) return e;
  throw e;
}

/** Client-side failures (parsing, kind mapping, validation) happen before any request: no "error when creating". */
const CLIENT_SIDE = /^(error: )?(error parsing|error validating|resource mapping not found)/;

/**
 * The line kubectl prints for one failed object. The server's errors carry the
 * source in their message (AddSourceToErr); kubectl prints them through
 * StandardErrorMessage ("Error from server (Reason): ..."), except a lone
 * Invalid error, which it prints as "The Kind "name" is invalid: ..." from
 * the status details. Alone, a client error gets "error: " in front; among
 * others it is printed bare (cmdutil.MultipleErrors).
 */
export function errorLine(msg: string, source: string, alone: boolean): string {
  if (CLIENT_SIDE.test(msg)) {
    const bare = msg.replace(/^error: /, '');
    return alone ? `error: ${bare}` : bare;
  }
  const at = `error when creating ${JSON.stringify(source)}: `;
  const withReason = /^Error from server \((\w+)\): ([\s\S]*)$/.exec(msg);
  if (withReason) return `Error from server (${withReason[1]}): ${at}${withReason[2]}`;
  const invalid = /^The (\S+ "[^"]*" is invalid: [\s\S]*)$/.exec(msg);
  if (invalid) return alone ? msg : `Error from server (Invalid): ${at}${invalid[1]}`;
  return `Error from server: ${at}${msg.replace(/^error: /, '')}`;
}
