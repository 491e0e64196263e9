// gRPC server reflection (grpc.reflection.v1 and v1alpha, @grpc/reflection)
// describing observer.Observer with its flow and relay messages, and the
// health service, so grpcurl can list, describe and call the server without
// the .proto files.

import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { PROTO_DIR, PROTO_FILES } from '../hubble/proto.ts';
import { HEALTH_FILE, healthRoot } from './health.ts';

interface DescriptorSet { file: Array<{ name: string }> }
type WithDescriptor = { toDescriptor(syntax: string): DescriptorSet };

/** The health proto's FileDescriptorProto, under the name grpc-go gives it. */
function healthDescriptor(): Buffer {
  const set = (healthRoot as unknown as WithDescriptor).toDescriptor('proto3');
  const file = set.file[0]!;
  file.name = HEALTH_FILE;
  const enc = (descriptor as unknown as { FileDescriptorProto: { encode(m: unknown): { finish(): Uint8Array } } }).FileDescriptorProto.encode(file).finish();
  return Buffer.from(enc);
}

/** Adds the reflection service to a server. */
export function addReflection(server: grpc.Server): void {
  const defs = protoLoader.loadSync([...PROTO_FILES], { includeDirs: [PROTO_DIR], keepCase: true });
  const pkg = { ...defs, 'grpc.health.v1.Health': { fileDescriptorProtos: [healthDescriptor()] } } as unknown as protoLoader.PackageDefinition;
  new ReflectionService(pkg).addToServer(server);
}
