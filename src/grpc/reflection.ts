// gRPC server reflection (grpc.reflection.v1 and v1alpha, @grpc/reflection)
// describing observer.Observer with its flow and relay messages, and the
// health service, so grpcurl can list, describe and call the server without
// the .proto files. proto-loader's descriptors name types relative to their
// scope, list no imports and end reserved ranges inclusively, which strict
// clients (Go's protodesc, under grpcurl) refuse; each file is given
// fully-qualified type names, its imports and exclusive range ends first.

import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { PROTO_DIR, PROTO_FILES } from '../hubble/proto.ts';
import { HEALTH_FILE, healthRoot } from '../hubble/grpc/health.ts';

interface Field { typeName?: string }
interface Message { name: string; field?: Field[]; nestedType?: Message[]; enumType?: Array<{ name: string }>; reservedRange?: Array<{ start?: number; end?: number }> }
interface Service { method?: Array<{ inputType?: string; outputType?: string }> }
interface File { name: string; package?: string; dependency?: string[]; messageType?: Message[]; enumType?: Array<{ name: string }>; service?: Service[] }
interface Codec { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown }
const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: Codec }).FileDescriptorProto;

/** Every message and enum a file defines, by full name (no leading dot). */
function definitions(f: File, out: Map<string, File>): void {
  const pkg = f.package ? `${f.package}.` : '';
  const walk = (prefix: string, msgs: Message[] = [], enums: Array<{ name: string }> = []): void => {
    for (const e of enums) out.set(`${prefix}${e.name}`, f);
    for (const m of msgs) { out.set(`${prefix}${m.name}`, f); walk(`${prefix}${m.name}.`, m.nestedType, m.enumType); }
  };
  walk(pkg, f.messageType, f.enumType);
}

/** A type reference resolved as protoc does: from the innermost scope outwards. */
function resolve(ref: string, scope: string, defs: Map<string, File>): string | undefined {
  if (ref.startsWith('.')) return defs.has(ref.slice(1)) ? ref.slice(1) : undefined;
  for (let s = scope; ; s = s.includes('.') ? s.slice(0, s.lastIndexOf('.')) : '') {
    const full = s ? `${s}.${ref}` : ref;
    if (defs.has(full)) return full;
    if (s === '') return undefined;
  }
}

/** Qualifies every type name of the files and lists each file's imports. */
export function linkDescriptors(files: File[]): File[] {
  const defs = new Map<string, File>();
  for (const f of files) definitions(f, defs);
  for (const f of files) {
    const deps = new Set<string>();
    const fix = (ref: string | undefined, scope: string): string | undefined => {
      if (!ref) return ref;
      const full = resolve(ref, scope, defs);
      if (!full) return ref;
      const owner = defs.get(full)!;
      if (owner !== f) deps.add(owner.name);
      return `.${full}`;
    };
    const pkg = f.package ?? '';
    const walk = (scope: string, msgs: Message[] = []): void => {
      for (const m of msgs) {
        const inner = scope ? `${scope}.${m.name}` : m.name;
        for (const fld of m.field ?? []) fld.typeName = fix(fld.typeName, inner);
        // DescriptorProto.ReservedRange.end is exclusive; protobufjs writes the last reserved number.
        for (const r of m.reservedRange ?? []) r.end = (r.end ?? 0) + 1;
        walk(inner, m.nestedType);
      }
    };
    walk(pkg, f.messageType);
    for (const s of f.service ?? []) for (const m of s.method ?? []) { m.inputType = fix(m.inputType, pkg); m.outputType = fix(m.outputType, pkg); }
    f.dependency = [...deps].sort();
  }
  return files;
}

/** The health proto's FileDescriptorProto, under the name grpc-go gives it. */
function healthFile(): File {
  const set = (healthRoot as unknown as { toDescriptor(s: string): { file: File[] } }).toDescriptor('proto3');
  const file = set.file[0]!;
  file.name = HEALTH_FILE;
  return file;
}

/** Adds the reflection service to a server. */
export function addReflection(server: grpc.Server): void {
  const defs = protoLoader.loadSync([...PROTO_FILES], { includeDirs: [PROTO_DIR], keepCase: true });
  const byName = new Map<string, File>();
  for (const d of Object.values(defs)) {
    for (const b of (d as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const f = FileDescriptorProto.decode(b) as File;
      if (!byName.has(f.name)) byName.set(f.name, f);
    }
  }
  const files = linkDescriptors([...byName.values(), healthFile()]);
  const pkg = { all: { fileDescriptorProtos: files.map((f) => Buffer.from(FileDescriptorProto.encode(f).finish())) } };
  new ReflectionService(pkg as unknown as protoLoader.PackageDefinition).addToServer(server);
}
