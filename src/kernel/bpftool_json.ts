// bpftool's json_writer.c: the same separators and line breaks, so `-j` and
// `-p` print byte for byte what bpftool prints (pretty mode breaks a line
// before each name and before a closing bracket, never before an array's
// scalars or an object opened inside an array: `"map_ids": [175,66\n    ]`).

export class JsonWriter {
  private out = '';
  private depth = 0;
  private sep = '';
  constructor(private readonly pretty: boolean) {}

  private eol(): void { if (this.pretty) this.out += '\n' + '    '.repeat(this.depth); }
  private eor(): void { if (this.sep) this.out += this.sep; this.sep = ','; }
  private begin(c: string): void { this.eor(); this.out += c; this.depth++; this.sep = ''; }
  private end(c: string): void {
    this.depth--;
    if (this.sep) this.eol();
    this.out += c;
    this.sep = ',';
  }

  startObject(): this { this.begin('{'); return this; }
  endObject(): this { this.end('}'); return this; }
  startArray(): this { this.begin('['); return this; }
  endArray(): this { this.end(']'); return this; }

  name(n: string): this {
    this.eor(); this.eol(); this.sep = '';
    this.out += quote(n) + ':' + (this.pretty ? ' ' : '');
    return this;
  }

  /** A value printed as is (numbers, true/false, null, or an already quoted string). */
  raw(v: string): this { this.eor(); this.out += v; return this; }
  string(v: string): this { return this.raw(quote(v)); }
  uint(v: number): this { return this.raw(String(v)); }
  bool(v: boolean): this { return this.raw(v ? 'true' : 'false'); }

  stringField(n: string, v: string): this { return this.name(n).string(v); }
  uintField(n: string, v: number): this { return this.name(n).uint(v); }
  boolField(n: string, v: boolean): this { return this.name(n).bool(v); }

  /** print_hex_data_json: ["0x0a","0x00",...]. */
  hex(bytes: Uint8Array): this {
    this.startArray();
    for (const b of bytes) this.raw(`"0x${b.toString(16).padStart(2, '0')}"`);
    return this.endArray();
  }

  /** jsonw_destroy's final newline. */
  done(): string { return this.out + '\n'; }
}

/** json_writer's jsonw_puts escapes: \t \n \r \f \b \\ \" only. */
function quote(s: string): string {
  return '"' + s.replace(/[\t\n\r\f\b\\"]/g, (c) => ({ '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f', '\b': '\\b', '\\': '\\\\', '"': '\\"' })[c]!) + '"';
}
