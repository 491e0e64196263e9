// `hubble observe` output: each GetFlowsResponse printed as compact, dict,
// jsonpb or table (pkg/printer WriteGetFlowsResponse of the 0.11.6 CLI).
// Flows go to stdout; node status events to stderr (only unavailable/error
// ones, as without --debug); lost events and empty responses print nothing.

import { GetFlowsResponse, type GetFlowsResponseObject, type NodeStatusEventObject } from '../proto.ts';
import { arrow, flowType, hostNames, identities, verdictWord, type PrintableFlow } from './flow_text.ts';
import { goEnumString } from './names.ts';
import { encodeMessage } from './protojson.ts';
import { tabwrite } from './tabwriter.ts';
import { formatTimestamp, type TimeLayout, type TimestampLike } from './time.ts';

export type FlowOutput = 'compact' | 'dict' | 'jsonpb' | 'table';

export interface FlowPrintOptions {
  output: FlowOutput;
  /** --time-format (default StampMilli). */
  timeLayout: TimeLayout;
  /** --print-node-name. */
  nodeName: boolean;
  /** Names for addresses (pod, service, DNS); off with --numeric or --ip-translation=false. */
  ipTranslation: boolean;
}

/** What one write produced: text for stdout and for stderr. */
export interface Printed { stdout: string; stderr: string }

/** A response as the printers take it: the decoded plain object, its enums numbers or names. */
export type PrintableResponse = Omit<Partial<GetFlowsResponseObject>, 'flow' | 'time'> & { flow?: PrintableFlow | null; time?: TimestampLike | null };

const DICT_SEPARATOR = '------------';

/** One compact line: `TIME[ [node]]: SRC SRC-ID ARROW DST DST-ID TYPE VERDICT (SUMMARY)`. */
export function compactLine(f: PrintableFlow, o: Omit<FlowPrintOptions, 'output'>): string {
  let [src, dst] = hostNames(f, o.ipTranslation);
  let [srcId, dstId] = identities(f);
  const a = arrow(f);
  if (a.swap) { [src, dst] = [dst, src]; [srcId, dstId] = [dstId, srcId]; }
  const node = o.nodeName ? ` [${f.node_name ?? ''}]` : '';
  return `${formatTimestamp(f.time, o.timeLayout)}${node}: ${src} ${srcId} ${a.arrow} ${dst} ${dstId} ${flowType(f)} ${verdictWord(f)} (${f.Summary ?? ''})\n`;
}

/** One dict record (keys right-aligned; no swap for replies). */
export function dictRecord(f: PrintableFlow, o: Omit<FlowPrintOptions, 'output'>): string {
  const [src, dst] = hostNames(f, o.ipTranslation);
  return `  TIMESTAMP: ${formatTimestamp(f.time, o.timeLayout)}\n`
    + (o.nodeName ? `       NODE: ${f.node_name ?? ''}\n` : '')
    + `     SOURCE: ${src}\nDESTINATION: ${dst}\n       TYPE: ${flowType(f)}\n    VERDICT: ${verdictWord(f)}\n    SUMMARY: ${f.Summary ?? ''}\n`;
}

/** One table row's cells (no identities, no arrow, no swap). */
export function tableRow(f: PrintableFlow, o: Omit<FlowPrintOptions, 'output'>): string[] {
  const [src, dst] = hostNames(f, o.ipTranslation);
  return [formatTimestamp(f.time, o.timeLayout), ...(o.nodeName ? [f.node_name ?? ''] : []), src, dst, flowType(f), verdictWord(f), f.Summary ?? ''];
}

/** joinWithCutOff: names joined until about `target` characters, then " (and N more)". */
function joinWithCutOff(elems: string[], sep: string, target: number): string {
  let len = 0, end = elems.length;
  for (let i = 0; i < elems.length; i++) {
    len += elems[i]!.length + sep.length;
    if (len > target && i > 0) { end = i; break; }
  }
  const joined = elems.slice(0, end).join(sep);
  return end === elems.length ? joined : `${joined} (and ${elems.length - end} more)`;
}

/** Go's %q of a string (enough for messages: quotes, backslashes, control characters). */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

const NODE_CONNECTED = 1, NODE_UNAVAILABLE = 2, NODE_GONE = 3, NODE_ERROR = 4;

/** Prints a stream of GetFlowsResponses; table output comes out at close(), aligned over all rows. */
export class FlowPrinter {
  private line = 0;
  private readonly rows: string[][] = [];

  constructor(private readonly opts: FlowPrintOptions) {}

  write(r: PrintableResponse): Printed {
    if (r.flow) return { stdout: this.flow(r, r.flow), stderr: '' };
    if (r.node_status) return this.nodeStatus(r, r.node_status);
    return { stdout: '', stderr: '' };
  }

  /** What is left to print: the table, with its header. */
  close(): Printed {
    if (this.opts.output !== 'table' || this.rows.length === 0) return { stdout: '', stderr: '' };
    const header = ['TIMESTAMP', ...(this.opts.nodeName ? ['NODE'] : []), 'SOURCE', 'DESTINATION', 'TYPE', 'VERDICT', 'SUMMARY'];
    return { stdout: tabwrite([header, ...this.rows.splice(0)]), stderr: '' };
  }

  private flow(r: PrintableResponse, f: PrintableFlow): string {
    const o = this.opts;
    let out: string;
    switch (o.output) {
      case 'compact': out = compactLine(f, o); break;
      case 'dict': out = (this.line > 0 ? `${DICT_SEPARATOR}\n` : '') + dictRecord(f, o); break;
      case 'table': this.rows.push(tableRow(f, o)); out = ''; break;
      case 'jsonpb': out = `${encodeMessage(GetFlowsResponse, r as Record<string, unknown>)}\n`; break;
    }
    this.line++;
    return out;
  }

  private nodeStatus(r: PrintableResponse, s: Partial<NodeStatusEventObject>): Printed {
    const state = typeof s.state_change === 'string' ? ({ NODE_CONNECTED, NODE_UNAVAILABLE, NODE_GONE, NODE_ERROR } as Record<string, number>)[s.state_change] ?? 0 : s.state_change ?? 0;
    // Informational events (connected, gone) only show with --debug, which dplab does not offer.
    if (state !== NODE_ERROR && state !== NODE_UNAVAILABLE) return { stdout: '', stderr: '' };
    const names = s.node_names ?? [];
    const nodes = joinWithCutOff(names, ', ', 50);
    const ts = formatTimestamp(r.time, this.opts.timeLayout);
    switch (this.opts.output) {
      case 'jsonpb': return { stdout: '', stderr: `${encodeMessage(GetFlowsResponse, r as Record<string, unknown>)}\n` };
      case 'dict': {
        let stdout = '';
        if (this.line !== 0) stdout = `${DICT_SEPARATOR}\n`; else this.line++;
        const message = s.message ? goQuote(s.message) : 'N/A';
        return { stdout, stderr: `  TIMESTAMP: ${ts}\n      STATE: ${goEnumString('relay.NodeState', state)}\n      NODES: ${nodes}\n    MESSAGE: ${message}\n` };
      }
      default: {
        const prefix = `${ts} [${r.node_name ?? ''}]`;
        const msg = state === NODE_UNAVAILABLE ? `${prefix}: ${names.length} nodes are unavailable: ${nodes}`
          : `${prefix}: Error ${goQuote(s.message ?? '')} on ${names.length} nodes: ${nodes}`;
        return { stdout: '', stderr: `${msg}\n` };
      }
    }
  }
}
