import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinClient, HttpPlatform } from '../../src/platform/builtin/http.js';

// The HTTP adapter asks member and invite pages for the compared fields only (`?fields=`); a platform from
// before that parameter refuses it (400 naming the field), and the adapter then asks for whole pages.
let server: Server;
let url = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = req.url!.split('?')[0]!;
    if (req.url!.includes('fields=')) return send(400, { error: { code: 'invalid_request', message: 'querystring.fields: unknown field "fields"', details: { field: 'querystring.fields' } } });
    if (path === '/api/v1/orgs/acme') return send(200, { name: 'acme', displayName: 'Acme', plan: 'freemium', creator: 'o@acme.example', cache: { enabled: false, podType: null }, stateVersion: 7 });
    if (path === '/api/v1/orgs/acme/members') {
      return send(200, { items: [{ email: 'o@acme.example', role: 'owner', creator: true, firstName: '', lastName: '', description: '', joinedAt: 'x', lastConnectionAt: null }], nextCursor: null, stateVersion: 7 });
    }
    if (path === '/api/v1/orgs/acme/invites') return send(200, { items: [{ id: 1, email: 'i@acme.example', role: 'member', status: 'expired', projects: [], sendCount: 1 }], nextCursor: null, stateVersion: 7 });
    if (path === '/api/v1/orgs/acme/integrations') return send(200, { items: [], stateVersion: 7 });
    send(404, { error: { code: 'not_found', message: 'no', details: {} } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('HTTP adapter: pages of the compared fields', () => {
  it('falls back to whole pages on a platform that does not know ?fields=', async () => {
    const platform = new HttpPlatform(builtinClient(url, 'token-1'));
    try {
      const actual = await platform.read('acme');
      expect([...actual!.members.values()]).toEqual([{ email: 'o@acme.example', role: 'owner', creator: true, firstName: '', lastName: '', description: '' }]);
      expect([...actual!.invites.values()]).toEqual([{ email: 'i@acme.example', role: 'member', status: 'expired', projects: [] }]);
      expect(seen.filter((u) => u.includes('/members'))).toEqual([
        '/api/v1/orgs/acme/members?fields=email,role,creator,firstName,lastName,description&limit=1000',
        '/api/v1/orgs/acme/members?limit=1000',
      ]);
      // Asked once: later lists go whole at once.
      expect(seen.filter((u) => u.includes('/invites'))).toEqual(['/api/v1/orgs/acme/invites?status=open&limit=1000']);
    } finally {
      await platform.close();
    }
  });
});
