// The standard gRPC health service's definition (grpc.health.v1.Health),
// which `hubble status` asks for "hubble.server.Observer" before anything
// else: the client calls it, the gRPC server (src/grpc/health.ts) answers it.

import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decoder, encoder } from './definition.ts';

/** Our description of grpc/health/v1/health.proto (same package, names and numbers). */
const HEALTH_PROTO = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;

/** The file name grpc-go's descriptor carries. */
export const HEALTH_FILE = 'grpc/health/v1/health.proto';
export const healthRoot: protobuf.Root = protobuf.parse(HEALTH_PROTO, { keepCase: true }).root;
healthRoot.resolveAll();
const Req = healthRoot.lookupType('grpc.health.v1.HealthCheckRequest');
const Res = healthRoot.lookupType('grpc.health.v1.HealthCheckResponse');

/** pkg/hubble/api/v1 ObserverServiceName: the name `hubble status` checks. */
export const OBSERVER_HEALTH_NAME = 'hubble.server.Observer';

/** ServingStatus by number, as the enum names them. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export interface HealthReq { service?: string }
export interface HealthRes { status: number }

export const healthService = {
  Check: {
    path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
    requestSerialize: encoder<HealthReq>(Req), requestDeserialize: decoder<HealthReq>(Req),
    responseSerialize: encoder<HealthRes>(Res), responseDeserialize: decoder<HealthRes>(Res),
  },
  Watch: {
    path: '/grpc.health.v1.Health/Watch', requestStream: false, responseStream: true,
    requestSerialize: encoder<HealthReq>(Req), requestDeserialize: decoder<HealthReq>(Req),
    responseSerialize: encoder<HealthRes>(Res), responseDeserialize: decoder<HealthRes>(Res),
  },
} satisfies grpc.ServiceDefinition;
