import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../errors.js';
import type { PlatformService } from '../platform.js';
import type { ProjectRole, TaskCreate } from '../service/projects.js';
import { actor } from './actor.js';
import { pageOpts } from './paging.js';
import { pageQuery } from './schemas.js';
import type { Commit } from './idempotency.js';
import * as W from './workspace-schemas.js';

/** A numeric id from the path; anything else names nothing (404, like an unknown id). */
function id(raw: string, what: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw notFound(`${what} "${raw}"`);
  return Number(raw);
}

/** `?format=csv` wins; without it, an Accept header listing text/csv asks for CSV. */
function wantsCsv(req: FastifyRequest): boolean {
  const format = (req.query as { format?: 'json' | 'csv' }).format;
  if (format) return format === 'csv';
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((t) => t.split(';')[0]!.trim().toLowerCase() === 'text/csv');
}

/** Projects (members, datasets, tasks, paying organization), groups and the organization overview. */
export function registerWorkspaceRoutes(app: FastifyInstance, platform: PlatformService, commit: Commit): void {
  const { projects, groups, overview } = platform;
  type P = { id: string };

  // ---- projects ----
  app.get('/api/v1/projects', async (req) => projects.list(actor(req)));
  app.get('/api/v1/orgs/:org/projects', { schema: { querystring: pageQuery } }, async (req) =>
    projects.listOf(actor(req), (req.params as { org: string }).org, pageOpts(req.query as { cursor?: string; limit?: string })),
  );
  app.post('/api/v1/projects', { schema: { body: W.projectCreateBody } }, async (req, reply) =>
    commit(req, reply, () => projects.create(actor(req), req.body as { name: string; organization?: string }), 201),
  );
  app.get('/api/v1/projects/:id', async (req) => projects.get(actor(req), id((req.params as P).id, 'project')));
  app.put('/api/v1/projects/:id/paying-organization', { schema: { body: W.payingOrganizationBody } }, async (req, reply) =>
    commit(req, reply, () => projects.setPayingOrganization(actor(req), id((req.params as P).id, 'project'), (req.body as { organization: string }).organization)),
  );
  app.post('/api/v1/projects/:id/members', { schema: { body: W.projectMemberBody } }, async (req, reply) => {
    return commit(req, reply, () => {
      const { member, created } = projects.addMember(actor(req), id((req.params as P).id, 'project'), req.body as { email: string; role: ProjectRole });
      reply.status(created ? 201 : 200);
      return member;
    });
  });
  app.delete('/api/v1/projects/:id/members/:email', async (req, reply) => {
    const p = req.params as P & { email: string };
    commit(req, reply, () => projects.removeMember(actor(req), id(p.id, 'project'), p.email), 204);
    return reply.send();
  });
  app.post('/api/v1/projects/:id/datasets', { schema: { body: W.datasetCreateBody } }, async (req, reply) =>
    commit(req, reply, () => projects.createDataset(actor(req), id((req.params as P).id, 'project'), req.body as { name: string }), 201),
  );
  app.post('/api/v1/projects/:id/tasks', { schema: { body: W.taskCreateBody } }, async (req, reply) =>
    commit(req, reply, () => projects.createTask(actor(req), id((req.params as P).id, 'project'), req.body as TaskCreate), 201),
  );
  app.patch('/api/v1/projects/:id/tasks/:taskId', { schema: { body: W.taskUpdateBody } }, async (req, reply) => {
    const p = req.params as P & { taskId: string };
    return commit(req, reply, () => projects.updateTask(actor(req), id(p.id, 'project'), id(p.taskId, 'task'), req.body as { completion: number }));
  });

  // ---- groups ----
  type G = { org: string; name: string };
  app.get('/api/v1/orgs/:org/groups', async (req) => groups.list(actor(req), (req.params as G).org));
  app.post('/api/v1/orgs/:org/groups', { schema: { body: W.groupCreateBody } }, async (req, reply) =>
    commit(req, reply, () => groups.create(actor(req), (req.params as G).org, req.body as { name: string; description?: string }), 201),
  );
  app.patch('/api/v1/orgs/:org/groups/:name', { schema: { body: W.groupUpdateBody } }, async (req, reply) => {
    const p = req.params as G;
    return commit(req, reply, () => groups.update(actor(req), p.org, p.name, req.body as { name?: string; description?: string }));
  });
  app.delete('/api/v1/orgs/:org/groups/:name', async (req, reply) => {
    const p = req.params as G;
    commit(req, reply, () => groups.delete(actor(req), p.org, p.name), 204);
    return reply.send();
  });
  app.put('/api/v1/orgs/:org/groups/:name/members', { schema: { body: W.groupMembersBody } }, async (req, reply) => {
    const p = req.params as G;
    return commit(req, reply, () => groups.setMembers(actor(req), p.org, p.name, (req.body as { emails: string[] }).emails));
  });

  // ---- overview ----
  app.get('/api/v1/orgs/:org/overview', async (req) => overview.get(actor(req), (req.params as G).org));
  app.get('/api/v1/orgs/:org/overview/users', { schema: { querystring: W.overviewUsersQuery } }, async (req, reply) => {
    const org = (req.params as G).org;
    if (!wantsCsv(req)) return overview.users(actor(req), org);
    const { filename, csv } = overview.usersCsv(actor(req), org);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .send(csv);
  });
}
