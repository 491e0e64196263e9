// The standard gRPC health service (grpc.health.v1.Health), which `hubble
// status` asks for "hubble.server.Observer" before anything else. It answers
// SERVING for that name and for "" (the whole server), NOT_FOUND for others,
// as grpc-go's health server does.

import * as grpc from '@grpc/grpc-js';
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
const SERVING = 1, SERVICE_UNKNOWN = 3;

interface HealthReq { service?: string }
interface HealthRes { status: number }

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

const known = (name: string | undefined): boolean => (name ?? '') === '' || name === OBSERVER_HEALTH_NAME;

/** The service's handlers: every service this server has is always SERVING while it runs. */
export const healthHandlers: grpc.UntypedServiceImplementation = {
  Check(call: grpc.ServerUnaryCall<HealthReq, HealthRes>, cb: grpc.sendUnaryData<HealthRes>) {
    if (!known(call.request.service)) { cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' }); return; }
    cb(null, { status: SERVING });
  },
  // Watch sends the status once and keeps the stream open (it never changes while the server runs).
  Watch(call: grpc.ServerWritableStream<HealthReq, HealthRes>) {
    call.write({ status: known(call.request.service) ? SERVING : SERVICE_UNKNOWN });
  },
};
