// kubectl's words for a manifest that is not YAML: `error parsing STDIN: error
// converting YAML to JSON: yaml: line N: <go-yaml problem>`. kubectl splits
// the stream at `---` lines and converts each chunk with go-yaml v2, so N
// counts from the chunk's first line, and go-yaml's parser errors (unclosed
// flow collections) report the problem line 0-based while its scanner errors
// report it 1-based.

import type { YAMLError } from 'yaml';

/** The source name kubectl prints for `-f -`; `dplab apply -f FILE` puts the file's name in its place. */
export const STDIN_SOURCE = 'STDIN';

/** 1-based line, in `text`, of the first line of the `---`-separated chunk holding line `line`. */
function chunkStart(lines: string[], line: number): number {
  for (let i = Math.min(line, lines.length) - 1; i >= 1; i--) if (/^---\s*$/.test(lines[i - 1]!)) return i + 1;
  return 1;
}

/** Lines in the chunk starting at `start` (a last line without a newline counts). */
function chunkLength(lines: string[], start: number): number {
  let end = start;
  while (end <= lines.length && !/^---\s*$/.test(lines[end - 1]!)) end++;
  let n = end - start;
  while (n > 0 && lines[start - 1 + n - 1] === '') n--; // the split's empty tail after a final newline
  return n;
}

/** go-yaml's problem and line (chunk-relative) for the yaml library's errors of one document. */
function goYamlProblem(lines: string[], errors: YAMLError[]): string {
  const e = errors[0]!;
  const at = e.linePos?.[0]?.line ?? 1;
  const start = chunkStart(lines, at);
  const rel = (l: number) => l - start + 1;
  const flow = /end with a ([}\]])/.exec(e.message);
  if (flow) return `line ${lines.length ? chunkLength(lines, start) : at}: did not find expected ',' or '${flow[1]}'`;
  const multi = errors.find((x) => x.code === 'MULTILINE_IMPLICIT_KEY');
  if (multi) return `line ${rel(multi.linePos?.[1]?.line ?? at)}: mapping values are not allowed in this context`;
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY') return `line ${rel(at)}: mapping values are not allowed in this context`;
  if (e.code === 'TAB_AS_INDENT') return `line ${rel(at)}: found character that cannot start any token`;
  if (e.code === 'MISSING_CHAR' && /quote/.test(e.message)) return `line ${rel(at)}: found unexpected end of stream`;
  const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `line ${rel(at)}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

/** kubectl's message for a document that failed to parse; `text` is the whole stream (for chunk-relative lines). */
export function yamlParseError(text: string | undefined, errors: YAMLError[], source = STDIN_SOURCE): string {
  const lines = text === undefined ? [] : text.split('\n');
  return `error: error parsing ${source}: error converting YAML to JSON: yaml: ${goYamlProblem(lines, errors)}`;
}
