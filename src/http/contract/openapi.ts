// The OpenAPI 3.1 document of the API, generated from the route table (api-routes.ts): its
// request schemas are the ones the routes parse with, its response schemas the ones the mapping
// functions are typed by. Built once, when the app is made (GET /api/v1/openapi.json).
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { API_ROUTES, openApiPath, responsesOf, type ResponseContract } from './api-routes.js';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const API_KEY_SCHEME = 'apiKey';
const BEARER_SCHEME = 'bearer';

function response(contract: ResponseContract): RouteConfig['responses'][number] {
  if (contract.schema) return { description: contract.description, content: { 'application/json': { schema: contract.schema } } };
  if (contract.contentType)
    return { description: contract.description, content: { [contract.contentType]: { schema: { type: 'string' } } } };
  return { description: contract.description };
}

export function buildOpenApiDocument(version: string): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', API_KEY_SCHEME, {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key (`sdlc_…`); also accepted as `Authorization: Bearer <key>`.',
  });
  registry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT or API key',
    description: 'A JWT from the configured issuer (JWT_*), or an API key.',
  });

  for (const route of API_ROUTES) {
    const request = route.request;
    const access = route.access;
    const roles =
      access === 'public'
        ? 'Public: no credential.'
        : `Needs the permission ${access.permissions.join(' or ')}${access.metricsToken ? ' (or METRICS_TOKEN)' : ''}; roles in docs/security.md.`;
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      summary: route.summary,
      description: roles,
      tags: [route.tag],
      security: access === 'public' ? [] : [{ [API_KEY_SCHEME]: [] }, { [BEARER_SCHEME]: [] }],
      'x-permissions': access === 'public' ? [] : [...access.permissions],
      request: {
        ...(request?.params ? { params: request.params } : {}),
        ...(request?.query ? { query: request.query } : {}),
        ...(request?.headers ? { headers: request.headers } : {}),
        ...(request?.body ? { body: { required: true, content: { 'application/json': { schema: request.body } } } } : {}),
      },
      responses: Object.fromEntries(Object.entries(responsesOf(route)).map(([status, contract]) => [status, response(contract)])),
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'agentic-sdlc API',
      version,
      description: 'Software-delivery pipelines as durable queues of agent tasks. Errors: docs/error-handling.md.',
    },
    servers: [{ url: '/' }],
  });
}
