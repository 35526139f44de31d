import { html } from 'hono/html';
import { statusLabel, type AgentInstance, type AgentMetadata } from '../../domain';
import { MAX_REPLICAS } from '../../contracts/replicas';
import type { LoadHistory } from './load-history';
import { ago, sparkline, usd, type Html } from './page';

export interface FleetData {
  agents: AgentMetadata[];
  instances: AgentInstance[];
  load: LoadHistory;
  signedIn: boolean;
}

/** The whole fleet page body: the live table, replaced as agents change (see live-stream.ts). */
export function fleetPage(data: FleetData): Html {
  return html`<div hx-ext="sse" sse-connect="/console/stream?view=fleet">
    <div id="fleet" sse-swap="fleet">${fleetTables(data)}</div>
  </div>`;
}

/** One section per role: its pools' scale form, the role's load, then each agent. */
export function fleetTables({ agents, instances, load, signedIn }: FleetData): Html {
  if (!agents.length) return html`<p>No agents run. Install some from the <a href="/marketplace">marketplace</a>.</p>`;
  const byId = new Map(instances.map((i) => [i.agent_id, i]));
  const roles = [...new Set(agents.map((a) => a.role))].sort();
  const now = Date.now();
  return html`<p class="muted">${agents.length} agents in ${roles.length} roles, live.</p>
    ${roles.map((role) => {
      const members = agents.filter((a) => a.role === role);
      const pools = [...new Set(members.map((a) => a.manifest_id))].sort();
      return html`<section class="role" aria-labelledby="role-${role}">
        <header class="role-head">
          <h2 id="role-${role}">${role}</h2>
          ${sparkline(load.of(role), `${role} load over the last minutes`)}
          ${
            signedIn
              ? pools.map(
                  (pool) =>
                    html`<form method="post" action="/fleet/${pool}/scale" class="inline">
                      <label for="scale-${pool}">${pool} instances</label>
                      <input
                        id="scale-${pool}"
                        name="replicas"
                        type="number"
                        min="0"
                        max="${MAX_REPLICAS}"
                        value="${members.filter((a) => a.manifest_id === pool).length}"
                        required
                      />
                      <button>Scale</button>
                    </form>`,
                )
              : ''
          }
        </header>
        <div class="scroll" tabindex="0" role="region" aria-label="${role} agents">
          <table>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Last check</th>
                <th scope="col">Load</th>
                <th scope="col">Tasks done / failed</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
                <th scope="col">Restarts</th>
                <th scope="col">Pod or pid</th>
              </tr>
            </thead>
            <tbody>
              ${members.map((a) => {
                const i = byId.get(a.id);
                const status = statusLabel(a.status);
                return html`<tr data-agent="${a.id}">
                  <th scope="row">${a.id}</th>
                  <td>${a.version}</td>
                  <td>
                    <span class="status status-${status.toLowerCase()}">${status}</span>
                    ${typeof a.status === 'object' ? html`<small>${a.status.Error}</small>` : ''}
                    ${
                      signedIn && status === 'Error'
                        ? html`<form method="post" action="/fleet/agents/${a.id}/retry" class="inline">
                            <button>Retry</button>
                          </form>`
                        : ''
                    }
                  </td>
                  <td>${ago(a.last_health_check, now)} (${a.uptime_percentage.toFixed(0)}% up)</td>
                  <td>${a.current_tasks}/${a.max_concurrent_tasks}</td>
                  <td>${i ? `${i.tasks_completed} / ${i.tasks_failed}` : '-'}</td>
                  <td>${i?.tokens_used ?? 0}</td>
                  <td>${usd(i?.cost_incurred ?? 0)}</td>
                  <td>${i?.restart_count ?? 0}</td>
                  <td><code>${i?.pod_id ?? '-'}</code></td>
                </tr>`;
              })}
            </tbody>
          </table>
        </div>
      </section>`;
    })}`;
}
