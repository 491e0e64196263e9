// Errors of Hubble's API with the gRPC status code Hubble answers them with,
// so the gRPC server (status codes) and the WebSocket / HTTP surfaces (4xx)
// map them without guessing.

export type HubbleErrorCode = 'INVALID_ARGUMENT' | 'UNIMPLEMENTED' | 'UNAVAILABLE';

/** gRPC status numbers of the codes above. */
export const GRPC_STATUS: Record<HubbleErrorCode, number> = { INVALID_ARGUMENT: 3, UNIMPLEMENTED: 12, UNAVAILABLE: 14 };

/** A request Hubble refuses, or a method this server does not offer. */
export class HubbleError extends Error {
  constructor(readonly code: HubbleErrorCode, message: string) { super(message); this.name = 'HubbleError'; }
  /** The gRPC status number (3 INVALID_ARGUMENT, 12 UNIMPLEMENTED, 14 UNAVAILABLE). */
  get grpcStatus(): number { return GRPC_STATUS[this.code]; }
}

export const invalid = (message: string): HubbleError => new HubbleError('INVALID_ARGUMENT', message);
