// observer.Observer as a grpc-js service definition, (de)serialised with the
// protobufjs Types of ../proto.ts: what the server registers and the client
// (dplab hubble, and the hubble in agent pods) calls. Responses go out as
// plain objects encoded directly (protobufjs encodes plain objects of the
// right shape); requests come in as plain objects with proto names, enums as
// numbers and uint64 as Long, as the Hubble service takes them.

import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { GetFlowsRequest, GetFlowsResponse, GetNamespacesRequest, GetNamespacesResponse, GetNodesRequest, GetNodesResponse,
  ServerStatusRequest, ServerStatusResponse } from '../proto.ts';

/** Decodes to a plain object: proto names, enums as numbers, uint64 as Long, defaults left out. */
export function decoder<T>(type: protobuf.Type): (buf: Buffer) => T {
  return (buf) => type.toObject(type.decode(buf), { defaults: false }) as T;
}

/** Encodes a plain object (or takes bytes already encoded, as GetFlows sends them). */
export function encoder<T>(type: protobuf.Type): (v: T) => Buffer {
  return (v) => {
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    // fromObject accepts enum names and 64-bit strings; plain numeric objects encode as they are.
    const w = type.encode(type.fromObject(v as Record<string, unknown>)).finish();
    return Buffer.from(w.buffer, w.byteOffset, w.byteLength);
  };
}

/** Encoded responses by object: the observer hands every follower the same (read-only) response, encoded once. */
const encoded = new WeakMap<object, Uint8Array>();

/** A response already encoded: GetFlows encodes each flow itself to count the bytes a slow reader holds. */
export function encodeResponse(obj: object): Uint8Array {
  let buf = encoded.get(obj);
  if (!buf) { buf = GetFlowsResponse.encode(obj as Record<string, unknown>).finish(); encoded.set(obj, buf); }
  return buf;
}

function unary(name: string, req: protobuf.Type, res: protobuf.Type): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/observer.Observer/${name}`, requestStream: false, responseStream: false,
    requestSerialize: encoder(req), requestDeserialize: decoder(req),
    responseSerialize: encoder(res), responseDeserialize: decoder(res),
  };
}

/** The methods dplab serves (GetAgentEvents and GetDebugEvents are left out: grpc-js answers UNIMPLEMENTED). */
export const observerService = {
  GetFlows: {
    path: '/observer.Observer/GetFlows', requestStream: false, responseStream: true,
    requestSerialize: encoder(GetFlowsRequest), requestDeserialize: decoder(GetFlowsRequest),
    responseSerialize: encoder(GetFlowsResponse), responseDeserialize: decoder(GetFlowsResponse),
  },
  ServerStatus: unary('ServerStatus', ServerStatusRequest, ServerStatusResponse),
  GetNodes: unary('GetNodes', GetNodesRequest, GetNodesResponse),
  GetNamespaces: unary('GetNamespaces', GetNamespacesRequest, GetNamespacesResponse),
} satisfies grpc.ServiceDefinition;
