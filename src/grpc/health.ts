// The standard gRPC health service's handlers (its definition is Hubble's,
// src/hubble/grpc/health.ts). It answers SERVING for "hubble.server.Observer"
// and for "" (the whole server), NOT_FOUND for others, as grpc-go's health
// server does.

import * as grpc from '@grpc/grpc-js';
import { OBSERVER_HEALTH_NAME, SERVING_STATUS, type HealthReq, type HealthRes } from '../hubble/grpc/health.ts';

const SERVING = SERVING_STATUS.indexOf('SERVING'), SERVICE_UNKNOWN = SERVING_STATUS.indexOf('SERVICE_UNKNOWN');

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
