import { html } from 'hono/html';
import type { AgentManifest, AgentMetadata } from '../../domain';
import type { DependencyState } from '../../marketplace/dependency-check';
import type { Html } from './page';

export interface MarketplaceData {
  manifests: AgentManifest[];
  /** Every version the marketplace has of each manifest. */
  versions: Map<string, string[]>;
  agents: AgentMetadata[];
  signedIn: boolean;
}

export function marketplacePage({ manifests, versions, agents, signedIn }: MarketplaceData): Html {
  return html`${
      signedIn
        ? html`<form method="post" action="/marketplace/preview" enctype="multipart/form-data" class="card">
            <h2>Install from a manifest file</h2>
            <label for="manifest-file">Manifest (YAML or JSON)</label>
            <input id="manifest-file" name="file" type="file" accept=".yaml,.yml,.json" required />
            <button>Check before installing</button>
          </form>`
        : html`<p><a href="/login">Sign in</a> to install, upgrade or uninstall.</p>`
    }
    <h2>Dependencies</h2>
    ${dependencyGraph(manifests)}
    <h2>Manifests</h2>
    <div class="cards">
      ${manifests.map((m) => manifestCard(m, versions.get(m.id) ?? [m.version], agents, signedIn))}
    </div>`;
}

function manifestCard(m: AgentManifest, versions: string[], agents: AgentMetadata[], signedIn: boolean): Html {
  const running = agents.filter((a) => a.manifest_id === m.id);
  const runningVersions = [...new Set(running.map((a) => a.version))];
  const others = versions.filter((v) => !runningVersions.includes(v));
  return html`<article class="card" aria-labelledby="m-${m.id}">
    <h3 id="m-${m.id}">${m.id} <small>${m.version}</small></h3>
    <p>${m.name}</p>
    <dl>
      <dt>Role</dt>
      <dd>${m.role}</dd>
      <dt>Versions</dt>
      <dd>${versions.join(', ')}</dd>
      <dt>Capabilities</dt>
      <dd>${m.capabilities.map((c) => c.id).join(', ')}</dd>
      <dt>Model</dt>
      <dd>${m.llm_provider} ${m.llm_model}</dd>
      <dt>Resources</dt>
      <dd>${m.resources.cpu} CPU, ${m.resources.memory} memory${m.resources.gpu ? `, ${m.resources.gpu} GPU` : ''}</dd>
      <dt>Health check</dt>
      <dd>
        ${m.health_check_endpoint} every ${m.health_check.interval_secs}s, unhealthy after
        ${m.health_check.consecutive_failures_threshold} failures
      </dd>
      <dt>Depends on</dt>
      <dd>
        ${
          m.dependencies.length
            ? m.dependencies
                .map((d) => `${d.agent_id} >= ${d.min_version}${d.optional ? ' (optional)' : ''}`)
                .join(', ')
            : 'nothing'
        }
      </dd>
      <dt>Installed</dt>
      <dd>${running.length ? `${running.length} running (${runningVersions.join(', ')})` : 'no'}</dd>
    </dl>
    ${
      signedIn
        ? html`<div class="actions">
            ${
              running.length
                ? html`${
                      others.length
                        ? html`<form method="post" action="/marketplace/${m.id}/upgrade" class="inline">
                            <label for="to-${m.id}">Move to</label>
                            <select id="to-${m.id}" name="to">
                              ${others.map((v) => html`<option>${v}</option>`)}
                            </select>
                            <button>Upgrade</button>
                          </form>`
                        : ''
                    }
                    <form method="post" action="/marketplace/${m.id}/uninstall" class="inline">
                      <label><input type="checkbox" name="force" value="true" /> even if others depend on it</label>
                      <button class="danger">Uninstall</button>
                    </form>`
                : html`<a class="button" href="/marketplace/${m.id}/install">Install…</a>`
            }
          </div>`
        : ''
    }
  </article>`;
}

/**
 * The page that shows what an install (or, for a manifest that runs already,
 * an upgrade to the uploaded version) will find before a person confirms it.
 */
export function installConfirmPage(
  m: AgentManifest,
  dependencies: DependencyState[],
  /** The uploaded manifest's text, carried to the confirmation; absent for a manifest the marketplace has. */
  uploaded: string | undefined,
  /** The versions its running agents run, if it is installed. */
  running: string[],
): Html {
  const blocking = dependencies.filter((d) => d.unmet && !d.optional);
  return html`<p>${m.name}: ${m.role}, version ${m.version}, ${m.llm_provider} ${m.llm_model}.</p>
    <h2>Dependency check</h2>
    ${
      dependencies.length
        ? html`<ul class="checks">
            ${dependencies.map(
              (d) =>
                html`<li class="${d.unmet ? (d.optional ? 'warn' : 'bad') : 'good'}">
                  ${
                    d.unmet
                      ? html`${d.optional ? 'Optional, missing' : 'Missing'}: ${d.unmet}
                        ${d.optional ? '' : html`(<a href="/marketplace/${d.agent_id}/install">install it first</a>)`}`
                      : `${d.agent_id} >= ${d.min_version} runs`
                  }
                </li>`,
            )}
          </ul>`
        : html`<p>No dependencies.</p>`
    }
    ${
      blocking.length
        ? html`<p class="error" role="alert">
            Cannot install ${m.id} yet: ${blocking.length} required
            ${blocking.length === 1 ? 'dependency is' : 'dependencies are'} missing.
          </p>`
        : running.length
          ? html`<form method="post" action="/marketplace/${m.id}/upgrade" class="card">
              <p>${m.id} runs ${running.join(', ')}: this replaces its instances one by one.</p>
              ${
                uploaded === undefined
                  ? html`<input type="hidden" name="to" value="${m.version}" />`
                  : html`<input type="hidden" name="manifest" value="${uploaded}" />`
              }
              <button>Upgrade ${m.id} to ${m.version}</button>
            </form>`
          : html`<form method="post" action="/marketplace/install" class="card">
              <input type="hidden" name="id" value="${m.id}" />
              ${uploaded === undefined ? '' : html`<input type="hidden" name="manifest" value="${uploaded}" />`}
              <label for="replicas">Instances</label>
              <input id="replicas" name="replicas" type="number" min="1" max="1000" value="1" required />
              <button>Install ${m.id} ${m.version}</button>
            </form>`
    }`;
}

/**
 * The manifests and what each needs, drawn as columns by depth: a manifest
 * stands right of everything it depends on; optional needs are dashed.
 */
export function dependencyGraph(manifests: AgentManifest[]): Html {
  const byId = new Map(manifests.map((m) => [m.id, m]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0; // a cycle is refused when manifests are added; never loop here
    seen.add(id);
    const needs = byId.get(id)?.dependencies.filter((d) => byId.has(d.agent_id)) ?? [];
    const d = needs.length ? 1 + Math.max(...needs.map((n) => depthOf(n.agent_id, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  const columns: string[][] = [];
  for (const m of manifests) (columns[depthOf(m.id)] ??= []).push(m.id);
  const [w, h, gapX, gapY] = [150, 28, 60, 12];
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((ids, c) => ids.forEach((id, r) => at.set(id, { x: c * (w + gapX), y: r * (h + gapY) })));
  const width = columns.length * (w + gapX) - gapX;
  const height = Math.max(...columns.map((ids) => ids.length)) * (h + gapY) - gapY;
  const edges = manifests.flatMap((m) =>
    m.dependencies
      .filter((d) => at.has(d.agent_id))
      .map((d) => ({ from: at.get(m.id)!, to: at.get(d.agent_id)!, optional: d.optional })),
  );
  const described = manifests
    .map((m) => `${m.id} needs ${m.dependencies.map((d) => d.agent_id).join(', ') || 'nothing'}`)
    .join('; ');
  return html`<figure class="graph">
    <svg viewBox="-2 -2 ${width + 4} ${height + 4}" role="img" aria-labelledby="graph-title graph-desc">
      <title id="graph-title">Dependency graph of the marketplace</title>
      <desc id="graph-desc">${described}</desc>
      ${edges.map(
        (e) =>
          html`<line
            x1="${e.from.x}"
            y1="${e.from.y + h / 2}"
            x2="${e.to.x + w}"
            y2="${e.to.y + h / 2}"
            class="${e.optional ? 'edge optional' : 'edge'}"
          />`,
      )}
      ${[...at].map(
        ([id, p]) =>
          html`<g class="node">
            <rect x="${p.x}" y="${p.y}" width="${w}" height="${h}" rx="4" />
            <text x="${p.x + w / 2}" y="${p.y + h / 2 + 4}" text-anchor="middle">${id}</text>
          </g>`,
      )}
    </svg>
    <figcaption>Each manifest stands right of what it needs; dashed lines are optional needs.</figcaption>
  </figure>`;
}
