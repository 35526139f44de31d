import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { compress } from 'hono/compress';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { z } from 'zod';
import type { EventBus } from '../../bus/event-bus';
import { sendVerdict } from '../../client/approval-client';
import { listFeatures, startFeature } from '../../client/feature-client';
import { featureDiff } from '../../client/feature-diff';
import { featureStatus } from '../../client/feature-status';
import { installPool, upgradePool } from '../../client/pool-client';
import { FeatureInput } from '../../contracts/feature-input';
import { retryAgentSignal, scalePoolUpdate, uninstallPoolUpdate } from '../../contracts/fleet';
import { MAX_REPLICAS } from '../../contracts/replicas';
import { agentLifecycleWorkflowId, featureWorkflowId, poolWorkflowId } from '../../contracts/workflow-ids';
import { AgentMessage, Identifier, ValidationError, describeIssues, parse, type AgentManifest } from '../../domain';
import { dependencyStates } from '../../marketplace/dependency-check';
import { Marketplace } from '../../marketplace/marketplace';
import { parseManifests } from '../../marketplace/manifest-loader';
import { sameToken } from '../../state-secrets';
import type { RegistryStore } from '../../registry/registry-store';
import { failureMessage } from '../../temporal/failure-message';
import { fleetPage, fleetTables, type FleetData } from './fleet-page';
import { EXECUTION_STATUSES, featureDetail, featurePage, featuresPage, type FeatureData } from './features-page';
import { liveStream } from './live-stream';
import { LoadHistory } from './load-history';
import { installConfirmPage, marketplacePage } from './marketplace-page';
import { page, type Html, type PageParts } from './page';

export interface ConsoleDeps {
  registry: RegistryStore;
  temporal: Client;
  bus: EventBus;
  taskQueue: string;
  operatorToken: string;
  /** The Temporal Web UI: its workflow list, or one workflow's page. */
  webUi: (workflowId?: string) => string;
}

const SESSION = 'vapora_session';
const FLASH = 'vapora_flash';
const require = createRequire(import.meta.url);
/** Every asset the pages load, from npm packages and this folder: nothing from a CDN. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript' },
  'sse.js': { file: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript' },
  'console.css': { file: new URL('./console.css', import.meta.url).pathname, type: 'text/css' },
};

/** Form fields arrive as strings: each schema says what it takes and names the field it refuses. */
const Replicas = z.coerce.number().int().min(0).max(MAX_REPLICAS);
const InstallForm = z.object({
  id: Identifier,
  replicas: Replicas.pipe(z.number().min(1)),
  manifest: z.string().max(1_000_000).optional(),
});
const UpgradeForm = z
  .object({ to: z.string().min(1).max(100).optional(), manifest: z.string().max(1_000_000).optional() })
  .refine((f) => f.to !== undefined || f.manifest !== undefined, 'a version (to) or a manifest is needed');
const FeatureForm = z.object({
  title: z.string().trim().min(1).max(500),
  description: z.string().max(20_000).default(''),
  developers: z.coerce.number().int().min(1).max(10).default(2),
  budget_usd: z.coerce.number().min(0).max(1_000_000).default(25),
  require_approval: z.literal('true').optional(),
});
const FeatureFilter = z.object({
  q: z.string().trim().toLowerCase().max(200).optional(),
  status: z.enum(EXECUTION_STATUSES).or(z.literal('')).optional(),
});
const EventFilter = z.object({
  feature: z.string().trim().max(200).optional(),
  type: z
    .enum(AgentMessage.options.map((o) => o.shape.type.value) as [string, ...string[]])
    .or(z.literal(''))
    .optional(),
});

/** What a change says on the page it returns to, kept a minute in a cookie. */
const Flash = z.object({ notice: z.string().optional(), error: z.string().optional() });
/** The cookie comes back from the browser: whatever is not a message of ours is dropped. */
const flashed = (raw: string | undefined): z.infer<typeof Flash> => {
  try {
    return Flash.parse(JSON.parse(raw ?? '{}'));
  } catch {
    return {};
  }
};

/** A form or query that does not parse: 400 with every bad field named, as the API does. */
class FormRefused extends Error {}
const form = <T extends z.ZodType>(schema: T, value: unknown, subject: string): z.infer<T> => {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new FormRefused(new ValidationError(subject, describeIssues(result.error, subject)).message);
  return result.data;
};

/** The one manifest of an uploaded file's text (carried through the confirmation page), checked again. */
function uploadedManifest(text: string): AgentManifest {
  const problems: string[] = [];
  const manifests = parseManifests(text, 'manifest.yaml', problems);
  if (problems.length) throw new FormRefused(`manifest refused: ${problems.join('; ')}`);
  if (manifests.length !== 1) throw new FormRefused(`one manifest per file, please (found ${manifests.length})`);
  return manifests[0]!;
}

/**
 * The Vapora console: fleet, marketplace, features and events in the browser,
 * served by the control plane beside its API. Reads are open on loopback;
 * anything that changes the fleet or a feature needs the operator's token
 * (a session cookie set by /login), and goes through the same workflows,
 * Updates and signals as the CLI.
 */
export function consoleApp(deps: ConsoleDeps): Hono {
  const { registry, temporal, bus, taskQueue } = deps;
  const marketplace = new Marketplace(registry);
  const load = new LoadHistory(() => registry.agents.list());
  const app = new Hono();

  const signedIn = (c: Context) =>
    sameToken(getCookie(c, SESSION), deps.operatorToken) ||
    sameToken(c.req.header('authorization')?.replace(/^Bearer /, ''), deps.operatorToken);
  const fromLoopback = (c: Context) => {
    const address = getConnInfo(c).remote.address ?? '';
    return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  };
  const flash = (c: Context, message: { notice?: string; error?: string }) =>
    setCookie(c, FLASH, JSON.stringify(message), { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 60 });
  const render = (c: Context, parts: Omit<PageParts, 'signedIn' | 'webUi'>, status: 200 | 400 | 422 = 200) => {
    const said = getCookie(c, FLASH);
    if (said) deleteCookie(c, FLASH, { path: '/' });
    const message = flashed(said);
    return c.html(page({ ...message, ...parts, signedIn: signedIn(c), webUi: deps.webUi() }), status);
  };
  /** Runs a change and goes back to `to`, saying what happened (or why it did not). */
  const change = async (c: Context, to: string, work: () => Promise<string>) => {
    try {
      flash(c, { notice: await work() });
    } catch (error) {
      flash(c, { error: error instanceof FormRefused ? error.message : failureMessage(error) });
    }
    return c.redirect(to, 303);
  };

  // The scripts and stylesheet, gzipped: what every page loads first (the event streams stay uncompressed, as they flow).
  app.use('/console/assets/*', compress());
  app.get('/console/assets/:file', (c) => {
    const asset = ASSETS[c.req.param('file')];
    if (!asset) return c.notFound();
    return c.body(readFileSync(asset.file), 200, {
      'content-type': asset.type,
      'cache-control': 'public, max-age=3600',
    });
  });

  app.get('/login', (c) =>
    render(c, {
      title: 'Sign in',
      section: '/',
      body: html`<form method="post" action="/login" class="card stack">
        <p>
          Changes need the operator's token: <code>npx vapora console</code> prints it (it is kept in the state
          directory, readable by you only).
        </p>
        <label for="token">Operator token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <button>Sign in</button>
      </form>`,
    }),
  );
  app.post('/login', async (c) => {
    const { token } = await c.req.parseBody();
    if (typeof token !== 'string' || !sameToken(token, deps.operatorToken)) {
      flash(c, { error: 'That is not the operator token (npx vapora console prints it).' });
      return c.redirect('/login', 303);
    }
    setCookie(c, SESSION, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    flash(c, { notice: 'Signed in.' });
    return c.redirect('/', 303);
  });

  // The console's other pages (not the API beside them): reads open on loopback only, changes with the token and from this origin only.
  const guard = async (c: Context, next: () => Promise<void>) => {
    if (c.req.method === 'GET') {
      if (!fromLoopback(c) && !signedIn(c)) return c.redirect('/login', 303);
      return next();
    }
    const origin = c.req.header('origin');
    if (origin && new URL(origin).host !== c.req.header('host'))
      return c.text('refused: a change must come from the console itself', 403);
    if (!signedIn(c)) return c.text('sign in first: changes need the operator token (/login)', 401);
    return next();
  };
  for (const path of [
    '/',
    '/logout',
    '/fleet/*',
    '/marketplace',
    '/marketplace/*',
    '/features',
    '/features/*',
    '/events',
  ])
    app.use(path, guard, compress());
  app.use('/console/stream', guard);

  app.post('/logout', (c) => {
    deleteCookie(c, SESSION, { path: '/' });
    return c.redirect('/', 303);
  });

  // Fleet
  const fleetData = async (c: Context): Promise<FleetData> => ({
    agents: await registry.agents.list(),
    instances: await registry.instances.list(),
    load,
    signedIn: signedIn(c),
  });
  app.get('/', async (c) => render(c, { title: 'Fleet', section: '/', body: fleetPage(await fleetData(c)) }));
  app.post('/fleet/:pool/scale', async (c) =>
    change(c, '/', async () => {
      const pool = form(Identifier, c.req.param('pool'), 'pool');
      const replicas = form(Replicas, (await c.req.parseBody()).replicas, 'replicas');
      const status = await temporal.workflow
        .getHandle(poolWorkflowId(pool))
        .executeUpdate(scalePoolUpdate, { args: [replicas] });
      return `${pool}: ${status.ready.length} running`;
    }),
  );
  app.post('/fleet/agents/:id/retry', async (c) =>
    change(c, '/', async () => {
      const id = form(Identifier, c.req.param('id'), 'agent');
      await temporal.workflow.getHandle(agentLifecycleWorkflowId(id)).signal(retryAgentSignal);
      return `${id}: retrying`;
    }),
  );

  // Marketplace
  app.get('/marketplace', async (c) => {
    const manifests = await registry.manifests.list();
    const versions = new Map(
      await Promise.all(manifests.map(async (m) => [m.id, await marketplace.versions(m.id)] as const)),
    );
    const agents = await registry.agents.list();
    return render(c, {
      title: 'Marketplace',
      section: '/marketplace',
      body: marketplacePage({ manifests, versions, agents, signedIn: signedIn(c) }),
    });
  });
  const confirmInstall = async (c: Context, m: AgentManifest, uploaded?: string) =>
    render(c, {
      title: `Install ${m.id}`,
      section: '/marketplace',
      body: await (async () => {
        const agents = await registry.agents.list();
        const running = [...new Set(agents.filter((a) => a.manifest_id === m.id).map((a) => a.version))];
        return installConfirmPage(m, dependencyStates(m, agents), uploaded, running);
      })(),
    });
  app.get('/marketplace/:id/install', async (c) => {
    const m = await marketplace.get(c.req.param('id'));
    if (!m) return render(c, { title: 'Not found', section: '/marketplace', body: html`<p>No such manifest.</p>` });
    return confirmInstall(c, m);
  });
  app.post('/marketplace/preview', async (c) => {
    const { file } = await c.req.parseBody();
    try {
      const text = file instanceof File ? await file.text() : '';
      return await confirmInstall(c, uploadedManifest(text), text);
    } catch (error) {
      const why = error instanceof FormRefused ? error.message : `not YAML or JSON: ${(error as Error).message}`;
      flash(c, { error: why.split('\n')[0] });
      return c.redirect('/marketplace', 303);
    }
  });
  app.post('/marketplace/install', async (c) =>
    change(c, '/', async () => {
      const { id, replicas, manifest: text } = form(InstallForm, await c.req.parseBody(), 'install');
      const manifest = text === undefined ? undefined : uploadedManifest(text);
      const status = await installPool(temporal, taskQueue, { manifestId: manifest?.id ?? id, replicas, manifest });
      return `${status.manifestId} installed: ${status.ready.join(', ')}`;
    }),
  );
  app.post('/marketplace/:id/upgrade', async (c) =>
    change(c, '/marketplace', async () => {
      const id = form(Identifier, c.req.param('id'), 'manifest');
      const { to, manifest: text } = form(UpgradeForm, await c.req.parseBody(), 'upgrade');
      const manifest = text === undefined ? undefined : uploadedManifest(text);
      if (manifest && manifest.id !== id) throw new FormRefused(`the manifest is ${manifest.id}, not ${id}`);
      const result = await upgradePool(temporal, id, manifest ? { manifest } : { to }, () => undefined);
      return `${id}: ${result.from} → ${result.to}, ${result.replaced} instances replaced`;
    }),
  );
  app.post('/marketplace/:id/uninstall', async (c) =>
    change(c, '/marketplace', async () => {
      const id = form(Identifier, c.req.param('id'), 'manifest');
      const force = (await c.req.parseBody()).force === 'true';
      const handle = temporal.workflow.getHandle(poolWorkflowId(id));
      const outcome = await handle.executeUpdate(uninstallPoolUpdate, { args: [{ force }] });
      if (!outcome.uninstalled)
        throw new FormRefused(
          `${id} not uninstalled: ${outcome.dependents.join(', ')} depend on it (uninstall them first, or tick “even if others depend on it”)`,
        );
      await handle.result();
      return `${id} uninstalled`;
    }),
  );

  // Features
  app.get('/features', async (c) => {
    const filter = form(FeatureFilter, c.req.query(), 'filter');
    const rows = await listFeatures(temporal, { limit: 100, status: filter.status || undefined });
    return render(c, {
      title: 'Features',
      section: '/features',
      body: featuresPage(rows, { q: filter.q, status: filter.status || undefined }, signedIn(c)),
    });
  });
  app.post('/features', async (c) => {
    let started: string | undefined;
    const back = await change(c, '/features', async () => {
      const f = form(FeatureForm, await c.req.parseBody(), 'feature');
      const input = parse(
        FeatureInput,
        {
          title: f.title,
          description: f.description,
          options: { developers: f.developers, budget_usd: f.budget_usd, require_approval: !!f.require_approval },
        },
        'feature',
      );
      started = (await startFeature(temporal, taskQueue, input)).featureId;
      return `started ${f.title}`;
    });
    return started ? c.redirect(`/features/${started}`, 303) : back;
  });
  const featureData = async (c: Context, featureId: string): Promise<FeatureData> => {
    const status = await featureStatus(temporal, featureId);
    const artifacts = (await registry.artifacts.list({ feature_id: featureId })).filter(
      (a) => a.kind !== 'conversation',
    );
    const tasks = await registry.tasks.list({ feature_id: featureId });
    const diff = status.workspace ? await featureDiff(status.workspace).catch(() => undefined) : undefined;
    return { status, artifacts, tasks, diff, webUi: deps.webUi(featureWorkflowId(featureId)), signedIn: signedIn(c) };
  };
  app.get('/features/:id', async (c) => {
    const id = form(Identifier, c.req.param('id'), 'feature');
    const data = await featureData(c, id).catch((error: unknown) => error as Error);
    if (data instanceof Error)
      return render(c, { title: 'Feature', section: '/features', body: html`<p>${data.message}</p>` });
    return render(c, { title: data.status.title, section: '/features', body: featurePage(data) });
  });
  for (const kind of ['approve', 'reject'] as const)
    app.post(`/features/:id/${kind}`, async (c) => {
      const id = form(Identifier, c.req.param('id'), 'feature');
      return change(c, `/features/${id}`, async () => {
        const body = await c.req.parseBody();
        // Signed in with the operator's token, which signs it: recorded as the operator's, by way of the console.
        const by = 'console';
        const outcome = await sendVerdict(
          temporal,
          featureWorkflowId(id),
          kind === 'approve'
            ? { approve: { by, comment: form(z.string().max(5_000).default(''), body.comment, 'comment') } }
            : { reject: { by, reason: form(z.string().trim().min(1).max(5_000), body.reason, 'reason') } },
          deps.operatorToken,
        );
        if (!outcome.applied) throw new FormRefused(`the ${kind} was not applied: ${outcome.ignored}`);
        return kind === 'approve' ? 'Approved.' : 'Rejected: it goes back to development.';
      });
    });

  // Events
  app.get('/events', (c) => {
    const { feature, type } = form(EventFilter, c.req.query(), 'filter');
    const query = new URLSearchParams({ view: 'events', ...(feature && { feature }), ...(type && { type }) });
    return render(c, {
      title: 'Events',
      section: '/events',
      body: eventsPage(feature, type, query.toString()),
    });
  });
  app.get('/console/stream', (c) => {
    const view = c.req.query('view');
    if (view === 'fleet') return liveStream(c, bus, { view, render: async () => fleetTables(await fleetData(c)) });
    if (view === 'feature') {
      const featureId = form(Identifier, c.req.query('feature'), 'feature');
      return liveStream(c, bus, {
        view,
        featureId,
        render: async () => featureDetail(await featureData(c, featureId)),
      });
    }
    const { feature, type } = form(EventFilter, c.req.query(), 'filter');
    return liveStream(c, bus, { view: 'events', feature: feature || undefined, type: type || undefined });
  });

  app.onError((error, c) => {
    if (error instanceof FormRefused)
      return render(c, { title: 'Refused', section: '/', error: error.message, body: html`` }, 400);
    throw error;
  });
  return app;
}

function eventsPage(feature: string | undefined, type: string | undefined, query: string): Html {
  const types = AgentMessage.options.map((o) => o.shape.type.value);
  return html`<form method="get" action="/events" class="filters" role="search">
      <label for="feature">Feature or task id</label>
      <input id="feature" name="feature" value="${feature ?? ''}" />
      <label for="type">Type</label>
      <select id="type" name="type">
        <option value="">any</option>
        ${types.map((t) => html`<option ${type === t ? html`selected` : ''}>${t}</option>`)}
      </select>
      <button>Filter</button>
    </form>
    <p class="muted">The last 15 minutes, then live, newest first.</p>
    <div hx-ext="sse" sse-connect="/console/stream?${query}">
      <div role="log" aria-label="Events, newest first">
        <ol id="events" class="events" sse-swap="event" hx-swap="afterbegin"></ol>
      </div>
    </div>`;
}
