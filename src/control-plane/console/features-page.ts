import { html } from 'hono/html';
import { approverLabel } from '../../client/approval-client';
import type { FeatureRow } from '../../client/feature-client';
import type { FeatureDiff } from '../../client/feature-diff';
import type { FeatureStatus } from '../../contracts/feature-input';
import type { Artifact, TaskRecord } from '../../domain';
import { renderDiff, renderMarkdown } from './render-content';
import { ago, usd, type Html } from './page';

export const EXECUTION_STATUSES = ['Running', 'Completed', 'Failed', 'Terminated', 'Canceled', 'TimedOut'] as const;

export function featuresPage(rows: FeatureRow[], filter: { status?: string; q?: string }, signedIn: boolean): Html {
  const shown = filter.q ? rows.filter((r) => `${r.title} ${r.featureId}`.toLowerCase().includes(filter.q!)) : rows;
  return html`${
      signedIn
        ? html`<details class="card">
            <summary>Start a feature</summary>
            <form method="post" action="/features" class="stack">
              <label for="title">Title</label>
              <input id="title" name="title" required maxlength="500" />
              <label for="description">Description</label>
              <textarea id="description" name="description" rows="4" maxlength="20000"></textarea>
              <label for="developers">Developers in parallel</label>
              <input id="developers" name="developers" type="number" min="1" max="10" value="2" />
              <label for="budget">Budget (USD)</label>
              <input id="budget" name="budget_usd" type="number" min="0" step="0.01" value="25" />
              <label><input type="checkbox" name="require_approval" value="true" checked /> wait for my approval</label>
              <button>Start</button>
            </form>
          </details>`
        : ''
    }
    <form method="get" action="/features" class="filters" role="search">
      <label for="q">Title contains</label>
      <input id="q" name="q" value="${filter.q ?? ''}" />
      <label for="status">Status</label>
      <select id="status" name="status">
        <option value="">any</option>
        ${EXECUTION_STATUSES.map((s) => html`<option ${filter.status === s ? html`selected` : ''}>${s}</option>`)}
      </select>
      <button>Filter</button>
    </form>
    ${
      shown.length
        ? html`<div class="scroll" tabindex="0" role="region" aria-label="Features">
            <table>
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">Status</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                ${shown.map(
                  (r) =>
                    html`<tr>
                      <th scope="row"><a href="/features/${r.featureId}">${r.title || r.featureId}</a></th>
                      <td>${r.status}</td>
                      <td>${r.phase}</td>
                      <td>${usd(r.cost)}</td>
                      <td>${ago(r.started.toISOString())}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p>No feature matches.</p>`
    }`;
}

export interface FeatureData {
  status: FeatureStatus;
  artifacts: Artifact[];
  /** The steps' task records, for when each ran. */
  tasks: TaskRecord[];
  diff?: FeatureDiff;
  webUi: string;
  signedIn: boolean;
}

/** One feature's page; everything under #feature is pushed again as its events arrive. */
export function featurePage(data: FeatureData): Html {
  return html`<p><a href="${data.webUi}">Open feature-${data.status.feature_id} in the Temporal Web UI</a></p>
    <div hx-ext="sse" sse-connect="/console/stream?view=feature&amp;feature=${data.status.feature_id}">
      <div id="feature" sse-swap="feature">${featureDetail(data)}</div>
    </div>`;
}

export function featureDetail({ status: s, artifacts, tasks, diff, signedIn }: FeatureData): Html {
  const gate = s.pending_approval;
  const records = new Map(tasks.map((t) => [t.id, t]));
  /** When a step started and, once it ended, how long it took. */
  const when = (taskId: string) => {
    const t = records.get(taskId);
    if (!t) return '';
    const took = ['completed', 'failed'].includes(t.status)
      ? `, took ${((Date.parse(t.updated_at) - Date.parse(t.created_at)) / 1000).toFixed(1)}s`
      : '';
    return ` · ${t.created_at.slice(11, 19)}${took}${t.retry_count ? `, ${t.retry_count} retries` : ''}`;
  };
  return html`<p>
      Phase <strong data-phase="${s.phase}">${s.phase}</strong>${s.round ? `, rework round ${s.round}` : ''} · cost
      ${usd(s.costs.total_usd)} of $${s.costs.budget_usd} · ${s.costs.tokens} tokens
    </p>
    ${s.error ? html`<p class="error" role="alert">${s.error}</p>` : ''}
    ${
      gate
        ? html`<section class="card gate" aria-labelledby="gate">
            <h2 id="gate">Waiting for approval</h2>
            <p>${gate.what} (until ${gate.deadline})</p>
            ${
              signedIn
                ? html`<form method="post" action="/features/${s.feature_id}/approve" class="stack">
                      <label for="comment">Comment</label>
                      <input id="comment" name="comment" maxlength="5000" />
                      <button>Approve</button>
                    </form>
                    <form method="post" action="/features/${s.feature_id}/reject" class="stack">
                      <label for="reason">What must change</label>
                      <input id="reason" name="reason" required maxlength="5000" />
                      <button class="danger">Reject</button>
                    </form>`
                : html`<p><a href="/login">Sign in</a> to approve or reject.</p>`
            }
          </section>`
        : ''
    }
    <h2>Steps</h2>
    <ol class="timeline">
      ${s.steps.map(
        (st) =>
          html`<li class="step step-${st.status}">
            <strong>${st.name}</strong> · ${st.role} · ${st.status}${st.detached ? ' (on its own)' : ''}
            ${st.agent_id ? html`· <code>${st.agent_id}</code>` : ''} ${st.verdict ? html`· verdict ${st.verdict}` : ''}
            · ${usd(st.cost_usd)}${when(st.task_id)}
          </li>`,
      )}
    </ol>
    ${
      s.decisions.length
        ? html`<h2>Decisions and escalations</h2>
            <ul>
              ${s.decisions.map(
                (d) =>
                  html`<li><strong>${d.decision_type}</strong> → ${d.decision} (by ${d.made_by}): ${d.reasoning}</li>`,
              )}
            </ul>`
        : ''
    }
    ${
      s.approvals.length
        ? html`<h2>Approvals</h2>
            <ul>
              ${s.approvals.map(
                (a) =>
                  html`<li>
                    ${a.kind} by
                    ${approverLabel(a)}${a.text ? `: ${a.text}` : ''}${a.applied ? '' : ` (ignored: ${a.ignored})`}
                  </li>`,
              )}
            </ul>`
        : ''
    }
    <h2>Artifacts</h2>
    ${
      artifacts.length
        ? artifacts.map(
            (a) =>
              html`<details class="card artifact" ${a.kind === 'adr' ? html`open` : ''}>
                <summary>${a.kind}: ${a.title}</summary>
                ${renderMarkdown(a.content)}
              </details>`,
          )
        : html`<p>None yet.</p>`
    }
    ${
      diff
        ? html`<h2>Code changed</h2>
            ${
              diff.files.length
                ? html`<p>
                      ${diff.files.length} files in ${diff.commits.length} commits, in <code>${diff.repo}</code>
                      (${diff.base.slice(0, 10)}..${diff.commit.slice(0, 10)})
                    </p>
                    ${renderDiff(diff.diff)}`
                : html`<p>No file changed yet in <code>${diff.repo}</code>.</p>`
            }`
        : ''
    }`;
}
