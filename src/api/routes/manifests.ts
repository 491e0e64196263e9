// POST /v1/apply and /v1/delete: manifests in, kubectl's lines out. The body
// is JSON as the API server takes it (one object, a `List`, or an array of
// objects; what `dplab apply` and kubectl send), or `{yaml}`: multi-document
// YAML read by the `yaml` library.

import type { FastifyPluginAsync } from 'fastify';
import { jsonManifestText } from '../../cluster/kube/request.ts';
import type { RouteOptions } from './options.ts';

/** A body that is manifests itself: an array, or an object with `kind` (and no `yaml`). */
const MANIFESTS = { anyOf: [{ type: 'array' }, { type: 'object', required: ['kind'], not: { required: ['yaml'] } }] } as const;
const body = {
  if: MANIFESTS,
  else: { type: 'object', properties: { yaml: { type: 'string', minLength: 1 } }, required: ['yaml'] },
} as const;
const response = { 200: { type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } } } } } as const;

type Body = { yaml: string } | Record<string, unknown> | unknown[];

/** The manifests' text: the YAML of `{yaml}`, else the JSON body (parsed again by the request, with JSON.parse). */
function manifestText(b: Body): string {
  return !Array.isArray(b) && 'yaml' in b ? String(b.yaml) : jsonManifestText(b);
}

export const manifestRoutes: FastifyPluginAsync<RouteOptions> = async (app, { cluster }) => {
  // Sliced when the cluster can (the server answers others meanwhile; writes queue), else in one turn.
  app.post<{ Body: Body }>('/v1/apply', { schema: { body, response } }, async (req) => {
    const text = manifestText(req.body);
    return { lines: await (cluster.applySliced?.(text) ?? cluster.apply(text)) };
  });
  app.post<{ Body: Body }>('/v1/delete', { schema: { body, response } }, async (req) => {
    const text = manifestText(req.body);
    return { lines: await (cluster.deleteSliced?.(text) ?? cluster.delete(text)) };
  });
};
