// iptables' two kinds of failure, as its binaries report them: a parameter
// problem (xtables_error: "iptables v1.8.9 (nf_tables): MSG", exit 2) found
// while parsing, and a kernel/commit failure (exit 1, "iptables: MSG.").

/** Version banner iptables 1.8.9 (nf_tables) prints before a parameter error. */
export const IPT_VERSION = 'v1.8.9 (nf_tables)';

/** errno texts of nft_strerror() for the commit failures we reproduce. */
export const ENOENT_CHAIN = 'No chain/target/match by that name';
export const EEXIST_CHAIN = 'Chain already exists';
export const BAD_RULE = 'Bad rule (does a matching rule exist in that chain?)';

/**
 * A failure with iptables' exact text. `param` ones are printed with the
 * version banner and the help hint; `bare` ones (Bad argument) without the
 * banner; `commit` ones are kernel errors (exit 1).
 */
export class IptError extends Error {
  constructor(readonly kind: 'param' | 'bare' | 'commit' | 'other', message: string, readonly extraNewline = false, readonly exitCode?: number) {
    super(message);
  }
}

export const paramError = (msg: string, extraNewline = false) => new IptError('param', msg, extraNewline);
export const commitError = (msg: string) => new IptError('commit', msg);
