/** The request list, the running status, the JSON Schema of the spec format and the OpenAPI documents. */

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { internalOpenApi, publicOpenApi } from '@spincycle/protocol';
import { sendJson, sendJsonText } from '@spincycle/service-kit';
import type { Express } from 'express';
import type { RequestCatalog } from '../catalog.js';

export function registerMetaRoutes(
  app: Express,
  catalog: RequestCatalog,
  running: (requestId?: string) => Promise<unknown>,
): void {
  // Registered on the app itself (not a sub-router) so the 405 fallback sees every path.
  const r = app;

  r.get('/api/v1/request-list', (_req, res) => {
    sendJson(res, 200, catalog.requestList());
  });

  r.get('/api/v1/status/running', async (req, res) => {
    const requestId = typeof req.query.requestId === 'string' ? req.query.requestId : undefined;
    sendJson(res, 200, await running(requestId));
  });

  // The schema ships with the spec package (its `./schema.json` export): read once, on first use.
  let schema: Promise<string> | undefined;
  r.get('/api/v1/spec-schema.json', async (_req, res) => {
    schema ??= readFile(fileURLToPath(import.meta.resolve('@spincycle/spec/schema.json')), 'utf8');
    sendJsonText(res, 200, await schema);
  });

  // The API descriptions, built once. The internal one is under /api/v1/internal/, so it takes
  // Job Runner credentials (auth/middleware.ts); its servers are relative to this RM.
  let docs: { public: string; internal: string } | undefined;
  const openApi = () =>
    (docs ??= {
      public: JSON.stringify(publicOpenApi('/')),
      internal: JSON.stringify(internalOpenApi('/')),
    });
  r.get('/api/v1/openapi.json', (_req, res) => {
    sendJsonText(res, 200, openApi().public);
  });
  r.get('/api/v1/internal/openapi.json', (_req, res) => {
    sendJsonText(res, 200, openApi().internal);
  });
}
