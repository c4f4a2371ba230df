import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestEngine, type TestEngine } from '../../helpers/engine.js';

type Obj = Record<string, any>;

/** Every operation of spec §3 (and §2.1 health), as method + path relative to /api/v1. */
const SPEC_OPERATIONS: [string, string][] = [
  ['GET', '/health'],
  ['GET', '/assistants'], ['POST', '/assistants'], ['GET', '/assistants/{id}'], ['PATCH', '/assistants/{id}'], ['DELETE', '/assistants/{id}'],
  ['GET', '/agents'], ['POST', '/agents'], ['GET', '/agents/{id}'], ['PATCH', '/agents/{id}'], ['DELETE', '/agents/{id}'],
  ['GET', '/tool-templates'], ['POST', '/tool-templates'], ['GET', '/tool-templates/{id}'], ['PATCH', '/tool-templates/{id}'], ['DELETE', '/tool-templates/{id}'],
  ['GET', '/numbers'], ['POST', '/numbers'], ['GET', '/numbers/{id}'], ['PATCH', '/numbers/{id}'], ['DELETE', '/numbers/{id}'],
  ['GET', '/calls'], ['GET', '/calls/{id}'], ['POST', '/calls/outbound'], ['POST', '/calls/{id}/control'],
  ['GET', '/usage'],
  ['GET', '/sip-trunks'], ['POST', '/sip-trunks'], ['GET', '/sip-trunks/{id}'], ['DELETE', '/sip-trunks/{id}'],
  ['GET', '/voices'],
  ['GET', '/byok'], ['POST', '/byok'], ['DELETE', '/byok'], ['GET', '/byok/config'], ['POST', '/byok/config'],
  ['GET', '/domains'], ['POST', '/domains'], ['DELETE', '/domains'], ['GET', '/domains/sync'], ['POST', '/domains/sync'],
  ['POST', '/domains/verify'], ['POST', '/domains/refresh'],
  ['GET', '/analysis-templates'], ['POST', '/analysis-templates'], ['GET', '/analysis-templates/{id}'], ['PATCH', '/analysis-templates/{id}'], ['DELETE', '/analysis-templates/{id}'],
  ['GET', '/organizations'], ['POST', '/organizations'], ['GET', '/account'],
  ['GET', '/campaigns'], ['POST', '/campaigns'], ['GET', '/campaigns/{id}'], ['PATCH', '/campaigns/{id}'], ['DELETE', '/campaigns/{id}'],
  ['GET', '/campaigns/{id}/leads'], ['POST', '/campaigns/{id}/leads'], ['DELETE', '/campaigns/{id}/leads/{leadId}'],
];

/** The operations this test's owner serves: they must be present whatever else is. */
const ALWAYS = SPEC_OPERATIONS.filter(([, p]) => /^\/(health|assistants|agents|voices|byok|domains|organizations|account)/.test(p));

/** `/campaigns/{id}/leads/{leadId}` -> `/campaigns/:id/leads/:leadId` (fastify ignores parameter names when matching). */
const toFastify = (p: string): string => p.replace(/\{(\w+)\}/g, ':$1');
/** Documented paths use the route's own parameter names; compare with names erased. */
const shape = (p: string): string => p.replace(/\{\w+\}/g, '{}');

describe('OpenAPI document and docs page', () => {
  let t: TestEngine;
  let doc: Obj;
  before(async () => {
    t = await startTestEngine();
    const r = await api<Obj>(t, 'GET', '/openapi.json', undefined, { key: null });
    assert.equal(r.status, 200);
    doc = r.body;
  });
  after(async () => { await t.close(); });

  test('served without auth as OpenAPI 3 with bearer security', () => {
    assert.match(doc.openapi, /^3\./);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(doc.info.version, '0.1.0');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
  });

  test('every spec operation the app serves is documented (and ours are all served)', () => {
    const documented = new Map<string, Obj>();
    for (const [path, item] of Object.entries(doc.paths as Obj)) {
      for (const [method, op] of Object.entries(item as Obj)) documented.set(`${method.toUpperCase()} ${shape(path)}`, op as Obj);
    }
    for (const [method, path] of ALWAYS) {
      assert.ok(t.engine.api.hasRoute({ method: method as 'GET', url: '/api/v1' + toFastify(path) }), `${method} ${path} is served`);
    }
    let served = 0;
    for (const [method, path] of SPEC_OPERATIONS) {
      if (!t.engine.api.hasRoute({ method: method as 'GET', url: '/api/v1' + toFastify(path) })) continue;
      served++;
      const op = documented.get(`${method} ${shape('/api/v1' + path)}`);
      assert.ok(op, `${method} /api/v1${path} is in the OpenAPI document`);
      assert.equal(typeof op.summary, 'string', `${method} ${path} has a summary`);
      assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${method} ${path} has tags`);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} documents responses`);
    }
    assert.ok(served >= ALWAYS.length);
  });

  test('request bodies, query parameters and deprecations come from the route schemas', () => {
    const p = doc.paths as Obj;
    const byokPost = p['/api/v1/byok'].post;
    const body = byokPost.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required.sort(), ['api_key', 'provider']);
    assert.ok(body.properties.provider.anyOf.some((x: Obj) => x.const === 'google_vertex' || (x.enum ?? []).includes('google_vertex')));
    assert.ok(p['/api/v1/byok'].delete.requestBody, 'DELETE /byok takes a body');
    assert.ok(p['/api/v1/organizations'].get.parameters.some((x: Obj) => x.name === 'include_children' && x.in === 'query'));
    assert.equal(p['/api/v1/account'].get.deprecated, true);
    assert.deepEqual(p['/api/v1/organizations'].post.requestBody.content['application/json'].schema.required, ['name']);
    const created = p['/api/v1/organizations'].post.responses['201'].content['application/json'].schema;
    assert.ok(created.required.includes('api_key'));
    const domains = p['/api/v1/domains'].post.requestBody.content['application/json'].schema;
    assert.ok('domain_name' in domains.properties && 'domain' in domains.properties);
    const voices = p['/api/v1/voices'].get.responses['200'].content['application/json'].schema;
    assert.ok('xai_realtime_voices' in voices.properties);
  });

  test('the docs page answers 200 with HTML, without auth', async () => {
    const r = await fetch(t.url + '/docs');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await r.text(), /<html/i);
  });
});
